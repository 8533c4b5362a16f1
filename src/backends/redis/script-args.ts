import type { Reward } from "../../model/milestone.ts";
import type { ScriptArg, ScriptCall } from "./redis-commands.ts";
import type { RedisKeys } from "./redis-keys.ts";
import type { HistorySelector } from "../../model/history.ts";

/**
 * The keys and ARGV of every script call, one builder per script, laid out as its header in lua/
 * says. Callers pass validated values (boundary-validation.ts). The fingerprints name the request an
 * idempotency key was used for; they are part of the stored records, so they keep their form.
 */

/** What the ledger scripts take from the backend's settings. */
export interface ScriptSettings {
  readonly keys: RedisKeys;
  /** Decide hold expiry on Redis TIME instead of the caller's `now`. */
  readonly useServerTime: boolean;
  readonly idempotencyRetentionMs: number;
  /** Refuse subjects this Redis holds no state for, so the backend restores them first (it has a loader). */
  readonly checkRestore: boolean;
}

const flag = (on: boolean): string => (on ? "1" : "0");

/** KEYS[1..6] of a one-subject ledger script. */
function ledgerKeys(keys: RedisKeys, subject: string): string[] {
  const k = keys.subject(subject);
  const shard = keys.shardOf(subject);
  return [k.state, k.balances, k.holds, k.holdTimers, shard.dirty, shard.holdExpiryIndex];
}

/** ARGV[1..4] of a one-subject ledger script. */
function ledgerArgv(settings: ScriptSettings, subject: string, now: number): ScriptArg[] {
  return [subject, String(now), flag(settings.useServerTime), String(settings.idempotencyRetentionMs)];
}

/** A group of subjects' increments, packed by apply-request-codec.ts; the subjects are of one shard. */
export function applyBatchArgs(keys: RedisKeys, subjects: readonly string[], request: Buffer, batchDigest: Buffer, callId: string): ScriptCall {
  const shard = keys.shardOf(subjects[0] ?? "");
  const groupKeys = [shard.dirty, shard.milestoneStats, shard.rarity];
  for (const subject of subjects) {
    const k = keys.subject(subject);
    groupKeys.push(k.state, k.eventIds, k.balances, k.history, k.historyLog, k.outbox);
  }
  return { script: "applyBatch", keys: groupKeys, argv: [request, batchDigest, callId] };
}

/** A subject's snapshot, encoded by state-codec.ts. */
export function importSubjectArgs(keys: RedisKeys, subject: string, snapshot: Buffer): ScriptCall {
  const k = keys.subject(subject);
  const shard = keys.shardOf(subject);
  return { script: "importSubject", keys: [k.state, k.balances, k.holds, k.holdTimers, shard.holdExpiryIndex, k.history, shard.milestoneStats], argv: [snapshot] };
}

/** A backfill of one subject, packed by history-codec.ts. */
export function seedArgs(keys: RedisKeys, subject: string, request: Buffer): ScriptCall {
  const k = keys.subject(subject);
  const shard = keys.shardOf(subject);
  return { script: "seed", keys: [k.state, k.balances, k.history, shard.dirty, shard.milestoneStats, shard.rarity], argv: [subject, request] };
}

/** One subject's history hash as text, only the rollups `selection` selects (all without one). */
export function readHistoryArgs(keys: RedisKeys, subject: string, selection: readonly HistorySelector[] | undefined): ScriptCall {
  const argv = selection === undefined ? [] : selection.map((selector) => [`|${selector.type}|`, ...selector.fragments].join("\u0000"));
  const k = keys.subject(subject);
  return { script: "readHistory", keys: [k.history, k.historyLog], argv: [String(argv.length), ...argv] };
}

/** Folds one subject's history log into its hash (before an export reads the hash). */
export function foldHistoryArgs(keys: RedisKeys, subject: string): ScriptCall {
  const k = keys.subject(subject);
  return { script: "foldHistory", keys: [k.history, k.historyLog], argv: [] };
}

/** Archived rollups of one subject to drop, packed by history-codec.ts. */
export function dropHistoryArgs(keys: RedisKeys, subject: string, request: Buffer): ScriptCall {
  return { script: "dropHistory", keys: [keys.subject(subject).history], argv: [request] };
}

