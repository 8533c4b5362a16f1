import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * Reads the Lua scripts of `lua/` (BullMQ style: `<name>-<keys>.lua`, `n` for a variable key count)
 * and joins in `--- @include "includes/<file>"` lines, each include at most once per script.
 */
export interface LuaScript {
  /** What it does, from the file name: `applyBatch`, `hold`, ... */
  readonly name: string;
  /** Fixed KEYS count, or undefined when the caller passes it (variable key count). */
  readonly numberOfKeys: number | undefined;
  readonly lua: string;
}

const LUA_DIR = fileURLToPath(new URL("./lua/", import.meta.url));
const INCLUDE_LINE = /^--- @include "([A-Za-z0-9_/]+)"\s*$/gm;

function resolveIncludes(source: string, seen: Set<string>, from: string): string {
  return source.replace(INCLUDE_LINE, (_line, include: string) => {
    if (seen.has(include)) return "";
    seen.add(include);
    let text: string;
    try {
      text = readFileSync(`${LUA_DIR}${include}.lua`, "utf8");
    } catch {
      throw new Error(`${from}: include "${include}" not found in ${LUA_DIR}`);
    }
    return resolveIncludes(text, seen, `${include}.lua`);
  });
}

export function loadLuaScripts(): readonly LuaScript[] {
  return readdirSync(LUA_DIR)
    .filter((file) => file.endsWith(".lua"))
    .sort()
    .map((file) => {
      const match = /^([A-Za-z]+)-(\d+|n)\.lua$/.exec(file);
      if (!match?.[1] || !match[2]) throw new Error(`Lua script ${file} must be named <name>-<keyCount|n>.lua`);
      const lua = resolveIncludes(readFileSync(`${LUA_DIR}${file}`, "utf8"), new Set(), file);
      return { name: match[1], numberOfKeys: match[2] === "n" ? undefined : Number(match[2]), lua };
    });
}
