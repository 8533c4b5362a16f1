import { LocalPresence } from "@colyseus/core";
import { RedisPresence } from "@colyseus/redis-presence";
import { afterEach, describe, expect, it } from "vitest";
import type { PushPresence } from "../../plugins/progression-host-options.ts";
import { PushFanout, type PushTarget } from "../../plugins/push-fanout.ts";
import type { SubjectPush } from "../../plugins/subject-push.ts";
import { createArenaProgression } from "../../rooms/arena/arena-progression.ts";
import type { Progression } from "../../src/engine/progression.ts";
import { PushMessage, type InventoryMessage, type PreviewMessage, type RejectionReason } from "../../src/protocol/client-messages.ts";
import { countingPresence, type PresenceCounts } from "../support/counting-presence.ts";
import { randomPrefix, testRedisUrl } from "../support/redis-prefix.ts";

/** A connected client as the fan-out sees it: everything sent to it, in order. */
class RecordingTarget implements PushTarget {
  readonly sent: { type: string; payload: unknown }[] = [];
  readonly locale: string;

  constructor(locale = "en") {
    this.locale = locale;
  }

  send(type: string, payload: unknown): void {
    this.sent.push({ type, payload });
  }

  of<T>(type: string): T[] {
    return this.sent.filter((message) => message.type === type).map((message) => message.payload as T);
  }

  /** The `free` gold of every inventory push received, in order. */
  gold(): number[] {
    return this.of<InventoryMessage>(PushMessage.Inventory).map((message) => message.balances[0]?.free ?? -1);
  }
}

const goldPush = (subject: string, free: number): SubjectPush => ({
  subject,
  reached: [],
  progress: [],
  inventory: [{ subject, item: "gold", free, held: 0 }],
  holds: [],
  expiredHolds: [],
});

interface Process {
  readonly fanout: PushFanout;
  readonly counts: PresenceCounts;
}

const open: { fanouts: PushFanout[]; engines: Progression[]; presences: RedisPresence[] } = { fanouts: [], engines: [], presences: [] };

afterEach(async () => {
  for (const fanout of open.fanouts.splice(0)) await fanout.close();
  for (const engine of open.engines.splice(0)) await engine.close();
  for (const presence of open.presences.splice(0)) presence.shutdown();
});

function fanoutOn(presence: PushPresence, topic: string): PushFanout {
  const progression = createArenaProgression({ onMissingTranslations: () => {} });
  const fanout = new PushFanout(progression, { presence: () => presence, progressIntervalMs: 0, topic, onError: () => {} });
  open.engines.push(progression);
  open.fanouts.push(fanout);
  return fanout;
}

/**
 * `count` processes, each a fan-out with its own RedisPresence connection, on one random topic. With
 * `subscribeDelayMs`, subscribing goes to Redis that much later (a slow subscription connection).
 */
function processes(count: number, subscribeDelayMs = 0): Process[] {
  const topic = randomPrefix("push");
  return Array.from({ length: count }, () => {
    const redis = new RedisPresence(testRedisUrl());
    open.presences.push(redis);
    const { presence, counts } = countingPresence(redis);
    const slow: PushPresence = {
      ...presence,
      subscribe: async (channel, callback) => {
        await new Promise((resolve) => setTimeout(resolve, subscribeDelayMs));
        return presence.subscribe(channel, callback);
      },
    };
    return { fanout: fanoutOn(subscribeDelayMs === 0 ? presence : slow, topic), counts };
  });
}

/**
 * Waits until `target` has received the push `free` for `subject` sent by `from` after everything before:
 * Redis delivers one connection's publishes in order, so whatever `from` published earlier has arrived too.
 */
