import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import { createPostgresHistoryArchive } from "../../src/durability/postgres/history-archive.ts";
import { createPostgresStore, type PostgresStore } from "../../src/durability/postgres/postgres-store.ts";
import { selects, tagFragment, tagsText, type HistoryPart, type HistorySelector } from "../../src/model/history.ts";
import type { SubjectSnapshot } from "../../src/model/subject-state.ts";
import { dayOf, DAY_MS } from "../../src/model/utc-day.ts";
import { openSuiteDatabase, snapshotOf, type SuiteDatabase } from "./durability-fixtures.ts";

/**
 * How the engine reads the PostgreSQL history archive (backfill, simulate, catch-up): with the reader's
 * selectors as SQL (a fragment is matched as text, never as a LIKE pattern), each subject's rows as one
 * compact text value decoded when asked for. Real PostgreSQL, a fresh schema per test.
 */

const NOW = Date.parse("2026-03-15T12:00:00Z");
const TODAY = dayOf(NOW);

let database: SuiteDatabase;

beforeAll(async () => {
  database = await openSuiteDatabase();
});

afterAll(async () => {
  await database.close();
});

async function freshStore(): Promise<PostgresStore> {
  const store = createPostgresStore({ pool: database.pool, schema: `read_${randomBytes(4).toString("hex")}` });
  await store.migrate();
  return store;
}

function part(values: Partial<HistoryPart> & Pick<HistoryPart, "day">): HistoryPart {
  return { part: "p1", type: "kill", tags: "", count: 1, sum: 1, firstAt: values.day * DAY_MS, lastAt: values.day * DAY_MS, maxAmount: 1, ...values };
}

function withHistory(subject: string, history: readonly HistoryPart[]): SubjectSnapshot {
  return { ...snapshotOf(subject, {}), history };
}

/** Tag values a LIKE pattern or a careless quote would misread. */
const TAG_VALUES: readonly Readonly<Record<string, string>>[] = [
  {},
  { creature: "troll" },
  { creature: "tr%ll" },
  { creature: "tr_ll" },
  { creature: "t\\roll" },
  { creature: 'say "troll"' },
  { creature: "troll", zone: "north" },
  { creature: "trollish" },
  { creature: "トロール" },
  { boss: "troll" },
];
const TAGS = TAG_VALUES.map((tags) => tagsText(tags));

const where = (tags: Readonly<Record<string, string>>): string[] => Object.entries(tags).map(([tag, value]) => tagFragment(tag, value));

