import { readdir } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import { isProgressionError } from "../../src/errors/progression-error.ts";
import { createPostgresStore, type PostgresStore } from "../../src/durability/postgres/postgres-store.ts";
import { runMigrations } from "../../src/durability/postgres/run-migrations.ts";
import type pg from "pg";
import { openSuiteDatabase, snapshotOf, type SuiteDatabase } from "./durability-fixtures.ts";

const schema = "progression";
let database: SuiteDatabase;
let pool: pg.Pool;
let store: PostgresStore;

beforeAll(async () => {
  database = await openSuiteDatabase();
  pool = database.pool;
  store = createPostgresStore({ pool, schema });
  await store.migrate();
});

afterAll(async () => {
  await store.close();
  await database.close();
});

const day = 86_400_000;

describe("migrations", () => {
  it("apply once and are a no-op afterwards, also when started twice at once", async () => {
    const again = await Promise.all([runMigrations(pool, schema), runMigrations(pool, schema)]);
    expect(again).toEqual([[], []]);
    const versions = await pool.query<{ version: number }>(`SELECT version FROM "${schema}".migrations ORDER BY version`);
    // Every file of migrations/ once, in order.
    const files = (await readdir(new URL("../../src/durability/postgres/migrations/", import.meta.url))).filter((file) => file.endsWith(".sql")).sort();
    expect(files.length).toBeGreaterThanOrEqual(6);
    expect(versions.rows.map((row) => row.version)).toEqual(files.map((file) => Number(file.slice(0, 3))));
  });

  it("refuse a schema name that is not a plain identifier, naming the option", () => {
    let caught: unknown;
    try {
      createPostgresStore({ pool, schema: 'bad"; DROP TABLE x; --' });
    } catch (error) {
      caught = error;
    }
    expect(isProgressionError(caught, ErrorCode.InvalidInput)).toBe(true);
    expect((caught as Error).message).toContain("schema");
  });
});

