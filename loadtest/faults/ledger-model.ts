import type { Balance } from "../../src/model/balance.ts";
import type { HoldRecord, HoldState } from "../../src/model/hold.ts";
import { fingerprint, primarySubject, type KeyedOp, type LedgerOp } from "./ledger-ops.ts";

/**
 * The plain model the ledger is compared with: free and held per (subject, item), holds, the
 * idempotency keys used, the subjects the store has seen. `check` says whether one call's outcome is
 * what docs/semantics.md ("Ledger") allows and, when it is, applies it to the model. Expiries are
 * applied from what the engine reported (`applyReportedExpiry`), before the calls of a step are
 * checked: a backend releases a subject's due holds first, then performs the call.
 */

export const MAX = Number.MAX_SAFE_INTEGER;

export type Outcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly code: string; readonly message: string };

/** A hold as the model keeps it: the product's record, its state changing as the model settles it. */
export type ModelHold = Omit<HoldRecord, "state" | "settledAt"> & { state: HoldState };

interface StoredReceipt {
  readonly fingerprint: string;
  readonly balances: readonly Balance[];
  readonly holdId: string | undefined;
}

interface Receipt {
  readonly replayed?: boolean;
  readonly balances?: readonly Balance[];
  readonly hold?: HoldRecord;
}

const isValidQuantity = (value: unknown): value is number => typeof value === "number" && Number.isSafeInteger(value) && value > 0;

export class LedgerModel {
  readonly #free = new Map<string, number>();
  readonly #held = new Map<string, number>();
  readonly holds = new Map<string, ModelHold>();
  /** Open ("held") hold ids per subject: the due check runs on every call, so it must not scan all holds. */
  readonly openBySubject = new Map<string, Set<string>>();
  readonly keys = new Map<string, StoredReceipt>();
  readonly known = new Set<string>();
  /** (subject/item) whose reported expiries are applied after the step's calls (see the episode). */
  readonly unsettledItems = new Set<string>();
  readonly maxHoldTtlMs: number;
  expired = 0;

  constructor(maxHoldTtlMs: number) {
    this.maxHoldTtlMs = maxHoldTtlMs;
  }

  free(subject: string, item: string): number {
    return this.#free.get(`${subject}/${item}`) ?? 0;
  }

  held(subject: string, item: string): number {
    return this.#held.get(`${subject}/${item}`) ?? 0;
  }

  balance(subject: string, item: string): Balance {
    return { subject, item, free: this.free(subject, item), held: this.held(subject, item) };
  }

  /** What `ledger.list` must answer: every item with a non-zero free or held, sorted by item. */
  list(subject: string, items: readonly string[]): Balance[] {
    return [...items]
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .map((item) => this.balance(subject, item))
      .filter((balance) => balance.free !== 0 || balance.held !== 0);
  }

  /** What `ledger.holds` must answer: held, expiresAt still ahead, by expiresAt then hold id. */
  openHolds(subject: string, now: number): ModelHold[] {
    return [...(this.openBySubject.get(subject) ?? [])]
      .map((id) => this.holds.get(id) as ModelHold)
      .filter((hold) => hold.expiresAt > now)
      .sort((a, b) => a.expiresAt - b.expiresAt || (a.holdId < b.holdId ? -1 : 1));
  }

  /**
   * Held holds at or past their expiry. `exempt` ones cannot be released without free passing
   * MAX_SAFE (free grew while they were held): what happens to them is not specified, so no check
   * requires their release.
   */
  dueHolds(now: number, subject?: string): { due: ModelHold[]; exempt: ModelHold[] } {
    const due: ModelHold[] = [];
    const exempt: ModelHold[] = [];
    const subjects = subject === undefined ? [...this.openBySubject.keys()] : [subject];
    for (const owner of subjects) {
      const held = [...(this.openBySubject.get(owner) ?? [])].map((id) => this.holds.get(id) as ModelHold).filter((hold) => hold.expiresAt <= now);
      // When the due holds of an item do not all fit below MAX_SAFE together, which ones a backend
      // releases is not specified: none of them is required then.
      const dueByItem = new Map<string, number>();
      for (const hold of held) dueByItem.set(hold.item, (dueByItem.get(hold.item) ?? 0) + hold.quantity);
      for (const hold of held) (this.free(hold.subject, hold.item) + (dueByItem.get(hold.item) ?? 0) > MAX ? exempt : due).push(hold);
    }
    return { due, exempt };
  }

