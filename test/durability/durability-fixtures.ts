import pg from "pg";
import { createTestDatabase, type TestDatabase } from "../support/postgres.ts";
import type { HoldRecord } from "../../src/model/hold.ts";
import type { AwardRecord } from "../../src/model/award.ts";
import type { Balance } from "../../src/model/balance.ts";
import type { CounterState } from "../../src/model/counter-state.ts";
import type { SubjectSnapshot } from "../../src/model/subject-state.ts";

/**
 * Shared setup of the durability suites: real PostgreSQL and Redis, isolated by a throwaway database
 * per suite and random key prefixes / queue names that are deleted afterwards (never FLUSHALL).
 */

export interface SuiteDatabase {
  readonly url: string;
  readonly pool: pg.Pool;
  /** Ends the pool and drops the database. */
  close(): Promise<void>;
}

export async function openSuiteDatabase(): Promise<SuiteDatabase> {
  const database: TestDatabase = await createTestDatabase();
  const pool = new pg.Pool({ connectionString: database.url, max: 4 });
  pool.on("error", () => undefined);
  return {
    url: database.url,
    pool,
    close: async () => {
      await pool.end();
      await database.drop();
    },
  };
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
