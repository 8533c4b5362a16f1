import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createDurability, type Durability } from "../../src/durability/create-durability.ts";
import { createPostgresStore } from "../../src/durability/postgres/postgres-store.ts";
import { createSnapshotWriter } from "../../src/durability/postgres/snapshot-writer.ts";
import { mergeParts } from "../../src/model/history.ts";
import { createProgression } from "../../src/engine/create-progression.ts";
import type { Progression } from "../../src/engine/progression.ts";
import type { MilestoneDefinitionInput } from "../../src/definitions/milestone-schema.ts";
import { snapshotDirtySubjects } from "../../src/durability/jobs/snapshot-dirty-subjects.ts";
import { backendFactories, type BackendFixture } from "../support/backend-factories.ts";
import { deleteKeysWithPrefix, randomPrefix, testRedisUrl } from "../support/redis-prefix.ts";
import { openSuiteDatabase, type SuiteDatabase } from "./durability-fixtures.ts";

const DAY = 86_400_000;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

const definitions: MilestoneDefinitionInput[] = [
  { code: "slayer_3", title: "t", description: "d", icon: "i", trigger: "kill", rule: { type: "count", threshold: 3 } },
  { code: "slayer_6", title: "t", description: "d", icon: "i", trigger: "kill", rule: { type: "count", threshold: 6 } },
  { code: "busy_week", title: "t", description: "d", icon: "i", trigger: "loot", rule: { type: "window", count: 5, days: 7 } },
  { code: "regular", title: "t", description: "d", icon: "i", trigger: "login", rule: { type: "daily", days: 2 } },
  { code: "comeback", title: "t", description: "d", icon: "i", trigger: "login", rule: { type: "returnAfterGap", days: 1 } },
];

let database: SuiteDatabase;
let redis: Redis;
const prefixes: string[] = [];

beforeAll(async () => {
  database = await openSuiteDatabase();
  redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  for (const prefix of prefixes) await deleteKeysWithPrefix(redis, prefix);
  redis.disconnect();
  await database.close();
});

function newDurability(schema: string, overrides: Partial<Parameters<typeof createDurability>[0]> = {}): Durability {
  const bullPrefix = randomPrefix("dur");
  prefixes.push(bullPrefix);
  return createDurability({
    redis: testRedisUrl(),
    store: createPostgresStore({ pool: database.pool, schema }),
    bullPrefix,
    schedule: { minIntervalMs: 50, maxIntervalMs: 400, highBacklog: 100 },
    events: { backoffMs: 10, onError: () => undefined },
    logger: quiet,
    ...overrides,
  });
}

/** Some play for `count` subjects: kills, loot over two days, logins with a gap, items and a hold. */
async function play(progression: Progression, subjects: readonly string[], base: number): Promise<void> {
  await progression.recordBatch(
    subjects.flatMap((subject, index) => [
      { type: "kill", subject, amount: 1 + (index % 4), at: base },
      { type: "loot", subject, amount: 2, at: base - DAY },
      { type: "loot", subject, amount: 3, at: base },
      { type: "login", subject, at: base - 2 * DAY },
      { type: "login", subject, at: base },
    ]),
  );
  for (const subject of subjects) {
    await progression.ledger.acquire({ subject, item: "gem", quantity: 10, idempotencyKey: `grant-${subject}` });
    await progression.ledger.hold({ subject, item: "gem", quantity: 3, ttlMs: 3_600_000, idempotencyKey: `hold-${subject}` });
  }
}