  #add(map: Map<string, number>, subject: string, item: string, delta: number): void {
    map.set(`${subject}/${item}`, (map.get(`${subject}/${item}`) ?? 0) + delta);
  }

  #settle(hold: ModelHold, state: "committed" | "released" | "expired"): void {
    hold.state = state;
    this.#add(this.#held, hold.subject, hold.item, -hold.quantity);
    if (state !== "committed") this.#add(this.#free, hold.subject, hold.item, hold.quantity);
    this.openBySubject.get(hold.subject)?.delete(hold.holdId);
    if (state === "expired") this.expired += 1;
  }

  /**
   * The expiries one step reported, per (subject, item), must fit below MAX_SAFE together: then they
   * fit in whatever order the backend released them (free only grows on the way).
   */
  checkReportedTotals(records: readonly HoldRecord[]): string | undefined {
    return this.overflowingGroups(records)[0]?.problem;
  }

  /**
   * The reported expiries that do not fit below MAX_SAFE now, per (subject, item): the smallest are
   * taken first while they fit (the backend may release the others after the call made room).
   */
  overflowingGroups(records: readonly HoldRecord[]): Array<{ ids: string[]; problem: string }> {
    const groups = new Map<string, ModelHold[]>();
    for (const record of records) {
      const hold = this.holds.get(record.holdId);
      if (hold === undefined) continue;
      const key = `${hold.subject}/${hold.item}`;
      groups.set(key, [...(groups.get(key) ?? []), hold]);
    }
    const overflowing: Array<{ ids: string[]; problem: string }> = [];
    for (const holds of groups.values()) {
      const first = holds[0] as ModelHold;
      let free = this.free(first.subject, first.item);
      const left: ModelHold[] = [];
      for (const hold of [...holds].sort((a, b) => a.quantity - b.quantity)) {
        if (free + hold.quantity <= MAX) free += hold.quantity;
        else left.push(hold);
      }
      if (left.length > 0) {
        const quantity = left.reduce((sum, hold) => sum + hold.quantity, 0);
        overflowing.push({ ids: left.map((hold) => hold.holdId), problem: `expired ${left.map((hold) => hold.holdId).join(", ")} although returning their ${quantity} to free (${free}) passes MAX_SAFE_INTEGER` });
      }
    }
    return overflowing;
  }

  /** An expiry the engine reported: a break unless the hold was held and due. */
  applyReportedExpiry(record: HoldRecord, now: number): string | undefined {
    const hold = this.holds.get(record.holdId);
    if (hold === undefined) return `reported the expiry of ${record.holdId}, a hold the model never placed`;
    if (hold.state !== "held") return `reported the expiry of ${record.holdId}, which the model has ${hold.state}`;
    if (hold.expiresAt > now) return `reported the expiry of ${record.holdId} at ${now}, before its expiresAt ${hold.expiresAt}`;
    if (record.state !== "expired") return `reported ${record.holdId} among expired holds in state ${record.state}`;
    this.#settle(hold, "expired");
    return undefined;
  }

  /** Error codes the engine's argument checks give (before the backend sees the call); empty when valid. */
  validationErrors(op: LedgerOp): string[] {
    const codes: string[] = [];
    if (op.kind === "transfer" && op.from === op.to) codes.push("INVALID_INPUT");
    if ("quantity" in op && !isValidQuantity(op.quantity)) codes.push("INVALID_QUANTITY");
    if (op.kind === "hold") {
      const ttl = op.ttlMs;
      if (typeof ttl !== "number" || !Number.isSafeInteger(ttl) || ttl <= 0 || ttl > this.maxHoldTtlMs) codes.push("INVALID_INPUT");
    }
    return codes;
  }

  /** Refusals the semantics give a valid, new keyed request; empty when it must succeed. */
  #refusals(op: KeyedOp): string[] {
    const quantity = op.quantity as number;
    switch (op.kind) {
      case "acquire":
        // Free + held stays at most MAX_SAFE, so every hold can return to free.
        return this.free(op.subject, op.item) + this.held(op.subject, op.item) + quantity > MAX ? ["INVALID_QUANTITY"] : [];
      case "consume":
        return this.free(op.subject, op.item) < quantity ? ["INSUFFICIENT"] : [];
      case "hold": {
        const codes: string[] = [];
        if (this.free(op.subject, op.item) < quantity) codes.push("INSUFFICIENT");
        // Held is a balance too: it may not pass MAX_SAFE either.
        if (this.held(op.subject, op.item) + quantity > MAX) codes.push("INVALID_QUANTITY");
        return codes;
      }
      case "transfer": {
        const codes: string[] = [];
        if (this.free(op.from, op.item) < quantity) codes.push("INSUFFICIENT");
        if (!this.known.has(op.to) && op.allowNewReceiver !== true) codes.push("UNKNOWN_SUBJECT");
        if (this.free(op.to, op.item) + this.held(op.to, op.item) + quantity > MAX) codes.push("INVALID_QUANTITY");
        return codes;
      }
    }
  }

  /** Checks one call's outcome at engine time `now`; applies it to the model when it is allowed. */
  check(op: LedgerOp, outcome: Outcome, now: number): string | undefined {
    switch (op.kind) {
      case "acquire":
      case "consume":
      case "transfer":
      case "hold":
        return this.#checkKeyed(op, outcome, now);
      case "commit":
      case "release":
      case "getHold":
        return this.#checkSettle(op, outcome, now);
      case "balance": {
        if (!outcome.ok) return unexpectedError(outcome);
        return sameBalance(outcome.value as Balance, this.balance(op.subject, op.item));
      }
      case "list":
      case "holds":
      case "expireHolds":
      case "advance":
        // Checked by the episode, which knows the items and the expiries reported.
        return undefined;
    }
  }

  #checkKeyed(op: KeyedOp, outcome: Outcome, now: number): string | undefined {
    const invalid = this.validationErrors(op);
    if (invalid.length > 0) return expectError(outcome, invalid);
    const subject = primarySubject(op) as string;
    const scoped = `${subject}\u0000${op.key}`;
    const previous = this.keys.get(scoped);
    const print = fingerprint(op);
    if (previous !== undefined) {
      if (previous.fingerprint !== print) return expectError(outcome, ["IDEMPOTENCY_CONFLICT"]);
      if (!outcome.ok) return `a replay of a key that succeeded failed: ${outcome.code}: ${outcome.message}`;
      const receipt = outcome.value as Receipt;
      if (receipt.replayed !== true) return `a replay (same key, same request) was applied again (replayed: ${String(receipt.replayed)})`;
      const balances = JSON.stringify(receipt.balances);
      if (balances !== JSON.stringify(previous.balances)) return `a replay returned balances ${balances}, the first receipt had ${JSON.stringify(previous.balances)}`;
      if (previous.holdId !== undefined && receipt.hold?.holdId !== previous.holdId) return `a replayed hold returned hold ${receipt.hold?.holdId}, the first placed ${previous.holdId}`;
      return undefined;
    }
    const refusals = this.#refusals(op);
    if (refusals.length > 0) {
      const wrong = expectError(outcome, refusals);
      if (wrong !== undefined) return `${wrong} (model: free ${JSON.stringify(this.#involved(op).map((b) => [b.subject, b.free, b.held]))})`;
      return undefined;
    }
    if (!outcome.ok) return `expected success (model ${JSON.stringify(this.#involved(op))}), got ${outcome.code}: ${outcome.message}`;
    const receipt = outcome.value as Receipt;
    if (receipt.replayed !== false) return `a new request answered replayed: ${String(receipt.replayed)}`;
    const quantity = op.quantity as number;
    let holdId: string | undefined;
    if (op.kind === "acquire") this.#add(this.#free, op.subject, op.item, quantity);
    else if (op.kind === "consume") this.#add(this.#free, op.subject, op.item, -quantity);
    else if (op.kind === "transfer") {
      this.#add(this.#free, op.from, op.item, -quantity);
      this.#add(this.#free, op.to, op.item, quantity);
      this.known.add(op.to);
    } else if (op.kind === "hold") {
      const hold = receipt.hold;
      const wanted = { subject: op.subject, item: op.item, quantity, createdAt: now, expiresAt: now + (op.ttlMs as number), state: "held", settledAt: null };
      const got = hold === undefined ? undefined : { subject: hold.subject, item: hold.item, quantity: hold.quantity, createdAt: hold.createdAt, expiresAt: hold.expiresAt, state: hold.state, settledAt: hold.settledAt };
      if (JSON.stringify(got) !== JSON.stringify(wanted)) return `hold answered ${JSON.stringify(hold)}, expected ${JSON.stringify(wanted)}`;
      holdId = (hold as HoldRecord).holdId;
      if (this.holds.has(holdId)) return `a new hold got the id of an existing one: ${holdId}`;
      this.#add(this.#free, op.subject, op.item, -quantity);
      this.#add(this.#held, op.subject, op.item, quantity);
      this.holds.set(holdId, { holdId, subject: op.subject, item: op.item, quantity, createdAt: now, expiresAt: wanted.expiresAt, state: "held" });
      let open = this.openBySubject.get(op.subject);
      if (open === undefined) this.openBySubject.set(op.subject, (open = new Set()));
      open.add(holdId);
    }
    this.known.add(subject);
    const wrong = this.#checkReceiptBalances(receipt, this.#involved(op));
    if (wrong !== undefined) return wrong;
    this.keys.set(scoped, { fingerprint: print, balances: receipt.balances ?? [], holdId });
    return undefined;
  }

  #involved(op: KeyedOp): Balance[] {
    return op.kind === "transfer" ? [this.balance(op.from, op.item), this.balance(op.to, op.item)] : [this.balance(op.subject, op.item)];
  }

  #checkSettle(op: Extract<LedgerOp, { holdId: string }>, outcome: Outcome, now: number): string | undefined {
    const hold = this.holds.get(op.holdId);
    if (hold === undefined) return expectError(outcome, ["HOLD_UNKNOWN"]);
    const record = (outcome.ok ? (op.kind === "getHold" ? outcome.value : (outcome.value as Receipt).hold) : undefined) as HoldRecord | undefined;
    if (op.kind === "getHold") {
      if (!outcome.ok) return unexpectedError(outcome);
      if (record?.holdId !== hold.holdId || record.state !== hold.state || record.quantity !== hold.quantity || record.expiresAt !== hold.expiresAt) {
        return `getHold answered ${JSON.stringify(record)}, the model has it ${hold.state} (expiresAt ${hold.expiresAt}, now ${now})`;
      }
      return undefined;
    }
    const target = op.kind === "commit" ? "committed" : "released";
    if (hold.state === "held") {
      if (op.kind === "release" && this.free(hold.subject, hold.item) + hold.quantity > MAX) return expectError(outcome, ["INVALID_QUANTITY"]);
      if (!outcome.ok) return `expected the ${op.kind} of a held hold to succeed, got ${outcome.code}: ${outcome.message}`;
      const receipt = outcome.value as Receipt;
      if (receipt.replayed !== false || record?.state !== target) return `${op.kind} of a held hold answered replayed ${String(receipt.replayed)}, state ${record?.state}`;
      this.#settle(hold, target);
      return this.#checkReceiptBalances(receipt, [this.balance(hold.subject, hold.item)]);
    }
    if (hold.state === target || (target === "released" && hold.state === "expired")) {
      if (!outcome.ok) return `${op.kind} of a ${hold.state} hold must be a no-op, got ${outcome.code}: ${outcome.message}`;
      if ((outcome.value as Receipt).replayed !== true) return `${op.kind} of a ${hold.state} hold answered replayed: false`;
      return undefined;
    }
    return expectError(outcome, [hold.state === "expired" ? "HOLD_EXPIRED" : "HOLD_CLOSED"]);
  }

  /** Every balance a receipt carries equals the model's; the call's own ones are there. */
  #checkReceiptBalances(receipt: Receipt, own: readonly Balance[]): string | undefined {
    const balances = receipt.balances ?? [];
    for (const balance of balances) {
      // Released at the end of the call (deferred): read back in the next step instead.
      if (this.unsettledItems.has(`${balance.subject}/${balance.item}`)) continue;
      const wrong = sameBalance(balance, this.balance(balance.subject, balance.item));
      if (wrong !== undefined) return `receipt: ${wrong}`;
    }
    for (const expected of own) {
      if (!balances.some((b) => b.subject === expected.subject && b.item === expected.item)) {
        return `the receipt lacks the balance of ${expected.subject}/${expected.item} (has ${JSON.stringify(balances)})`;
      }
    }
    return undefined;
  }
}

export function sameBalance(actual: Balance, expected: Balance): string | undefined {
  if (!Number.isSafeInteger(actual.free) || !Number.isSafeInteger(actual.held) || actual.free < 0 || actual.held < 0) {
    return `balance ${JSON.stringify(actual)} is not a non-negative safe integer`;
  }
  if (actual.subject !== expected.subject || actual.item !== expected.item || actual.free !== expected.free || actual.held !== expected.held) {
    return `balance ${JSON.stringify(actual)}, the model has ${JSON.stringify(expected)}`;
  }
  return undefined;
}

function expectError(outcome: Outcome, codes: readonly string[]): string | undefined {
  if (outcome.ok) return `expected ${codes.join(" or ")}, but the call succeeded: ${JSON.stringify(outcome.value)?.slice(0, 300)}`;
  if (!codes.includes(outcome.code)) return `expected ${codes.join(" or ")}, got ${outcome.code}: ${outcome.message}`;
  return undefined;
}

function unexpectedError(outcome: Extract<Outcome, { ok: false }>): string {
  return `unexpected ${outcome.code}: ${outcome.message}`;
}
