import type { Client, MessageContext } from "@colyseus/core";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { guardedMessage } from "../../plugins/guarded-message.ts";
import { TokenBucket, resolveRateLimit } from "../../plugins/rate-cap.ts";
import { createRateCaps, rateCapsDefaults, type RateCapsOptions, type RateDecision } from "../../plugins/rate-caps.ts";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import { ProgressionError } from "../../src/errors/progression-error.ts";
import type { RejectionReason } from "../../src/protocol/client-messages.ts";

/** A clock the test moves by hand: no sleeps. */
class ManualClock {
  time = 1_000_000;
  readonly now = (): number => this.time;
  advance(ms: number): void {
    this.time += ms;
  }
}

/** The slice of a Colyseus client the caps and guardedMessage touch, recording what they do with it. */
class FakeClient {
  readonly sessionId: string;
  readonly sent: { type: string; payload: unknown }[] = [];
  readonly left: { code: number | undefined; reason: string | undefined }[] = [];
  constructor(sessionId: string) {
    this.sessionId = sessionId;
  }
  send(type: string, payload: unknown): void {
    this.sent.push({ type, payload });
  }
  leave(code?: number, reason?: string): void {
    this.left.push({ code, reason });
  }
  get asClient(): Client {
    return this as unknown as Client;
  }
  rejections(): RejectionReason[] {
    return this.sent.filter((message) => message.type === "progression:rejected").map((message) => message.payload as RejectionReason);
  }
}

const sendContext: MessageContext = { id: undefined, reject: () => undefined as never, resolve: () => undefined as never };

/** A request's context, recording its rejections. */
function requestContext(id: number): MessageContext & { rejected: unknown[] } {
  const rejected: unknown[] = [];
  return { id, rejected, reject: (reason?: unknown) => void rejected.push(reason) as never, resolve: () => undefined as never };
}

function thrown(make: () => unknown): ProgressionError {
  try {
    make();
  } catch (error) {
    if (error instanceof ProgressionError) return error;
    throw error;
  }
  throw new Error("did not throw");
}

function admitMany(admit: () => RateDecision, count: number): RateDecision[] {
  return Array.from({ length: count }, admit);
}

describe("TokenBucket", () => {
  it("starts full: burst messages pass at once, the next one does not", () => {
    const bucket = new TokenBucket({ perSecond: 10, burst: 3 }, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([true, true, true, false]);
  });

  it("refills at perSecond: one token per 1000 / perSecond ms", () => {
    const bucket = new TokenBucket({ perSecond: 10, burst: 1 }, 0);
    expect(bucket.take(0)).toBe(true);
    expect(bucket.take(99)).toBe(false);
    expect(bucket.take(100)).toBe(true);
    expect(bucket.take(150)).toBe(false);
    expect(bucket.take(200)).toBe(true);
  });

  it("never holds more than burst, however long it was idle", () => {
    const bucket = new TokenBucket({ perSecond: 1000, burst: 5 }, 0);
    expect(bucket.available(3_600_000)).toBe(5);
    expect(admitMany(() => (bucket.take(3_600_000) ? "allowed" : "limited"), 6).filter((d) => d === "allowed")).toHaveLength(5);
  });

  it("a clock that goes back refills nothing and breaks nothing", () => {
    const bucket = new TokenBucket({ perSecond: 10, burst: 1 }, 1_000);
    expect(bucket.take(1_000)).toBe(true);
    expect(bucket.take(500)).toBe(false);
    expect(bucket.available(500)).toBe(0);
    expect(bucket.take(1_100)).toBe(true);
  });

  it("lets through at most burst + perSecond * t / 1000 in any interval t, and never limits a sender at the rate", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.5, max: 5_000, noNaN: true }),
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.double({ min: 0, max: 50, noNaN: true }), { minLength: 1, maxLength: 300 }),
        (perSecond, burst, gaps) => {
          const bucket = new TokenBucket({ perSecond, burst }, 0);
          let now = 0;
          const admitted: number[] = [];
          for (const gap of gaps) {
            now += gap;
            if (bucket.take(now)) admitted.push(now);
          }
          for (let from = 0; from < admitted.length; from += 1) {
            for (let to = from; to < admitted.length; to += 1) {
              const span = (admitted[to] ?? 0) - (admitted[from] ?? 0);
              expect(to - from + 1).toBeLessThanOrEqual(burst + (perSecond * span) / 1000 + 1e-6);
            }
          }
        },
      ),
    );
    fc.assert(
      fc.property(fc.double({ min: 0.5, max: 5_000, noNaN: true }), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 500 }), (perSecond, burst, count) => {
        const bucket = new TokenBucket({ perSecond, burst }, 0);
        // Slightly slower than the rate (float rounding must not refuse a sender exactly at it).
        const interval = (1000 / perSecond) * (1 + 1e-9);
        for (let index = 1; index <= count; index += 1) expect(bucket.take(index * interval)).toBe(true);
      }),
    );
  });

  it("resolveRateLimit fills burst with one second's worth and names the option it refuses", () => {
    expect(resolveRateLimit({ perSecond: 20 }, "total", "test")).toEqual({ perSecond: 20, burst: 20 });
    expect(resolveRateLimit({ perSecond: 2.5 }, "total", "test")).toEqual({ perSecond: 2.5, burst: 3 });
    expect(resolveRateLimit({ perSecond: 0.1 }, "total", "test")).toEqual({ perSecond: 0.1, burst: 1 });
    for (const perSecond of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, "10"]) {
      const error = thrown(() => resolveRateLimit({ perSecond } as never, "perType.kill", "createRateCaps"));
      expect(error.code).toBe(ErrorCode.InvalidInput);
      expect(error.message).toContain("createRateCaps: perType.kill.perSecond must be");
    }
    for (const burst of [0, 1.5, -3, "5"]) {
      expect(thrown(() => resolveRateLimit({ perSecond: 1, burst } as never, "total", "createRateCaps")).message).toContain("total.burst must be a whole number");
    }
  });
});

