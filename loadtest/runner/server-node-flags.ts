import { readFileSync } from "node:fs";
import { resolve } from "node:path";

/**
 * The Node flags `npm start` runs the demo server with (package.json `scripts.start`, e.g.
 * `--max-semi-space-size=16`): the load test starts its servers the same way, so its figures (RSS, CPU
 * per event) are those of the server a person runs. One place says them: the start script.
 */
export function serverNodeFlags(repoRoot: string): string[] {
  const manifest = JSON.parse(readFileSync(resolve(repoRoot, "package.json"), "utf8")) as { scripts?: Record<string, string> };
  const start = manifest.scripts?.["start"] ?? "";
  const words = start.trim().split(/\s+/);
  if (words[0] !== "node") return [];
  const flags: string[] = [];
  for (const word of words.slice(1)) {
    if (!word.startsWith("--")) break; // the script
    flags.push(word);
  }
  return flags;
}
