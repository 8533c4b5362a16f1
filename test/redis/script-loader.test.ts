import { afterEach, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { loadLuaScripts } from "../../src/backends/redis/script-loader.ts";

/** The Lua loader on throwaway folders of scripts: include order, one copy each, cycles, missing files. */
describe("Lua script loader", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function luaDir(files: Record<string, string>): string {
    const dir = mkdtempSync(join(tmpdir(), "lua-loader-"));
    dirs.push(dir);
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    return dir;
  }
  const codeLines = (lua: string) => lua.split("\n").filter((line) => line.trim() !== "");

  it("emits every include once, after the includes it needs, where it is first included", () => {
    const dir = luaDir({
      "first-2.lua": ['--- @include "includes/b"', '--- @include "includes/a"', "return a() + b()"].join("\n"),
      "second-n.lua": ['--- @include "includes/c.lua"', "return c()"].join("\n"),
      "includes/a.lua": ['--- @include "includes/b"', '--- @include "includes/c"', "local function a() return b() + c() end"].join("\n"),
      "includes/b.lua": ['--- @include "includes/c"', "local function b() return c() end"].join("\n"),
      "includes/c.lua": "local function c() return 1 end",
      "notes.txt": "not a script",
    });
    const scripts = loadLuaScripts(dir);
    expect(scripts.map(({ file, name, numberOfKeys }) => [file, name, numberOfKeys])).toEqual([
      ["first-2.lua", "first", 2],
      ["second-n.lua", "second", undefined],
    ]);
    expect(codeLines(scripts[0]?.lua ?? "")).toEqual([
      "local function c() return 1 end",
      "local function b() return c() end",
      "local function a() return b() + c() end",
      "return a() + b()",
    ]);
    // Each script gets its own copy of what it includes.
    expect(codeLines(scripts[1]?.lua ?? "")).toEqual(["local function c() return 1 end", "return c()"]);
  });

  it("reports an include cycle with the include stack, file:line:column", () => {
    const dir = luaDir({
      "run-1.lua": ["-- header", '--- @include "includes/a"', "return 1"].join("\n"),
      "includes/a.lua": ["-- a", "", '--- @include "includes/b"', "local function a() end"].join("\n"),
      "includes/b.lua": ["-- b", '  --- @include "includes/a"'].join("\n"),
    });
    expect(() => loadLuaScripts(dir)).toThrow(
      "Lua include cycle: includes/a.lua:3:1 -> includes/b.lua:2:3 -> includes/a.lua (entered from run-1.lua:2:1)",
    );
  });

  it("reports an include of itself, and a cycle back to the script", () => {
    expect(() => loadLuaScripts(luaDir({ "run-1.lua": '--- @include "includes/self"', "includes/self.lua": '--- @include "includes/self"' }))).toThrow(
      "Lua include cycle: includes/self.lua:1:1 -> includes/self.lua (entered from run-1.lua:1:1)",
    );
    expect(() => loadLuaScripts(luaDir({ "run-1.lua": '--- @include "includes/back"', "includes/back.lua": '--- @include "run-1"' }))).toThrow(
      "Lua include cycle: run-1.lua:1:1 -> includes/back.lua:1:1 -> run-1.lua",
    );
  });

  it("reports a missing include with where it was included from", () => {
    const dir = luaDir({
      "run-1.lua": ['--- @include "includes/a"', "return 1"].join("\n"),
      "includes/a.lua": ["-- a", '--- @include "includes/missing"'].join("\n"),
    });
    expect(() => loadLuaScripts(dir)).toThrow(
      'Lua include "includes/missing" not found: run-1.lua:1:1 -> includes/a.lua:2:1 -> includes/missing.lua does not exist',
    );
  });

  it("refuses a script whose name does not give its key count", () => {
    expect(() => loadLuaScripts(luaDir({ "run.lua": "return 1" }))).toThrow("Lua script run.lua must be named <name>-<keyCount|n>.lua");
  });
});
