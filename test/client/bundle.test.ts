import { builtinModules } from "node:module";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build, type Metafile } from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";

/**
 * `colyseus-progression/client` bundled the way a game's build does it (esbuild, for the browser, ESM,
 * minified): it must pull in nothing of the server (no Node built-ins, no Colyseus server, no Redis,
 * BullMQ, pg, msgpackr or zod), and it stays small.
 */
const root = fileURLToPath(new URL("../../", import.meta.url));
// Minified and gzipped, what a player downloads: 9.6 KB when this bound was set (canvas-confetti alone is 4.2 KB).
const GZIP_BOUND_BYTES = 12 * 1024;

let inputs: string[];
let code: string;

beforeAll(async () => {
  const result = await build({
    absWorkingDir: root,
    entryPoints: ["client/index.ts"],
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    minify: true,
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  inputs = Object.keys((result.metafile as Metafile).inputs);
  code = result.outputFiles[0]?.text ?? "";
});

describe("the client kit's browser bundle", () => {
  it("contains only the client kit, the wire protocol, the model's types and canvas-confetti", () => {
    const outside = inputs.filter((input) => !/^(client\/|src\/protocol\/|src\/model\/|node_modules\/canvas-confetti\/)/.test(input));
    expect(outside).toEqual([]);
    expect(inputs).toContain("node_modules/canvas-confetti/dist/confetti.module.mjs");
  });

  it("has no Node built-in and no server package in it", () => {
    const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
    expect(inputs.filter((input) => builtins.has(input) || input.startsWith("node:"))).toEqual([]);
    const server = /node_modules\/(@colyseus\/core|ioredis|bullmq|pg|pg-copy-streams|msgpackr|zod|prom-client)\//;
    expect(inputs.filter((input) => server.test(input))).toEqual([]);
    expect(code).not.toMatch(/["']node:[a-z_]+["']/);
    expect(code).not.toMatch(/\brequire\(/);
  });

  it(`is small: minified + gzip under ${GZIP_BOUND_BYTES / 1024} KB`, () => {
    const minified = Buffer.byteLength(code);
    const gzipped = gzipSync(code, { level: 9 }).byteLength;
    console.log(`colyseus-progression/client bundle: ${(minified / 1024).toFixed(1)} KB minified, ${(gzipped / 1024).toFixed(1)} KB minified + gzip`);
    expect(gzipped).toBeLessThan(GZIP_BOUND_BYTES);
  });
});