describe("reading the history archive", () => {
  it("sends only the rows the selectors select, matching each tag fragment as text", async () => {
    const store = await freshStore();
    const archive = createPostgresHistoryArchive(store);
    const parts = TAGS.flatMap((tags, i) => [part({ day: TODAY - 3, tags, count: i + 1 }), part({ day: TODAY - 2, type: "loot", tags, count: 20 + i })]);
    await store.writer.write([withHistory("hero", parts), withHistory("other", [part({ day: TODAY - 3, tags: TAGS[1] as string })])], NOW);

    const selections: readonly (readonly HistorySelector[])[] = [
      [{ type: "kill", fragments: where({ creature: "troll" }) }],
      [{ type: "kill", fragments: where({ creature: "tr%ll" }) }],
      [{ type: "kill", fragments: where({ creature: "tr_ll" }) }],
      [{ type: "kill", fragments: where({ creature: "t\\roll" }) }],
      [{ type: "kill", fragments: where({ creature: 'say "troll"' }) }],
      [{ type: "kill", fragments: where({ creature: "troll", zone: "north" }) }],
      [{ type: "kill", fragments: where({ creature: "トロール" }) }],
      [{ type: "kill", fragments: where({ creature: "troll" }) }, { type: "loot", fragments: where({ boss: "troll" }) }],
      [{ type: "kill", fragments: where({ creature: "troll" }) }, { type: "kill", fragments: [] }],
      [{ type: "loot", fragments: [] }],
      [{ type: "nothing", fragments: [] }],
    ];
    for (const selection of selections) {
      const read = (await archive.read(["hero", "other"], selection)).get("hero") ?? [];
      const expected = parts.filter((p) => selects(selection, p.type, p.tags));
      expect(new Set(read.map((p) => `${p.type} ${p.tags} ${p.count}`)), JSON.stringify(selection)).toEqual(new Set(expected.map((p) => `${p.type} ${p.tags} ${p.count}`)));
    }
    // The LIKE misreadings: "tr%ll" and "tr_ll" select themselves only, not "troll" (nor each other).
    const percent = (await archive.read(["hero"], [{ type: "kill", fragments: where({ creature: "tr%ll" }) }])).get("hero") ?? [];
    expect(percent.map((p) => p.tags)).toEqual([tagsText({ creature: "tr%ll" })]);
    // Unselected subjects' rows stay out; no selection reads everything; an empty one reads nothing.
    expect((await archive.read(["hero", "other"])).get("hero")).toHaveLength(parts.length);
    expect((await archive.read(["other"], [{ type: "loot", fragments: [] }])).has("other")).toBe(false);
    expect((await archive.read(["hero"], [])).size).toBe(0);
  });

  it("reads every value back as written: negative days and times, large safe integers, a late part's own name", async () => {
    const store = await freshStore();
    const archive = createPostgresHistoryArchive(store);
    const parts = [
      part({ day: -3, firstAt: -3 * DAY_MS + 7, lastAt: -2 * DAY_MS - 1, count: 2, sum: 9, maxAmount: 8 }),
      part({ day: TODAY - 1, part: "p1+2", count: Number.MAX_SAFE_INTEGER, sum: Number.MAX_SAFE_INTEGER - 1, maxAmount: 2 ** 40 }),
      part({ day: TODAY - 1, tags: tagsText({ creature: "tab\there" }) }),
    ];
    await store.writer.write([withHistory("far", parts)], NOW);
    const read = (await archive.read(["far"])).get("far") ?? [];
    const order = (list: readonly HistoryPart[]) => [...list].sort((a, b) => a.day - b.day || a.part.localeCompare(b.part) || a.tags.localeCompare(b.tags));
    expect(order(read)).toEqual(order(parts));
  });

  it("hands back each subject's parts when asked for, as a map", async () => {
    const store = await freshStore();
    const archive = createPostgresHistoryArchive(store);
    await store.writer.write([withHistory("a", [part({ day: TODAY - 4 })]), withHistory("b", [part({ day: TODAY - 4 }), part({ day: TODAY - 5 })])], NOW);
    const read = await archive.read(["a", "b", "c", "a"]);
    expect(read.size).toBe(2);
    expect([...read.keys()].sort()).toEqual(["a", "b"]);
    expect(Object.fromEntries([...read].map(([subject, parts]) => [subject, parts.length]))).toEqual({ a: 1, b: 2 });
    expect(read.get("b")).toEqual(read.get("b")); // each get decodes afresh, to equal parts
    expect(read.has("c")).toBe(false);
  });

  it("reads raw events with the same selection", async () => {
    const store = await freshStore();
    const archive = createPostgresHistoryArchive(store);
    const troll = tagsText({ creature: "troll" });
    const raw = (day: number) => [day * DAY_MS + 5, 1];
    await store.writer.write([withHistory("raw", [part({ day: TODAY - 1, tags: troll, rawEvents: raw(TODAY - 1) }), part({ day: TODAY - 1, tags: tagsText({ creature: "tr%ll" }), rawEvents: raw(TODAY - 1) })])], NOW);
    const read = (await archive.read(["raw"], [{ type: "kill", fragments: where({ creature: "troll" }) }], TODAY - 2)).get("raw") ?? [];
    expect(read.map((p) => [p.tags, p.rawEvents])).toEqual([[troll, raw(TODAY - 1)]]);
  });

  it("refuses a row that does not read as a rollup, naming its subject, instead of guessing", async () => {
    const store = await freshStore();
    const archive = createPostgresHistoryArchive(store);
    await store.writer.write([withHistory("broken", [part({ day: TODAY - 2 })])], NOW);
    // Not something the engine writes: a type with a newline in it.
    await database.pool.query(`UPDATE "${store.schema}".history SET type = E'ki\\nll' WHERE subject = 'broken'`);
    const read = await archive.read(["broken"]);
    expect(() => read.get("broken")).toThrow(expect.objectContaining({ code: ErrorCode.BackendUnavailable, message: expect.stringMatching(/subject "broken" does not read as a rollup/) }));
  });
});
