import { Client, type Room } from "@colyseus/sdk";
import type { BotReport } from "./bot-report.ts";
import { bareAckMessage } from "../reference/bare-ack.ts";
import { ThresholdTracker, type PredictableThreshold, type RecordedEvent } from "./expected-unlocks.ts";
import { leaveRoom } from "./leave-room.ts";

/**
 * One bot: joins the arena as its own subject and, driven by `tick()`, sends kills, loot and the
 * occasional trade and shop purchase at its rate. It knows its own counts, so for every event that
 * crosses a threshold it starts a clock that the matching `progression:unlocked` push stops. Against the
 * bare reference room the same event carries `acks: [codes]` and the room's `ack` reply stops the clock:
 * the send -> ack latency of Colyseus alone, the reference for the arena's send -> unlock.
 * Hot-path messages (kill, loot) are fire-and-forget; ledger messages are requests whose rejections
 * are counted as outcomes.
 */

export interface EventMix {
  /** Relative weights; they need not add up to 1. */
  readonly kill: number;
  readonly loot: number;
  readonly trade: number;
  readonly buy: number;
}

export const defaultEventMix: EventMix = { kill: 0.6, loot: 0.38, trade: 0.01, buy: 0.01 };

export interface ArenaBotSettings {
  /** ws://127.0.0.1:PORT */
  readonly endpoint: string;
  /** Room to join: "arena" (with the plugin) or "bare" (the reference). */
  readonly roomName: string;
  /** This bot's subject: joins with `{ playerId: subject }`, so the room's `client.auth.id` is the subject. */
  readonly subject: string;
  /** Events per second this bot sends. */
  readonly ratePerSecond: number;
  /**
   * "steady": each bot starts at a random point of its first send interval, so the fleet's events arrive
   * spread out, as players' do; "burst": every bot starts together, so their events arrive in step (at 1
   * event/s, 1,000 bots are a burst of 1,000 events once a second). Default "steady".
   */
  readonly arrivals?: "steady" | "burst";
  readonly mix: EventMix;
  readonly creatures: readonly string[];
  readonly lootItems: readonly string[];
  readonly shopItems: readonly string[];
  /** Other bots' subjects: trade partners. */
  readonly peers: readonly string[];
  readonly thresholds: readonly PredictableThreshold[];
}

/** Tick credit is capped so a stalled process cannot fire a burst afterwards; its rate just drops. */
const maxCreditSeconds = 0.1;
const maxErrorsKept = 20;

export class ArenaBot {
  readonly settings: ArenaBotSettings;
  readonly #tracker: ThresholdTracker;
  #room: Room | undefined;
  #credit = 0;
  #lastTick = 0;
  readonly #lootedByItem = new Map<string, number>();
  readonly #tradedByItem = new Map<string, number>();
  /** Expected unlock code -> send time (performance.now()) of the event that crossed it. */
  readonly #pending = new Map<string, number>();
  readonly #expected: string[] = [];
  readonly #received: Record<string, number> = {};
  readonly #latencies: number[] = [];
  readonly #requestLatencies: number[] = [];
  readonly #sent: Record<string, number> = {};
  readonly #rejected: Record<string, number> = {};
  readonly #pushes = { progress: 0, inventory: 0, snapshot: 0 };
  readonly #errors: string[] = [];
  #openRequests = 0;

  constructor(settings: ArenaBotSettings) {
    this.settings = settings;
    this.#tracker = new ThresholdTracker(settings.thresholds);
  }

  get joined(): boolean {
    return this.#room !== undefined;
  }

  /** Expected unlocks not received yet plus ledger requests not answered yet. */
  get outstanding(): number {
    return this.#pending.size + this.#openRequests;
  }

