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
  /**
   * The receipt's effects plus the balances of items whose holds expired on the way, when it does not
   * carry them already. Reading a balance may release further due holds: those are reported here too
   * (with their balances), so no expiry goes unannounced.
   */
  const withExpiryBalances = async (receipt: LedgerEffects): Promise<LedgerEffects> => {
    const balances = [...receipt.balances];
    const expiredHolds = [...receipt.expiredHolds];
    const keyOf = (entry: { subject: string; item: string }) => `${entry.subject}\u0000${entry.item}`;
    // Each (subject, item) is read at most once: a read that failed is not retried here.
    const asked = new Set(balances.map(keyOf));
    for (;;) {
      const missing = new Map<string, HoldRecord>();
      for (const hold of expiredHolds) if (!asked.has(keyOf(hold))) missing.set(keyOf(hold), hold);
      if (missing.size === 0) return { balances, expiredHolds };
      for (const key of missing.keys()) asked.add(key);
      const settled = await Promise.allSettled([...missing.values()].map((hold) => backend.balance(hold.subject, hold.item, clock())));
      // A read that succeeded may have released holds: it is reported even if another read failed.
      for (const outcome of settled) {
        if (outcome.status === "rejected") continue;
        const read = outcome.value;
        for (const balance of [read.balance, ...read.balances]) {
          // A later read is newer: it replaces what an earlier one said.
          const at = balances.findIndex((known) => keyOf(known) === keyOf(balance));
          if (at === -1) balances.push(balance);
          else balances[at] = balance;
          asked.add(keyOf(balance));
        }
        expiredHolds.push(...read.expiredHolds);
      }
    }
  };

  const announce = async (cause: EffectsCause, key: string, receipt: LedgerEffects & { readonly replayed?: boolean; readonly hold?: HoldRecord }, detail?: string): Promise<void> => {
    const { balances, expiredHolds } = await withExpiryBalances(receipt).catch(() => receipt);
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
    for (const expired of expiredHolds) of(expired.subject).expiredHolds.push(expired);
    // A hold this call found expired on the way is reported there, once.
    if (hold !== undefined && !expiredHolds.some((expired) => expired.holdId === hold.holdId)) of(hold.subject).holds.push(hold);
    const subjects: SubjectEffects[] = [...bySubject].map(([subject, changed]) => ({ ...noEffectsFor(subject), ...changed }));
    effects.publish({ cause, key, at: clock(), replayed: receipt.replayed === true, subjects, ...(detail === undefined ? {} : { detail }) });
  };

  /** Announces what a call released on the way (nothing when it released nothing). */
  const announceExpiries = async (receipt: LedgerEffects): Promise<void> => {
    if (receipt.expiredHolds.length > 0) await announce("expire", expiryKey(receipt.expiredHolds), { ...receipt, replayed: false }, expiryDetail(receipt.expiredHolds));
  };

  /**
   * The sweep also finishes transfers a caller left between the steps of a cross-shard saga (Redis
   * Cluster), announced as the transfer they are (its key, its cause): the caller's retry then replays it.
   */
  const completeTransfers = async (): Promise<void> => {
    const completed = (await backend.completeTransfers?.(clock())) ?? [];
    for (const { request, receipt, refused } of completed) {
      if (receipt !== undefined) {
        await announce("transfer", `${request.from}:${request.idempotencyKey}`, receipt, `transfer of ${request.quantity} ${request.item} from ${request.from} to ${request.to}`);
      } else {
        await announceRefusal(refused);
      }
    }
  };

  /** A refused call still announces the expiries its atomic step performed before it failed. */
  const announceRefusal = async (error: unknown): Promise<void> => {
    if (error instanceof ProgressionError && Array.isArray(error.details.expiredHolds)) {
      await announceExpiries({ balances: [], expiredHolds: error.details.expiredHolds as HoldRecord[] });
    }
  };

  /** Runs a backend call and announces its effects; a refused call still announces the expiries it performed. */
  const run = async <T extends LedgerEffects & { replayed?: boolean; hold?: HoldRecord }>(cause: EffectsCause, key: string, call: () => Promise<T>, detail?: (receipt: T) => string): Promise<T> => {
    let receipt: T;
    try {
      receipt = await call();
      settings.instruments.ledgerOperation?.(cause, receipt.replayed === true ? "replayed" : "ok");
    } catch (error) {
      settings.instruments.ledgerOperation?.(cause, error instanceof ProgressionError ? error.code : "INTERNAL");
      await announceRefusal(error);
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
    // Every non-zero balance of the subject is in the list; an expired item at zero is read back.
    const touched = new Set(result.expiredHolds.map((hold) => hold.item));
    await announceExpiries({ balances: result.balances.filter((balance) => touched.has(balance.item)), expiredHolds: result.expiredHolds });
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
      if (typeof request !== "object" || request === null) throw new ProgressionError(ErrorCode.InvalidInput, "expected { from, to, item, quantity, idempotencyKey, allowNewReceiver? }", {});
      const from = requireSubject(request.from, "from");
      const to = requireSubject(request.to, "to");
      if (from === to) throw new ProgressionError(ErrorCode.InvalidInput, `transfer from and to are both ${JSON.stringify(from)}; a transfer needs two different subjects`, { from, to });
      if (request.allowNewReceiver !== undefined && typeof request.allowNewReceiver !== "boolean") {
        throw new ProgressionError(ErrorCode.InvalidInput, `allowNewReceiver must be true or false (got ${JSON.stringify(request.allowNewReceiver)}); pass true only to give to a player the store has never seen`, { allowNewReceiver: request.allowNewReceiver });
      }
      const valid = { from, to, item: requireIdentifier(request.item, "item"), quantity: requireQuantity(request.quantity), idempotencyKey: requireKey(request.idempotencyKey), now: clock(), allowNewReceiver: request.allowNewReceiver === true };
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
      const receipt = await backend.getHold(holdId, clock()).catch(async (error: unknown) => {
        await announceRefusal(error);
        throw error;
      });
      await announceExpiries(receipt);
      return receipt.hold;
    },
    balance: async (subject, item) => {
      const receipt = await backend.balance(requireSubject(subject), requireIdentifier(item, "item"), clock());
      await announceExpiries(receipt);
      return receipt.balance;
    },
    list: async (subject) => (await listOf(subject)).balances,
    holds: async (subject) => (await listOf(subject)).openHolds,
    expireHolds: async (limit = settings.expireHoldsBatch) => {
      await completeTransfers();
      const expired = await backend.expireHolds(clock(), limit);
      await announceExpiries(expired);
      return expired.expiredHolds;
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
