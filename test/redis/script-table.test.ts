import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { SCRIPTS_VERSION, SCRIPT_FILES, registerScripts, runScript, scriptCommand, type ProgressionRedisClient } from "../../src/backends/redis/redis-commands.ts";
import { LUA_DIR, loadLuaScripts } from "../../src/backends/redis/script-loader.ts";

/** The command table stays the lua/ folder, and includes stay libraries. */
describe("Redis script table", () => {
  it("lists exactly the scripts of lua/", () => {
    const files = readdirSync(LUA_DIR).filter((file) => file.endsWith(".lua"));
    expect([...SCRIPT_FILES].sort()).toEqual(files.map((file) => file.slice(0, -".lua".length)).sort());
    expect(loadLuaScripts().map((script) => script.file.replace(/\.lua$/, ""))).toEqual([...SCRIPT_FILES].sort());
  });

  it("registers every script under its versioned name, once per client", () => {
    const defined: string[] = [];
    const client = { defineCommand: (name: string) => void defined.push(name) } as unknown as Pick<Redis, "defineCommand">;
    registerScripts(client);
    registerScripts(client);
    expect(defined).toEqual(SCRIPT_FILES.map((file) => `${file.split("-")[0]}:${SCRIPTS_VERSION}`));
    expect(scriptCommand("transfer")).toBe(`transfer:${SCRIPTS_VERSION}`);
  });

  it("refuses a call whose key count differs from the script's", () => {
    const never = {} as ProgressionRedisClient;
    expect(() => runScript(never, { script: "list", keys: ["only one"], argv: [] })).toThrow("script list takes 6 keys, its call has 1");
  });

  it("keeps every script's header: what it does, KEYS[i] and ARGV[i] one per line, the output", () => {
    for (const file of SCRIPT_FILES) {
      const text = readFileSync(join(LUA_DIR, `${file}.lua`), "utf8");
      const header = text.slice(0, text.indexOf("]]"));
      expect(header, file).toMatch(/^--\[\[\n {2}\S/);
      expect(header, file).toMatch(/\n {2}Output:/);
      const count = file.endsWith("-n") ? 1 : Number(file.split("-")[1]);
      const keyLines = header.split("\n").filter((line) => /^\s+KEYS\[/.test(line));
      // A variable key count documents its key pattern instead of one line per key.
      if (!file.endsWith("-n")) expect(keyLines.map((line) => /KEYS\[(\d+)\]/.exec(line)?.[1]), file).toEqual(Array.from({ length: count }, (_, i) => String(i + 1)));
      for (const line of header.split("\n")) expect((line.match(/(KEYS|ARGV)\[/g) ?? []).length, `${file}: ${line}`).toBeLessThanOrEqual(1);
    }
  });

  it("includes define functions and constants only: none reads KEYS or ARGV", () => {
    const includes = readdirSync(join(LUA_DIR, "includes"), { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith(".lua"));
    expect(includes.length).toBeGreaterThan(0);
    for (const file of includes) {
      const code = readFileSync(join(LUA_DIR, "includes", file), "utf8")
        .replace(/--\[\[[\s\S]*?\]\]/g, "")
        .replace(/--.*$/gm, "")
        .replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g, '""');
      expect(code, file).not.toMatch(/\b(KEYS|ARGV)\b/);
    }
  });
});
