import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Reads the Lua scripts of a folder (`<name>-<keys>.lua`, `n` for a variable key count) and joins in
 * their includes. An include line `--- @include "<path>"` names a file by its path in that folder
 * (`includes/holds`; `.lua` may be left off), wherever the line is. Each include is emitted once per script, where it is first
 * included, after the includes it needs itself, so every function is defined before the code that
 * calls it. An include cycle or a missing file fails with the include stack (`file:line:column`).
 */
export interface LuaScript {
  /** File name in the folder: `changeFree-7.lua`. */
  readonly file: string;
  /** What it does, from the file name: `changeFree`. */
  readonly name: string;
  /** Fixed KEYS count from the file name, or undefined for a variable key count (`-n`). */
  readonly numberOfKeys: number | undefined;
  /** The script with every include joined in. */
  readonly lua: string;
}

/** The scripts the Redis backend registers. */
export const LUA_DIR = fileURLToPath(new URL("./lua/", import.meta.url));

const SCRIPT_FILE = /^([A-Za-z][A-Za-z0-9]*)-(\d+|n)\.lua$/;
const INCLUDE_LINE = /^([ \t]*)--- @include "([^"]+)"[ \t]*$/;

/** Where an include line is: the file (relative to the scripts folder), line and column (1-based). */
interface IncludeSite {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

const siteText = (site: IncludeSite): string => `${site.file}:${site.line}:${site.column}`;

/** Joins the includes of one script; `emitted` keeps each include to one copy per script. */
class IncludeResolver {
  private readonly emitted = new Set<string>();
  /** The files being expanded, outermost (the script) first, each with the line that included it. */
  private readonly open: Array<{ path: string; includedAt: IncludeSite | undefined }> = [];

  private readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  script(path: string): string {
    return this.expand(path, undefined);
  }

  /** The text of `path` with each include line replaced by what it includes (or by nothing). */
  private expand(path: string, includedAt: IncludeSite | undefined): string {
    this.open.push({ path, includedAt });
    const file = this.display(path);
    const text = readFileSync(path, "utf8")
      .split("\n")
      .map((line, index) => {
        const match = INCLUDE_LINE.exec(line);
        if (!match) return line;
        return this.include({ file, line: index + 1, column: (match[1]?.length ?? 0) + 1 }, match[2] ?? "");
      })
      .join("\n");
    this.open.pop();
    this.emitted.add(path);
    return text;
  }

  private include(site: IncludeSite, name: string): string {
    const target = resolve(this.root, name.endsWith(".lua") ? name : `${name}.lua`);
    const sitesFrom = (index: number): string[] => this.open.slice(index).flatMap((entry) => (entry.includedAt ? [siteText(entry.includedAt)] : []));
    const cycleStart = this.open.findIndex((entry) => entry.path === target);
    if (cycleStart >= 0) {
      const cycle = [...sitesFrom(cycleStart + 1), siteText(site), this.display(target)].join(" -> ");
      const entry = sitesFrom(1).slice(0, cycleStart);
      throw new Error(`Lua include cycle: ${cycle}${entry.length > 0 ? ` (entered from ${entry.join(" -> ")})` : ""}`);
    }
    if (this.emitted.has(target)) return "";
    if (!existsSync(target)) {
      const chain = [...sitesFrom(1), siteText(site)].join(" -> ");
      throw new Error(`Lua include "${name}" not found: ${chain} -> ${this.display(target)} does not exist`);
    }
    return this.expand(target, site);
  }

  private display(path: string): string {
    return relative(this.root, path).split(sep).join("/");
  }
}

/** Loads every script of `dir` (default: the backend's `lua/` folder), sorted by file name. */
export function loadLuaScripts(dir: string = LUA_DIR): readonly LuaScript[] {
  const root = resolve(dir);
  return readdirSync(root)
    .filter((file) => file.endsWith(".lua"))
    .sort()
    .map((file): LuaScript => {
      const match = SCRIPT_FILE.exec(file);
      if (!match?.[1] || !match[2]) throw new Error(`Lua script ${file} must be named <name>-<keyCount|n>.lua`);
      const path = join(root, file);
      const lua = new IncludeResolver(root).script(path);
      return { file, name: match[1], numberOfKeys: match[2] === "n" ? undefined : Number(match[2]), lua };
    });
}
