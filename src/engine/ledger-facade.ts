import { ErrorCode } from "../errors/error-codes.ts";
import { ProgressionError } from "../errors/progression-error.ts";
import type { DomainEventBus } from "../events/domain-event-bus.ts";
import type { DomainTopics } from "../events/domain-topics.ts";
import { subjectOfHoldId } from "../backends/contract/hold-id.ts";
import type { LedgerEffects } from "../backends/contract/ledger-backend.ts";
import type { ProgressionBackend } from "../backends/contract/progression-backend.ts";
import type { Balance } from "../model/balance.ts";
import type { HoldRecord } from "../model/hold.ts";
import type { ProgressionLedger } from "./progression.ts";
import { requireDuration, requireIdentifier, requireKey, requireQuantity, requireSubject } from "../model/validate-input.ts";

type Cause = DomainTopics["inventory.changed"]["cause"];

export function emitBalances(events: DomainEventBus, cause: Cause, key: string, balances: readonly Balance[], now: number): void {
  if (balances.length > 0) events.emit("inventory.changed", `inventory.changed:${cause}:${key}`, { cause, balances }, now);
}

function emitExpired(events: DomainEventBus, holds: readonly HoldRecord[]): void {
  for (const hold of holds) {
    const at = hold.settledAt ?? hold.expiresAt;
    events.emit("hold.expired", `hold.expired:${hold.holdId}`, { hold }, at);
  }
}

/**
 * The public ledger: validates every argument before the backend sees it (bad input changes
 * nothing), stamps the engine clock, and turns receipts into domain events — including holds the
 * backend expired lazily on the way, whether the call succeeded or failed.
 */
export function createLedgerFacade(
  backend: ProgressionBackend,
  events: DomainEventBus,
  clock: () => number,
  settings: { readonly maxHoldTtlMs: number; readonly expireHoldsBatch: number },
): ProgressionLedger {
  const run = async <T extends LedgerEffects & { replayed?: boolean }>(cause: Cause, key: string, call: () => Promise<T>): Promise<T> => {
    let receipt: T;
    try {
      receipt = await call();
    } catch (error) {
      if (error instanceof ProgressionError && Array.isArray(error.details.expiredHolds)) emitExpired(events, error.details.expiredHolds as HoldRecord[]);
      throw error;
    }
    emitExpired(events, receipt.expiredHolds);
    if (receipt.replayed !== true) emitBalances(events, cause, key, receipt.balances, clock());
    return receipt;
  };

  const quantityRequest = (request: { subject: string; item: string; quantity: number; idempotencyKey: string }) => {
    if (typeof request !== "object" || request === null) throw new ProgressionError(ErrorCode.InvalidInput, "expected { subject, item, quantity, idempotencyKey }", {});
    return {
      subject: requireSubject(request.subject),
      item: requireIdentifier(request.item, "item"),
      quantity: requireQuantity(request.quantity),
      idempotencyKey: requireKey(request.idempotencyKey),
      now: clock(),
    };
  };

  return {
    acquire: async (request) => {
      const valid = quantityRequest(request);
      return run("acquire", `${valid.subject}:${valid.idempotencyKey}`, () => backend.acquire(valid));
    },
    consume: async (request) => {
      const valid = quantityRequest(request);
      return run("consume", `${valid.subject}:${valid.idempotencyKey}`, () => backend.consume(valid));
    },
    transfer: async (request) => {
      if (typeof request !== "object" || request === null) throw new ProgressionError(ErrorCode.InvalidInput, "expected { from, to, item, quantity, idempotencyKey }", {});
      const from = requireSubject(request.from, "from");
      const to = requireSubject(request.to, "to");
      if (from === to) throw new ProgressionError(ErrorCode.InvalidInput, `transfer from and to are both ${JSON.stringify(from)}; a transfer needs two different subjects`, { from, to });
      const valid = { from, to, item: requireIdentifier(request.item, "item"), quantity: requireQuantity(request.quantity), idempotencyKey: requireKey(request.idempotencyKey), now: clock() };
      return run("transfer", `${from}:${valid.idempotencyKey}`, () => backend.transfer(valid));
    },
    hold: async (request) => {
      const valid = { ...quantityRequest(request), ttlMs: requireDuration(request.ttlMs, "ttlMs", settings.maxHoldTtlMs) };
      return run("hold", `${valid.subject}:${valid.idempotencyKey}`, () => backend.hold(valid));
    },
    commit: async (holdId) => {
      subjectOfHoldId(holdId);
      return run("commit", holdId, () => backend.commit({ holdId, now: clock() }));
    },
    release: async (holdId) => {
      subjectOfHoldId(holdId);
      return run("release", holdId, () => backend.release({ holdId, now: clock() }));
    },
    getHold: async (holdId) => {
      subjectOfHoldId(holdId);
      return backend.getHold(holdId, clock());
    },
    balance: async (subject, item) => {
      const receipt = await run("expire", `${subject}:balance`, () => backend.balance(requireSubject(subject), requireIdentifier(item, "item"), clock()));
      return receipt.balance;
    },
    list: async (subject) => {
      requireSubject(subject);
      const result = await backend.list(subject, clock());
      emitExpired(events, result.expiredHolds);
      return result.balances;
    },
    expireHolds: async (limit = settings.expireHoldsBatch) => {
      const expired = await backend.expireHolds(clock(), limit);
      emitExpired(events, expired);
      return expired;
    },
  };
}