  async join(): Promise<void> {
    const client = new Client(this.settings.endpoint);
    const room = await client.joinOrCreate(this.settings.roomName, { playerId: this.settings.subject });
    room.onMessage("progression:unlocked", (payload: unknown) => this.#onUnlocked(payload));
    // The bare room's answer to a crossing event (see #send): the reference latency.
    room.onMessage(bareAckMessage, (payload: unknown) => {
      const codes = typeof payload === "object" && payload !== null ? (payload as { codes?: unknown }).codes : undefined;
      if (Array.isArray(codes)) for (const code of codes) this.#onUnlocked({ code });
    });
    room.onMessage("progression:progress", () => void this.#pushes.progress++);
    room.onMessage("progression:inventory", () => void this.#pushes.inventory++);
    room.onMessage("progression:snapshot", () => void this.#pushes.snapshot++);
    // A fire-and-forget message (kill, loot) the room refused: the bot only sends valid ones.
    room.onMessage("progression:rejected", (reason: unknown) => this.#error(`rejected: ${JSON.stringify(reason)}`));
    room.onMessage("*", () => undefined);
    room.onError((code, message) => this.#error(`room error ${code}: ${message ?? ""}`));
    // Dropped by the server (not our own leave): an error, and the bot stops sending into a closed socket.
    room.onLeave((code: number) => {
      if (this.#room !== room) return;
      this.#room = undefined;
      this.#error(`disconnected by the server (close code ${code})`);
    });
    this.#room = room;
  }

  /** Sends what the rate allows since the last tick. Call every few ms. */
  tick(now: number): void {
    if (this.#room === undefined) return;
    if (this.#lastTick === 0) this.#lastTick = now;
    const elapsedSeconds = Math.min((now - this.#lastTick) / 1000, maxCreditSeconds);
    this.#lastTick = now;
    this.#credit = Math.min(this.#credit + elapsedSeconds * this.settings.ratePerSecond, this.settings.ratePerSecond * maxCreditSeconds + 1);
    if (this.#credit < 1) return;
    // One write per tick instead of one per message: several events per client frame, like a game
    // client emitting everything of one frame together. It keeps the bots' syscalls from starving
    // the server of CPU on a small shared machine, equally for the arena and the bare room.
    const socket = socketOf(this.#room);
    socket?.cork();
    while (this.#credit >= 1) {
      this.#credit -= 1;
      this.#sendOne();
    }
    socket?.uncork();
  }

  /** Restarts the rate clock (between the join phase and the timed phase). */
  resetClock(): void {
    this.#lastTick = 0;
    this.#credit = this.settings.arrivals === "burst" ? 0 : Math.random();
  }

  async leave(): Promise<void> {
    const room = this.#room;
    this.#room = undefined;
    if (room === undefined) return;
    try {
      await leaveRoom(room);
    } catch (error) {
      this.#error(`leave: ${describe(error)}`);
    }
  }

  report(): BotReport {
    return {
      subject: this.settings.subject,
      joined: this.#room !== undefined,
      sent: { ...this.#sent },
      sums: Object.fromEntries(this.#tracker.sums()),
      expected: [...this.#expected],
      received: { ...this.#received },
      latenciesMs: [...this.#latencies],
      requestLatenciesMs: [...this.#requestLatencies],
      rejected: { ...this.#rejected },
      pushes: { ...this.#pushes },
      errors: [...this.#errors],
    };
  }

  #sendOne(): void {
    const { mix } = this.settings;
    const roll = Math.random() * (mix.kill + mix.loot + mix.trade + mix.buy);
    if (roll < mix.kill) this.#kill();
    else if (roll < mix.kill + mix.loot) this.#loot();
    else if (roll < mix.kill + mix.loot + mix.trade) {
      if (!this.#trade()) this.#kill();
    } else this.#buy();
  }

  #kill(): void {
    const creature = pick(this.settings.creatures);
    this.#send("kill", { creature }, { type: "kill", tags: { creature }, amount: 1 });
  }

  #loot(): void {
    const item = pick(this.settings.lootItems);
    const qty = 1 + Math.floor(Math.random() * 3);
    this.#lootedByItem.set(item, (this.#lootedByItem.get(item) ?? 0) + qty);
    this.#send("loot", { item, qty }, { type: "loot", tags: { item }, amount: qty });
  }

  /** Gives one unit of something this bot looted (never more than it looted) to a peer. */
  #trade(): boolean {
    const to = this.settings.peers.length === 0 ? undefined : pick(this.settings.peers);
    const item = [...this.#lootedByItem.keys()].find(
      (candidate) => (this.#lootedByItem.get(candidate) ?? 0) > (this.#tradedByItem.get(candidate) ?? 0),
    );
    if (to === undefined || item === undefined) return false;
    this.#tradedByItem.set(item, (this.#tradedByItem.get(item) ?? 0) + 1);
    this.#request("trade", { to, item, qty: 1 });
    return true;
  }

  /** The shop flow: buy -> hold id -> confirm (mostly) or cancel. */
  #buy(): void {
    const item = pick(this.settings.shopItems);
    this.#request("buy", { item, qty: 1 }, (reply) => {
      const holdId = typeof reply === "object" && reply !== null ? (reply as { holdId?: unknown }).holdId : reply;
      if (typeof holdId !== "string") return;
      this.#request(Math.random() < 0.8 ? "confirm" : "cancel", { holdId });
    });
  }

  #send(type: string, payload: object, recorded: RecordedEvent): void {
    const room = this.#room;
    if (room === undefined) return;
    const crossed = this.#tracker.observe(recorded);
    const sentAt = performance.now();
    // The bare room cannot know the thresholds: the crossing event names what it would unlock.
    room.send(type, crossed.length > 0 && this.settings.roomName === "bare" ? { ...payload, acks: crossed } : payload);
    this.#sent[type] = (this.#sent[type] ?? 0) + 1;
    for (const code of crossed) {
      this.#expected.push(code);
      this.#pending.set(code, sentAt);
    }
  }

  #request(type: string, payload: object, onReply?: (reply: unknown) => void): void {
    const room = this.#room;
    if (room === undefined) return;
    this.#sent[type] = (this.#sent[type] ?? 0) + 1;
    this.#openRequests += 1;
    const sentAt = performance.now();
    room.request(type, payload).then(
      (reply: unknown) => {
        this.#openRequests -= 1;
        this.#requestLatencies.push(performance.now() - sentAt);
        onReply?.(reply);
      },
      (error: unknown) => {
        this.#openRequests -= 1;
        // A deliberate rejection carries the room's reason code (e.g. "trade:INSUFFICIENT"): an outcome.
        // Anything else (timeout, server fault, closed connection) is an error.
        const code = (error as { reason?: { code?: unknown } } | undefined)?.reason?.code;
        if (typeof code === "string") {
          this.#requestLatencies.push(performance.now() - sentAt);
          const key = `${type}:${code}`;
          this.#rejected[key] = (this.#rejected[key] ?? 0) + 1;
        } else {
          this.#error(`${type} failed: ${describe(error)}`);
        }
      },
    );
  }

  #onUnlocked(payload: unknown): void {
    const code = typeof payload === "object" && payload !== null ? (payload as { code?: unknown }).code : undefined;
    if (typeof code !== "string") {
      this.#error(`progression:unlocked without a code: ${JSON.stringify(payload)}`);
      return;
    }
    this.#received[code] = (this.#received[code] ?? 0) + 1;
    const sentAt = this.#pending.get(code);
    if (sentAt !== undefined) {
      this.#pending.delete(code);
      this.#latencies.push(performance.now() - sentAt);
    }
  }

  #error(message: string): void {
    if (this.#errors.length < maxErrorsKept) this.#errors.push(message);
  }
}

/** The Node socket under the SDK's WebSocket transport (absent in other transports). */
function socketOf(room: Room): { cork(): void; uncork(): void } | undefined {
  const transport = room.connection.transport as { ws?: { _socket?: { cork(): void; uncork(): void } } };
  return transport.ws?._socket;
}

function pick<T>(values: readonly T[]): T {
  const value = values[Math.floor(Math.random() * values.length)];
  if (value === undefined) throw new Error("pick() from an empty list: configure at least one creature, loot item and shop item");
  return value;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
