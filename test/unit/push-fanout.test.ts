import { LocalPresence } from "@colyseus/core";
import { RedisPresence } from "@colyseus/redis-presence";
import { afterEach, describe, expect, it } from "vitest";
import { PushMessage, type InventoryMessage, type PreviewMessage } from "../../src/protocol/client-messages.ts";
import { isProgressionError } from "../../src/errors/progression-error.ts";
import type { HostErrorReport, PushPresence } from "../../plugins/progression-host-options.ts";
import { PushFanout, type PushTarget } from "../../plugins/push-fanout.ts";
import type { SubjectPush } from "../../plugins/subject-push.ts";
import { createArenaProgression } from "../../rooms/arena/arena-progression.ts";
import type { Progression } from "../../src/engine/progression.ts";
import { countingPresence } from "../support/counting-presence.ts";
import { randomPrefix, testRedisUrl } from "../support/redis-prefix.ts";

/** A connected client as the fan-out sees it: everything sent to it, in order. */
class RecordingTarget implements PushTarget {
  readonly sent: { type: string; payload: unknown }[] = [];
  readonly locale: string;

  constructor(locale: string) {
    this.locale = locale;
  }

  send(type: string, payload: unknown): void {
    this.sent.push({ type, payload });
  }

  of<T>(type: string): T[] {
    return this.sent.filter((message) => message.type === type).map((message) => message.payload as T);
  }
}

const award = (code: string) => ({ code, earnedAt: 1_000, retroactive: false, claimedAt: null });
const push = (subject: string, parts: Partial<SubjectPush>): SubjectPush => ({ subject, reached: [], progress: [], inventory: [], holds: [], expiredHolds: [], ...parts });

const open: { fanouts: PushFanout[]; engines: Progression[]; presences: RedisPresence[] } = { fanouts: [], engines: [], presences: [] };

afterEach(async () => {
  for (const fanout of open.fanouts.splice(0)) await fanout.close();
  for (const engine of open.engines.splice(0)) await engine.close();
  for (const presence of open.presences.splice(0)) presence.shutdown();
});

/** This file's own channels and keys in the shared test Redis. */
const topic = randomPrefix("push");

function fanoutWith(presence: PushPresence, progressIntervalMs = 0, reports: HostErrorReport[] = []): PushFanout {
  const progression = createArenaProgression({ onMissingTranslations: () => {} });
  const fanout = new PushFanout(progression, { presence: () => presence, progressIntervalMs, topic, onError: (report) => reports.push(report) });
  open.engines.push(progression);
  open.fanouts.push(fanout);
  return fanout;
}

