import { LocalPresence } from "@colyseus/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UnlockedMessage } from "../../src/protocol/client-messages.ts";
import { createProgressionHost } from "../../plugins/progression-host.ts";
import type { HostErrorReport } from "../../plugins/progression-host-options.ts";
import { createArenaProgression } from "../../rooms/arena/arena-progression.ts";
import { isProgressionError } from "../../src/errors/progression-error.ts";
import { createMemoryBackend } from "../../src/backends/memory/memory-backend.ts";
import { withApplyFaults, type FaultyBackend } from "./support/faulty-backend.ts";
import { describeArena, newPlayerId, settle, type ArenaServer } from "./support/arena-server.ts";
import type { ProgressionBackend } from "../../src/backends/contract/progression-backend.ts";

const faults = new Map<string, FaultyBackend>();
let faulty: FaultyBackend;
let arena: ArenaServer;
const reports: HostErrorReport[] = [];

afterAll(() => {
  for (const backend of faults.values()) {
    backend.fault = "none";
    backend.acquireFault = "none";
  }
});

async function killCount(playerId: string): Promise<number> {
  const progress = await arena.progression.progress(playerId);
  const slayer = progress.find((milestone) => milestone.code === "slayer_1000");
  return slayer?.current ?? -1;
}

const faultyArena = {
  wrapBackend: (backend: ProgressionBackend, backendName: string) => {
    const wrapped = withApplyFaults(backend);
    faults.set(backendName, wrapped);
    return wrapped.backend;
  },
  host: { retryBaseMs: 10, retryMaxMs: 40, onError: (report: HostErrorReport) => void reports.push(report) },
};

describeArena(faultyArena, (handle) => {
  beforeAll(() => {
    arena = handle;
    const found = faults.get(handle.backendName);
    if (found === undefined) throw new Error(`no fault switch for ${handle.backendName}`);
    faulty = found;
  });

  describe("flushes when the store fails", () => {
    it("a batch applied whose reply was lost is retried with the same id and counted once", async () => {
      const playerId = newPlayerId("lost-reply");
      const player = await arena.join(playerId);
      await player.waitFor("progression:snapshot");
      await player.roundTrip();

      const reportsBefore = reports.length;
      faulty.fault = "lose-reply";
      for (let i = 0; i < 10; i += 1) player.send("kill", { creature: "goblin" });
      await player.roundTrip();
      await waitUntil(() => reports.slice(reportsBefore).some((r) => r.stage === "flush"));
      faulty.fault = "none";
      await settle(arena.host, player);

      expect(await killCount(playerId)).toBe(10);
      // The lost reply carried first_blood and slayer_10: awarded once, and announced once by the retry.
      await player.waitFor("progression:unlocked", (unlock: UnlockedMessage) => unlock.code === "slayer_10");
      const announced = player.messages<UnlockedMessage>("progression:unlocked").map((u) => u.code);
      expect(announced.filter((code) => code === "slayer_10")).toHaveLength(1);
      expect(announced.filter((code) => code === "first_blood")).toHaveLength(1);
    });

    it("coalesced loot grants survive a lost reply and an outage: granted exactly once each", async () => {
      const player = await arena.join(newPlayerId("grants"));
      const snapshot = await player.waitFor<{ subject: string }>("progression:snapshot");

      const reportsBefore = reports.length;
      faulty.acquireFault = "lose-reply";
      for (let i = 0; i < 4; i += 1) player.send("loot", { item: "gold", qty: 3 });
      await player.roundTrip();
      await waitUntil(() => reports.slice(reportsBefore).some((r) => r.stage === "grant"));
      faulty.acquireFault = "down";
      for (let i = 0; i < 5; i += 1) player.send("loot", { item: "gem", qty: 2 });
      await player.roundTrip();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(arena.host.stats.pendingGrants).toBeGreaterThan(0);

      faulty.acquireFault = "none";
      expect(await arena.host.flush()).toBe(true);
      expect(arena.host.stats.pendingGrants).toBe(0);
      expect((await arena.progression.ledger.balance(snapshot.subject, "gold")).free).toBe(12);
      expect((await arena.progression.ledger.balance(snapshot.subject, "gem")).free).toBe(10);
      await player.waitFor<{ balances: Array<{ item: string; free: number }> }>("progression:inventory", (m) =>
        m.balances.some((b) => b.item === "gold" && b.free === 12),
      );
    });

    it("keeps buffering while the store is down, retries with backoff, and applies everything once it is back", async () => {
      const playerId = newPlayerId("outage");
      const player = await arena.join(playerId);
      await player.waitFor("progression:snapshot");
      await player.roundTrip();

      faulty.fault = "down";
      const failuresBefore = reports.length;
      for (let i = 0; i < 5; i += 1) player.send("kill", { creature: "troll" });
      await player.roundTrip();
      await waitUntil(() => arena.host.stats.failedAttempts >= 2);
      for (let i = 0; i < 7; i += 1) player.send("kill", { creature: "troll" });
      await player.roundTrip();
      expect(arena.host.stats.pendingEvents).toBe(12);
      expect(await killCount(playerId)).toBe(0);
      expect(reports.slice(failuresBefore).every((r) => r.stage === "flush" && isProgressionError(r.error))).toBe(true);

      faulty.fault = "none";
      await settle(arena.host, player);
      expect(arena.host.stats.pendingEvents).toBe(0);
      expect(arena.host.stats.failedAttempts).toBe(0);
      expect(await killCount(playerId)).toBe(12);
      const codes = player.messages<UnlockedMessage>("progression:unlocked").map((u) => u.code);
      expect(codes.filter((code) => code === "slayer_10")).toHaveLength(1);
      expect(codes.filter((code) => code === "first_blood")).toHaveLength(1);
    });
  });
});

