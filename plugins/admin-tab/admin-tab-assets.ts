import { readFile } from "node:fs/promises";
import { join } from "node:path";

/** The admin tab's page and script, as the admin routes serve them. */
export interface AdminTabAssets {
  readonly html: string;
  readonly script: string;
}

let assets: Promise<AdminTabAssets> | undefined;

/**
 * The admin tab (`admin-tab.html` and the bundled `admin-tab-page.ts`), loaded once per process.
 *
 * From the compiled package (this module is `.js`) the build has already bundled the script next to it
 * (scripts/bundle-browser.mjs). From the source tree (`.ts`: the repository's tests and demo) it is bundled
 * here on first use with esbuild, a development dependency, so there is no build step to forget.
 */
export function adminTabAssets(): Promise<AdminTabAssets> {
  assets ??= load();
  assets.catch(() => (assets = undefined)); // a failed load is retried by the next call
  return assets;
}

async function load(): Promise<AdminTabAssets> {
  const folder = import.meta.dirname;
  const html = await readFile(join(folder, "admin-tab.html"), "utf8");
  if (import.meta.url.endsWith(".js")) {
    const script = await readFile(join(folder, "admin-tab-page.js"), "utf8").catch((error: unknown) => {
      throw new Error(`${join(folder, "admin-tab-page.js")} is missing (${String(error)}): the package build (npm run build) bundles it`);
    });
    return { html, script };
  }
  return { html, script: await bundleFromSource(join(folder, "admin-tab-page.ts")) };
}

async function bundleFromSource(entry: string): Promise<string> {
  const esbuild = await import("esbuild").catch((error: unknown) => {
    throw new Error(`bundling the admin tab from the source tree needs esbuild (npm install --save-dev esbuild): ${String(error)}`);
  });
  const result = await esbuild.build({ entryPoints: [entry], bundle: true, write: false, format: "esm", platform: "browser", target: "es2022", minify: true, logLevel: "silent" });
  const [output] = result.outputFiles;
  if (output === undefined) throw new Error(`esbuild produced no bundle for ${entry}`);
  return output.text;
}
