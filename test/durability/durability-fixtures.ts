import { randomBytes } from "node:crypto";
import pg from "pg";
import type { HoldRecord } from "../../src/ledger/ledger-backend.ts";
import type { AwardRecord, Balance, CounterState, SubjectSnapshot } from "../../src/store/progression-backend.ts";

/**
 * Shared setup of the durability suites: real PostgreSQL and Redis, isolated by a random schema,
 * key prefix and queue names that are dropped/deleted afterwards (never FLUSHALL).
 */

export const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString("hex")}`;
}

export function newPool(): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  pool.on("error", () => undefined);
  return pool;
}

export async function dropSchema(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

export function snapshotOf(
  subject: string,
  parts: {
    counters?: Record<string, CounterState>;
    awards?: readonly AwardRecord[];
    balances?: readonly Omit<Balance, "subject">[];
    holds?: readonly Omit<HoldRecord, "subject" | "state" | "settledAt">[];
  },
): SubjectSnapshot {
  return {
    subject,
    counters: new Map(Object.entries(parts.counters ?? {})),
    awards: new Map((parts.awards ?? []).map((award) => [award.code, award])),
    balances: (parts.balances ?? []).map((balance) => ({ subject, ...balance })),
    holds: (parts.holds ?? []).map((hold) => ({ subject, state: "held" as const, settledAt: null, ...hold })),
  };
}
