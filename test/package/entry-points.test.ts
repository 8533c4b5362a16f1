import { execFileSync } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));

/**
 * Imports one entry point in a fresh Node process and lists what it loaded: the npm packages (every module
 * URL resolved under node_modules) and this package's own files (relative to the repository), so "the root
 * entry loads no Redis, BullMQ or pg" is a fact.
 */
function loadedBy(entry: string): { packages: string[]; files: string[] } {
  const script = `
    import { registerHooks } from "node:module";
    const packages = new Set();
    const files = new Set();
    registerHooks({
      resolve(specifier, context, next) {
        const result = next(specifier, context);
        const match = /\\/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(result.url);
        if (match) packages.add(match[1]);
        else if (result.url.startsWith(${JSON.stringify(pathToFileURL(root).href)})) files.add(result.url.slice(${pathToFileURL(root).href.length}));
        return result;
      },
    });
    await import(${JSON.stringify(entry)});
    console.log(JSON.stringify({ packages: [...packages].sort(), files: [...files].sort() }));
  `;
  const output = execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8" });
  return JSON.parse(output.trim().split("\n").at(-1) ?? "{}") as { packages: string[]; files: string[] };
}

function packagesLoadedBy(entry: string): string[] {
  return loadedBy(entry).packages;
}

const infrastructure = ["ioredis", "bullmq", "pg", "pg-copy-streams"];

describe("entry points load only what their user needs", () => {
  it("colyseus-progression (the engine) loads no Redis, BullMQ, pg or Colyseus", () => {
    const loaded = packagesLoadedBy("colyseus-progression");
    for (const name of [...infrastructure, "@colyseus/core", "prom-client"]) expect(loaded).not.toContain(name);
    expect(loaded).toContain("zod");
  });

  it("colyseus-progression/redis loads ioredis but not BullMQ or pg", () => {
    const loaded = packagesLoadedBy("colyseus-progression/redis");
    expect(loaded).toContain("ioredis");
    for (const name of ["bullmq", "pg", "@colyseus/core"]) expect(loaded).not.toContain(name);
  });

  it("colyseus-progression/durability loads BullMQ and pg", () => {
    const loaded = packagesLoadedBy("colyseus-progression/durability");
    expect(loaded).toEqual(expect.arrayContaining(["bullmq", "pg"]));
    expect(loaded).not.toContain("@colyseus/core");
  });

  it("colyseus-progression/metrics loads prom-client but no Redis, BullMQ or pg", () => {
    const loaded = packagesLoadedBy("colyseus-progression/metrics");
    expect(loaded).toContain("prom-client");
    for (const name of infrastructure) expect(loaded).not.toContain(name);
  });

  it("colyseus-progression/client loads canvas-confetti and no server code, and needs no DOM to be imported", () => {
    // Plain Node has no window or document: importing the entry must not touch them (only creating a presenter does).
    const { packages, files } = loadedBy("colyseus-progression/client");
    expect(packages).toEqual(["canvas-confetti"]);
    expect(files.filter((file) => !/^dist\/(client|src\/protocol|src\/model)\//.test(file))).toEqual([]);
    expect(files).toContain("dist/client/index.js");
  });

  it("colyseus-progression/colyseus loads Colyseus but no Redis, BullMQ or pg", () => {
    const loaded = packagesLoadedBy("colyseus-progression/colyseus");
    expect(loaded).toContain("@colyseus/core");
    for (const name of infrastructure) expect(loaded).not.toContain(name);
  });
});
