import { describe, expect, it } from "vitest";
import type { BackendFactory } from "../support/backend-factories.ts";
import type { HistoryArchive } from "../../src/history/history-archive.ts";
import type { HistoryPart } from "../../src/model/history.ts";
import { DAY, milestone, T0, useEngines } from "./engine-fixture.ts";

const anyKill = [milestone("first_kill", "kill", { type: "count", threshold: 1 })];
const kill5Trolls = milestone("trolls", "kill", { type: "count", threshold: 5, where: { creature: "troll" } });
const rawOn = { historyRawEvents: { retentionDays: 30 } } as const;

/** Ten troll kills on one UTC day, at distinct times an hour apart (the day is three days ago). */
const TROLL_DAY = Math.floor((T0 - 3 * DAY) / DAY) * DAY;
const trollKillAt = (n: number): number => TROLL_DAY + 3_600_000 + n * 3_600_000 + n * 17;
const tenTrollKills = Array.from({ length: 10 }, (_, n) => ({ type: "kill", subject: "p1", tags: { creature: "troll" }, at: trollKillAt(n) }));

/** Raw events (option `historyRawEvents`, docs/semantics.md "History"): backfill stamps exact to the event. */
export function rawEventsConformance(factory: BackendFactory): void {
  const engine = useEngines(factory);

  describe("the stamp of a milestone added later", () => {
    it("is the time of the event that met it when raw events are kept (the issue's scenario)", async () => {
      const { progression, delivered } = await engine(anyKill, rawOn);
      await progression.recordBatch(tenTrollKills);
      progression.reload({ definitions: [...anyKill, kill5Trolls] });
      const unlocked = await progression.catchUp("p1");
      expect(unlocked.map((u) => [u.code, u.retroactive, u.earnedAt])).toEqual([["trolls", true, trollKillAt(4)]]);
      expect((await progression.progress("p1")).find((p) => p.code === "trolls")).toMatchObject({ current: 10, status: "completed" });
      expect(await progression.catchUp("p1")).toEqual([]);
      expect(delivered.get("milestone.reached")?.filter((e) => e.payload.code === "trolls").map((e) => e.payload.earnedAt)).toEqual([trollKillAt(4)]);
    });

    it("is the last event of the day that met it without raw events (the default)", async () => {
      const { progression } = await engine(anyKill);
      await progression.recordBatch(tenTrollKills);
      progression.reload({ definitions: [...anyKill, kill5Trolls] });
      expect((await progression.catchUp("p1")).map((u) => u.earnedAt)).toEqual([trollKillAt(9)]);
    });

    it("walks the day's events in time order, whatever order they were recorded in", async () => {
      const { progression } = await engine(anyKill, rawOn);
      await progression.recordBatch([...tenTrollKills].reverse());
      progression.reload({ definitions: [...anyKill, kill5Trolls] });
      expect((await progression.catchUp("p1")).map((u) => u.earnedAt)).toEqual([trollKillAt(4)]);
    });

    it("agrees on the stamp in catch-up, backfill, explain and rebuild", async () => {
      const { progression } = await engine(anyKill, rawOn);
      await progression.recordBatch([...tenTrollKills, ...tenTrollKills.map((event) => ({ ...event, subject: "p2" }))]);
      progression.reload({ definitions: [...anyKill, kill5Trolls] });
      expect((await progression.explain("p1", "trolls")).historyMetAt).toBe(trollKillAt(4));
      await progression.backfill();
      expect((await progression.catchUp("p1")).map((u) => u.code)).toEqual([]);
      expect((await progression.progress("p1")).find((p) => p.code === "trolls")).toMatchObject({ status: "completed", earnedAt: trollKillAt(4) });
      expect((await progression.catchUp("p2")).map((u) => u.code)).toEqual([]);
      expect((await progression.progress("p2")).find((p) => p.code === "trolls")).toMatchObject({ earnedAt: trollKillAt(4) });
      // A rebuild replays the same history: the award is kept as it was.
      await progression.rebuild("p1");
      expect((await progression.progress("p1")).find((p) => p.code === "trolls")).toMatchObject({ current: 10, earnedAt: trollKillAt(4) });
    });

    it("falls back to the day rule for raw events past the retention", async () => {
      const { progression, clock } = await engine(anyKill, { historyRawEvents: { retentionDays: 4 } });
      await progression.recordBatch(tenTrollKills);
      progression.reload({ definitions: [...anyKill, kill5Trolls] });
      // Three days ago is inside a 4-day retention (today and the three days before)...
      expect((await progression.explain("p1", "trolls")).historyMetAt).toBe(trollKillAt(4));
      // ...and past it a day later: its raw events are not used (and a store may drop them, here at an apply).
      clock.advance(DAY);
      await progression.record({ type: "loot", subject: "p1" });
      expect((await progression.catchUp("p1")).map((u) => [u.code, u.earnedAt])).toEqual([["trolls", trollKillAt(9)]]);
    });

    it("falls back to the day rule for a day whose rollup counts more than maxPerRollup events", async () => {
      const { progression } = await engine(anyKill, { historyRawEvents: { retentionDays: 30, maxPerRollup: 9 } });
      await progression.recordBatch(tenTrollKills.slice(0, 9));
      progression.reload({ definitions: [...anyKill, kill5Trolls] });
      expect((await progression.explain("p1", "trolls")).historyMetAt).toBe(trollKillAt(4));
      await progression.record(tenTrollKills[9] ?? { type: "kill", subject: "p1" });
      expect((await progression.explain("p1", "trolls")).historyMetAt).toBe(trollKillAt(9));
      // The store keeps none for that rollup any more.
      expect((await progression.backend.readHistory("p1")).parts.map((part) => [part.count, part.rawEvents])).toEqual([[10, undefined]]);
    });

    it("falls back to the day rule for a day some of whose events were applied without raw events", async () => {
      const { progression } = await engine(anyKill, rawOn);
      const buffer = progression.createBuffer();
      for (const event of tenTrollKills.slice(0, 2)) buffer.add(event);
      const batch = buffer.drain();
      // As an engine without raw events sends it (raw events turned on later the same day).
      const withoutRaw = batch.subjects.map((apply) => ({ ...apply, history: apply.history?.map(({ rawEvents: _raw, rawKept: _kept, ...rollup }) => rollup) }));
      await progression.applyBatch({ ...batch, subjects: withoutRaw });
      await progression.recordBatch(tenTrollKills.slice(2));
      progression.reload({ definitions: [...anyKill, kill5Trolls] });
      expect((await progression.catchUp("p1")).map((u) => u.earnedAt)).toEqual([trollKillAt(9)]);
    });
  });

  describe("exact crossings of the other rules", () => {
    it("stamps window rules at the event that filled the window", async () => {
      const { progression } = await engine(anyKill, rawOn);
      await progression.recordBatch(tenTrollKills.slice(0, 4));
      progression.reload({ definitions: [...anyKill, milestone("rampage", "kill", { type: "window", count: 3, days: 2 })] });
      expect((await progression.catchUp("p1")).map((u) => [u.code, u.earnedAt])).toEqual([["rampage", trollKillAt(2)]]);
    });

    it("sees the gaps inside one day for returnAfterGap rules", async () => {
      const login = (hour: number) => ({ type: "login", subject: "p1", at: TROLL_DAY + hour * 3_600_000 });
      const definitions = [...anyKill, milestone("back_soon", "login", { type: "returnAfterGap", days: 0.25 })];
      for (const options of [rawOn, {}]) {
        const { progression } = await engine(anyKill, options);
        await progression.recordBatch([login(1), login(2), login(9), login(10)]);
        progression.reload({ definitions });
        const unlocked = await progression.catchUp("p1", { at: TROLL_DAY + 11 * 3_600_000 });
        // Without raw events a rollup keeps no gap inside its day: the 7 hours between 02:00 and 09:00 are not seen.
        expect(unlocked.map((u) => [u.code, u.earnedAt])).toEqual(options === rawOn ? [["back_soon", TROLL_DAY + 9 * 3_600_000]] : []);
      }
    });

    it("hands custom evaluators each event with its own amount and time", async () => {
      const evaluators = { bigHit: (event: { amount: number }) => event.amount >= 5 };
      const hits = [2, 7, 1, 9, 3].map((amount, n) => ({ type: "hit", subject: "p1", amount, at: trollKillAt(n) }));
      const definitions = [...anyKill, milestone("heavy", "hit", { type: "custom", evaluator: "bigHit", threshold: 16 })];
      const { progression } = await engine(anyKill, { ...rawOn, evaluators });
      await progression.recordBatch(hits);
      // simulate replays the same way: 16 of the 22 count (the rollup's whole sum would meet 17 too).
      const qualifying = async (threshold: number) =>
        (await progression.simulate([...anyKill, milestone("heavy", "hit", { type: "custom", evaluator: "bigHit", threshold })])).milestones.find((m) => m.code === "heavy")?.qualifying;
      expect([await qualifying(16), await qualifying(17)]).toEqual([1, 0]);
      progression.reload({ definitions });
      expect((await progression.catchUp("p1")).map((u) => [u.code, u.earnedAt])).toEqual([["heavy", trollKillAt(3)]]);
      // As live counting does: only the hits the evaluator accepts count.
      expect((await progression.progress("p1")).find((p) => p.code === "heavy")?.current).toBe(16);
    });
  });

  describe("written with the apply", () => {
    it("adds the raw events of a retried batch once", async () => {
      const { progression } = await engine(anyKill, rawOn);
      const buffer = progression.createBuffer();
      for (const event of tenTrollKills.slice(0, 3)) buffer.add(event);
      const batch = buffer.drain();
      await progression.applyBatch(batch);
      await progression.applyBatch(batch, { retried: true });
      const [part] = (await progression.backend.readHistory("p1")).parts;
      expect(part).toMatchObject({ count: 3, rawEvents: [trollKillAt(0), 1, trollKillAt(1), 1, trollKillAt(2), 1] });
      // Later events append to the same rollup's raw events.
      await progression.record({ ...tenTrollKills[3], type: "kill", subject: "p1", amount: 4 });
      const [grown] = (await progression.backend.readHistory("p1")).parts;
      expect(grown).toMatchObject({ count: 4, sum: 7, rawEvents: [trollKillAt(0), 1, trollKillAt(1), 1, trollKillAt(2), 1, trollKillAt(3), 4] });
    });

    it("keeps an event with its own id once, its raw event too", async () => {
      const quest = (id: string, at: number) => ({ type: "quest", subject: "p1", id, at });
      const t = (n: number) => TROLL_DAY + n * 60_000;
      for (const options of [rawOn, {}]) {
        const { progression } = await engine(anyKill, options);
        await progression.record(quest("q-1", t(1)));
        await progression.record(quest("q-1", t(1)));
        await progression.recordBatch([quest("q-2", t(2)), quest("q-2", t(2)), { type: "quest", subject: "p1", at: t(3) }]);
        const parts = (await progression.backend.readHistory("p1")).parts;
        expect(parts.map((part) => [part.count, part.rawEvents])).toEqual([[3, options === rawOn ? [t(1), 1, t(2), 1, t(3), 1] : undefined]]);
        progression.reload({ definitions: [...anyKill, milestone("quester", "quest", { type: "count", threshold: 2 })] });
        expect((await progression.catchUp("p1")).map((u) => u.earnedAt)).toEqual([options === rawOn ? t(2) : t(3)]);
      }
    });

    it("keeps none of a trigger's raw events when a stat guard refuses its events", async () => {
      const { progression } = await engine(anyKill, { ...rawOn, statGuards: { kill: { maxPerWindow: { amount: 3, windowMs: DAY } } } });
      await progression.recordBatch([...tenTrollKills.slice(0, 5), { type: "loot", subject: "p1", at: trollKillAt(0) }]);
      const parts = (await progression.backend.readHistory("p1")).parts;
      expect(parts.map((part) => [part.type, part.count, part.rawEvents])).toEqual([["loot", 1, [trollKillAt(0), 1]]]);
    });

    it("changes nothing in the history when off", async () => {
      const { progression } = await engine(anyKill);
      await progression.recordBatch(tenTrollKills.slice(0, 2));
      expect((await progression.backend.readHistory("p1")).parts.map((part) => part.rawEvents)).toEqual([undefined]);
    });

    it("erases a player's raw events with the rest of the player", async () => {
      const { progression } = await engine(anyKill, rawOn);
      await progression.recordBatch(tenTrollKills);
      await progression.erase("p1");
      expect((await progression.backend.readHistory("p1")).parts).toEqual([]);
      const [exported] = await progression.backend.exportSubjects(["p1"]);
      expect(exported?.history ?? []).toEqual([]);
      progression.reload({ definitions: [...anyKill, kill5Trolls] });
      expect(await progression.catchUp("p1")).toEqual([]);
    });
  });

  describe("hand-over to an archive", () => {
    it("exports raw events with their rollups, drops them with the archived parts, and reads them back from the archive", async () => {
      const { progression } = await engine(anyKill, rawOn);
      const backend = progression.backend;
      const today = Math.floor(T0 / DAY);
      await progression.recordBatch([...tenTrollKills, { type: "kill", subject: "p1", tags: { creature: "troll" }, at: T0 }]);
      const [exported] = await backend.exportSubjects(["p1"]);
      const archived: readonly HistoryPart[] = exported?.history ?? [];
      expect(archived.map((part) => [part.day, part.count, (part.rawEvents?.length ?? 0) / 2]).sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0))).toEqual([
        [TROLL_DAY / DAY, 10, 10],
        [today, 1, 1],
      ]);
      await backend.dropArchivedHistory([{ subject: "p1", parts: archived }], today - 1);
      expect((await backend.readHistory("p1")).parts.map((part) => [part.day, part.rawEvents])).toEqual([[today, [T0, 1]]]);
      // The archive hands back what it was given (raw events of the days asked for): the stamp is exact.
      const archive: HistoryArchive = {
        read: async (subjects, _types, rawEventsFromDay) =>
          new Map(subjects.includes("p1") ? [["p1", archived.filter((part) => part.day < today - 1).map((part) => (rawEventsFromDay === undefined || part.day < rawEventsFromDay ? { ...part, rawEvents: undefined } : part))]] : []),
      };
      progression.useHistoryArchive(archive);
      progression.reload({ definitions: [...anyKill, kill5Trolls] });
      expect((await progression.catchUp("p1")).map((u) => [u.code, u.earnedAt])).toEqual([["trolls", trollKillAt(4)]]);
    });

    it("keeps a late event on an archived day in a part of its own, raw events included", async () => {
      const { progression } = await engine(anyKill, rawOn);
      const backend = progression.backend;
      const today = Math.floor(T0 / DAY);
      await progression.recordBatch(tenTrollKills.slice(0, 3));
      const [exported] = await backend.exportSubjects(["p1"]);
      const archived = exported?.history ?? [];
      await backend.dropArchivedHistory([{ subject: "p1", parts: archived }], today - 1);
      await progression.recordBatch(tenTrollKills.slice(3, 6));
      const late = (await backend.readHistory("p1")).parts;
      expect(late.map((part) => [part.count, part.rawEvents?.length])).toEqual([[3, 6]]);
      expect(late[0]?.part).not.toBe(archived[0]?.part);
      progression.useHistoryArchive({ read: async () => new Map([["p1", archived]]) });
      progression.reload({ definitions: [...anyKill, kill5Trolls] });
      expect((await progression.catchUp("p1")).map((u) => [u.code, u.earnedAt])).toEqual([["trolls", trollKillAt(4)]]);
    });
  });
}