export interface FreeChange {
  readonly subject: string;
  readonly item: string;
  readonly quantity: number;
  readonly idempotencyKey: string;
  readonly now: number;
  /** 1 acquire, -1 consume. */
  readonly direction: 1 | -1;
}

export function changeFreeArgs(settings: ScriptSettings, change: FreeChange): ScriptCall {
  const { subject, item, quantity, direction } = change;
  const fingerprint = JSON.stringify([direction > 0 ? "acquire" : "consume", subject, item, quantity]);
  return {
    script: "changeFree",
    keys: [...ledgerKeys(settings.keys, subject), settings.keys.idempotency(subject, change.idempotencyKey)],
    argv: [...ledgerArgv(settings, subject, change.now), flag(settings.checkRestore), item, quantity, direction, fingerprint],
  };
}

export interface NewHold {
  readonly subject: string;
  readonly item: string;
  readonly quantity: number;
  readonly ttlMs: number;
  readonly holdId: string;
  readonly idempotencyKey: string;
  readonly now: number;
}

export function holdArgs(settings: ScriptSettings, hold: NewHold): ScriptCall {
  const { subject, item, quantity, ttlMs } = hold;
  const fingerprint = JSON.stringify(["hold", subject, item, quantity, ttlMs]);
  return {
    script: "hold",
    keys: [...ledgerKeys(settings.keys, subject), settings.keys.idempotency(subject, hold.idempotencyKey)],
    argv: [...ledgerArgv(settings, subject, hold.now), flag(settings.checkRestore), item, quantity, ttlMs, hold.holdId, fingerprint],
  };
}

/** commit or release of a hold of `subject` (the subject its id names). */
export function settleHoldArgs(settings: ScriptSettings, subject: string, holdId: string, action: "commit" | "release", now: number): ScriptCall {
  return {
    script: "settleHold",
    keys: ledgerKeys(settings.keys, subject),
    argv: [...ledgerArgv(settings, subject, now), flag(settings.checkRestore), holdId, action],
  };
}

export interface Transfer {
  readonly from: string;
  readonly to: string;
  readonly item: string;
  readonly quantity: number;
  readonly idempotencyKey: string;
  readonly now: number;
  /** Let the receiver be a subject the store has never seen. */
  readonly allowNewReceiver: boolean;
}

export function transferArgs(settings: ScriptSettings, transfer: Transfer): ScriptCall {
  const { from, to, item, quantity } = transfer;
  const toKeys = settings.keys.subject(to);
  const fingerprint = transferFingerprint({ from, to, item, quantity });
  return {
    script: "transfer",
    keys: [
      ...ledgerKeys(settings.keys, from),
      settings.keys.idempotency(from, transfer.idempotencyKey),
      toKeys.state,
      toKeys.balances,
      toKeys.holds,
      toKeys.holdTimers,
      toKeys.history,
    ],
    // The permission is not part of the fingerprint: a retry without it replays the first transfer.
    argv: [...ledgerArgv(settings, from, transfer.now), flag(settings.checkRestore), to, item, quantity, fingerprint, flag(transfer.allowNewReceiver)],
  };
}

export function balanceArgs(settings: ScriptSettings, subject: string, item: string, now: number): ScriptCall {
  return { script: "balance", keys: ledgerKeys(settings.keys, subject), argv: [...ledgerArgv(settings, subject, now), flag(settings.checkRestore), item] };
}

export function listArgs(settings: ScriptSettings, subject: string, now: number): ScriptCall {
  return { script: "list", keys: ledgerKeys(settings.keys, subject), argv: [...ledgerArgv(settings, subject, now), flag(settings.checkRestore)] };
}

export function getHoldArgs(settings: ScriptSettings, subject: string, holdId: string, now: number): ScriptCall {
  return { script: "getHold", keys: ledgerKeys(settings.keys, subject), argv: [...ledgerArgv(settings, subject, now), flag(settings.checkRestore), holdId] };
}

/** The expiry job's call for one subject: up to `limit` of its due holds. */
export function expireHoldsArgs(settings: ScriptSettings, subject: string, limit: number, now: number): ScriptCall {
  return { script: "expireHolds", keys: ledgerKeys(settings.keys, subject), argv: [...ledgerArgv(settings, subject, now), limit] };
}