async function barrier(from: PushFanout, subject: string, target: RecordingTarget, free: number): Promise<void> {
  from.publishAll([goldPush(subject, free)]);
  await expect.poll(() => target.gold().includes(free), { timeout: 3_000, interval: 2 }).toBe(true);
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("push routing per subject (RedisPresence)", () => {
  it("a push reaches only the processes with its subject's clients, one message each", async () => {
    const [a, b, c] = processes(3) as [Process, Process, Process];
    const onA = new RecordingTarget();
    const onB = new RecordingTarget();
    const p2OnC = new RecordingTarget();
    const watcherOnC = new RecordingTarget();
    await a.fanout.attach("p1", onA);
    await b.fanout.attach("p1", onB);
    await c.fanout.attach("p2", p2OnC);
    await c.fanout.attach("watcher", watcherOnC);
    await b.fanout.attach("watcher", new RecordingTarget());
    const before = { a: a.counts.received, b: b.counts.received, c: c.counts.received };

    // A trade recorded on A: p1 (clients on A and B) and p2 (clients on C only).
    a.fanout.publishAll([goldPush("p1", 10), goldPush("p2", 20)]);
    await a.fanout.published();
    await barrier(a.fanout, "watcher", watcherOnC, 1);
    await expect.poll(() => onB.gold(), { timeout: 3_000, interval: 2 }).toEqual([10]);

    expect(onA.gold()).toEqual([10]); // locally, not again through its own published copy
    expect(p2OnC.gold()).toEqual([20]);
    // B heard p1's message and the watcher's; C heard p2's and the watcher's; A its own p1 copy only.
    expect(b.counts.received - before.b).toBe(2);
    expect(c.counts.received - before.c).toBe(2);
    expect(a.counts.received - before.a).toBe(1);
  });

  it("publishes nothing for a subject whose clients are all on the sending process (one inbox read per turn)", async () => {
    const [a, b] = processes(2) as [Process, Process];
    const mine = new RecordingTarget();
    await a.fanout.attach("p1", mine);
    await b.fanout.attach("p2", new RecordingTarget());
    const publishesBefore = a.counts.publishes;
    const readsBefore = a.counts.commands["lpop"] ?? 0;
    for (let turn = 1; turn <= 5; turn += 1) {
      a.fanout.publishAll([goldPush("p1", turn), goldPush("p1", turn * 10)]);
      await a.fanout.published();
    }
    expect(mine.gold()).toEqual([1, 10, 2, 20, 3, 30, 4, 40, 5, 50]);
    expect(a.counts.publishes - publishesBefore).toBe(0);
    expect((a.counts.commands["lpop"] ?? 0) - readsBefore).toBe(5);
    expect(b.counts.received).toBe(0);
  });

  it.each([
    ["", 0],
    [" (subscriptions slower than the registry)", 15],
  ])("a client attaching on another process gets every push sent after its attach resolved, while pushes flow%s", async (_, subscribeDelayMs) => {
    const [a, b, c] = processes(3, subscribeDelayMs) as [Process, Process, Process];
    const subjects = Array.from({ length: 24 }, (_, index) => `r${index}`);
    // Half the subjects have a client on A, the sender (the skipped publish must not skip a newcomer);
    // the others have none there (A always publishes those).
    for (const [index, subject] of subjects.entries()) if (index % 2 === 0) await a.fanout.attach(subject, new RecordingTarget());
    const sentAfterAttach = new Map<string, number>();
    const joined = new Map<string, RecordingTarget>();
    let sent = 0;
    let flowing = true;
    const flow = (async () => {
      while (flowing) {
        sent += 1;
        a.fanout.publishAll(subjects.map((subject) => goldPush(subject, sent)));
        await nextTurn();
      }
    })();
    // Attaches on B and C at different moments of the flow, some subjects on both.
    await Promise.all(
      subjects.map(async (subject, index) => {
        for (let wait = 0; wait < index * 3; wait += 1) await nextTurn();
        const process = index % 3 === 0 ? c : b;
        const target = new RecordingTarget();
        await process.fanout.attach(subject, target);
        sentAfterAttach.set(subject, sent + 1);
        joined.set(subject, target);
      }),
    );
    for (let wait = 0; wait < 20; wait += 1) await nextTurn();
    flowing = false;
    await flow;
    const last = sent;
    await a.fanout.published();
    for (const subject of subjects) {
      const target = joined.get(subject) as RecordingTarget;
      const first = sentAfterAttach.get(subject) as number;
      await expect.poll(() => target.gold().at(-1), { timeout: 5_000, interval: 2 }).toBe(last);
      const expected = Array.from({ length: last - first + 1 }, (_, offset) => first + offset);
      // Maybe a few from before its attach resolved, then every later one, in order, once.
      expect(target.gold().filter((free) => free >= first), subject).toEqual(expected);
    }
  });

  it("a player moving from one process to another misses no push from either", async () => {
    const [a, b] = processes(2) as [Process, Process];
    const before = new RecordingTarget();
    const detachA = await a.fanout.attach("mover", before);
    let sent = 0;
    let flowing = true;
    const flows = [a, b].map(async (process) => {
      while (flowing) {
        sent += 1;
        process.fanout.publishAll([goldPush("mover", sent)]);
        await nextTurn();
      }
    });
    for (let wait = 0; wait < 10; wait += 1) await nextTurn();
    const after = new RecordingTarget();
    await b.fanout.attach("mover", after);
    const first = sent + 1;
    detachA();
    for (let wait = 0; wait < 30; wait += 1) await nextTurn();
    flowing = false;
    await Promise.all(flows);
    const last = sent;
    await Promise.all([a.fanout.published(), b.fanout.published()]);
    await expect.poll(() => after.gold().filter((free) => free >= first).length, { timeout: 5_000, interval: 2 }).toBe(last - first + 1);
    // Pushes from two senders: every one once (each sender's own stay in order).
    expect(new Set(after.gold().filter((free) => free >= first)).size).toBe(last - first + 1);
  });

  it("a detached client gets nothing more, and the sender stops publishing once no other process has the subject's clients", async () => {
    const [a, b] = processes(2) as [Process, Process];
    const onA = new RecordingTarget();
    const onB = new RecordingTarget();
    const watcher = new RecordingTarget();
    await a.fanout.attach("p1", onA);
    const detachB = await b.fanout.attach("p1", onB);
    await b.fanout.attach("watcher", watcher);
    a.fanout.publishAll([goldPush("p1", 1)]);
    await expect.poll(() => onB.gold(), { timeout: 3_000, interval: 2 }).toEqual([1]);
    detachB();
    a.fanout.publishAll([goldPush("p1", 2)]);
    await barrier(a.fanout, "watcher", watcher, 100);
    expect(onB.gold()).toEqual([1]);
    expect(onA.gold()).toEqual([1, 2]);
    // B's leave reaches A's inbox: A's later pushes for p1 stay in A.
    await expect
      .poll(
        async () => {
          const publishes = a.counts.publishes;
          a.fanout.publishAll([goldPush("p1", 3)]);
          await a.fanout.published();
          return a.counts.publishes - publishes;
        },
        { timeout: 3_000, interval: 5 },
      )
      .toBe(0);
  });

  it("a process that left a subject and joins it again delivers each push once", async () => {
    const [a, b] = processes(2) as [Process, Process];
    await a.fanout.attach("p1", new RecordingTarget());
    for (let round = 0; round < 3; round += 1) {
      const detach = await b.fanout.attach("p1", new RecordingTarget());
      detach();
    }
    const back = new RecordingTarget();
    await b.fanout.attach("p1", back);
    const watcher = new RecordingTarget();
    await b.fanout.attach("watcher", watcher);
    a.fanout.publishAll([goldPush("p1", 7)]);
    await barrier(a.fanout, "watcher", watcher, 1);
    expect(back.gold()).toEqual([7]);
  });

  it("routes previews and rejections like pushes: to the subject's processes only", async () => {
    const [a, b, c] = processes(3) as [Process, Process, Process];
    const onA = new RecordingTarget("en");
    const onB = new RecordingTarget("de");
    const watcherOnC = new RecordingTarget();
    await a.fanout.attach("p1", onA);
    await b.fanout.attach("p1", onB);
    await c.fanout.attach("watcher", watcherOnC);
    const receivedOnC = c.counts.received;
    const reason: RejectionReason = { type: "kill", code: "GUARD_EXCEEDED", message: "too many kills" };
    expect(a.fanout.preview("p1", "first_blood")).toBe(1);
    expect(a.fanout.reject("p1", reason)).toBe(1);
    await expect.poll(() => onB.sent.length, { timeout: 3_000, interval: 2 }).toBe(2);
    expect(onB.of<PreviewMessage>(PushMessage.Preview).map((preview) => preview.title)).toEqual(["Erstes Blut"]);
    expect(onB.of(PushMessage.Rejected)).toEqual([reason]);
    await barrier(a.fanout, "watcher", watcherOnC, 1);
    expect(c.counts.received - receivedOnC).toBe(1); // the watcher's push only
    expect(onA.sent).toHaveLength(2);

    // From a process with none of p1's clients: to both that have them.
    expect(c.fanout.preview("p1", "slayer_10")).toBe(0);
    await expect.poll(() => [onA.of(PushMessage.Preview).length, onB.of(PushMessage.Preview).length], { timeout: 3_000, interval: 2 }).toEqual([2, 2]);
  });
});

describe("push routing in one process (LocalPresence)", () => {
  it("delivers locally and sends nothing through presence", async () => {
    const calls: string[] = [];
    class CountingLocalPresence extends LocalPresence {
      override publish(topic: string, data: unknown): this {
        calls.push("publish");
        return super.publish(topic, data);
      }
      override subscribe(topic: string, callback: (...args: unknown[]) => void): Promise<Awaited<this>> {
        calls.push("subscribe");
        return super.subscribe(topic, callback);
      }
      override sadd(key: string, value: unknown): void {
        calls.push("sadd");
        super.sadd(key, value);
      }
      override lpop(key: string): Promise<string> {
        calls.push("lpop");
        return super.lpop(key);
      }
    }
    const fanout = fanoutOn(new CountingLocalPresence(), randomPrefix("push"));
    const client = new RecordingTarget();
    await fanout.attach("p1", client);
    fanout.publishAll([goldPush("p1", 5)]);
    fanout.preview("p1", "first_blood");
    fanout.reject("p1", { type: "kill", code: "GUARD_EXCEEDED", message: "too many" });
    await fanout.published();
    await nextTurn();
    expect(client.sent).toHaveLength(3);
    expect(calls).toEqual([]);
  });
});
