import { describe, expect, it } from "vitest";
import type { BackendFactory } from "../support/backend-factories.ts";
import { createProgression } from "../../src/engine/create-progression.ts";
import { mergeParts } from "../../src/model/history.ts";
import { codes, DAY, milestone, T0, useEngines } from "./engine-fixture.ts";

const trollKills = (subject: string, perDay: number, days: number, from = T0 - 10 * DAY) =>
  Array.from({ length: perDay * days }, (_, i) => ({
    type: "kill",
    subject,
    tags: { creature: "troll" },
    at: from + Math.floor(i / perDay) * DAY + (i % perDay) * 60_000,
  }));

const anyKill = [milestone("first_kill", "kill", { type: "count", threshold: 1 })];
const kill5Trolls = milestone("trolls", "kill", { type: "count", threshold: 5, where: { creature: "troll" } });

/** The event history and backfill of milestones added later (docs/semantics.md, "History"). */
export function historyConformance(factory: BackendFactory): void {
  const engine = useEngines(factory);

  describe("backfill on catch-up", () => {
    it("awards a milestone with a new filter on the day of the event that met it, and counting continues from history", async () => {
      const { progression, delivered } = await engine(anyKill);
      // 10 troll kills, two a day over five days: the 5th is the first kill of the third day.
      await progression.recordBatch(trollKills("p1", 2, 5));
      progression.reload({ definitions: [...anyKill, kill5Trolls] });
      const unlocked = await progression.catchUp("p1");
      const fifthKill = T0 - 10 * DAY + 2 * DAY;
      expect(unlocked.map((u) => [u.code, u.retroactive])).toEqual([["trolls", true]]);
      const earnedAt = unlocked[0]?.earnedAt ?? 0;
      expect(Math.floor(earnedAt / DAY)).toBe(Math.floor(fifthKill / DAY));
      expect(earnedAt).toBe(fifthKill + 60_000); // the last event of that day: a day rollup's latest time
      expect((await progression.progress("p1")).find((p) => p.code === "trolls")).toMatchObject({ current: 10, status: "completed" });
      await progression.record({ type: "kill", subject: "p1", tags: { creature: "troll" } });
      expect((await progression.progress("p1")).find((p) => p.code === "trolls")?.current).toBe(11);
      expect(await progression.catchUp("p1")).toEqual([]);
      expect(delivered.get("milestone.reached")?.filter((e) => e.payload.code === "trolls")).toHaveLength(1);
    });

    it("counts events recorded between the reload and the catch-up once", async () => {
      const { progression } = await engine(anyKill);
      await progression.recordBatch(trollKills("p1", 1, 3));
      progression.reload({ definitions: [...anyKill, kill5Trolls] });
      await progression.recordBatch(trollKills("p1", 1, 1, T0));
      expect(codes(await progression.catchUp("p1"))).toEqual([]);
      expect((await progression.progress("p1")).find((p) => p.code === "trolls")?.current).toBe(4);
      expect(codes(await progression.record({ type: "kill", subject: "p1", tags: { creature: "troll" } }))).toEqual(["trolls"]);
    });

    it("backfills a trigger no milestone counted when its events happened", async () => {
      const { progression } = await engine(anyKill);
      await progression.recordBatch([1, 2, 3].map((n) => ({ type: "dance", subject: "p1", amount: n, at: T0 - n * DAY })));
      progression.reload({ definitions: [...anyKill, milestone("dancer", "dance", { type: "count", threshold: 6 })] });
      const unlocked = await progression.catchUp("p1");
      expect(unlocked.map((u) => [u.code, u.earnedAt])).toEqual([["dancer", T0 - DAY]]);
    });

    it("replays window, daily and returnAfterGap rules from history", async () => {
      const { progression } = await engine(anyKill);
      const day = (n: number, hour = 0) => T0 - 20 * DAY + n * DAY + hour * 3_600_000;
      await progression.recordBatch([
        { type: "kill", subject: "p1", at: day(0) },
        { type: "kill", subject: "p1", at: day(5, 1) },
        { type: "kill", subject: "p1", amount: 2, at: day(6, 2) },
        { type: "login", subject: "p1", at: day(0, 9) },
        { type: "login", subject: "p1", at: day(1, 9) },
        { type: "login", subject: "p1", at: day(9, 8) },
      ]);
      progression.reload({
        definitions: [
          ...anyKill,
          milestone("rampage", "kill", { type: "window", count: 3, days: 2 }),
          milestone("regular", "kill", { type: "daily", days: 3 }),
          milestone("welcome_back", "login", { type: "returnAfterGap", days: 7 }),
        ],
      });
      const unlocked = await progression.catchUp("p1", { at: day(9, 10) });
      expect(unlocked.map((u) => [u.code, u.earnedAt, u.retroactive]).sort()).toEqual([
        ["rampage", day(6, 2), true],
        ["regular", day(6, 2), true],
        ["welcome_back", day(9, 8), true],
      ]);
    });

    it("hands custom evaluators each rollup with its tags", async () => {
      const { progression } = await engine(anyKill, { evaluators: { bossKill: (event) => event.tags.boss === "yes" } });
      await progression.recordBatch([
        { type: "kill", subject: "p1", tags: { boss: "yes" }, amount: 2, at: T0 - 3 * DAY },
        { type: "kill", subject: "p1", tags: { boss: "no" }, amount: 5, at: T0 - 2 * DAY },
      ]);
      progression.reload({ definitions: [...anyKill, milestone("boss_hunter", "kill", { type: "custom", evaluator: "bossKill", threshold: 2 })] });
      expect((await progression.catchUp("p1")).map((u) => [u.code, u.earnedAt])).toEqual([["boss_hunter", T0 - 3 * DAY]]);
    });

    it("grants autoClaim rewards of backfilled milestones once", async () => {
      const { progression } = await engine(anyKill);
      await progression.recordBatch(trollKills("p1", 3, 2));
      progression.reload({ definitions: [...anyKill, { ...kill5Trolls, autoClaim: true, rewards: [{ item: "gold", quantity: 40 }] }] });
      const [unlock] = await progression.catchUp("p1");
      expect(unlock?.claimed).toBe(true);
      await progression.catchUp("p1");
      expect(await progression.ledger.balance("p1", "gold")).toMatchObject({ free: 40 });
    });
  });

  describe("history", () => {
    it("keeps rollups per type, tags and UTC day, and a retried batch adds nothing twice", async () => {
      const { progression } = await engine(anyKill);
      const buffer = progression.createBuffer();
      buffer.add({ type: "kill", subject: "p1", tags: { creature: "troll", zone: "north" }, amount: 2, at: T0 });
      buffer.add({ type: "kill", subject: "p1", tags: { zone: "north", creature: "troll" }, amount: 5, at: T0 + 1000 });
      buffer.add({ type: "kill", subject: "p1", at: T0 + DAY });
      const batch = buffer.drain();
      await progression.applyBatch(batch);
      await progression.applyBatch(batch, { retried: true });
      expect(await progression.history("p1")).toEqual([
        { type: "kill", tags: '{"creature":"troll","zone":"north"}', day: Math.floor(T0 / DAY), count: 2, sum: 7, firstAt: T0, lastAt: T0 + 1000, maxAmount: 5 },
        { type: "kill", tags: "", day: Math.floor(T0 / DAY) + 1, count: 1, sum: 1, firstAt: T0 + DAY, lastAt: T0 + DAY, maxAmount: 1 },
      ]);
    });

    it("keeps an event with its own id once, however often it is recorded", async () => {
      const { progression } = await engine(anyKill);
      await progression.record({ type: "quest", subject: "p1", id: "q-1", at: T0 });
      await progression.record({ type: "quest", subject: "p1", id: "q-1", at: T0 });
      expect((await progression.history("p1")).map((r) => [r.type, r.count])).toEqual([["quest", 1]]);
    });

    it("keeps no history when turned off", async () => {
      const { progression } = await engine(anyKill, { history: false });
      await progression.record({ type: "kill", subject: "p1", at: T0 });
      expect(await progression.history("p1")).toEqual([]);
    });
  });

  describe("backfill of every subject", () => {
    it("visits every subject in pages, awards each once, and resumes from its cursor after a crash", async () => {
      const { progression, delivered } = await engine(anyKill);
      const subjects = Array.from({ length: 7 }, (_, i) => `p${i}`);
      await progression.recordBatch(subjects.flatMap((subject, i) => trollKills(subject, i, 1)));
      progression.reload({ definitions: [...anyKill, kill5Trolls] });
      let pages = 0;
      let saved = "0";
      const crash = new Error("the job's process died");
      await expect(
        progression.backfill({
          chunk: 2,
          onProgress: (progress) => {
            saved = progress.cursor;
            pages += 1;
            if (pages === 2) throw crash;
          },
        }),
      ).rejects.toBe(crash);
      const resumed = await progression.backfill({ chunk: 2, cursor: saved });
      expect(resumed.cursor).toBe("0");
      const awarded = delivered.get("milestone.reached")?.filter((e) => e.payload.code === "trolls").map((e) => e.payload.subject).sort();
      expect(awarded).toEqual(["p5", "p6"]);
      const again = await progression.backfill();
      expect(again).toMatchObject({ seeded: 0, awarded: 0, cursor: "0" });
      expect((await progression.progress("p3")).find((p) => p.code === "trolls")?.current).toBe(3);
    });
  });

  describe("hand-over to an archive", () => {
    it("drops exactly the exported parts of archived days; a later event on such a day goes to a part of its own", async () => {
      const { progression } = await engine(anyKill);
      const backend = progression.backend;
      const today = Math.floor(T0 / DAY);
      await progression.recordBatch([
        { type: "kill", subject: "p1", at: T0 - 3 * DAY },
        { type: "kill", subject: "p1", at: T0 - 2 * DAY },
        { type: "kill", subject: "p1", at: T0 },
      ]);
      const [exported] = await backend.exportSubjects(["p1"]);
      const archive = exported?.history ?? [];
      expect(archive.map((part) => part.day)).toEqual([today - 3, today - 2, today]);
      // An event on an exported day arrives before the hand-over: it is not lost when the exported part goes.
      await progression.record({ type: "kill", subject: "p1", at: T0 - 2 * DAY + 5 });
      await backend.dropArchivedHistory([{ subject: "p1", parts: archive }], today);
      const held = (await backend.readHistory("p1")).parts;
      expect(held.some((part) => part.day === today - 3)).toBe(false);
      expect(mergeParts([held, archive]).map((rollup) => [rollup.day, rollup.count])).toEqual([
        [today - 3, 1],
        [today - 2, 2],
        [today, 1],
      ]);
      // A late event on an archived day: a new part, so archive + backend still add up.
      await progression.record({ type: "kill", subject: "p1", amount: 4, at: T0 - 3 * DAY + 10 });
      const late = (await backend.readHistory("p1")).parts.filter((part) => part.day === today - 3);
      expect(late).toHaveLength(1);
      expect(late[0]?.part).not.toBe(archive[0]?.part);
      const merged = mergeParts([(await backend.readHistory("p1")).parts, archive]);
      expect(merged.map((rollup) => [rollup.day, rollup.count, rollup.sum])).toEqual([
        [today - 3, 2, 5],
        [today - 2, 2, 2],
        [today, 1, 1],
      ]);
    });

    it("writes a backfill only at the history version it was computed at", async () => {
      const { progression } = await engine(anyKill);
      const backend = progression.backend;
      await progression.record({ type: "kill", subject: "p1", at: T0 });
      const { status } = await backend.readHistory("p1");
      await progression.record({ type: "kill", subject: "p1", at: T0 + 1 });
      const check = { code: "first_kill", target: 1, windowDays: 0, autoClaimRewards: null };
      const stale = await backend.seed({ subject: "p1", expectVersion: status.version, counterSet: "other", counters: [], awards: [{ check, earnedAt: T0 }], now: T0 });
      expect(stale.conflict).toBe(true);
      expect((await backend.historyStatus("p1")).completeFor).not.toBe("other");
    });
  });

  describe("simulate and explain", () => {
    const current = [
      ...anyKill,
      milestone("kills_5", "kill", { type: "count", threshold: 5 }, { rewards: [{ item: "gold", quantity: 10 }] }),
      milestone("looter", "loot", { type: "count", threshold: 1 }),
    ];

    it("reports what new definitions would award from history, changing nothing", async () => {
      const { progression, delivered } = await engine(current);
      await progression.recordBatch([
        ...trollKills("p1", 5, 2),
        ...trollKills("p2", 3, 1),
        { type: "kill", subject: "p3", tags: { creature: "goblin" }, at: T0 - DAY },
      ]);
      const before = await Promise.all(["p1", "p2", "p3"].map((subject) => progression.backend.readState(subject)));
      const next = [
        ...anyKill,
        milestone("kills_5", "kill", { type: "count", threshold: 20 }, { rewards: [{ item: "gold", quantity: 10 }] }),
        { ...kill5Trolls, rewards: [{ item: "gold", quantity: 50 }] },
      ];
      const report = await progression.simulate(next);
      expect(report.subjects).toBe(3);
      const byCode = new Map(report.milestones.map((m) => [m.code, m]));
      expect(byCode.get("trolls")).toMatchObject({ change: "new", qualifying: 1, wouldAward: 1, holders: 0, rewards: [{ item: "gold", quantity: 50 }], examples: ["p1"] });
      expect(byCode.get("kills_5")).toMatchObject({ change: "changed", qualifying: 0, wouldAward: 0, holders: 1, holdersNotQualifying: 1 });
      expect(byCode.get("first_kill")).toMatchObject({ change: "unchanged", qualifying: 3, wouldAward: 0, holders: 3 });
      expect(byCode.get("looter")).toMatchObject({ change: "removed", qualifying: 0, holders: 0 });
      const after = await Promise.all(["p1", "p2", "p3"].map((subject) => progression.backend.readState(subject)));
      expect(after).toEqual(before);
      expect(delivered.get("milestone.reached")?.map((e) => e.payload.code).sort()).toEqual(["first_kill", "first_kill", "first_kill", "kills_5"]);
    });

    it("names every invalid definition of a simulated set", async () => {
      const { progression } = await engine(current);
      const error = await progression.simulate([milestone("a", "kill", { type: "count", threshold: 0 }), milestone("b", "kill", { type: "nope" } as never), ...anyKill]).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "INVALID_DEFINITION" });
      expect((error as Error).message).toMatch(/"a".*"b"/);
    });

    it("explains an award with the rule, the stored award and the history rows that earned it", async () => {
      const { progression } = await engine(anyKill);
      await progression.recordBatch([...trollKills("p1", 3, 2), { type: "kill", subject: "p1", tags: { creature: "goblin" }, at: T0 - DAY }]);
      progression.reload({ definitions: [...anyKill, kill5Trolls] });
      const [unlock] = await progression.catchUp("p1");
      const explanation = await progression.explain("p1", "trolls");
      expect(explanation).toMatchObject({ code: "trolls", trigger: "kill", rule: { type: "count", threshold: 5 }, active: true });
      expect(explanation.award).toMatchObject({ retroactive: true, earnedAt: unlock?.earnedAt });
      expect(explanation.historyMetAt).toBe(unlock?.earnedAt);
      expect(explanation.history.map((row) => [row.tags, row.count])).toEqual([
        ['{"creature":"troll"}', 3],
        ['{"creature":"troll"}', 3],
      ]);
      expect(explanation.counter).toMatchObject({ kind: "sum", value: 6 });
    });

    it("names in each award's receipt what made it and when: the recorded batch, or a backfill from history", async () => {
      const { progression, delivered, clock } = await engine(anyKill);
      await progression.recordBatch(trollKills("p1", 3, 2));
      const announced = (code: string) => delivered.get("milestone.reached")?.filter((e) => e.payload.code === code).map((e) => [e.payload.awardedBy, e.payload.awardedAt]);
      const [[batchId, liveAt] = []] = announced("first_kill") ?? [];
      expect(batchId).toMatch(/^[0-9a-f]{8}-[0-9a-z]+$/); // the batch id the recorder gave the apply
      expect(liveAt).toBe(clock.now);
      clock.advance(60_000);
      progression.reload({ definitions: [...anyKill, kill5Trolls] });
      await progression.catchUp("p1");
      expect(announced("trolls")).toEqual([["history", clock.now]]);
      // Embedded, the process keeps the journal explain reads; Redis needs durability's (tested there).
      const expected = progression.backend.kind === "memory";
      expect((await progression.explain("p1", "first_kill")).provenance).toEqual(expected ? { awardedBy: batchId, awardedAt: liveAt } : null);
      expect((await progression.explain("p1", "trolls")).provenance).toEqual(expected ? { awardedBy: "history", awardedAt: clock.now } : null);
      // A journal that cannot answer (durability's PostgreSQL down) leaves the provenance unknown, not explain broken.
      progression.useAwardJournal({ provenance: () => Promise.reject(new Error("connection refused")) });
      expect(await progression.explain("p1", "first_kill")).toMatchObject({ code: "first_kill", award: { retroactive: false }, provenance: null });
      await progression.erase("p1");
      expect((await progression.explain("p1", "first_kill")).provenance).toBeNull();
    });
  });

  describe("erase", () => {
    it("removes a player's history, progress, awards, inventory and holds, and nobody else's", async () => {
      const { progression } = await engine(anyKill);
      await progression.recordBatch([...trollKills("p1", 2, 2), ...trollKills("p2", 1, 1)]);
      await progression.ledger.acquire({ subject: "p1", item: "gold", quantity: 30, idempotencyKey: "a1" });
      const { hold } = await progression.ledger.hold({ subject: "p1", item: "gold", quantity: 5, ttlMs: 60_000, idempotencyKey: "h1" });
      await progression.erase("p1");
      expect(await progression.history("p1")).toEqual([]);
      const state = await progression.backend.readState("p1");
      expect([state.counters.size, state.awards.size]).toEqual([0, 0]);
      expect(await progression.ledger.list("p1")).toEqual([]);
      await expect(progression.ledger.getHold(hold.holdId)).rejects.toMatchObject({ code: "HOLD_UNKNOWN" });
      // Its idempotency records are gone too: the same key is a new request now.
      const again = await progression.ledger.acquire({ subject: "p1", item: "gold", quantity: 1, idempotencyKey: "a1" });
      expect([again.replayed, again.balances[0]?.free]).toEqual([false, 1]);
      expect((await progression.history("p2")).length).toBe(1);
      expect((await progression.backend.readState("p2")).awards.has("first_kill")).toBe(true);
      // A returning player starts from nothing.
      expect(codes(await progression.record({ type: "kill", subject: "p1" }))).toEqual(["first_kill"]);
    });
  });

  describe("rebuild", () => {
    it("recomputes counters from history and never revokes an award", async () => {
      const { progression, fixture, clock } = await engine([kill5Trolls]);
      await progression.recordBatch(trollKills("p1", 3, 2));
      // A writer that kept no history (think: a bug that counted events twice) moved the counter alone.
      const noExpiry = { attach: () => {}, holdPlaced: () => {}, close: async () => {} };
      const unrecorded = createProgression({ definitions: [kill5Trolls], backend: fixture.backend, clock: () => clock.now, history: false, holdExpiry: noExpiry, onMissingTranslations: () => {} });
      await unrecorded.recordBatch(trollKills("p1", 100, 1, T0));
      const counterValue = async () => [...(await progression.backend.readState("p1")).counters.values()].map((c) => (c.kind === "sum" ? c.value : -1));
      expect(await counterValue()).toEqual([106]);
      expect(await progression.rebuild("p1")).toEqual([]);
      expect(await counterValue()).toEqual([6]);
      expect((await progression.backend.readState("p1")).awards.has("trolls")).toBe(true);
    });
  });
}
