// `npm run build`: the compiled package in dist/ (ESM JavaScript, declarations and their maps), plus
// the files the code reads at run time (the Redis Lua scripts, the PostgreSQL migrations, the bundled
// browser pages).
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist");
rmSync(dist, { recursive: true, force: true });

const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
// Progress and compiler errors go to stderr: `npm pack --json` (which runs this) keeps stdout for its report.
execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: ["ignore", 2, 2] });

// TypeScript rewrites `.ts` import paths in the JavaScript it emits, not in declarations: there they
// would make a consumer's type check fail (TS5097). Same length, so the declaration maps stay exact.
const RELATIVE_TS = /((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']+)\.ts(["'])/g;
function rewriteDeclarations(directory) {
  for (const name of readdirSync(directory)) {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) rewriteDeclarations(path);
    else if (name.endsWith(".d.ts")) {
      const text = readFileSync(path, "utf8");
      const rewritten = text.replace(RELATIVE_TS, "$1$2.js$3");
      if (rewritten !== text) writeFileSync(path, rewritten);
    }
  }
}
rewriteDeclarations(dist);

for (const assets of ["src/backends/redis/lua", "src/durability/postgres/migrations"]) {
  cpSync(join(root, assets), join(dist, assets), { recursive: true });
}
// The browser pages shipped in the package (the admin tab) are bundled into dist/ by their own script.
const bundleBrowser = join(root, "scripts", "bundle-browser.mjs");
if (existsSync(bundleBrowser)) execFileSync(process.execPath, [bundleBrowser], { stdio: ["ignore", 2, 2] });

console.error("build: dist/ written");
