#!/usr/bin/env node
/**
 * `npx colyseus-progression <command>`: checks for milestone definitions before a deploy.
 *
 *   validate <definitions>            every invalid definition, named (exit 1), or "valid"
 *   simulate <definitions> [options]  what deploying them would award from the players' event history
 *     --redis-url <url>      the game's Redis (default: REDIS_URL, else redis://127.0.0.1:6379)
 *     --redis-cluster <nodes> the game's Redis Cluster instead: host:port,host:port,... (default: REDIS_CLUSTER_NODES)
 *     --cluster-shards <n>   its shard count (default: the Redis backend's, 256)
 *     --prefix <prefix>      its key prefix (default: the Redis backend's, "progression")
 *     --database-url <url>   PostgreSQL with the archived history (default: DATABASE_URL; none: Redis only)
 *     --schema <name>        its schema (default: the durability's, "progression")
 *     --current <path>       the definitions running now, to tell new, changed and removed ones apart
 *     --json                 the report as JSON
 *
 * Nothing is written anywhere: the store is only read.
 */
import { parseArgs } from "node:util";
import { createProgression } from "../engine/create-progression.ts";
import { loadDefinitions } from "../definitions/load-definitions.ts";
import { isProgressionError } from "../errors/progression-error.ts";
import type { SimulationReport } from "../history/simulate.ts";

const USAGE = `usage: colyseus-progression validate <definitions.json|dir>
       colyseus-progression simulate <definitions.json|dir> [--redis-url URL | --redis-cluster HOST:PORT,...] [--cluster-shards N] [--prefix P] [--database-url URL] [--schema S] [--current PATH] [--json]`;

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      "redis-url": { type: "string" },
      "redis-cluster": { type: "string" },
      "cluster-shards": { type: "string" },
      prefix: { type: "string" },
      "database-url": { type: "string" },
      schema: { type: "string" },
      current: { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  const [command, path] = positionals;
  if ((command !== "validate" && command !== "simulate") || path === undefined) {
    console.error(USAGE);
    return 2;
  }
  const definitions = loadDefinitions(path); // throws naming every invalid definition
  if (command === "validate") {
    console.log(`${path}: ${definitions.length} milestone definitions, all valid`);
    return 0;
  }

  const { createRedisBackend } = await import("../backends/redis/create-redis-backend.ts");
  // simulate only reads: it runs against any Redis, durable or not.
  const clusterNodes = (values["redis-cluster"] ?? process.env.REDIS_CLUSTER_NODES ?? "").split(",").filter((node) => node !== "");
  const backend = createRedisBackend({
    url: values["redis-url"] ?? process.env.REDIS_URL,
    allowVolatileRedis: true,
    ...(clusterNodes.length === 0 ? {} : { clusterNodes }),
    ...(values["cluster-shards"] === undefined ? {} : { clusterShards: Number(values["cluster-shards"]) }),
    ...(values.prefix === undefined ? {} : { prefix: values.prefix }),
  });
  await backend.ready();
  const progression = createProgression({ definitions: values.current ?? [], backend, onMissingTranslations: () => {} });
  const databaseUrl = values["database-url"] ?? process.env.DATABASE_URL;
  let closeArchive = async (): Promise<void> => {};
  try {
    if (databaseUrl !== undefined && databaseUrl !== "") {
      const { default: pg } = await import("pg");
      const { createPostgresHistoryArchive } = await import("../durability/postgres/history-archive.ts");
      const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
      closeArchive = () => pool.end();
      progression.useHistoryArchive(createPostgresHistoryArchive({ pool, schema: values.schema ?? "progression" }));
    }
    const report = await progression.simulate(definitions);
    console.log(values.json ? JSON.stringify(report, null, 2) : describe(report, values.current !== undefined));
    return 0;
  } finally {
    await progression.close();
    await closeArchive();
  }
}

function describe(report: SimulationReport, compared: boolean): string {
  const lines = [`${report.subjects} players with a history${compared ? "" : " (no --current: every milestone counts as new)"}`];
  const header = ["milestone", "change", "qualify", "would award", "rewards", "holders", "holders not qualifying"];
  const rows = report.milestones.map((m) => [
    m.code,
    m.change,
    String(m.qualifying),
    String(m.wouldAward),
    m.rewards.map((reward) => `${reward.quantity} ${reward.item}`).join(", ") || "-",
    String(m.holders),
    String(m.holdersNotQualifying),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  for (const row of [header, ...rows]) lines.push(row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  ").trimEnd());
  return lines.join("\n");
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(isProgressionError(error) ? error.message : error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
