import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * @colyseus/loadtest 0.17 depends on @colyseus/sdk 0.17, whose protocol a 0.18 server does not speak.
 * The npm `overrides` entry in package.json points it at the project's own 0.18 SDK; this fails if an
 * install ever brings the old one back.
 */
describe("@colyseus/loadtest's SDK", () => {
  it("is the project's @colyseus/sdk 0.18", () => {
    const require = createRequire(import.meta.url);
    const loadtestEntry = require.resolve("@colyseus/loadtest");
    const sdkSeenByLoadtest = createRequire(loadtestEntry).resolve("@colyseus/sdk/package.json");
    const version = (JSON.parse(readFileSync(sdkSeenByLoadtest, "utf8")) as { version: string }).version;
    expect(version).toMatch(/^0\.18\./);
    expect(dirname(sdkSeenByLoadtest)).toBe(dirname(require.resolve("@colyseus/sdk/package.json")));
    expect(sdkSeenByLoadtest).not.toContain(join("loadtest", "node_modules"));
  });
});
