import type { LedgerModel } from "./ledger-model.ts";
import { MAX } from "./ledger-model.ts";
import { isKeyed, touchedSubjects, type KeyedOp, type LedgerOp } from "./ledger-ops.ts";
import type { SeededRandom } from "./seeded-random.ts";

/**
 * The seeded generator of ledger steps: a step is one call, several calls on disjoint subjects in
 * flight together, or the same call twice at once. It aims at the edges: quantities at and around
 * what is free, values next to 2^53, invalid quantities and TTLs, replays and conflicting reuses of
 * keys, holds expiring at every boundary (the clock moves to expiresAt - 1, expiresAt, expiresAt + 1),
 * transfers to subjects the store has never seen, `expireHolds` with small limits.
 */

export const SUBJECTS = ["s0", "s1", "s2", "s3", "s4", "s5"] as const;
export const ITEMS = ["gold", "gem", "big"] as const;
/** Every seeded subject owns one of it, never touched: the subject stays "seen" whatever else happens. */
export const ANCHOR = "anchor";

const INVALID_QUANTITIES: readonly unknown[] = [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, MAX + 1, 2 ** 60, "3", null, undefined];
const INVALID_TTLS: readonly unknown[] = [0, -1, 1.5, Number.NaN, 8 * 24 * 60 * 60 * 1000, "1000"];
const TTLS = [1, 2, 10, 100, 1000, 3000, 5000];
const LIMITS = [1, 1, 2, 3, 10, 500];

export interface Step {
  readonly ops: readonly LedgerOp[];
  /** The same call twice at once: exactly one may take effect. */
  readonly pair: boolean;
}

/** The calls that put the starting stock in place, one step each. */
export function seedSteps(): Step[] {
  const stock: Record<string, Record<string, number>> = {
    s0: { big: MAX - 1000 },
    s1: { big: MAX - 10 },
    s2: { big: 1000 },
  };
  const steps: Step[] = [];
  for (const subject of SUBJECTS) {
    const wanted: Record<string, number> = { [ANCHOR]: 1, gold: 50, gem: 20, ...stock[subject] };
    steps.push({ pair: false, ops: Object.entries(wanted).map(([item, quantity]) => ({ kind: "acquire", subject, item, quantity, key: `seed-${item}` })) });
  }
  return steps;
}

export class LedgerGenerator {
  readonly #random: SeededRandom;
  readonly #model: LedgerModel;
  readonly #concurrency: number;
  #keys = 0;
  #fresh = 0;
  /** Recent keyed calls, for replays and conflicting reuses of their keys. */
  readonly #recent: KeyedOp[] = [];
  /** Recently placed holds, for commit, release and getHold. */
  readonly #recentHolds: string[] = [];

  constructor(random: SeededRandom, model: LedgerModel, concurrency: number) {
    this.#random = random;
    this.#model = model;
    this.#concurrency = concurrency;
  }

