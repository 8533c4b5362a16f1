import type { Client } from "@colyseus/core";
import { describeError } from "../src/logging/logger.ts";
import { adapterLogger } from "./adapter-logger.ts";
import { TokenBucket, invalidOption, resolveRateLimit, type RateLimit, type ResolvedRateLimit } from "./rate-cap.ts";

/** When a client that keeps sending over its caps is disconnected. */
export interface DisconnectRule {
  /**
   * Disconnect on this many messages refused for their rate within `withinMs`. The window opens at the first
   * refused message (after the previous window ran out). A whole number, at least 1.
   */
  readonly afterLimited: number;
  /** The window, in ms. @default 10_000 */
  readonly withinMs?: number;
  /** The WebSocket close code, 4000-4999 (the application range). @default 4029 (`rateCapsDefaults.closeCode`) */
  readonly closeCode?: number;
}

/** What `createRateCaps` takes. Give `perType`, `total` or both. */
export interface RateCapsOptions {
  /**
   * A bucket per message type and client, e.g. `{ kill: { perSecond: 20, burst: 40 } }`. A type not listed has
   * no bucket of its own; it still counts toward `total`.
   */
  readonly perType?: Readonly<Record<string, RateLimit>>;
  /** One bucket per client across every message type these caps guard (listed or not). */
  readonly total?: RateLimit;
  /**
   * When to disconnect a client that keeps sending over its caps; `false`: never (refuse only).
   * @default { afterLimited: 1000, withinMs: 10_000, closeCode: 4029 }
   */
  readonly disconnect?: DisconnectRule | false;
  /**
   * A `room.send` refused for its rate gets a `progression:rejected` (code `RATE_LIMITED`) at most once per
   * message type per this many ms; the refusals in between are silent, so a flood is never answered message
   * for message. (A `room.request` always gets its rejection: the room answers every request.)
   * @default 100
   */
  readonly noticeIntervalMs?: number;
  /**
   * Called once when a client is disconnected by these caps, after `client.leave(closeCode, reason)`.
   * @default one warning line on the host's logger, naming the session
   */
  readonly onDisconnect?: (client: Client, reason: string) => void;
  /**
   * The clock, in ms, called once per message.
   * @default `performance.now()`, read once per run of messages handled together (the frames of one socket
   * read arrived together) and reused until the next microtask checkpoint
   */
  readonly now?: () => number;
}

/** The per-handler form: `guardedMessage(type, schema, handler, { rateCap: { perSecond: 20, burst: 40 } })`. */
export interface RateCapOptions extends RateLimit, Pick<RateCapsOptions, "disconnect" | "noticeIntervalMs" | "onDisconnect" | "now"> {}

export const rateCapsDefaults = {
  noticeIntervalMs: 100,
  afterLimited: 1_000,
  withinMs: 10_000,
  /** "4000 + HTTP 429": the SDK's `room.onLeave(code, reason)` gets it (no automatic reconnection). */
  closeCode: 4029,
} as const;

/**
 * What `admit` decided about one message:
 * - `"allowed"`: within the caps, handle it;
 * - `"limited"`: over a cap, not handled; tell the client (`RATE_LIMITED`);
 * - `"limited-quietly"`: over a cap, not handled; a notice for this type went out less than
 *   `noticeIntervalMs` ago, so say nothing to a `room.send` (a request is still rejected);
 * - `"disconnected"`: not handled; this message took the client past the disconnect rule (it is being
 *   disconnected now), or it was disconnected already and the message was still in flight.
 */
export type RateDecision = "allowed" | "limited" | "limited-quietly" | "disconnected";

/** The narrow client these caps use: state is keyed by the object, `leave` disconnects it. */
export type RateCappedClient = Pick<Client, "leave" | "sessionId">;

/** Where options came from: the call, and the path of the options inside its argument. */
interface OptionNaming {
  readonly caller: string;
  readonly prefix: string;
}

interface ResolvedDisconnect {
  readonly afterLimited: number;
  readonly withinMs: number;
  readonly closeCode: number;
  readonly reason: string;
}

/** One client's buckets and counts. Made on its first message, kept as long as the Client object lives. */
class ClientRateState {
  /** Per slot (one per listed type, then one for every other type): the type's bucket, if it has one. */
  readonly buckets: readonly (TokenBucket | undefined)[];
  readonly total: TokenBucket | undefined;
  /** Per slot: when the last RATE_LIMITED notice went out. */
  readonly noticeAt: Float64Array;
  windowStart = Number.NEGATIVE_INFINITY;
  limitedInWindow = 0;
  disconnected = false;

  constructor(limits: readonly (ResolvedRateLimit | undefined)[], total: ResolvedRateLimit | undefined, now: number) {
    this.buckets = limits.map((limit) => (limit === undefined ? undefined : new TokenBucket(limit, now)));
    this.total = total === undefined ? undefined : new TokenBucket(total, now);
    this.noticeAt = new Float64Array(limits.length).fill(Number.NEGATIVE_INFINITY);
  }
}

