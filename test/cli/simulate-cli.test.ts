import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { createRedisBackend } from "../../src/backends/redis/create-redis-backend.ts";
import { createProgression } from "../../src/engine/create-progression.ts";
import type { SimulationReport } from "../../src/history/simulate.ts";
import type { MilestoneDefinitionInput } from "../../src/definitions/milestone-schema.ts";
import { Cluster } from "ioredis";
import { inject } from "vitest";
import { deleteClusterKeysWithPrefix, isolatedRedis, randomPrefix, testRedisUrl } from "../support/redis-prefix.ts";

const run = promisify(execFile);
const cli = join(import.meta.dirname, "../../src/cli/colyseus-progression.ts");
const directory = mkdtempSync(join(tmpdir(), "progression-cli-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const milestone = (code: string, rule: MilestoneDefinitionInput["rule"]): MilestoneDefinitionInput => ({ code, title: code, description: code, icon: `${code}.png`, trigger: "kill", rule });
const file = (name: string, content: unknown): string => {
  const path = join(directory, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
};

describe("colyseus-progression CLI", () => {
  it("validate names every invalid definition and exits 1", async () => {
    const bad = file("bad.json", [milestone("a", { type: "count", threshold: 0 }), milestone("b", { type: "window" } as never)]);
    const failure = await run(process.execPath, [cli, "validate", bad]).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stderr: string }).stderr).toMatch(/2 milestones are invalid: milestone "a".*milestone "b"/);
    const good = file("good.json", [milestone("a", { type: "count", threshold: 1 })]);
    expect((await run(process.execPath, [cli, "validate", good])).stdout).toMatch(/1 milestone definitions, all valid/);
  });

  it("simulate reads the game's Redis and reports what a deploy would award, writing nothing", async () => {
    const { client, prefix, cleanup } = await isolatedRedis("cli");
    try {
      const current = [milestone("first_kill", { type: "count", threshold: 1 })];
      const backend = createRedisBackend({ redis: client, prefix });
      const progression = createProgression({ definitions: current, backend, onMissingTranslations: () => {} });
      await progression.recordBatch([
        ...Array.from({ length: 6 }, () => ({ type: "kill", subject: "p1", tags: { creature: "troll" } })),
        { type: "kill", subject: "p2", tags: { creature: "goblin" } },
      ]);
      // Reading a history folds its log of recent applies into it (no rollup changes): done first, so the
      // key set is what a read leaves, and the CLI must leave it exactly so.
      const historiesBefore = [await progression.history("p1"), await progression.history("p2")];
      const keysBefore = (await client.keys(`${prefix}:*`)).sort();
      const next = file("next.json", [...current, milestone("troll_hunter", { type: "count", threshold: 5, where: { creature: "troll" } })]);
      const { stdout } = await run(process.execPath, [cli, "simulate", next, "--redis-url", testRedisUrl(), "--prefix", prefix, "--current", file("current.json", current), "--json"], {
        env: { ...process.env, DATABASE_URL: "" },
      });
      const report = JSON.parse(stdout) as SimulationReport;
      expect(report.subjects).toBe(2);
      expect(report.milestones.find((m) => m.code === "troll_hunter")).toMatchObject({ change: "new", qualifying: 1, wouldAward: 1, examples: ["p1"] });
      expect(report.milestones.find((m) => m.code === "first_kill")).toMatchObject({ change: "unchanged", holders: 2 });
      expect((await client.keys(`${prefix}:*`)).sort()).toEqual(keysBefore);
      expect([await progression.history("p1"), await progression.history("p2")]).toEqual(historiesBefore);
      expect((await backend.readState("p1")).awards.has("troll_hunter")).toBe(false);
      await progression.close();
    } finally {
      await cleanup();
    }
  });

  it("simulate reads a Redis Cluster given its nodes and shard count", async () => {
    const nodes = inject("redisClusterNodes");
    const client = new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: 1 } });
    const prefix = randomPrefix("cli");
    try {
      const current = [milestone("first_kill", { type: "count", threshold: 1 })];
      const progression = createProgression({ definitions: current, backend: createRedisBackend({ redis: client, prefix, clusterShards: 4 }), onMissingTranslations: () => {} });
      await progression.recordBatch(Array.from({ length: 12 }, (_, i) => ({ type: "kill", subject: `p${i % 4}`, tags: { creature: i % 2 === 0 ? "troll" : "goblin" } })));
      await progression.close();
      const next = file("next-cluster.json", [...current, milestone("troll_hunter", { type: "count", threshold: 3, where: { creature: "troll" } })]);
      const nodeList = nodes.map((node) => `${node.host}:${node.port}`).join(",");
      const { stdout } = await run(process.execPath, [cli, "simulate", next, "--redis-cluster", nodeList, "--cluster-shards", "4", "--prefix", prefix, "--current", file("current-cluster.json", current), "--json"], {
        env: { ...process.env, DATABASE_URL: "" },
      });
      const report = JSON.parse(stdout) as SimulationReport;
      expect(report.subjects).toBe(4);
      // p0 and p2 each killed three trolls.
      expect(report.milestones.find((m) => m.code === "troll_hunter")).toMatchObject({ change: "new", qualifying: 2, wouldAward: 2 });
    } finally {
      await deleteClusterKeysWithPrefix(client, prefix);
      client.disconnect();
    }
  });
});
