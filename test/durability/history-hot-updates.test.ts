import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HISTORY_FILL_FACTOR, partitionStart } from "../../src/durability/postgres/history-archive.ts";
import { createPostgresStore, type PostgresStore } from "../../src/durability/postgres/postgres-store.ts";
import { loadMigrations, runMigrations } from "../../src/durability/postgres/run-migrations.ts";
import type { HistoryPart } from "../../src/model/history.ts";
import type { SubjectSnapshot } from "../../src/model/subject-state.ts";
import { DAY_MS, dayOf } from "../../src/model/utc-day.ts";
import { openSuiteDatabase, snapshotOf, type SuiteDatabase } from "./durability-fixtures.ts";

/**
 * The history table's layout for rewrites in place (migration 007, history-archive.ts): partitions with
 * fill factor 50, byte-order key columns, and what that buys: rewriting grown rows keeps every row on
 * its page and adds nothing to the primary key (HOT updates), a replay touches no row. Real PostgreSQL.
 */

let database: SuiteDatabase;
const TODAY = dayOf(Date.parse("2026-03-15T12:00:00Z"));

beforeAll(async () => {
  database = await openSuiteDatabase();
});

afterAll(async () => {
  await database.close();
});

async function freshStore(): Promise<PostgresStore> {
  const store = createPostgresStore({ pool: database.pool, schema: `hot_${randomBytes(4).toString("hex")}` });
  await store.migrate();
  return store;
}

/** `subjects` subjects x 2 days x 8 rollups, each `events` events. */
function snapshots(subjects: number, events: number): SubjectSnapshot[] {
  return Array.from({ length: subjects }, (_, index) => {
    const history: HistoryPart[] = [];
    for (const day of [TODAY - 1, TODAY]) {
      for (let r = 0; r < 8; r += 1) {
        history.push({
          part: "p1",
          type: r % 2 === 0 ? "kill" : "loot",
          tags: `{"creature":"c${r}"}`,
          day,
          count: events,
          sum: events * 2,
          firstAt: day * DAY_MS + 1_000,
          lastAt: day * DAY_MS + 1_000 + events,
          maxAmount: 2,
        });
      }
    }
    return { ...snapshotOf(`player-${String(index).padStart(5, "0")}`, {}), history };
  });
}

async function partitionOptions(schema: string): Promise<{ name: string; options: string[] | null }[]> {
  const result = await database.pool.query<{ name: string; options: string[] | null }>(
    `SELECT c.relname AS name, c.reloptions AS options FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = to_regclass($1) ORDER BY 1`,
    [`"${schema}".history`],
  );
  return result.rows;
}

async function keyCollations(schema: string): Promise<Record<string, string | null>> {
  const result = await database.pool.query<{ column: string; collation: string | null }>(
    `SELECT a.attname AS column, co.collname AS collation FROM pg_attribute a LEFT JOIN pg_collation co ON co.oid = a.attcollation
     WHERE a.attrelid = to_regclass($1) AND a.attname IN ('subject', 'type', 'tags', 'part')`,
    [`"${schema}".history`],
  );
  return Object.fromEntries(result.rows.map((row) => [row.column, row.collation]));
}

/** Every row's page and version, by key. */
async function rowPlaces(schema: string): Promise<Map<string, { page: string; xmin: string; count: string }>> {
  const result = await database.pool.query<{ key: string; page: string; xmin: string; count: string }>(
    `SELECT subject || '|' || day || '|' || type || '|' || tags || '|' || part AS key, (ctid::text::point)[0]::text AS page,
       xmin::text AS xmin, count::text AS count
     FROM "${schema}".history`,
  );
  return new Map(result.rows.map(({ key, ...row }) => [key, row]));
}

