import { subjectOfHoldId } from "../backends/contract/hold-id.ts";
import type { LedgerEffects, LedgerList } from "../backends/contract/ledger-backend.ts";
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

  const announce = async (cause: EffectsCause, key: string, receipt: LedgerEffects & { readonly replayed?: boolean; readonly hold?: HoldRecord }, detail?: string): Promise<void> => {
    const balances = await withExpiryBalances(receipt).catch(() => receipt.balances);
    const hold = openedOrSettled(receipt);
    const bySubject = new Map<string, { inventory: Balance[]; expiredHolds: HoldRecord[]; holds: HoldRecord[] }>();
    const of = (subject: string) => {
      let entry = bySubject.get(subject);
      if (entry === undefined) {
        entry = { inventory: [], expiredHolds: [], holds: [] };
        bySubject.set(subject, entry);
      }
      return entry;
    };
    for (const balance of balances) of(balance.subject).inventory.push(balance);
    for (const expired of receipt.expiredHolds) of(expired.subject).expiredHolds.push(expired);
    // A hold this call found expired on the way is reported there, once.
    if (hold !== undefined && !receipt.expiredHolds.some((expired) => expired.holdId === hold.holdId)) of(hold.subject).holds.push(hold);
    const subjects: SubjectEffects[] = [...bySubject].map(([subject, changed]) => ({ ...noEffectsFor(subject), ...changed }));
    effects.publish({ cause, key, at: clock(), replayed: receipt.replayed === true, subjects, ...(detail === undefined ? {} : { detail }) });
  };

  /** Runs a backend call and announces its effects; a refused call still announces the expiries it performed. */
  const run = async <T extends LedgerEffects & { replayed?: boolean; hold?: HoldRecord }>(cause: EffectsCause, key: string, call: () => Promise<T>, detail?: (receipt: T) => string): Promise<T> => {
    let receipt: T;
    try {
      receipt = await call();
      settings.instruments.ledgerOperation?.(cause, receipt.replayed === true ? "replayed" : "ok");
    } catch (error) {
      settings.instruments.ledgerOperation?.(cause, error instanceof ProgressionError ? error.code : "INTERNAL");
      if (error instanceof ProgressionError && Array.isArray(error.details.expiredHolds) && error.details.expiredHolds.length > 0) {
        const expiredHolds = error.details.expiredHolds as HoldRecord[];
        await announce("expire", expiryKey(expiredHolds), { balances: [], expiredHolds, replayed: false }, expiryDetail(expiredHolds));
      }
      throw error;
    }
    await announce(cause, key, receipt, detail?.(receipt));
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

  /** The backend's list of a subject, announcing the holds it found expired on the way. */
  const listOf = async (subject: string): Promise<LedgerList> => {
    requireSubject(subject);
    const result = await backend.list(subject, clock());
    if (result.expiredHolds.length > 0) {
      // Every balance of the subject is in the list, so the expired items' balances are too.
      const touched = new Set(result.expiredHolds.map((hold) => hold.item));
      await announce("expire", expiryKey(result.expiredHolds), { balances: result.balances.filter((balance) => touched.has(balance.item)), expiredHolds: result.expiredHolds }, expiryDetail(result.expiredHolds));
    }
    return result;
  };

  return {
    acquire: async (request) => {
      const valid = quantityRequest(request);
      return run("acquire", `${valid.subject}:${valid.idempotencyKey}`, () => backend.acquire(valid), () => `grant of ${valid.quantity} ${valid.item}`);
    },
    consume: async (request) => {
      const valid = quantityRequest(request);
      return run("consume", `${valid.subject}:${valid.idempotencyKey}`, () => backend.consume(valid), () => `spend of ${valid.quantity} ${valid.item}`);
    },
    transfer: async (request) => {
      if (typeof request !== "object" || request === null) throw new ProgressionError(ErrorCode.InvalidInput, "expected { from, to, item, quantity, idempotencyKey }", {});
      const from = requireSubject(request.from, "from");
      const to = requireSubject(request.to, "to");
      if (from === to) throw new ProgressionError(ErrorCode.InvalidInput, `transfer from and to are both ${JSON.stringify(from)}; a transfer needs two different subjects`, { from, to });
      const valid = { from, to, item: requireIdentifier(request.item, "item"), quantity: requireQuantity(request.quantity), idempotencyKey: requireKey(request.idempotencyKey), now: clock() };
      return run("transfer", `${from}:${valid.idempotencyKey}`, () => backend.transfer(valid), () => `transfer of ${valid.quantity} ${valid.item} from ${from} to ${to}`);
    },
    hold: async (request) => {
      const valid = { ...quantityRequest(request), ttlMs: requireDuration(request.ttlMs, "ttlMs", settings.maxHoldTtlMs) };
      const receipt = await run("hold", `${valid.subject}:${valid.idempotencyKey}`, () => backend.hold(valid), (placed) => `hold ${placed.hold.holdId} of ${valid.quantity} ${valid.item}`);
      if (!receipt.replayed) holdExpiry.holdPlaced(receipt.hold);
      return receipt;
    },
    commit: async (holdId) => {
      subjectOfHoldId(holdId);
      return run("commit", holdId, () => backend.commit({ holdId, now: clock() }), () => `commit of hold ${holdId}`);
    },
    release: async (holdId) => {
      subjectOfHoldId(holdId);
      return run("release", holdId, () => backend.release({ holdId, now: clock() }), () => `release of hold ${holdId}`);
    },
    getHold: async (holdId) => {
      subjectOfHoldId(holdId);
      return backend.getHold(holdId, clock());
    },
    balance: async (subject, item) => {
      const receipt = await backend.balance(requireSubject(subject), requireIdentifier(item, "item"), clock());
      if (receipt.expiredHolds.length > 0) await announce("expire", expiryKey(receipt.expiredHolds), receipt, expiryDetail(receipt.expiredHolds));
      return receipt.balance;
    },
    list: async (subject) => (await listOf(subject)).balances,
    holds: async (subject) => (await listOf(subject)).openHolds,
    expireHolds: async (limit = settings.expireHoldsBatch) => {
      const expired = await backend.expireHolds(clock(), limit);
      if (expired.length > 0) await announce("expire", expiryKey(expired), { balances: [], expiredHolds: expired }, expiryDetail(expired));
      return expired;
    },
  };
}

/**
 * The hold a hold/commit/release receipt opened or settled, in its state after the call. A replayed
 * `hold` returns the receipt stored when it was placed, whose "held" may be stale (committed since):
 * it opened nothing now, so it is left out.
 */
function openedOrSettled(receipt: { readonly replayed?: boolean; readonly hold?: HoldRecord }): HoldRecord | undefined {
  if (receipt.hold === undefined || (receipt.replayed === true && receipt.hold.state === "held")) return undefined;
  return receipt.hold;
}

function expiryDetail(holds: readonly HoldRecord[]): string {
  return `expiry of hold ${holds.map((hold) => hold.holdId).join(", ")}`;
}

function expiryKey(holds: readonly HoldRecord[]): string {
  return holds.map((hold) => hold.holdId).join(",");
}