describe("push fan-out in one process", () => {
  it("sends each client of the subject its unlocks in its own locale, and nothing to other subjects", async () => {
    const fanout = fanoutWith(new LocalPresence());
    const german = new RecordingTarget("de");
    const english = new RecordingTarget("en");
    const other = new RecordingTarget("en");
    await fanout.attach("p1", german);
    await fanout.attach("p1", english);
    await fanout.attach("p2", other);
    fanout.publishAll([push("p1", { reached: [award("first_blood")] })]);
    expect(german.of<{ title: string }>(PushMessage.Unlocked).map((unlock) => unlock.title)).toEqual(["Erstes Blut"]);
    expect(english.of<{ title: string; code: string }>(PushMessage.Unlocked)).toEqual([
      expect.objectContaining({ code: "first_blood", title: "First Blood", earnedAt: 1_000, claimed: false }),
    ]);
    expect(other.sent).toEqual([]);
  });

  it("writes everything a push has for one client inside one corked write (one socket write per client and flush)", async () => {
    const fanout = fanoutWith(new LocalPresence());
    const writes: string[][] = [];
    const client = new (class extends RecordingTarget {
      corked(write: () => void): void {
        const before = this.sent.length;
        write();
        writes.push(this.sent.slice(before).map((message) => message.type));
      }
    })("en");
    await fanout.attach("p1", client);
    const hold = { holdId: "h1:p1", subject: "p1", item: "gold", quantity: 5, createdAt: 1, expiresAt: 2, state: "expired" as const, settledAt: 3 };
    fanout.publishAll([
      push("p1", { reached: [award("first_blood")], progress: [{ code: "slayer_10", current: 1, target: 10 }], inventory: [{ subject: "p1", item: "gold", free: 5, held: 0 }], expiredHolds: [hold] }),
    ]);
    expect(writes).toEqual([[PushMessage.Unlocked, PushMessage.Progress, PushMessage.Inventory, PushMessage.HoldExpired]]);
    expect(client.sent).toHaveLength(4);
  });

  it("sends inventory and expired holds as their own messages", async () => {
    const fanout = fanoutWith(new LocalPresence());
    const client = new RecordingTarget("en");
    await fanout.attach("p1", client);
    const hold = { holdId: "h1:p1", subject: "p1", item: "gold", quantity: 5, createdAt: 1, expiresAt: 2, state: "expired" as const, settledAt: 3 };
    fanout.publishAll([push("p1", { inventory: [{ subject: "p1", item: "gold", free: 5, held: 0 }], expiredHolds: [hold] })]);
    expect(client.sent).toEqual([
      { type: PushMessage.Inventory, payload: { balances: [{ subject: "p1", item: "gold", free: 5, held: 0 }] } },
      { type: PushMessage.HoldExpired, payload: { holdId: "h1:p1", item: "gold", quantity: 5, expiresAt: 2 } },
    ]);
  });

  it("sends the holds a change opened or settled with its inventory, as clients see them", async () => {
    const fanout = fanoutWith(new LocalPresence());
    const client = new RecordingTarget("en");
    await fanout.attach("p1", client);
    const opened = { holdId: "h2:p1", subject: "p1", item: "gold", quantity: 10, createdAt: 1, expiresAt: 30_001, state: "held" as const, settledAt: null };
    fanout.publishAll([push("p1", { inventory: [{ subject: "p1", item: "gold", free: 90, held: 10 }], holds: [opened] })]);
    fanout.publishAll([push("p1", { inventory: [{ subject: "p1", item: "gold", free: 90, held: 0 }], holds: [{ ...opened, state: "committed", settledAt: 5 }] })]);
    expect(client.of<InventoryMessage>(PushMessage.Inventory)).toEqual([
      { balances: [{ subject: "p1", item: "gold", free: 90, held: 10 }], holds: [{ holdId: "h2:p1", item: "gold", quantity: 10, expiresAt: 30_001, state: "held" }] },
      { balances: [{ subject: "p1", item: "gold", free: 90, held: 0 }], holds: [{ holdId: "h2:p1", item: "gold", quantity: 10, expiresAt: 30_001, state: "committed" }] },
    ]);
  });

  it("previews an unlock to every client of the subject in its own locale (or the one asked for), marked as a preview", async () => {
    const fanout = fanoutWith(new LocalPresence());
    const german = new RecordingTarget("de");
    const english = new RecordingTarget("en");
    const other = new RecordingTarget("en");
    await fanout.attach("p1", german);
    await fanout.attach("p1", english);
    await fanout.attach("p2", other);
    expect(fanout.preview("p1", "first_blood")).toBe(2);
    expect(german.of<PreviewMessage>(PushMessage.Preview)).toEqual([
      expect.objectContaining({ code: "first_blood", title: "Erstes Blut", preview: true, claimed: false, retroactive: false }),
    ]);
    expect(english.of<PreviewMessage>(PushMessage.Preview)).toEqual([expect.objectContaining({ title: "First Blood", preview: true })]);
    expect(english.of<PreviewMessage>(PushMessage.Preview)[0]).not.toHaveProperty("subject");
    expect(other.sent).toEqual([]);

    expect(fanout.preview("p1", "first_blood", "de")).toBe(2);
    expect(english.of<PreviewMessage>(PushMessage.Preview).map((preview) => preview.title)).toEqual(["First Blood", "Erstes Blut"]);
    expect(fanout.preview("nobody", "first_blood")).toBe(0);
  });

  it("refuses to preview an unknown milestone and sends nothing", async () => {
    const fanout = fanoutWith(new LocalPresence());
    const client = new RecordingTarget("en");
    await fanout.attach("p1", client);
    let thrown: unknown;
    try {
      fanout.preview("p1", "no_such_milestone");
    } catch (error) {
      thrown = error;
    }
    expect(isProgressionError(thrown, "UNKNOWN_MILESTONE")).toBe(true);
    expect(client.sent).toEqual([]);
  });

  it("lists the connected subjects with their client counts and locales", async () => {
    const fanout = fanoutWith(new LocalPresence());
    await fanout.attach("p2", new RecordingTarget("en"));
    await fanout.attach("p1", new RecordingTarget("en"));
    const detach = await fanout.attach("p1", new RecordingTarget("de"));
    expect(fanout.connectedSubjects()).toEqual([
      { subject: "p1", clients: 2, locales: ["de", "en"] },
      { subject: "p2", clients: 1, locales: ["en"] },
    ]);
    detach();
    expect(fanout.connectedSubjects()).toEqual([
      { subject: "p1", clients: 1, locales: ["en"] },
      { subject: "p2", clients: 1, locales: ["en"] },
    ]);
  });

  it("stops delivering to a detached client", async () => {
    const fanout = fanoutWith(new LocalPresence());
    const client = new RecordingTarget("en");
    const detach = await fanout.attach("p1", client);
    detach();
    fanout.publishAll([push("p1", { reached: [award("first_blood")] })]);
    expect(client.sent).toEqual([]);
  });

  it("with progress every flush, sends only the latest value per milestone", async () => {
    const fanout = fanoutWith(new LocalPresence(), 0);
    const client = new RecordingTarget("en");
    await fanout.attach("p1", client);
    fanout.publishAll([push("p1", { progress: [{ code: "slayer_10", current: 3, target: 10 }, { code: "slayer_10", current: 4, target: 10 }] })]);
    expect(client.of(PushMessage.Progress)).toEqual([{ code: "slayer_10", current: 4, target: 10 }]);
  });

  it("with a progress interval, holds progress until the tick and drops what an unlock made stale", async () => {
    const fanout = fanoutWith(new LocalPresence(), 30);
    const client = new RecordingTarget("en");
    await fanout.attach("p1", client);
    fanout.publishAll([push("p1", { progress: [{ code: "slayer_10", current: 9, target: 10 }, { code: "skaven_slayer", current: 1, target: 100 }] })]);
    fanout.publishAll([push("p1", { reached: [award("slayer_10")], progress: [{ code: "skaven_slayer", current: 2, target: 100 }] })]);
    expect(client.of(PushMessage.Progress)).toEqual([]); // held
    expect(client.of<{ code: string }>(PushMessage.Unlocked).map((unlock) => unlock.code)).toEqual(["slayer_10"]); // never delayed
    await expect.poll(() => client.of(PushMessage.Progress), { timeout: 2_000, interval: 5 }).toEqual([{ code: "skaven_slayer", current: 2, target: 100 }]);
  });

  it("a client whose send throws is reported and does not stop the others", async () => {
    const reports: HostErrorReport[] = [];
    const fanout = fanoutWith(new LocalPresence(), 0, reports);
    const broken: PushTarget = {
      locale: "en",
      send: () => {
        throw new Error("socket gone");
      },
    };
    const healthy = new RecordingTarget("en");
    await fanout.attach("p1", broken);
    await fanout.attach("p1", healthy);
    fanout.publishAll([push("p1", { reached: [award("first_blood")] })]);
    expect(healthy.of(PushMessage.Unlocked)).toHaveLength(1);
    expect(reports).toEqual([{ stage: "push", error: expect.objectContaining({ message: "socket gone" }) }]);
  });
});