describe("snapshot writer and loader", () => {
  it("writes a subject and reads the same snapshot back", async () => {
    const snapshot = snapshotOf("alice", {
      counters: {
        kills: { kind: "sum", value: 42, at: 1_000 },
        weekly: { kind: "window", buckets: new Map([[20_000, 3], [20_001, 5]]), at: 20_001 * day + 5 },
        logins: { kind: "days", value: 7, lastDay: 20_001, at: 20_001 * day },
        comeback: { kind: "gap", last: 30_000, maxGap: 9_000, maxGapAt: 25_000 },
      },
      awards: [
        { code: "first_blood", earnedAt: 500, retroactive: false, claimedAt: null },
        { code: "veteran", earnedAt: 900, retroactive: true, claimedAt: 950 },
      ],
      balances: [
        { item: "gem", free: 10, held: 2 },
        { item: "gold", free: 250, held: 0 },
      ],
      holds: [{ holdId: "h0123456789abcdef:alice", item: "gem", quantity: 2, createdAt: 100, expiresAt: 60_100 }],
    });
    const result = await store.writer.write([snapshot], 1_000_000);
    expect(result).toMatchObject({ subjects: 1, staleSubjects: 0 });
    expect(await store.loader("alice")).toEqual(snapshot);
  });

  it("returns null for a subject it never saw", async () => {
    expect(await store.loader("nobody")).toBeNull();
  });

  it("round-trips subjects, items and codes with tabs, newlines, backslashes and Unicode", async () => {
    const subject = "we\tird\\name\nwith\r😀 ünïcode";
    const snapshot = snapshotOf(subject, {
      counters: { "c\\1": { kind: "sum", value: 1, at: 2 } },
      awards: [{ code: "a\tb", earnedAt: 2, retroactive: false, claimedAt: null }],
      balances: [{ item: "it\nem", free: 1, held: 0 }],
    });
    await store.writer.write([snapshot], 2_000_000);
    expect(await store.loader(subject)).toEqual(snapshot);
  });

  it("never lowers a counter when an older or replayed snapshot arrives late", async () => {
    const newer = snapshotOf("bob", {
      counters: {
        kills: { kind: "sum", value: 100, at: 9_000 },
        weekly: { kind: "window", buckets: new Map([[20_000, 4], [20_001, 1]]), at: 20_001 * day },
        logins: { kind: "days", value: 5, lastDay: 20_001, at: 20_001 * day },
        comeback: { kind: "gap", last: 50_000, maxGap: 20_000, maxGapAt: 40_000 },
      },
      balances: [{ item: "gold", free: 7, held: 0 }],
    });
    const older = snapshotOf("bob", {
      counters: {
        kills: { kind: "sum", value: 60, at: 5_000 },
        weekly: { kind: "window", buckets: new Map([[19_999, 2], [20_000, 6]]), at: 20_000 * day },
        logins: { kind: "days", value: 3, lastDay: 19_999, at: 19_999 * day },
        comeback: { kind: "gap", last: 30_000, maxGap: 10_000, maxGapAt: 20_000 },
      },
      balances: [{ item: "gold", free: 99, held: 0 }],
    });
    await store.writer.write([newer], 2_000);
    const late = await store.writer.write([older], 1_000);
    expect(late.staleSubjects).toBe(1);
    await store.writer.write([newer], 2_000); // a replay changes nothing

    const loaded = await store.loader("bob");
    expect(loaded?.counters.get("kills")).toEqual({ kind: "sum", value: 100, at: 9_000 });
    // Buckets merge by max per day; a bucket only the older snapshot had is kept.
    expect(loaded?.counters.get("weekly")).toEqual({
      kind: "window",
      buckets: new Map([[19_999, 2], [20_000, 6], [20_001, 1]]),
      at: 20_001 * day,
    });
    expect(loaded?.counters.get("logins")).toEqual({ kind: "days", value: 5, lastDay: 20_001, at: 20_001 * day });
    expect(loaded?.counters.get("comeback")).toEqual({ kind: "gap", last: 50_000, maxGap: 20_000, maxGapAt: 40_000 });
    // Balances are the newest snapshot's truth, not the late one's.
    expect(loaded?.balances).toEqual([{ subject: "bob", item: "gold", free: 7, held: 0 }]);
  });

  it("never lowers a counter even when a newer snapshot comes from a backend that lost the subject", async () => {
    await store.writer.write([snapshotOf("gina", { counters: { kills: { kind: "sum", value: 80, at: 8_000 } } })], 100);
    // Newer export, but the backend started the subject again from zero (lost without a restore).
    await store.writer.write([snapshotOf("gina", { counters: { kills: { kind: "sum", value: 2, at: 9_000 } } })], 200);
    expect((await store.loader("gina"))?.counters.get("kills")).toEqual({ kind: "sum", value: 80, at: 9_000 });
  });

  it("keeps awards unique per subject and code and never downgrades claimed to unclaimed", async () => {
    const unclaimed = snapshotOf("carol", { awards: [{ code: "hero", earnedAt: 10, retroactive: false, claimedAt: null }] });
    const claimed = snapshotOf("carol", { awards: [{ code: "hero", earnedAt: 10, retroactive: false, claimedAt: 20 }] });
    await store.writer.write([unclaimed], 1);
    await store.writer.write([claimed], 2);
    await store.writer.write([unclaimed], 3); // e.g. a replay of an export taken before the claim
    const rows = await pool.query(`SELECT * FROM "${schema}".awards WHERE subject = 'carol'`);
    expect(rows.rowCount).toBe(1);
    expect((await store.loader("carol"))?.awards.get("hero")?.claimedAt).toBe(20);

    await expect(
      pool.query(`INSERT INTO "${schema}".awards VALUES ('carol', 'hero', 1, false, NULL)`),
    ).rejects.toThrow(/duplicate key/);
  });

  it("replaces balances and open holds with the newest snapshot (a consumed item and a settled hold disappear)", async () => {
    await store.writer.write(
      [
        snapshotOf("dave", {
          balances: [{ item: "gem", free: 3, held: 1 }, { item: "gold", free: 5, held: 0 }],
          holds: [{ holdId: "h00000000000000aa:dave", item: "gem", quantity: 1, createdAt: 1, expiresAt: 2 }],
        }),
      ],
      10,
    );
    await store.writer.write([snapshotOf("dave", { balances: [{ item: "gem", free: 4, held: 0 }] })], 11);
    const loaded = await store.loader("dave");
    expect(loaded?.balances).toEqual([{ subject: "dave", item: "gem", free: 4, held: 0 }]);
    expect(loaded?.holds).toEqual([]);
  });

  it("sends only what changed: an identical snapshot costs one subject row, a new item the balances block", async () => {
    const base = { counters: { kills: { kind: "sum" as const, value: 3, at: 30 } }, awards: [{ code: "a1", earnedAt: 30, retroactive: false, claimedAt: null }] };
    const first = await store.writer.write([snapshotOf("hank", { ...base, balances: [{ item: "gem", free: 1, held: 0 }] })], 1);
    expect(first.rows).toBe(3); // subject, award, balance
    const same = await store.writer.write([snapshotOf("hank", { ...base, balances: [{ item: "gem", free: 1, held: 0 }] })], 2);
    expect(same.rows).toBe(1); // only snapshot_at moves
    const more = await store.writer.write([snapshotOf("hank", { ...base, balances: [{ item: "gem", free: 1, held: 0 }, { item: "gold", free: 9, held: 0 }] })], 3);
    expect(more.rows).toBe(4); // subject + replace marker + both balances of the block
    expect((await store.loader("hank"))?.balances.map((b) => b.item)).toEqual(["gem", "gold"]);
  });

  it("serialises concurrent writers: overlapping snapshots written at once still merge to the maximum", async () => {
    // Rounds of 4 concurrent writes (the pool's size) of one subject, values in a scrambled order.
    for (let round = 0; round < 5; round += 1) {
      const subject = `ivy-${round}`;
      const versions = [3, 0, 2, 1].map((rank) => snapshotOf(subject, { counters: { kills: { kind: "sum", value: 10 * round + rank, at: 1000 + rank } } }));
      await Promise.all(versions.map((version, i) => store.writer.write(Array.from({ length: 200 }, (_, k) => (k === 100 ? version : snapshotOf(`${subject}-filler-${i}-${k}`, {}))), 5000 + i)));
      expect((await store.loader(subject))?.counters.get("kills")).toEqual({ kind: "sum", value: 10 * round + 3, at: 1003 });
    }
  });

  it("writes many subjects in one transaction: a corrupt one rolls back the whole batch", async () => {
    const good = snapshotOf("erin", { counters: { kills: { kind: "sum", value: 1, at: 1 } } });
    const corrupt = snapshotOf("frank", { counters: { kills: { kind: "sum", value: 1.5, at: 1 } } });
    await expect(store.writer.write([good, corrupt], 5)).rejects.toSatisfy((error) =>
      isProgressionError(error, ErrorCode.InvalidInput),
    );
    expect(await store.loader("erin")).toBeNull();
  });
});

