import type { HoldRecord } from "../../model/hold.ts";
import type { Balance } from "../../model/balance.ts";

/**
 * The inventory ledger contract: per subject and item, a free and a held quantity.
 * Every mutation is atomic. Mutations that create quantity or move it carry an idempotency key:
 * the same key with the same request has the effect of one call and returns the first result
 * (`replayed: true`); the same key with another request fails with IdempotencyConflict.
 * Keys are scoped to the subject the request names first (`subject`, or `from` for a transfer).
 *
 * Expired holds are released lazily by any operation that touches their subject, and by
 * `expireHolds` (the expiry job); each expiry is reported exactly once, in `expiredHolds` of the call
 * that released it (a refused call: in its error's `details.expiredHolds`). A refused call changes
 * nothing else. No balance passes Number.MAX_SAFE_INTEGER: a call that would is INVALID_QUANTITY.
 */

export interface LedgerEffects {
  /** Balances after the operation, for every (subject, item) it changed. */
  readonly balances: readonly Balance[];
  /** Holds this operation found expired and released (each reported once, by whoever released it). */
  readonly expiredHolds: readonly HoldRecord[];
}

export interface MutationReceipt extends LedgerEffects {
  /** True when the idempotency key had been used for this exact request: nothing changed now. */
  readonly replayed: boolean;
}

export interface HoldReceipt extends MutationReceipt {
  readonly hold: HoldRecord;
}

export interface QuantityRequest {
  readonly idempotencyKey: string;
  readonly subject: string;
  readonly item: string;
  readonly quantity: number;
  readonly now: number;
}

export interface TransferRequest {
  readonly idempotencyKey: string;
  readonly from: string;
  readonly to: string;
  readonly item: string;
  readonly quantity: number;
  readonly now: number;
  /**
   * Allow a receiver the store has never seen (no balance, hold, award, counter or history), e.g. a
   * gift to a new player. Default false: such a transfer is refused with UNKNOWN_SUBJECT.
   */
  readonly allowNewReceiver?: boolean;
}

export interface HoldRequest extends QuantityRequest {
  readonly ttlMs: number;
}

export interface HoldSettleRequest {
  readonly holdId: string;
  readonly now: number;
}

/** `list`'s answer. */
export interface LedgerList {
  readonly balances: readonly Balance[];
  readonly expiredHolds: readonly HoldRecord[];
  readonly openHolds: readonly HoldRecord[];
}

export interface LedgerBackend {
  acquire(request: QuantityRequest): Promise<MutationReceipt>;
  /** Errors: Insufficient when free < quantity. */
  consume(request: QuantityRequest): Promise<MutationReceipt>;
  /**
   * Moves free quantity between two subjects atomically. Errors: UnknownSubject (the receiver was never
   * seen and allowNewReceiver is not set), Insufficient, InvalidQuantity (the receiver would pass
   * MAX_SAFE_INTEGER).
   */
  transfer(request: TransferRequest): Promise<MutationReceipt>;
  /** Moves quantity from free to held until commit, release or expiry. Errors: Insufficient. */
  hold(request: HoldRequest): Promise<HoldReceipt>;
  /**
   * Held quantity is consumed. Committing a committed hold again is a no-op returning the same hold.
   * Errors: HoldUnknown, HoldExpired, HoldClosed (it was released).
   */
  commit(request: HoldSettleRequest): Promise<HoldReceipt>;
  /**
   * Held quantity returns to free. Releasing a released or expired hold again is a no-op.
   * Errors: HoldUnknown, HoldClosed (it was committed), InvalidQuantity (free would pass MAX_SAFE_INTEGER).
   */
  release(request: HoldSettleRequest): Promise<HoldReceipt>;
  /**
   * One hold, after the subject's due holds are released (so a hold past its expiry reads as expired,
   * and is reported in `expiredHolds` by this call). Errors: HoldUnknown.
   */
  getHold(holdId: string, now: number): Promise<{ hold: HoldRecord } & LedgerEffects>;
  balance(subject: string, item: string, now: number): Promise<{ balance: Balance } & LedgerEffects>;
  /**
   * Every item with a non-zero free or held quantity, sorted by item, and the subject's open holds
   * (state "held", expiresAt > now) sorted by expiresAt, then holdId.
   */
  list(subject: string, now: number): Promise<LedgerList>;
  /**
   * Releases at most `limit` holds whose expiry is <= now, across all subjects, oldest expiry first, and
   * returns exactly those (a subject's other due holds stay held until the next call that touches them),
   * with the balances of their items after the release (so the caller reads nothing that could expire more).
   */
  expireHolds(now: number, limit: number): Promise<LedgerEffects>;
  /**
   * Finishes transfers whose caller stopped between the steps of a cross-shard saga (Redis Cluster only;
   * a backend whose transfers are one atomic step has none): each is credited, or given back to the
   * sender when the receiver refuses it now. The ledger's sweep calls it. Default: absent (nothing to do).
   */
  completeTransfers?(now: number): Promise<readonly CompletedTransfer[]>;
}

/** A transfer `completeTransfers` finished: its receipt, or (given back to the sender) the refusal. */
export interface CompletedTransfer {
  readonly request: Pick<TransferRequest, "from" | "to" | "item" | "quantity" | "idempotencyKey">;
  readonly receipt?: MutationReceipt;
  readonly refused?: unknown;
}
