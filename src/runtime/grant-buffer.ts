import { randomBytes } from "node:crypto";
import { ErrorCode } from "../errors/error-codes.ts";
import { ProgressionError } from "../errors/progression-error.ts";

/** One coalesced grant, with the idempotency key it keeps across retries. */
export interface PendingGrant {
  readonly subject: string;
  readonly item: string;
  readonly quantity: number;
  readonly idempotencyKey: string;
}

const ITEM = /^[A-Za-z0-9_.:-]{1,128}$/;
const producer = randomBytes(4).toString("hex");
let drainSequence = 0;

/**
 * Item grants (loot) coalesced per (subject, item): a hundred pickups of gold in a window become one
 * ledger acquire. Validated when added, so a flush never meets bad input. A drained grant gets a key
 * that is unique per drain, so retrying it after a lost reply grants once.
 */
export class GrantBuffer {
  private pending = new Map<string, Map<string, number>>();
  private size = 0;

  /** Distinct (subject, item) pairs waiting. */
  get pendingGrants(): number {
    return this.size;
  }

  has(subject: string): boolean {
    return this.pending.has(subject);
  }

  add(subject: string, item: string, quantity: number): void {
    if (typeof subject !== "string" || subject.length === 0 || subject.length > 200) {
      throw new ProgressionError(ErrorCode.InvalidInput, `grant subject must be a string of 1-200 characters (got ${JSON.stringify(subject)})`);
    }
    if (typeof item !== "string" || !ITEM.test(item)) {
      throw new ProgressionError(ErrorCode.InvalidInput, `grant item must be 1-128 letters, digits, '_', '.', ':' or '-' (got ${JSON.stringify(item)})`);
    }
    if (!Number.isSafeInteger(quantity) || quantity <= 0) {
      throw new ProgressionError(ErrorCode.InvalidQuantity, `grant quantity must be a positive safe integer (got ${String(quantity)})`);
    }
    let items = this.pending.get(subject);
    if (items === undefined) {
      items = new Map();
      this.pending.set(subject, items);
    }
    const total = (items.get(item) ?? 0) + quantity;
    if (!Number.isSafeInteger(total)) {
      throw new ProgressionError(ErrorCode.InvalidQuantity, `granting ${quantity} more ${item} to ${subject} would exceed the largest safe integer`);
    }
    if (!items.has(item)) this.size += 1;
    items.set(item, total);
  }

  /** Takes every pending grant (or only `subject`'s) out, each with its own idempotency key. */
  drain(subject?: string): PendingGrant[] {
    drainSequence += 1;
    const drainId = `${producer}-${drainSequence.toString(36)}`;
    const grants: PendingGrant[] = [];
    const take = (who: string, items: Map<string, number>): void => {
      for (const [item, quantity] of items) grants.push({ subject: who, item, quantity, idempotencyKey: `grant:${drainId}:${item}` });
      this.size -= items.size;
      this.pending.delete(who);
    };
    if (subject !== undefined) {
      const items = this.pending.get(subject);
      if (items !== undefined) take(subject, items);
      return grants;
    }
    for (const [who, items] of this.pending) take(who, items);
    return grants;
  }
}
