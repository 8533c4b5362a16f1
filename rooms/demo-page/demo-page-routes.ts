import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { build } from "esbuild";

/**
 * The demo page, mounted on the demo server's Express app (`defineServer({ express: mountDemoPage })`):
 * - `GET /` the page, `GET /demo-page.css` its styles, `GET /demo-page.js` its script (bundled here once, at
 *   start, in memory: the demo runs from the source tree, so there is no build step to forget);
 * - `GET /assets/<folder>/<file>` the arena's icons and animations (rooms/arena/assets), only known folders
 *   and plain file names, so no path can reach outside it.
 *
 * Why Express and not `createRouter` endpoints: the router writes a response body in one `write` and stops
 * if the socket cannot take it at once, which truncates a half-megabyte script; Express streams it.
 */
const pageFolder = import.meta.dirname;
const assetsFolder = join(import.meta.dirname, "..", "arena", "assets");
const assetFolders = new Set(["icons", "animations"]);
const assetName = /^[a-z0-9][a-z0-9_-]*\.(svg|webm)$/;
const contentTypes: Record<string, string> = { svg: "image/svg+xml", webm: "video/webm" };

/** The parts of an Express app and its requests and responses used here. */
interface ExpressLike {
  get(path: string, handler: (request: { params: Record<string, string | undefined> }, response: ExpressResponse) => void): unknown;
}
interface ExpressResponse {
  status(code: number): ExpressResponse;
  set(headers: Record<string, string>): ExpressResponse;
  send(body: string | Buffer): unknown;
}

export async function mountDemoPage(app: ExpressLike): Promise<void> {
  const [html, css, script] = await Promise.all([
    readFile(join(pageFolder, "index.html"), "utf8"),
    readFile(join(pageFolder, "demo-page.css"), "utf8"),
    bundleDemoPage(),
  ]);
  const serve = (path: string, body: string, contentType: string): void => {
    app.get(path, (_request, response) => {
      response.set({ "content-type": contentType, "cache-control": "no-cache" }).send(body);
    });
  };
  serve("/", html, "text/html; charset=utf-8");
  serve("/demo-page.css", css, "text/css; charset=utf-8");
  serve("/demo-page.js", script, "text/javascript; charset=utf-8");

  app.get("/assets/:folder/:file", (request, response) => {
    const { folder = "", file = "" } = request.params;
    const extension = assetName.exec(file)?.[1];
    if (!assetFolders.has(folder) || extension === undefined) {
      notFound(response, `no asset ${JSON.stringify(`${folder}/${file}`)}: assets are /assets/icons/<name>.svg or /assets/animations/<name>.webm`);
      return;
    }
    readFile(join(assetsFolder, folder, file)).then(
      (body) => response.set({ "content-type": contentTypes[extension] ?? "application/octet-stream", "cache-control": "max-age=300" }).send(body),
      () => notFound(response, `no asset ${folder}/${file} in rooms/arena/assets`),
    );
  });
}

async function bundleDemoPage(): Promise<string> {
  const result = await build({
    entryPoints: [join(pageFolder, "demo-page.ts")],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    logLevel: "silent",
  });
  const [output] = result.outputFiles;
  if (output === undefined) throw new Error("esbuild produced no bundle for rooms/demo-page/demo-page.ts");
  return output.text;
}

function notFound(response: ExpressResponse, message: string): void {
  response.status(404).set({ "content-type": "application/json" }).send(JSON.stringify({ code: "NOT_FOUND", message }));
}