/**
 * Per-client message rate caps, shared by the handlers of a room (make one with `createRateCaps` and pass it
 * to each `guardedMessage(..., { rateCap: caps })`). Each message is checked against its type's bucket and
 * the client's total; one over either is refused (`RATE_LIMITED`) and not handled, and a client refused
 * `disconnect.afterLimited` times within `disconnect.withinMs` is disconnected with `closeCode` and a reason.
 * Other clients are unaffected: every client has its own buckets.
 *
 * State is kept per Client object in a WeakMap: it goes when the client does (a reconnected session is a
 * new Client object and starts with full buckets). Checking a message reads the clock at most once and
 * allocates nothing.
 */
export class RateCaps {
  readonly #slots: ReadonlyMap<string, number>;
  readonly #limits: readonly (ResolvedRateLimit | undefined)[];
  readonly #total: ResolvedRateLimit | undefined;
  readonly #otherSlot: number;
  readonly #disconnect: ResolvedDisconnect | undefined;
  readonly #noticeIntervalMs: number;
  readonly #onDisconnect: (client: Client, reason: string) => void;
  readonly #now: () => number;
  readonly #clients = new WeakMap<RateCappedClient, ClientRateState>();

  /** Use `createRateCaps(options)`; `naming` says where the options came from, for error messages. */
  constructor(options: RateCapsOptions, naming: OptionNaming = { caller: "createRateCaps", prefix: "" }) {
    const { caller, prefix } = naming;
    if (options === null || typeof options !== "object") {
      throw invalidOption(caller, "options", "must be an object such as { perType: { kill: { perSecond: 20 } } }", options);
    }
    const perType = options.perType ?? {};
    if (perType === null || typeof perType !== "object") {
      throw invalidOption(caller, "perType", "must map message types to limits, e.g. { kill: { perSecond: 20, burst: 40 } }", perType);
    }
    const types = Object.keys(perType);
    if (types.length === 0 && options.total === undefined) {
      throw invalidOption(caller, "options", "must give perType, total or both (caps that limit nothing are a mistake)", options);
    }
    this.#slots = new Map(types.map((type, slot) => [type, slot]));
    this.#limits = [...types.map((type) => resolveRateLimit(perType[type] as RateLimit, `perType.${type}`, caller)), undefined];
    this.#otherSlot = types.length;
    this.#total = options.total === undefined ? undefined : resolveRateLimit(options.total, "total", caller);
    this.#disconnect = resolveDisconnect(options.disconnect, naming);
    const noticeIntervalMs = options.noticeIntervalMs ?? rateCapsDefaults.noticeIntervalMs;
    if (typeof noticeIntervalMs !== "number" || !Number.isFinite(noticeIntervalMs) || noticeIntervalMs < 0) {
      throw invalidOption(caller, `${prefix}noticeIntervalMs`, "must be a number of ms, 0 or more", noticeIntervalMs);
    }
    this.#noticeIntervalMs = noticeIntervalMs;
    if (options.onDisconnect !== undefined && typeof options.onDisconnect !== "function") {
      throw invalidOption(caller, `${prefix}onDisconnect`, "must be a function (client, reason) => void", options.onDisconnect);
    }
    this.#onDisconnect = options.onDisconnect ?? logDisconnect;
    if (options.now !== undefined && typeof options.now !== "function") {
      throw invalidOption(caller, `${prefix}now`, "must be a function returning milliseconds", options.now);
    }
    this.#now = options.now ?? arrivalTime;
  }