for (const factory of backendFactories) {
  // The schema names carry the backend's name as a plain SQL identifier.
  const label = factory.name.replace(/\W/g, "_");
  describe(`snapshot job on the ${factory.name} backend`, () => {
    it("writes what the backend holds: the snapshot in PostgreSQL equals the backend's export", async () => {
      const fixture: BackendFixture = await factory.create();
      const durability = newDurability(`snap_equal_${label}`, { schedule: { minIntervalMs: 60_000, maxIntervalMs: 60_000 } });
      const progression = createProgression({ definitions, backend: fixture.backend, events: durability.bus, onMissingTranslations: () => {} });
      try {
        await durability.start(progression);
        const subjects = Array.from({ length: 25 }, (_, i) => `player-${i}`);
        await play(progression, subjects, Date.now());
        // The scheduler also runs once at start, so this pass may find part of the work done.
        await durability.snapshotNow();
        expect(await fixture.backend.dirtyCount()).toBe(0);
        const exported = await fixture.backend.exportSubjects(subjects);
        const archived = await durability.historyArchive?.read(subjects);
        for (const { history, ...snapshot } of exported) {
          // Restore brings back the state; the history stays in the archive, which holds everything the
          // backend still has (and the older days the backend dropped once they were archived).
          expect(await durability.loader(snapshot.subject)).toEqual(snapshot);
          const archive = archived?.get(snapshot.subject) ?? [];
          expect(mergeParts([history ?? [], archive])).toEqual(mergeParts([archive]));
          expect(history?.length).toBeGreaterThan(0);
        }
        // Sanity: the export is not trivially empty.
        expect(exported[3]?.awards.has("slayer_3")).toBe(true);
        expect(exported[0]?.holds).toHaveLength(1);
      } finally {
        await durability.close();
        await progression.close();
        await fixture.cleanup();
      }
    });

    it("runs on its scheduler without being asked, and a final snapshot at close catches the rest", async () => {
      const fixture = await factory.create();
      const durability = newDurability(`snap_sched_${label}`);
      const progression = createProgression({ definitions, backend: fixture.backend, events: durability.bus, onMissingTranslations: () => {} });
      await durability.start(progression);
      try {
        await play(progression, ["early"], Date.now());
        await expect.poll(() => durability.loader("early"), { timeout: 5000, interval: 50 }).not.toBeNull();
      } finally {
        await progression.record({ type: "kill", subject: "late", amount: 5 });
        await durability.close();
        await progression.close();
        await fixture.cleanup();
      }
      const late = await createPostgresStore({ pool: database.pool, schema: `snap_sched_${label}` }).loader("late");
      expect([...(late?.counters.values() ?? [])]).toEqual([expect.objectContaining({ kind: "sum", value: 5 })]);
    });

    it("puts the subjects back into the dirty set when PostgreSQL refuses the write", async () => {
      const fixture = await factory.create();
      const progression = createProgression({ definitions, backend: fixture.backend, onMissingTranslations: () => {} });
      try {
        await progression.recordBatch([{ type: "kill", subject: "a" }, { type: "kill", subject: "b" }]);
        const before = await fixture.backend.dirtyCount();
        expect(before).toBe(2);
        const broken = createSnapshotWriter({ pool: database.pool, schema: "schema_that_does_not_exist" });
        await expect(
          snapshotDirtySubjects(fixture.backend, broken, { chunkSize: 1, maxSubjects: 10, clock: Date.now }),
        ).rejects.toThrow(/does not exist/);
        expect(await fixture.backend.dirtyCount()).toBe(2);
      } finally {
        await progression.close();
        await fixture.cleanup();
      }
    });

    it("restores a subject the backend lost from the snapshot: counting continues and no award repeats", async () => {
      const schema = `snap_restore_${label}`;
      const first = await factory.create();
      const durability = newDurability(schema, { schedule: { minIntervalMs: 60_000, maxIntervalMs: 60_000 } });
      const before = createProgression({ definitions, backend: first.backend, events: durability.bus, onMissingTranslations: () => {} });
      await durability.start(before);
      const unlocked = await before.record({ type: "kill", subject: "hero", amount: 4 });
      expect(unlocked.map((u) => u.code)).toEqual(["slayer_3"]);
      await durability.close(); // final snapshot
      await before.close();
      await first.cleanup(); // the backend's state is gone (a flushed Redis, a restarted process)

      const store = createPostgresStore({ pool: database.pool, schema });
      const second = await factory.create({ loader: store.loader });
      const after = createProgression({ definitions, backend: second.backend, onMissingTranslations: () => {} });
      try {
        expect((await after.record({ type: "kill", subject: "hero", amount: 1 })).map((u) => u.code)).toEqual([]);
        expect((await after.record({ type: "kill", subject: "hero", amount: 1 })).map((u) => u.code)).toEqual(["slayer_6"]);
        const progress = await after.progress("hero");
        // The first award is the original one (same earnedAt), not a second grant.
        expect(progress.find((p) => p.code === "slayer_3")).toMatchObject({ status: "completed", earnedAt: unlocked[0]?.earnedAt });
        expect(progress.find((p) => p.code === "slayer_6")).toMatchObject({ status: "completed", current: 6 });
      } finally {
        await after.close();
        await second.cleanup();
      }
    });
  });
}

