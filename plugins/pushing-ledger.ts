import type { ProgressionLedger } from "../src/engine/progression.ts";
import type { HoldReceipt, LedgerEffects, MutationReceipt } from "../src/backends/contract/ledger-backend.ts";
import type { HoldRecord } from "../src/model/hold.ts";
import type { Balance } from "../src/model/balance.ts";

/** Publishes changed balances (and holds found expired) to their subjects' clients. */
export type EffectsPublisher = (balances: readonly Balance[], expiredHolds: readonly HoldRecord[]) => void;

/**
 * The engine's ledger, with one addition: after every mutation the balances it changed are pushed
 * (`progression:inventory`) to every connected client of each subject involved, so a trade shows up
 * for the receiver in another room too. A replayed mutation pushes its balances again: it may be the
 * retry of a call whose reply (and push) was lost, and a balance push is a state, harmless twice.
 */
export class PushingLedger implements ProgressionLedger {
  private readonly inner: ProgressionLedger;
  private readonly publish: EffectsPublisher;

  constructor(inner: ProgressionLedger, publish: EffectsPublisher) {
    this.inner = inner;
    this.publish = publish;
  }

  async acquire(request: Parameters<ProgressionLedger["acquire"]>[0]): Promise<MutationReceipt> {
    return this.pushed(await this.inner.acquire(request));
  }

  async consume(request: Parameters<ProgressionLedger["consume"]>[0]): Promise<MutationReceipt> {
    return this.pushed(await this.inner.consume(request));
  }

  async transfer(request: Parameters<ProgressionLedger["transfer"]>[0]): Promise<MutationReceipt> {
    return this.pushed(await this.inner.transfer(request));
  }

  async hold(request: Parameters<ProgressionLedger["hold"]>[0]): Promise<HoldReceipt> {
    return this.pushed(await this.inner.hold(request));
  }

  async commit(holdId: string): Promise<HoldReceipt> {
    return this.pushed(await this.inner.commit(holdId));
  }

  async release(holdId: string): Promise<HoldReceipt> {
    return this.pushed(await this.inner.release(holdId));
  }

  getHold(holdId: string): Promise<HoldRecord> {
    return this.inner.getHold(holdId);
  }

  balance(subject: string, item: string): Promise<Balance> {
    return this.inner.balance(subject, item);
  }

  list(subject: string): Promise<readonly Balance[]> {
    return this.inner.list(subject);
  }

  expireHolds(limit?: number): Promise<readonly HoldRecord[]> {
    return this.inner.expireHolds(limit);
  }

  private pushed<R extends LedgerEffects>(receipt: R): R {
    this.publish(receipt.balances, receipt.expiredHolds);
    return receipt;
  }
}