  /**
   * Counts one message of `type` from `client` against its caps and says what to do with it (see
   * `RateDecision`). `guardedMessage` calls it first thing, before the payload is even parsed; call it from a
   * handler of your own the same way. A refused message does not take a token, so a client that slows down
   * is served again at once.
   */
  admit(client: RateCappedClient, type: string): RateDecision {
    const now = this.#now();
    let state = this.#clients.get(client);
    if (state === undefined) {
      state = new ClientRateState(this.#limits, this.#total, now);
      this.#clients.set(client, state);
    }
    if (state.disconnected) return "disconnected";
    const slot = this.#slots.get(type) ?? this.#otherSlot;
    const own = state.buckets[slot];
    const total = state.total;
    if ((own === undefined || own.available(now) >= 1) && (total === undefined || total.available(now) >= 1)) {
      own?.consume();
      total?.consume();
      return "allowed";
    }
    return this.#limited(client, state, slot, now);
  }

  /** Whether these caps disconnected this client (e.g. to refuse it a reconnection in `onDrop`). */
  disconnected(client: RateCappedClient): boolean {
    return this.#clients.get(client)?.disconnected === true;
  }

  /** What a refused `type` message is told: its limits, for the rejection's message. */
  describe(type: string): string {
    const own = this.#limits[this.#slots.get(type) ?? this.#otherSlot];
    const parts: string[] = [];
    if (own !== undefined) parts.push(`${type}: at most ${own.perSecond} a second (${own.burst} at once)`);
    if (this.#total !== undefined) parts.push(`all messages: at most ${this.#total.perSecond} a second (${this.#total.burst} at once)`);
    return `${type}: too many messages, this one was not handled (${parts.join("; ")}); slow down`;
  }

  #limited(client: RateCappedClient, state: ClientRateState, slot: number, now: number): RateDecision {
    const rule = this.#disconnect;
    if (rule !== undefined) {
      if (now - state.windowStart >= rule.withinMs) {
        state.windowStart = now;
        state.limitedInWindow = 0;
      }
      state.limitedInWindow += 1;
      if (state.limitedInWindow >= rule.afterLimited) {
        state.disconnected = true;
        client.leave(rule.closeCode, rule.reason);
        try {
          this.#onDisconnect(client as Client, rule.reason);
        } catch (error) {
          // A failing hook must not turn a refused message into a crashed room.
          adapterLogger().error(`rate caps onDisconnect failed: ${describeError(error)}`);
        }
        return "disconnected";
      }
    }
    if (now - (state.noticeAt[slot] ?? Number.NEGATIVE_INFINITY) < this.#noticeIntervalMs) return "limited-quietly";
    state.noticeAt[slot] = now;
    return "limited";
  }
}

/**
 * Rate caps shared by a room's message handlers: a token bucket per client and message type (`perType`), one
 * per client across all of them (`total`), and a client that keeps flooding is disconnected (`disconnect`).
 *
 * ```ts
 * const caps = createRateCaps({
 *   perType: { kill: { perSecond: 20, burst: 40 }, trade: { perSecond: 2, burst: 5 } },
 *   total: { perSecond: 50, burst: 100 },
 *   disconnect: { afterLimited: 200, withinMs: 10_000 },
 * });
 * messages = { kill: guardedMessage("kill", killSchema, onKill, { rateCap: caps }), ... };
 * ```
 *
 * A message over a cap is not handled: a `room.request` is rejected with `RATE_LIMITED`, a `room.send` gets a
 * `progression:rejected` with `RATE_LIMITED` at most once per type per `noticeIntervalMs` (100 ms). Throws
 * `INVALID_INPUT` naming the option when one is wrong.
 */
export function createRateCaps(options: RateCapsOptions): RateCaps {
  return new RateCaps(options);
}

/** The caps of one `guardedMessage(type, ..., { rateCap: { perSecond, burst } })`: a bucket for that type alone. */
export function rateCapsOfOne(type: string, options: RateCapOptions): RateCaps {
  const caller = `guardedMessage(${JSON.stringify(type)})`;
  if (options === null || typeof options !== "object") {
    throw invalidOption(caller, "rateCap", "must be { perSecond, burst? } or caps from createRateCaps", options);
  }
  const limit = resolveRateLimit(options, "rateCap", caller);
  const { disconnect, noticeIntervalMs, onDisconnect, now } = options;
  return new RateCaps({ perType: { [type]: limit }, disconnect, noticeIntervalMs, onDisconnect, now }, { caller, prefix: "rateCap." });
}

function resolveDisconnect(rule: DisconnectRule | false | undefined, naming: OptionNaming): ResolvedDisconnect | undefined {
  if (rule === false) return undefined;
  const { caller, prefix } = naming;
  const given = rule ?? { afterLimited: rateCapsDefaults.afterLimited };
  if (given === null || typeof given !== "object") {
    throw invalidOption(caller, `${prefix}disconnect`, "must be { afterLimited, withinMs?, closeCode? } or false", given);
  }
  const { afterLimited, withinMs = rateCapsDefaults.withinMs, closeCode = rateCapsDefaults.closeCode } = given;
  if (typeof afterLimited !== "number" || !Number.isSafeInteger(afterLimited) || afterLimited < 1) {
    throw invalidOption(caller, `${prefix}disconnect.afterLimited`, "must be a whole number of refused messages, at least 1", afterLimited);
  }
  if (typeof withinMs !== "number" || !Number.isFinite(withinMs) || withinMs <= 0) {
    throw invalidOption(caller, `${prefix}disconnect.withinMs`, "must be a number of ms above 0", withinMs);
  }
  if (typeof closeCode !== "number" || !Number.isInteger(closeCode) || closeCode < 4000 || closeCode > 4999) {
    throw invalidOption(caller, `${prefix}disconnect.closeCode`, "must be a WebSocket close code from 4000 to 4999", closeCode);
  }
  // A close reason is at most 123 bytes; this one is ASCII and well under.
  const reason = `RATE_LIMITED: ${afterLimited} messages over the rate cap within ${withinMs} ms`;
  return { afterLimited, withinMs, closeCode, reason };
}

/*
 * The default clock. Reading the clock can cost more than the whole check (a quarter of a microsecond on some
 * virtual machines, and the number it returns is allocated), so messages handled in one synchronous run (the
 * frames of one socket read, which did arrive together) share one reading; the next run reads it again.
 */
let batchTime = 0;
let batchTimeValid = false;
const forgetBatchTime = (): void => {
  batchTimeValid = false;
};

function arrivalTime(): number {
  if (!batchTimeValid) {
    batchTime = performance.now();
    batchTimeValid = true;
    queueMicrotask(forgetBatchTime);
  }
  return batchTime;
}

function logDisconnect(client: Client, reason: string): void {
  adapterLogger().warn(`disconnected client ${client.sessionId}: ${reason}`);
}