  holdPlaced(holdId: string): void {
    this.#recentHolds.push(holdId);
    if (this.#recentHolds.length > 40) this.#recentHolds.shift();
  }

  next(now: number): Step {
    const random = this.#random;
    if (random.chance(0.06)) {
      const op = this.#op(now, true);
      if (op.kind !== "advance" && op.kind !== "expireHolds" && op.kind !== "balance" && op.kind !== "list" && op.kind !== "holds") return { pair: true, ops: [op, op] };
    }
    const size = random.int(1, this.#concurrency);
    const ops: LedgerOp[] = [];
    const busy = new Set<string>();
    for (let attempt = 0; attempt < size * 3 && ops.length < size; attempt += 1) {
      const op = this.#op(now, ops.length === 0);
      const touched = touchedSubjects(op);
      if (touched === "all") {
        if (ops.length === 0) return { pair: false, ops: [op] };
        continue;
      }
      if (touched.some((subject) => busy.has(subject))) continue;
      for (const subject of touched) busy.add(subject);
      ops.push(op);
    }
    return { pair: false, ops };
  }

  #op(now: number, solo: boolean): LedgerOp {
    const random = this.#random;
    const kind = random.weighted({
      acquire: 12,
      consume: 10,
      transfer: 12,
      hold: 14,
      commit: 8,
      release: 6,
      getHold: 5,
      balance: 6,
      list: 4,
      holds: 3,
      replay: 10,
      conflict: 5,
      expireHolds: solo ? 3 : 0,
      advance: solo ? 9 : 0,
    });
    const subject = random.pick(SUBJECTS);
    const item = random.pick(ITEMS);
    switch (kind) {
      case "acquire":
      case "consume":
        return this.#remember({ kind, subject, item, quantity: this.#quantity(kind, subject, item), key: this.#key() });
      case "transfer": {
        const roll = random.next();
        const to = roll < 0.08 ? `n${this.#fresh++}` : roll < 0.1 ? subject : random.pick(SUBJECTS.filter((other) => other !== subject));
        const allowNewReceiver = random.chance(0.5) ? random.chance(0.5) : undefined;
        return this.#remember({
          kind,
          from: subject,
          to,
          item,
          quantity: this.#quantity(kind, subject, item, to),
          key: this.#key(),
          ...(allowNewReceiver === undefined ? {} : { allowNewReceiver }),
        });
      }
      case "hold": {
        const ttlMs = random.chance(0.05) ? random.pick(INVALID_TTLS) : random.chance(0.7) ? random.pick(TTLS) : random.int(1, 5000);
        return this.#remember({ kind, subject, item, quantity: this.#quantity(kind, subject, item), ttlMs, key: this.#key() });
      }
      case "commit":
      case "release":
      case "getHold":
        return { kind, holdId: this.#holdId(now, subject) };
      case "balance":
        return { kind, subject, item };
      case "list":
      case "holds":
        return { kind, subject };
      case "expireHolds":
        return { kind, limit: random.pick(LIMITS) };
      case "advance":
        return { kind, ms: this.#advance(now) };
      case "replay":
      case "conflict": {
        const previous = this.#recent.length === 0 ? undefined : random.pick(this.#recent);
        if (previous === undefined) return { kind: "balance", subject, item };
        if (kind === "replay") return previous;
        const quantity = typeof previous.quantity === "number" && Number.isSafeInteger(previous.quantity) && previous.quantity < MAX ? previous.quantity + 1 : 1;
        return { ...previous, quantity };
      }
    }
  }

  #remember(op: KeyedOp): KeyedOp {
    if (isKeyed(op)) {
      this.#recent.push(op);
      if (this.#recent.length > 40) this.#recent.shift();
    }
    return op;
  }

  #key(): string {
    return `k${this.#keys++}`;
  }

  /** Mostly valid; often exactly at what is free (or what fits below MAX_SAFE), one more or one less. */
  #quantity(kind: "acquire" | "consume" | "transfer" | "hold", subject: string, item: string, to?: string): unknown {
    const random = this.#random;
    if (random.chance(0.06)) return random.pick(INVALID_QUANTITIES);
    const free = this.#model.free(subject, item);
    const edge = random.int(-1, 1);
    const roll = random.next();
    let quantity: number;
    if (item === "big" && roll < 0.5) {
      const room = MAX - this.#model.free(kind === "transfer" ? (to as string) : subject, item);
      quantity = kind === "acquire" || (kind === "transfer" && random.chance(0.5)) ? room + edge : free + edge;
      if (random.chance(0.2)) quantity = random.pick([1, 7, MAX, MAX - 1]);
    } else if (roll < 0.25 && kind !== "acquire") {
      quantity = free + edge;
    } else {
      quantity = random.int(1, roll < 0.8 ? 10 : 60);
    }
    return quantity >= 1 ? quantity : 1;
  }

  /** A recent hold (skipping those whose fate past expiry is unspecified), sometimes one that never existed. */
  #holdId(now: number, subject: string): string {
    const random = this.#random;
    if (this.#recentHolds.length === 0 || random.chance(0.12)) {
      if (random.chance(0.2)) return "not-a-hold";
      const hex = Array.from({ length: 16 }, () => random.int(0, 15).toString(16)).join("");
      return `h${hex}:${subject}`;
    }
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const holdId = random.pick(this.#recentHolds);
      const hold = this.#model.holds.get(holdId);
      if (hold === undefined) continue;
      const exempt = hold.state === "held" && hold.expiresAt <= now && this.#model.free(hold.subject, hold.item) + hold.quantity > MAX;
      if (!exempt) return holdId;
    }
    return `h0000000000000000:${subject}`;
  }

  /** Half the time to an open hold's expiry boundary: one ms before it, on it, or one ms after. */
  #advance(now: number): number {
    const random = this.#random;
    if (random.chance(0.5)) {
      const open = this.#recentHolds.map((id) => this.#model.holds.get(id)).filter((hold) => hold !== undefined && hold.state === "held" && hold.expiresAt > now);
      if (open.length > 0) {
        const hold = random.pick(open);
        const ms = (hold?.expiresAt ?? now) - now + random.int(-1, 1);
        if (ms >= 1) return ms;
      }
    }
    return random.int(1, 1500);
  }
}