describe("ledger journal", () => {
  it("appends one row per (event, subject, item), ignores redeliveries and refuses rewrites", async () => {
    const envelope = {
      id: "evt-1",
      topic: "inventory.changed" as const,
      idempotencyKey: "trade-7",
      occurredAt: 1234,
      attempt: 1,
      payload: {
        cause: "transfer" as const,
        balances: [
          { subject: "alice", item: "gem", free: 3, held: 0 },
          { subject: "bob", item: "gem", free: 9, held: 0 },
        ],
      },
    };
    expect(await store.journal.append(store.journal.entriesOf(envelope))).toBe(2);
    expect(await store.journal.append(store.journal.entriesOf({ ...envelope, attempt: 2 }))).toBe(0);
    const rows = await pool.query<{ subject: string; free_after: string; idempotency_key: string }>(
      `SELECT subject, free_after, idempotency_key FROM "${schema}".ledger_journal ORDER BY id`,
    );
    expect(rows.rows).toEqual([
      { subject: "alice", free_after: "3", idempotency_key: "trade-7" },
      { subject: "bob", free_after: "9", idempotency_key: "trade-7" },
    ]);
    await expect(pool.query(`DELETE FROM "${schema}".ledger_journal`)).rejects.toThrow(/append-only/);
  });
});
