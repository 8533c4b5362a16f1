import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));

/**
 * Imports one entry point in a fresh Node process and lists the npm packages it loaded (every module
 * URL resolved under node_modules), so "the root entry loads no Redis, BullMQ or pg" is a fact.
 */
function packagesLoadedBy(entry: string): string[] {
  const script = `
    import { registerHooks } from "node:module";
    const loaded = new Set();
    registerHooks({
      resolve(specifier, context, next) {
        const result = next(specifier, context);
        const match = /\\/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(result.url);
        if (match) loaded.add(match[1]);
        return result;
      },
    });
    await import(${JSON.stringify(entry)});
    console.log(JSON.stringify([...loaded].sort()));
  `;
  const output = execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8" });
  return JSON.parse(output.trim().split("\n").at(-1) ?? "[]") as string[];
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

  it("colyseus-progression/colyseus loads Colyseus but no Redis, BullMQ or pg", () => {
    const loaded = packagesLoadedBy("colyseus-progression/colyseus");
    expect(loaded).toContain("@colyseus/core");
    for (const name of infrastructure) expect(loaded).not.toContain(name);
  });
});
