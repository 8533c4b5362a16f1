// The browser parts of the package, bundled into dist/ (run by scripts/build.mjs after tsc): the admin tab's
// script, self-contained (the client kit and canvas-confetti inlined), next to its HTML page.
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const source = join(root, "plugins", "admin-tab");
const target = join(root, "dist", "plugins", "admin-tab");
mkdirSync(target, { recursive: true });

await build({
  entryPoints: [join(source, "admin-tab-page.ts")],
  outfile: join(target, "admin-tab-page.js"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  logLevel: "warning",
});
copyFileSync(join(source, "admin-tab.html"), join(target, "admin-tab.html"));
console.error("build: dist/plugins/admin-tab/ bundled");