describe("createRateCaps", () => {
  it("checks each message against its type's bucket and the client's total", () => {
    const clock = new ManualClock();
    const caps = createRateCaps({ perType: { kill: { perSecond: 10, burst: 3 } }, total: { perSecond: 10, burst: 5 }, disconnect: false, now: clock.now });
    const client = new FakeClient("a");
    expect(admitMany(() => caps.admit(client, "kill"), 4)).toEqual(["allowed", "allowed", "allowed", "limited"]);
    // A type not listed has no bucket of its own, but counts toward the total: 2 left of 5.
    expect(admitMany(() => caps.admit(client, "chat"), 3)).toEqual(["allowed", "allowed", "limited"]);
    // 100 ms later: one token more in each bucket.
    clock.advance(100);
    expect(caps.admit(client, "chat")).toBe("allowed");
    // The kill bucket has a token again, the total does not; the last kill notice is 100 ms old.
    expect(caps.admit(client, "kill")).toBe("limited");
  });

  it("a refused message takes no token: a client that slows down is served again at once", () => {
    const clock = new ManualClock();
    const caps = createRateCaps({ perType: { kill: { perSecond: 10, burst: 2 } }, disconnect: false, now: clock.now });
    const client = new FakeClient("a");
    expect(admitMany(() => caps.admit(client, "kill"), 50).filter((d) => d === "allowed")).toHaveLength(2);
    clock.advance(100);
    expect(caps.admit(client, "kill")).toBe("allowed");
  });

  it("gives every client its own buckets", () => {
    const clock = new ManualClock();
    const caps = createRateCaps({ perType: { kill: { perSecond: 1, burst: 1 } }, total: { perSecond: 1, burst: 1 }, disconnect: { afterLimited: 3 }, now: clock.now });
    const flooder = new FakeClient("flooder");
    const steady = new FakeClient("steady");
    admitMany(() => caps.admit(flooder, "kill"), 10);
    expect(flooder.left).toHaveLength(1);
    expect(caps.admit(steady, "kill")).toBe("allowed");
    expect(caps.disconnected(steady)).toBe(false);
    expect(steady.left).toEqual([]);
  });

  it("says limited at most once per type per noticeIntervalMs, quietly in between", () => {
    const clock = new ManualClock();
    const caps = createRateCaps({ perType: { kill: { perSecond: 1, burst: 1 }, loot: { perSecond: 1, burst: 1 } }, disconnect: false, now: clock.now });
    const client = new FakeClient("a");
    expect(caps.admit(client, "kill")).toBe("allowed");
    expect(caps.admit(client, "loot")).toBe("allowed");
    expect(admitMany(() => caps.admit(client, "kill"), 3)).toEqual(["limited", "limited-quietly", "limited-quietly"]);
    expect(caps.admit(client, "loot")).toBe("limited"); // per type
    clock.advance(rateCapsDefaults.noticeIntervalMs - 1);
    expect(caps.admit(client, "kill")).toBe("limited-quietly");
    clock.advance(1);
    expect(caps.admit(client, "kill")).toBe("limited");
    expect(createRateCaps({ total: { perSecond: 1, burst: 1 }, noticeIntervalMs: 0, disconnect: false, now: clock.now }).admit(client, "x")).toBe("allowed");
  });

  it("disconnects a client refused afterLimited times within withinMs, once, with the close code and a reason", () => {
    const clock = new ManualClock();
    const disconnects: string[] = [];
    const caps = createRateCaps({
      perType: { kill: { perSecond: 1, burst: 1 } },
      disconnect: { afterLimited: 5, withinMs: 1_000 },
      onDisconnect: (client, reason) => disconnects.push(`${client.sessionId}: ${reason}`),
      now: clock.now,
    });
    const client = new FakeClient("a");
    expect(admitMany(() => caps.admit(client, "kill"), 6)).toEqual(["allowed", "limited", "limited-quietly", "limited-quietly", "limited-quietly", "disconnected"]);
    expect(client.left).toEqual([{ code: rateCapsDefaults.closeCode, reason: "RATE_LIMITED: 5 messages over the rate cap within 1000 ms" }]);
    expect(disconnects).toEqual(["a: RATE_LIMITED: 5 messages over the rate cap within 1000 ms"]);
    expect(caps.disconnected(client)).toBe(true);
    // Messages still in flight after the close: dropped, never handled, no second close.
    clock.advance(60_000);
    expect(admitMany(() => caps.admit(client, "kill"), 3)).toEqual(["disconnected", "disconnected", "disconnected"]);
    expect(client.left).toHaveLength(1);
  });

  it("a throwing onDisconnect is logged, not thrown into the room", () => {
    const caps = createRateCaps({
      total: { perSecond: 1, burst: 1 },
      disconnect: { afterLimited: 1 },
      onDisconnect: () => {
        throw new Error("ban service down");
      },
      now: () => 0,
    });
    const client = new FakeClient("a");
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      expect(admitMany(() => caps.admit(client, "kill"), 2)).toEqual(["allowed", "disconnected"]);
      expect(client.left).toHaveLength(1);
      expect(String(logged.mock.calls[0]?.[0])).toContain("ban service down");
    } finally {
      logged.mockRestore();
    }
  });

  it("counts refusals in a window that opens at the first one: refusals spread out are never disconnected", () => {
    const clock = new ManualClock();
    const caps = createRateCaps({ perType: { kill: { perSecond: 1, burst: 1 } }, disconnect: { afterLimited: 5, withinMs: 1_000, closeCode: 4400 }, now: clock.now });
    const client = new FakeClient("a");
    for (let round = 0; round < 10; round += 1) {
      admitMany(() => caps.admit(client, "kill"), 5); // 1 allowed, 4 refused
      clock.advance(1_000);
    }
    expect(client.left).toEqual([]);
    admitMany(() => caps.admit(client, "kill"), 6);
    expect(client.left).toEqual([{ code: 4400, reason: expect.stringContaining("RATE_LIMITED") }]);
  });

  it("disconnects after 1000 refusals within 10 s by default, never with disconnect: false", () => {
    const clock = new ManualClock();
    const onDisconnect = (): void => {};
    const byDefault = createRateCaps({ total: { perSecond: 1, burst: 1 }, onDisconnect, now: clock.now });
    const never = createRateCaps({ total: { perSecond: 1, burst: 1 }, disconnect: false, now: clock.now });
    const a = new FakeClient("a");
    const b = new FakeClient("b");
    const decisions = admitMany(() => byDefault.admit(a, "kill"), 1 + rateCapsDefaults.afterLimited);
    expect(decisions.at(-2)).not.toBe("disconnected");
    expect(decisions.at(-1)).toBe("disconnected");
    admitMany(() => never.admit(b, "kill"), 20_000);
    expect(b.left).toEqual([]);
    expect(never.disconnected(b)).toBe(false);
  });

  it("keeps its close reason within the WebSocket limit of 123 bytes", () => {
    // The longest numbers it can print: a one-refusal rule over the largest window.
    const caps = createRateCaps({ total: { perSecond: 1, burst: 1 }, disconnect: { afterLimited: 1, withinMs: Number.MAX_VALUE }, onDisconnect: () => {}, now: () => 0 });
    const client = new FakeClient("a");
    admitMany(() => caps.admit(client, "x"), 2);
    expect(client.left[0]?.reason).toContain("RATE_LIMITED");
    expect(Buffer.byteLength(client.left[0]?.reason ?? "")).toBeLessThanOrEqual(123);
  });

  it("describes the limits a refused message ran into", () => {
    const caps = createRateCaps({ perType: { kill: { perSecond: 20, burst: 40 } }, total: { perSecond: 50, burst: 100 } });
    expect(caps.describe("kill")).toBe("kill: too many messages, this one was not handled (kill: at most 20 a second (40 at once); all messages: at most 50 a second (100 at once)); slow down");
    expect(caps.describe("chat")).toBe("chat: too many messages, this one was not handled (all messages: at most 50 a second (100 at once)); slow down");
  });

  it("by default reads the clock once per run of messages handled together (one socket read), again in the next", async () => {
    const caps = createRateCaps({ total: { perSecond: 1000, burst: 1 }, disconnect: false });
    const client = new FakeClient("a");
    const started = performance.now();
    const first = admitMany(() => caps.admit(client, "kill"), 1000);
    // However long that took, the 1000 arrived together: the one token, no refill in between.
    expect(first.filter((decision) => decision === "allowed")).toHaveLength(1);
    while (performance.now() - started < 3) await new Promise((resolve) => setImmediate(resolve));
    expect(caps.admit(client, "kill")).toBe("allowed");
  });

  it("refuses wrong options with INVALID_INPUT naming the option", () => {
    const cases: [RateCapsOptions, string][] = [
      [{}, "options must give perType, total or both"],
      [{ perType: {} }, "options must give perType, total or both"],
      [{ perType: { kill: { perSecond: 0 } } }, "perType.kill.perSecond must be a number of messages per second above 0, got 0"],
      [{ perType: { kill: null as never } }, "perType.kill must be an object"],
      [{ total: { perSecond: 5, burst: 0 } }, "total.burst must be a whole number of messages, at least 1, got 0"],
      [{ total: { perSecond: 5 }, disconnect: { afterLimited: 0 } }, "disconnect.afterLimited must be a whole number"],
      [{ total: { perSecond: 5 }, disconnect: { afterLimited: 10, withinMs: -1 } }, "disconnect.withinMs must be a number of ms above 0"],
      [{ total: { perSecond: 5 }, disconnect: { afterLimited: 10, closeCode: 1000 } }, "disconnect.closeCode must be a WebSocket close code from 4000 to 4999, got 1000"],
      [{ total: { perSecond: 5 }, disconnect: true as never }, "disconnect must be { afterLimited, withinMs?, closeCode? } or false"],
      [{ total: { perSecond: 5 }, noticeIntervalMs: -5 }, "noticeIntervalMs must be a number of ms, 0 or more"],
      [{ total: { perSecond: 5 }, now: 5 as never }, "now must be a function"],
    ];
    for (const [options, message] of cases) {
      const error = thrown(() => createRateCaps(options));
      expect(error.code).toBe(ErrorCode.InvalidInput);
      expect(error.message).toContain(`createRateCaps: ${message}`);
    }
  });
});

