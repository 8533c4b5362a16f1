import { Client, type Room } from "@colyseus/sdk";
import { leaveRoom } from "../bots/leave-room.ts";

/**
 * A real @colyseus/sdk client for the crash attacks: its own subject in the arena, kills of one
 * creature (fire-and-forget) at a rate, and loot of one item as requests, one at a time, so every
 * acknowledged reply carries a balance that can only grow. It keeps what it sent, what was
 * acknowledged, the unlock pushes per code and the loot round-trip latencies. The SDK's own
 * reconnection is off: after a server crash the attack rejoins explicitly, and nothing is buffered
 * and sent later behind the counts' back.
 */

export const BOT_CREATURE = "goblin";
export const BOT_LOOT = "gem";

export interface FaultBotReport {
  readonly subject: string;
  readonly killsSent: number;
  readonly lootSent: number;
  readonly lootAcknowledged: number;
  /** The largest acknowledged balance of BOT_LOOT: the store may never show less. */
  readonly lootAcknowledgedBalance: number;
  readonly lootFailed: number;
  readonly unlocks: Readonly<Record<string, number>>;
  readonly latenciesMs: readonly number[];
  readonly joins: number;
  readonly errors: readonly string[];
}

export class FaultBot {
  readonly subject: string;
  #endpoint: string;
  #room: Room | undefined;
  #killsSent = 0;
  #lootSent = 0;
  #lootAcknowledged = 0;
  #lootAcknowledgedBalance = 0;
  #lootFailed = 0;
  #lootInFlight = false;
  #joins = 0;
  readonly #unlocks: Record<string, number> = {};
  readonly #latencies: number[] = [];
  readonly #errors: string[] = [];

  constructor(endpoint: string, subject: string) {
    this.#endpoint = endpoint;
    this.subject = subject;
  }

  get connected(): boolean {
    return this.#room?.connection.isOpen === true;
  }

  /** Joins (or rejoins after a crash), retrying until `timeoutMs`. */
  async join(timeoutMs = 20_000, endpoint = this.#endpoint): Promise<void> {
    this.#endpoint = endpoint;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const room = await new Client(this.#endpoint).joinOrCreate("arena", { playerId: this.subject });
        room.reconnection.enabled = false;
        room.onMessage("progression:unlocked", (payload: { code?: unknown }) => {
          const code = typeof payload?.code === "string" ? payload.code : "?";
          this.#unlocks[code] = (this.#unlocks[code] ?? 0) + 1;
        });
        room.onMessage("*", () => undefined);
        room.onLeave(() => {
          if (this.#room === room) this.#room = undefined;
        });
        room.onError(() => undefined);
        this.#room = room;
        this.#joins += 1;
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`${this.subject} could not join ${this.#endpoint} within ${timeoutMs} ms: ${describe(error)}`, { cause: error });
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  kill(): void {
    const room = this.#room;
    if (room === undefined || !room.connection.isOpen) return;
    room.send("kill", { creature: BOT_CREATURE });
    this.#killsSent += 1;
  }

  /** One loot request unless one is still out. */
  loot(): void {
    const room = this.#room;
    if (room === undefined || !room.connection.isOpen || this.#lootInFlight) return;
    this.#lootInFlight = true;
    this.#lootSent += 1;
    const sentAt = performance.now();
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no reply within 10 s")), 10_000).unref());
    Promise.race([room.request("loot", { item: BOT_LOOT, qty: 1 }), timeout]).then(
      (reply: unknown) => {
        this.#lootInFlight = false;
        const balances = (reply as { balances?: Array<{ item: string; free: number }> } | undefined)?.balances ?? [];
        const balance = balances.find((entry) => entry.item === BOT_LOOT);
        if (balance === undefined) return void this.#error(`loot reply without a ${BOT_LOOT} balance: ${JSON.stringify(reply)}`);
        this.#lootAcknowledged += 1;
        this.#lootAcknowledgedBalance = Math.max(this.#lootAcknowledgedBalance, balance.free);
        this.#latencies.push(performance.now() - sentAt);
      },
      (error: unknown) => {
        this.#lootInFlight = false;
        this.#lootFailed += 1;
        this.#error(`loot: ${describe(error)}`);
      },
    );
  }

  async waitIdle(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#lootInFlight && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  async leave(): Promise<void> {
    const room = this.#room;
    this.#room = undefined;
    if (room !== undefined) await leaveRoom(room).catch(() => undefined);
  }

  report(): FaultBotReport {
    return {
      subject: this.subject,
      killsSent: this.#killsSent,
      lootSent: this.#lootSent,
      lootAcknowledged: this.#lootAcknowledged,
      lootAcknowledgedBalance: this.#lootAcknowledgedBalance,
      lootFailed: this.#lootFailed,
      unlocks: { ...this.#unlocks },
      latenciesMs: [...this.#latencies],
      joins: this.#joins,
      errors: [...this.#errors],
    };
  }

  #error(message: string): void {
    if (this.#errors.length < 5) this.#errors.push(message);
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  const reason = (error as { reason?: { code?: unknown; message?: unknown } } | undefined)?.reason;
  return reason === undefined ? String(error) : `${String(reason.code)}: ${String(reason.message)}`;
}