async function primaryKeySize(schema: string): Promise<number> {
  const result = await database.pool.query<{ bytes: string }>(
    `SELECT sum(pg_relation_size(i.indexrelid))::text AS bytes FROM pg_index i
     JOIN pg_inherits h ON h.inhrelid = i.indrelid WHERE h.inhparent = to_regclass($1) AND i.indisprimary`,
    [`"${schema}".history`],
  );
  return Number(result.rows[0]?.bytes ?? 0);
}

describe("history rows rewritten in place", () => {
  it("creates partitions with fill factor 50 and byte-order key columns", async () => {
    const store = await freshStore();
    await store.writer.write(snapshots(2, 1));
    const partitions = await partitionOptions(store.schema);
    expect(partitions).toEqual([{ name: `history_p${partitionStart(TODAY)}`, options: [`fillfactor=${HISTORY_FILL_FACTOR}`] }]);
    expect(await keyCollations(store.schema)).toEqual({ subject: "C", type: "C", tags: "C", part: "C" });
  });

  it("rewrites grown rows on their own pages without a new index entry; a replay changes no row", async () => {
    const store = await freshStore();
    await store.writer.write(snapshots(300, 10)); // 4,800 rows, one transaction
    const written = await rowPlaces(store.schema);
    const indexBytes = await primaryKeySize(store.schema);
    expect(written.size).toBe(4_800);

    await store.writer.write(snapshots(300, 10)); // a replay
    expect(await rowPlaces(store.schema)).toEqual(written);

    await store.writer.write(snapshots(300, 25)); // every row grown, in one transaction
    const grown = await rowPlaces(store.schema);
    expect(grown.size).toBe(4_800);
    for (const [key, row] of grown) {
      const before = written.get(key);
      expect(row.count).toBe("25");
      expect(row.xmin).not.toBe(before?.xmin); // a new version...
      expect(row.page).toBe(before?.page); // ...on the same page (HOT)
    }
    // HOT updates add no index entry: the primary key did not grow.
    expect(await primaryKeySize(store.schema)).toBe(indexBytes);
  });

  it("migration 007 gives partitions created before it the same layout, rows kept", async () => {
    const schema = `hot_${randomBytes(4).toString("hex")}`;
    // The schema as migrations 001-006 left it (what runMigrations would have done before 007 existed).
    const client = await database.pool.connect();
    try {
      await client.query(`CREATE SCHEMA "${schema}"`);
      await client.query(`CREATE TABLE "${schema}".migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      for (const migration of await loadMigrations()) {
        if (migration.version >= 7) continue;
        await client.query(migration.sql.replaceAll("__SCHEMA__", `"${schema}"`));
        await client.query(`INSERT INTO "${schema}".migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
      }
      const start = partitionStart(TODAY);
      await client.query(`CREATE TABLE "${schema}".history_p${start} PARTITION OF "${schema}".history FOR VALUES FROM (${start}) TO (${start + 32})`);
      await client.query(
        `INSERT INTO "${schema}".history VALUES ('player-1', 'kill', '{"creature":"troll"}', ${TODAY}, 'p1', 3, 3, 1, 2, 1)`,
      );
    } finally {
      client.release();
    }
    expect(await keyCollations(schema)).not.toEqual({ subject: "C", type: "C", tags: "C", part: "C" });

    expect(await runMigrations(database.pool, schema)).toContain(7);
    expect((await partitionOptions(schema)).map((partition) => partition.options)).toEqual([[`fillfactor=${HISTORY_FILL_FACTOR}`]]);
    expect(await keyCollations(schema)).toEqual({ subject: "C", type: "C", tags: "C", part: "C" });
    const store = createPostgresStore({ pool: database.pool, schema });
    await store.writer.write([
      {
        ...snapshotOf("player-1", {}),
        history: [{ part: "p1", type: "kill", tags: '{"creature":"troll"}', day: TODAY, count: 5, sum: 5, firstAt: 1, lastAt: 9, maxAmount: 1 }],
      },
    ]);
    expect([...(await rowPlaces(schema)).values()].map((row) => row.count)).toEqual(["5"]);
  });
});