describe("guardedMessage with rateCap", () => {
  const kill = z.strictObject({ creature: z.enum(["goblin", "rat"]) });

  it("past the bucket: not parsed nor handled; a send gets RATE_LIMITED at most once per 100 ms", () => {
    const clock = new ManualClock();
    const handled: string[] = [];
    const onKill = guardedMessage("kill", kill, (_client, message) => void handled.push(message.creature), {
      rateCap: { perSecond: 10, burst: 2, disconnect: false, now: clock.now },
    });
    const client = new FakeClient("a");
    for (let index = 0; index < 50; index += 1) onKill(client.asClient, { creature: "goblin" }, sendContext);
    // An invalid payload over the cap is refused for its rate, before its payload is looked at.
    onKill(client.asClient, { creature: "unicorn" }, sendContext);
    expect(handled).toEqual(["goblin", "goblin"]);
    expect(client.rejections()).toEqual([
      { type: "kill", code: ErrorCode.RateLimited, message: "kill: too many messages, this one was not handled (kill: at most 10 a second (2 at once)); slow down" },
    ]);
    clock.advance(100);
    onKill(client.asClient, { creature: "rat" }, sendContext);
    onKill(client.asClient, { creature: "rat" }, sendContext);
    expect(handled).toEqual(["goblin", "goblin", "rat"]);
    expect(client.rejections()).toHaveLength(2);
  });

  it("a request over the cap is always rejected with RATE_LIMITED (the room answers every request)", () => {
    const clock = new ManualClock();
    let handled = 0;
    const onKill = guardedMessage("kill", kill, () => ++handled, { rateCap: { perSecond: 1, burst: 1, disconnect: false, now: clock.now } });
    const client = new FakeClient("a");
    const contexts = Array.from({ length: 5 }, (_, index) => requestContext(index + 1));
    const results = contexts.map((ctx) => onKill(client.asClient, { creature: "goblin" }, ctx));
    expect(results[0]).toBe(1);
    expect(handled).toBe(1);
    expect(contexts.map((ctx) => ctx.rejected.length)).toEqual([0, 1, 1, 1, 1]);
    expect(contexts[4]?.rejected[0]).toMatchObject({ type: "kill", code: ErrorCode.RateLimited });
    expect(client.sent).toEqual([]);
  });

  it("handlers sharing caps share the client's total; each keeps its own type bucket", () => {
    const clock = new ManualClock();
    const caps = createRateCaps({ perType: { kill: { perSecond: 1, burst: 3 } }, total: { perSecond: 1, burst: 4 }, disconnect: { afterLimited: 10 }, onDisconnect: () => {}, now: clock.now });
    const handled: string[] = [];
    const onKill = guardedMessage("kill", kill, () => void handled.push("kill"), { rateCap: caps });
    const onLoot = guardedMessage("loot", z.strictObject({ qty: z.number() }), () => void handled.push("loot"), { rateCap: caps });
    const client = new FakeClient("a");
    for (let index = 0; index < 4; index += 1) onKill(client.asClient, { creature: "goblin" }, sendContext);
    for (let index = 0; index < 3; index += 1) onLoot(client.asClient, { qty: 1 }, sendContext);
    expect(handled).toEqual(["kill", "kill", "kill", "loot"]);
    expect(client.rejections().map((reason) => reason.type)).toEqual(["kill", "loot"]);
    // Flooding on: the 10th refusal within 10 s disconnects, and nothing after it is handled or answered.
    for (let index = 0; index < 20; index += 1) onLoot(client.asClient, { qty: 1 }, sendContext);
    expect(client.left).toHaveLength(1);
    clock.advance(60_000);
    onKill(client.asClient, { creature: "goblin" }, sendContext);
    expect(handled).toHaveLength(4);
    expect(client.rejections()).toHaveLength(2);
  });

  it("refuses a wrong inline rateCap at once, naming the message type", () => {
    const error = thrown(() => guardedMessage("kill", kill, () => undefined, { rateCap: { perSecond: -2 } }));
    expect(error.code).toBe(ErrorCode.InvalidInput);
    expect(error.message).toBe('guardedMessage("kill"): rateCap.perSecond must be a number of messages per second above 0, got -2');
    const disconnect = thrown(() => guardedMessage("kill", kill, () => undefined, { rateCap: { perSecond: 2, disconnect: { afterLimited: 1.5 } } }));
    expect(disconnect.message).toContain('guardedMessage("kill"): rateCap.disconnect.afterLimited must be a whole number');
  });
});
