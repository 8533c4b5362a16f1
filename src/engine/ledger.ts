import { subjectOfHoldId } from "../backends/contract/hold-id.ts";
import type { LedgerEffects } from "../backends/contract/ledger-backend.ts";
import type { ProgressionBackend } from "../backends/contract/progression-backend.ts";
import { ErrorCode } from "../errors/error-codes.ts";
import { ProgressionError } from "../errors/progression-error.ts";
import type { Balance } from "../model/balance.ts";
import { noEffectsFor, type EffectsCause, type SubjectEffects } from "../model/effects.ts";
import type { HoldRecord } from "../model/hold.ts";
import { requireDuration, requireIdentifier, requireKey, requireQuantity, requireSubject } from "../model/validate-input.ts";
import type { EffectsStream } from "../runtime/effects-stream.ts";
import type { HoldExpiry } from "../runtime/hold-expiry.ts";
import type { ProgressionInstruments } from "../runtime/instruments.ts";
import type { ProgressionLedger } from "./progression.ts";

export interface LedgerSettings {
  readonly maxHoldTtlMs: number;
  readonly expireHoldsBatch: number;
  readonly instruments: ProgressionInstruments;
}

/**
 * The public ledger: validates every argument before the backend sees it (bad input changes nothing),
 * stamps the engine clock, and announces what each call changed on the effects stream, including
 * holds the backend expired lazily on the way, whether the call succeeded or failed.
 */
export function createLedger(
  backend: ProgressionBackend,
  effects: EffectsStream,
  holdExpiry: HoldExpiry,
  clock: () => number,
  settings: LedgerSettings,
): ProgressionLedger {
  /** Balances of items whose holds expired on the way, when the receipt does not carry them already. */
  const withExpiryBalances = async (receipt: LedgerEffects): Promise<readonly Balance[]> => {
    if (receipt.expiredHolds.length === 0) return receipt.balances;
    const known = new Set(receipt.balances.map((balance) => `${balance.subject}\u0000${balance.item}`));
    const missing = new Map<string, HoldRecord>();
    for (const hold of receipt.expiredHolds) {
      const key = `${hold.subject}\u0000${hold.item}`;
      if (!known.has(key)) missing.set(key, hold);
    }
    if (missing.size === 0) return receipt.balances;
    const read = await Promise.all([...missing.values()].map((hold) => backend.balance(hold.subject, hold.item, clock()).then((result) => result.balance)));
    return [...receipt.balances, ...read];
  };

  const announce = async (cause: EffectsCause, key: string, receipt: LedgerEffects & { readonly replayed?: boolean }): Promise<void> => {
    const balances = await withExpiryBalances(receipt).catch(() => receipt.balances);
    const bySubject = new Map<string, { inventory: Balance[]; expiredHolds: HoldRecord[] }>();
    const of = (subject: string) => {
      let entry = bySubject.get(subject);
      if (entry === undefined) {
        entry = { inventory: [], expiredHolds: [] };
        bySubject.set(subject, entry);
      }
      return entry;
    };
    for (const balance of balances) of(balance.subject).inventory.push(balance);
    for (const hold of receipt.expiredHolds) of(hold.subject).expiredHolds.push(hold);
    const subjects: SubjectEffects[] = [...bySubject].map(([subject, changed]) => ({ ...noEffectsFor(subject), ...changed }));
    effects.publish({ cause, key, at: clock(), replayed: receipt.replayed === true, subjects });
  };

  /** Runs a backend call and announces its effects; a refused call still announces the expiries it performed. */
  const run = async <T extends LedgerEffects & { replayed?: boolean }>(cause: EffectsCause, key: string, call: () => Promise<T>): Promise<T> => {
    let receipt: T;
    try {
      receipt = await call();
      settings.instruments.ledgerOperation?.(cause, receipt.replayed === true ? "replayed" : "ok");
    } catch (error) {
      settings.instruments.ledgerOperation?.(cause, error instanceof ProgressionError ? error.code : "INTERNAL");
      if (error instanceof ProgressionError && Array.isArray(error.details.expiredHolds) && error.details.expiredHolds.length > 0) {
        const expiredHolds = error.details.expiredHolds as HoldRecord[];
        await announce("expire", expiryKey(expiredHolds), { balances: [], expiredHolds, replayed: false });
      }
      throw error;
    }
    await announce(cause, key, receipt);
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
      const receipt = await run("hold", `${valid.subject}:${valid.idempotencyKey}`, () => backend.hold(valid));
      if (!receipt.replayed) holdExpiry.holdPlaced(receipt.hold);
      return receipt;
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
      const receipt = await backend.balance(requireSubject(subject), requireIdentifier(item, "item"), clock());
      if (receipt.expiredHolds.length > 0) await announce("expire", expiryKey(receipt.expiredHolds), receipt);
      return receipt.balance;
    },
    list: async (subject) => {
      requireSubject(subject);
      const result = await backend.list(subject, clock());
      if (result.expiredHolds.length > 0) {
        // Every balance of the subject is in the list, so the expired items' balances are too.
        const touched = new Set(result.expiredHolds.map((hold) => hold.item));
        await announce("expire", expiryKey(result.expiredHolds), { balances: result.balances.filter((balance) => touched.has(balance.item)), expiredHolds: result.expiredHolds });
      }
      return result.balances;
    },
    expireHolds: async (limit = settings.expireHoldsBatch) => {
      const expired = await backend.expireHolds(clock(), limit);
      if (expired.length > 0) await announce("expire", expiryKey(expired), { balances: [], expiredHolds: expired });
      return expired;
    },
  };
}

function expiryKey(holds: readonly HoldRecord[]): string {
  return holds.map((hold) => hold.holdId).join(",");
}
