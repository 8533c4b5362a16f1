import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { serverNodeFlags } from "../../loadtest/runner/server-node-flags.ts";

describe("the load test's server flags", () => {
  it("are the Node flags of npm start (the young generation cap that keeps RSS down)", () => {
    expect(serverNodeFlags(resolve(import.meta.dirname, "../.."))).toEqual(["--max-semi-space-size=16"]);
  });

  it("stop at the script, and are none for a start script that is not plain node", () => {
    const dir = mkdtempSync(join(tmpdir(), "flags-"));
    try {
      writeFileSync(join(dir, "package.json"), JSON.stringify({ scripts: { start: "node --a=1 --b rooms/x.ts --not-a-flag" } }));
      expect(serverNodeFlags(dir)).toEqual(["--a=1", "--b"]);
      writeFileSync(join(dir, "package.json"), JSON.stringify({ scripts: { start: "tsx rooms/x.ts" } }));
      expect(serverNodeFlags(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