export interface Claim {
  readonly subject: string;
  readonly code: string;
  readonly rewards: readonly Reward[];
  readonly idempotencyKey: string;
  readonly now: number;
}

export function claimArgs(settings: ScriptSettings, claim: Claim): ScriptCall {
  const { subject, code, now } = claim;
  const k = settings.keys.subject(subject);
  const shard = settings.keys.shardOf(subject);
  const fingerprint = JSON.stringify(["claim", subject, code]);
  const rewards = claim.rewards.flatMap((reward): ScriptArg[] => [reward.item, reward.quantity]);
  return {
    script: "claim",
    keys: [k.state, k.balances, settings.keys.idempotency(subject, claim.idempotencyKey), shard.dirty, shard.milestoneStats],
    argv: [subject, code, fingerprint, now, settings.idempotencyRetentionMs, flag(settings.checkRestore), ...rewards],
  };
}

/** Every key of one subject but its idempotency records (the caller deletes those by pattern). */
export function eraseSubjectArgs(keys: RedisKeys, subject: string): ScriptCall {
  const k = keys.subject(subject);
  const shard = keys.shardOf(subject);
  return { script: "eraseSubject", keys: [k.state, k.eventIds, k.balances, k.holds, k.holdTimers, k.history, shard.dirty, shard.holdExpiryIndex, k.historyLog, shard.milestoneStats, k.outbox, shard.rarity], argv: [subject] };
}

/** The steps of a transfer between two shards (transfer-saga.ts), each on one shard. */
export interface TransferSagaStep {
  readonly transfer: Transfer;
  readonly fingerprint: string;
  readonly escrowField: string;
}

/** The fingerprint a transfer's idempotency record keeps, one-shard or saga alike. */
export function transferFingerprint(transfer: Pick<Transfer, "from" | "to" | "item" | "quantity">): string {
  return JSON.stringify(["transfer", transfer.from, transfer.to, transfer.item, transfer.quantity]);
}

export function transferPrepareArgs(settings: ScriptSettings, transfer: Transfer): ScriptCall {
  return {
    script: "transferPrepare",
    keys: [...ledgerKeys(settings.keys, transfer.to), settings.keys.subject(transfer.to).history],
    argv: [...ledgerArgv(settings, transfer.to, transfer.now), flag(settings.checkRestore), transfer.item],
  };
}

export function transferDebitArgs(settings: ScriptSettings, step: TransferSagaStep, receiver: { known: boolean; total: number }, sagaId: string): ScriptCall {
  const { from, to, item, quantity } = step.transfer;
  return {
    script: "transferDebit",
    keys: [...ledgerKeys(settings.keys, from), settings.keys.idempotency(from, step.transfer.idempotencyKey), settings.keys.shardOf(from).escrow],
    argv: [
      ...ledgerArgv(settings, from, step.transfer.now),
      flag(settings.checkRestore),
      to,
      item,
      quantity,
      step.fingerprint,
      flag(step.transfer.allowNewReceiver),
      flag(receiver.known),
      receiver.total,
      sagaId,
      step.escrowField,
    ],
  };
}

export function transferCreditArgs(settings: ScriptSettings, step: TransferSagaStep, sagaId: string): ScriptCall {
  const { to, item, quantity, now } = step.transfer;
  return {
    script: "transferCredit",
    keys: [...ledgerKeys(settings.keys, to), settings.keys.subject(to).history, settings.keys.transferCredit(to, sagaId)],
    argv: [...ledgerArgv(settings, to, now), flag(settings.checkRestore), item, quantity, flag(step.transfer.allowNewReceiver)],
  };
}

export function transferSettleArgs(settings: ScriptSettings, step: TransferSagaStep, sagaId: string, outcome: number, detail: Buffer): ScriptCall {
  const { from, now } = step.transfer;
  return {
    script: "transferSettle",
    keys: [...ledgerKeys(settings.keys, from), settings.keys.idempotency(from, step.transfer.idempotencyKey), settings.keys.shardOf(from).escrow],
    argv: [...ledgerArgv(settings, from, now), step.escrowField, sagaId, outcome, detail, step.fingerprint],
  };
}