describe("the buffer bound", () => {
  it("at maxBufferedIncrements, record throws BACKEND_UNAVAILABLE and keeps nothing of that event", async () => {
    const store = withApplyFaults(createMemoryBackend());
    const progression = createArenaProgression({ backend: store.backend, onMissingTranslations: () => {} });
    const host = createProgressionHost(progression, {
      maxBufferedIncrements: 3,
      flushIntervalMs: 5,
      retryBaseMs: 5,
      retryMaxMs: 10,
      presence: new LocalPresence(),
      onError: () => {},
    });
    try {
      store.fault = "down";
      const subjects = [0, 1, 2, 3].map((i) => newPlayerId(`bound-${i}`));
      // Looted gold advances one counter (treasure_hunter's), so each subject is one buffered increment.
      for (const subject of subjects.slice(0, 3)) host.record(subject, "loot", { item: "gold" }, 7);
      await waitUntil(() => host.stats.failedAttempts >= 1);
      let refusal: unknown;
      try {
        host.record(subjects[3] ?? "", "loot", { item: "gold" }, 7);
      } catch (error) {
        refusal = error;
      }
      expect(isProgressionError(refusal, "BACKEND_UNAVAILABLE")).toBe(true);
      expect((refusal as Error).message).toContain("maxBufferedIncrements=3");

      store.fault = "none";
      expect(await host.flush(2_000)).toBe(true);
      for (const subject of subjects.slice(0, 3)) {
        const treasure = (await progression.progress(subject)).find((m) => m.code === "treasure_hunter");
        expect(treasure?.current).toBe(7);
      }
      const refused = (await progression.progress(subjects[3] ?? "")).find((m) => m.code === "treasure_hunter");
      expect(refused?.current).toBe(0);
    } finally {
      store.fault = "none";
      await host.close();
      await progression.close();
    }
  });

  it("validates options with messages that name them", () => {
    const progression = createArenaProgression({ onMissingTranslations: () => {} });
    try {
      expect(() => createProgressionHost(progression, { flushIntervalMs: 0 })).toThrow(/flushIntervalMs/);
      expect(() => createProgressionHost(progression, { maxBufferedIncrements: Number.NaN })).toThrow(/maxBufferedIncrements/);
    } finally {
      void progression.close();
    }
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