describe("push fan-out across processes (RedisPresence)", () => {
  it("reaches the subject's clients on another process once, delivers locally once, and publishes one message per turn", async () => {
    const presences = [new RedisPresence(testRedisUrl()), new RedisPresence(testRedisUrl())];
    open.presences.push(...presences);
    const { presence: counting, counts } = countingPresence(presences[0] as RedisPresence);
    const here = fanoutWith(counting);
    const there = fanoutWith(presences[1] as RedisPresence);
    const local = new RecordingTarget("en");
    const remote = new RecordingTarget("de");
    await here.attach("p1", local);
    await there.attach("p1", remote);

    const hold = { holdId: "h3:p1", subject: "p1", item: "gold", quantity: 5, createdAt: 1, expiresAt: 9, state: "released" as const, settledAt: 2 };
    here.publishAll([push("p1", { reached: [award("first_blood")] })]);
    here.publishAll([push("p1", { inventory: [{ subject: "p1", item: "gold", free: 10, held: 0 }], holds: [hold] })]);
    expect(here.preview("p1", "slayer_10")).toBe(1);
    await expect.poll(() => remote.sent.length, { timeout: 3_000, interval: 5 }).toBe(3);
    expect(remote.of<{ title: string }>(PushMessage.Unlocked).map((unlock) => unlock.title)).toEqual(["Erstes Blut"]);
    expect(remote.of<InventoryMessage>(PushMessage.Inventory)).toEqual([
      { balances: [{ subject: "p1", item: "gold", free: 10, held: 0 }], holds: [{ holdId: "h3:p1", item: "gold", quantity: 5, expiresAt: 9, state: "released" }] },
    ]);
    // The preview in the remote client's own locale, with the origin's earnedAt.
    const [remotePreview] = remote.of<PreviewMessage>(PushMessage.Preview);
    expect(remotePreview).toMatchObject({ code: "slayer_10", preview: true });
    expect(remotePreview?.title).toBe("Schlächter I");
    expect(remotePreview?.earnedAt).toBe(local.of<PreviewMessage>(PushMessage.Preview)[0]?.earnedAt);
    expect(local.of(PushMessage.Unlocked)).toHaveLength(1); // not again through its own published copy
    expect(local.of(PushMessage.Preview)).toHaveLength(1);
    expect(counts.publishes).toBe(1); // every push and preview of this turn for p1 in one message
  });
});