describe("createDurability", () => {
  it("records every inventory change in the ledger journal through the durable bus, once", async () => {
    const fixture = await backendFactories[0]!.create();
    const durability = newDurability("journal_flow");
    const progression = createProgression({ definitions, backend: fixture.backend, events: durability.bus, onMissingTranslations: () => {} });
    try {
      await durability.start(progression);
      await progression.ledger.acquire({ subject: "trader", item: "gem", quantity: 5, idempotencyKey: "buy-1" });
      await progression.ledger.acquire({ subject: "trader", item: "gem", quantity: 5, idempotencyKey: "buy-1" }); // a retry: no new fact
      await progression.ledger.consume({ subject: "trader", item: "gem", quantity: 2, idempotencyKey: "use-1" });
      await progression.ledger.transfer({ from: "trader", to: "buyer", item: "gem", quantity: 1, idempotencyKey: "trade-1", allowNewReceiver: true });
      await durability.bus.drain();
      const journal = await database.pool.query<{ cause: string; free_after: string; idempotency_key: string; detail: string }>(
        `SELECT cause, free_after, idempotency_key, detail FROM journal_flow.ledger_journal WHERE subject = 'trader' ORDER BY id`,
      );
      // Deliveries run concurrently, so rows arrive in any order; occurred_at orders the mutations.
      // Each row says what the change was: "why does this player have 2 gems?" is one query.
      expect(journal.rows.map((row) => [row.cause, row.free_after, row.detail]).sort()).toEqual([
        ["acquire", "5", "grant of 5 gem"],
        ["consume", "3", "spend of 2 gem"],
        ["transfer", "2", "transfer of 1 gem from trader to buyer"],
      ]);
      expect(journal.rows.every((row) => row.idempotency_key.length > 0)).toBe(true);
    } finally {
      await durability.close();
      await progression.close();
      await fixture.cleanup();
    }
  });

  it("keeps each award's provenance in the award journal that explain reads: the batch that made it, or the backfill", async () => {
    const fixture = await backendFactories[1]!.create();
    const durability = newDurability("award_flow");
    const progression = createProgression({ definitions, backend: fixture.backend, events: durability.bus, onMissingTranslations: () => {} });
    try {
      await durability.start(progression);
      await progression.recordBatch([1, 2, 3].map((n) => ({ type: "kill", subject: "hero", tags: { creature: "troll" }, at: Date.now() - n })));
      await durability.bus.drain();
      const live = (await progression.explain("hero", "slayer_3")).provenance;
      expect(live?.awardedBy).toMatch(/^[0-9a-f]{8}-[0-9a-z]+$/);
      expect(Math.abs((live?.awardedAt ?? 0) - Date.now())).toBeLessThan(60_000);
      // Added later: a milestone on a counter that exists is awarded by the catch-up's own batch, one with a
      // new filter by a backfill from history.
      const later = (code: string, where?: Record<string, string>) => ({ code, title: "t", description: "d", icon: "i", trigger: "kill", rule: { type: "count" as const, threshold: 2, ...(where ? { where } : {}) } });
      progression.reload({ definitions: [...definitions, later("slayer_2"), later("troll_hunter", { creature: "troll" })] });
      expect((await progression.catchUp("hero")).map((u) => u.code).sort()).toEqual(["slayer_2", "troll_hunter"]);
      await durability.bus.drain();
      expect((await progression.explain("hero", "troll_hunter")).provenance).toMatchObject({ awardedBy: "history" });
      const byCatchUp = (await progression.explain("hero", "slayer_2")).provenance?.awardedBy;
      expect([byCatchUp === live?.awardedBy, byCatchUp]).toEqual([false, expect.stringMatching(/^[0-9a-f]{8}-[0-9a-z]+$/)]);
      const rows = await database.pool.query<{ code: string }>("SELECT code FROM award_flow.award_journal WHERE subject = 'hero' ORDER BY code");
      expect(rows.rows.map((row) => row.code)).toEqual(["slayer_2", "slayer_3", "troll_hunter"]);
      expect(await progression.explain("hero", "slayer_6")).toMatchObject({ award: null, provenance: null });
    } finally {
      await durability.close();
      await progression.close();
      await fixture.cleanup();
    }
  });

  it("erases a player's PostgreSQL rows with progression.erase, and only theirs; the journal stays append-only", async () => {
    const fixture = await backendFactories[1]!.create({ loader: (subject) => durability.loader(subject) });
    const durability = newDurability("erase_flow");
    const progression = createProgression({ definitions, backend: fixture.backend, events: durability.bus, onMissingTranslations: () => {} });
    const rowsOf = async (subject: string) => {
      const counts: Record<string, number> = {};
      for (const table of ["subjects", "awards", "award_journal", "balances", "holds", "history", "ledger_journal"]) {
        const result = await database.pool.query<{ n: string }>(`SELECT count(*) AS n FROM erase_flow.${table} WHERE subject = $1`, [subject]);
        counts[table] = Number(result.rows[0]?.n);
      }
      return counts;
    };
    try {
      await durability.start(progression);
      await play(progression, ["leaver", "stayer"], Date.now());
      await durability.snapshotNow();
      await durability.bus.drain();
      expect(Object.values(await rowsOf("leaver")).every((n) => n > 0)).toBe(true);
      await progression.erase("leaver");
      expect(await rowsOf("leaver")).toEqual({ subjects: 0, awards: 0, award_journal: 0, balances: 0, holds: 0, history: 0, ledger_journal: 0 });
      expect(Object.values(await rowsOf("stayer")).every((n) => n > 0)).toBe(true);
      expect(await durability.loader("leaver")).toBeNull();
      expect((await progression.backend.readState("leaver")).counters.size).toBe(0);
      await expect(database.pool.query("DELETE FROM erase_flow.ledger_journal WHERE subject = 'stayer'")).rejects.toThrow(/append-only/);
    } finally {
      await durability.close();
      await progression.close();
      await fixture.cleanup();
    }
  });

  it("backfills every player as one BullMQ job that resumes from its last finished page after a failure", async () => {
    const fixture = await backendFactories[1]!.create();
    const durability = newDurability("backfill_job");
    const before = [definitions[0]!];
    const progression = createProgression({ definitions: before, backend: fixture.backend, events: durability.bus, holdExpiry: durability.holdExpiry, onMissingTranslations: () => {} });
    const subjects = Array.from({ length: 30 }, (_, i) => `hunter-${i}`);
    const awarded: string[] = [];
    progression.events.on("milestone.reached", "test-backfill", (envelope) => {
      if (envelope.payload.code === "troll_hunter") awarded.push(envelope.payload.subject);
    });
    // The first walk dies after its second page; BullMQ runs the job again, from the saved cursor.
    let pages = 0;
    const cursors: string[] = [];
    const engine = {
      backend: progression.backend,
      onClose: (hook: () => Promise<void>) => progression.onClose(hook),
      backfill: (options: Parameters<Progression["backfill"]>[0] = {}) => {
        cursors.push(options.cursor ?? "0");
        return progression.backfill({
          ...options,
          chunk: 4,
          onProgress: async (progress) => {
            await options.onProgress?.(progress);
            pages += 1;
            if (pages === 2) throw new Error("the worker's process died");
          },
        });
      },
    };
    try {
      await durability.start(engine);
      await progression.recordBatch(subjects.flatMap((subject, i) => Array.from({ length: i % 2 === 0 ? 3 : 1 }, () => ({ type: "kill", subject, tags: { creature: "troll" } }))));
      progression.reload({ definitions: [...before, { code: "troll_hunter", title: "t", description: "d", icon: "i", trigger: "kill", rule: { type: "count", threshold: 3, where: { creature: "troll" } } }] });
      await durability.backfill();
      await vi.waitFor(async () => expect(await durability.backfillStatus()).toBeNull(), { timeout: 20_000, interval: 50 });
      expect(cursors.length).toBe(2);
      expect(cursors[1]).not.toBe("0");
      expect(awarded.sort()).toEqual(subjects.filter((_, i) => i % 2 === 0).sort());
      // Nothing left to do: a second walk seeds no one.
      expect(await progression.backfill()).toMatchObject({ seeded: 0, awarded: 0 });
    } finally {
      await durability.close();
      await progression.close();
      await fixture.cleanup();
    }
  });

  it("without a database says so at start, restores nothing, and still runs hold expiry", async () => {
    const warnings: string[] = [];
    const bullPrefix = randomPrefix("nodb");
    prefixes.push(bullPrefix);
    const durability = createDurability({
      redis: testRedisUrl(),
      bullPrefix,
      holdSweepIntervalMs: 100,
      events: { backoffMs: 10, onError: () => undefined },
      logger: { ...quiet, warn: (message: string) => void warnings.push(message) },
    });
    const fixture = await backendFactories[0]!.create();
    const progression = createProgression({ definitions, backend: fixture.backend, events: durability.bus, holdExpiry: durability.holdExpiry, onMissingTranslations: () => {} });
    const expired: string[] = [];
    durability.bus.on("hold.expired", "recorder", (envelope) => void expired.push(envelope.payload.hold.holdId));
    try {
      await durability.start(progression);
      expect(warnings.join("\n")).toMatch(/WITHOUT PostgreSQL/);
      expect(await durability.loader("anyone")).toBeNull();
      await expect(durability.snapshotNow()).rejects.toThrow(/durability.start|PostgreSQL/);
      await progression.ledger.acquire({ subject: "s", item: "gem", quantity: 1, idempotencyKey: "g" });
      // The sweep job of durability.holdExpiry releases it; nothing else runs an expiry here.
      const { hold } = await progression.ledger.hold({ subject: "s", item: "gem", quantity: 1, ttlMs: 100, idempotencyKey: "h" });
      await expect.poll(() => expired, { timeout: 5000, interval: 20 }).toEqual([hold.holdId]);
    } finally {
      await durability.close();
      await progression.close();
      await fixture.cleanup();
    }
  });

  it("rejects impossible options with the option's name", () => {
    expect(() => createDurability({ redis: "not a url" })).toThrow(/redis must be a redis:\/\/ URL/);
    expect(() => createDurability({ redis: testRedisUrl(), snapshotChunkSize: 0 })).toThrow(/snapshotChunkSize/);
    expect(() => createDurability({ redis: testRedisUrl(), schedule: { backoffFactor: 0.5 } })).toThrow(/schedule.backoffFactor/);
  });
});
