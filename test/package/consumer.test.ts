import { execFileSync, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startRedisServer, type TestRedisServer } from "../support/redis-server.ts";

/**
 * The package as a game team gets it: `npm pack` of the built dist/, installed into a fresh project that has
 * only the peers the README's "Install in your project" names, then used there with plain `node`, type
 * checked by a strict consumer, and linted by publint and @arethetypeswrong/cli.
 */
const repo = fileURLToPath(new URL("../../", import.meta.url));
const fixtures = fileURLToPath(new URL("./consumer/", import.meta.url));
const bin = (name: string): string => join(repo, "node_modules", ".bin", name);
const manifest = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as { devDependencies: Record<string, string> };
const devVersion = (name: string): string => manifest.devDependencies[name] ?? "*";

let project: string;
let tarball: string;
let redis: TestRedisServer;

function run(command: string, args: readonly string[], cwd: string, env: Record<string, string> = {}): string {
  try {
    return execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, npm_config_loglevel: "error", ...env } });
  } catch (error) {
    // What the command printed (e.g. tsc's errors) is the reason; the bare "Command failed" is not.
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(" ")} failed in ${cwd}:\n${stdout}${stderr}`, { cause: error });
  }
}

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), "progression-consumer-"));
  // dist/ is built by `npm test` before the suites run; packing without the prepack build keeps it in place
  // for the suites that import the package by name meanwhile.
  if (!existsSync(join(repo, "dist", "src", "index.js"))) throw new Error("dist/ is missing: run `npm run build` (npm test does) first");
  const packed = JSON.parse(run("npm", ["pack", "--ignore-scripts", "--pack-destination", project, "--json"], repo)) as [{ filename: string }];
  tarball = join(project, packed[0].filename);
  for (const file of readdirSync(fixtures)) copyFileSync(join(fixtures, file), join(project, file));
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({
      name: "a-game",
      private: true,
      type: "module",
      // What "Install in your project" says: the package, @colyseus/core and its transport; the SDK on the client.
      dependencies: {
        "colyseus-progression": `file:./${packed[0].filename}`,
        "@colyseus/core": devVersion("@colyseus/core"),
        "@colyseus/ws-transport": devVersion("@colyseus/ws-transport"),
        "@colyseus/sdk": devVersion("@colyseus/sdk"),
      },
      // A TypeScript game's own setup (Colyseus' declarations need these without skipLibCheck).
      devDependencies: { "@types/node": devVersion("@types/node"), "@types/express": "^5.0.0", "@types/debug": "^4.1.0" },
    }),
  );
  run("npm", ["install", "--no-audit", "--no-fund"], project);
}, 240_000);

afterAll(async () => {
  await redis?.stop();
  if (project !== undefined) rmSync(project, { recursive: true, force: true });
});

describe("the packed package in another project", () => {
  it("ships compiled JavaScript and declarations, no tests, and shares the game's @colyseus/core", () => {
    const files = execFileSync("tar", ["tzf", tarball], { encoding: "utf8" }).split("\n");
    expect(files).toEqual(
      expect.arrayContaining(["package/dist/src/index.js", "package/dist/src/index.d.ts", "package/dist/src/index.d.ts.map", "package/dist/client/index.js", "package/dist/client/index.d.ts", "package/LICENSE"]),
    );
    expect(files.filter((file) => /(^package\/(test|loadtest|rooms)\/)|\.test\.ts$/.test(file))).toEqual([]);
    const declarations = readFileSync(join(project, "node_modules/colyseus-progression/dist/src/index.d.ts"), "utf8");
    expect(declarations).not.toMatch(/from "\.[^"]*\.ts"/);
    // One copy of @colyseus/core: the plugin sees the server the game created.
    expect(run("npm", ["ls", "@colyseus/core", "--parseable"], project).trim().split("\n")).toHaveLength(1);
  });

  it("a plain node server using every Node entry point starts, and a real @colyseus/sdk client with the client kit gets an unlock pushed", async () => {
    redis = await startRedisServer({ useEnv: false });
    const port = await freePort();
    const env = { ...process.env, PORT: String(port), REDIS_URL: redis.url, REDIS_PREFIX: "consumer" };
    const server = spawn(process.execPath, ["server.mjs"], { cwd: project, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    server.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    server.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => server.once("exit", resolve));
    try {
      await expect.poll(() => output, { timeout: 20_000, interval: 50 }).toContain("server ready");
      const client = run(process.execPath, ["client.mjs"], project, { PORT: String(port) }).trim();
      expect(client).toBe("unlocked: First Blood (first_blood), completed");
      server.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(output).toContain("metrics: progression_events_applied_total 1");
      expect(output).not.toMatch(/error|failed/i);
    } finally {
      server.kill("SIGKILL");
    }
  }, 60_000);

  it("type checks in a strict NodeNext consumer (exactOptionalPropertyTypes, no skipLibCheck)", () => {
    const tsc = join(repo, "node_modules", "typescript", "bin", "tsc");
    // Colyseus' own declarations need the DOM lib (fetch types) and @types/express: the game's setup has them.
    expect(() => run(process.execPath, [tsc, "-p", "tsconfig.json"], project)).not.toThrow();
  }, 60_000);

  it("installs the CLI: npx colyseus-progression validate checks a definitions file", () => {
    const definitions = join(project, "milestones.json");
    writeFileSync(definitions, JSON.stringify([{ code: "first_blood", title: "t", description: "d", icon: "i.png", trigger: "kill", rule: { type: "count", threshold: 1 } }]));
    expect(run("npx", ["--no-install", "colyseus-progression", "validate", definitions], project)).toContain("1 milestone definitions, all valid");
    writeFileSync(definitions, JSON.stringify([{ code: "broken", title: "t", description: "d", icon: "i.png", trigger: "kill", rule: { type: "count" } }]));
    expect(() => run("npx", ["--no-install", "colyseus-progression", "validate", definitions], project)).toThrow(/milestone "broken"/);
  }, 60_000);

  it("publint and @arethetypeswrong/cli find no problem", () => {
    expect(run(bin("publint"), ["--strict", join(project, "node_modules/colyseus-progression")], project)).toContain("All good");
    // ESM only by design: CommonJS resolutions are out of scope (the esm-only profile).
    expect(() => run(bin("attw"), [tarball, "--profile", "esm-only"], project)).not.toThrow();
  }, 60_000);
});
