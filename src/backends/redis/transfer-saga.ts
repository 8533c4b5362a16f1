import { randomBytes } from "node:crypto";
import type { CompletedTransfer, MutationReceipt } from "../contract/ledger-backend.ts";
import type { Balance } from "../../model/balance.ts";
import type { HoldRecord } from "../../model/hold.ts";
import { packr } from "./apply-request-codec.ts";
import type { ScriptCall } from "./redis-commands.ts";
import type { ShardKeys } from "./redis-keys.ts";
import {
  transferCreditArgs,
  transferDebitArgs,
  transferFingerprint,
  transferPrepareArgs,
  transferSettleArgs,
  type ScriptSettings,
  type Transfer,
  type TransferSagaStep,
} from "./script-args.ts";
import { ScriptStatus, scriptError } from "./script-errors.ts";

/**
 * A transfer between subjects of two shards of a Redis Cluster, where no one script may touch both, as a
 * saga of four one-shard steps, each idempotent on the transfer (docs/semantics.md, "Transfers across shards"):
 *
 * 1. prepare (receiver's shard): settle the receiver's due holds, learn whether it is known and its total;
 * 2. debit (sender's shard): replay a finished transfer, or find its escrow, or refuse it as a one-shard
 *    transfer would, or move the quantity from the sender's free balance into an escrow under a new saga id;
 * 3. credit (receiver's shard): credit the quantity, or refuse it; the outcome is kept under the saga id;
 * 4. settle (sender's shard): close the escrow and keep the receipt under the idempotency key, or, refused,
 *    give the quantity back to the sender.
 *
 * A crash after step 2 leaves an escrow: the next call with the same key continues it, and the ledger's
 * sweep completes escrows older than `olderThanMs` (`completeStale`). Conserved at every moment: free + held
 * over every subject plus the escrows not credited yet (an escrow whose saga's credit is recorded is
 * delivered: only its settle is left).
 */
export interface TransferSaga {
  run(transfer: Transfer): Promise<MutationReceipt>;
  /** Finishes every escrow older than `olderThanMs` (a saga whose caller stopped between steps). */
  completeStale(now: number, olderThanMs: number): Promise<readonly CompletedTransfer[]>;
}

type RawReply = [status: number, ...rest: unknown[]];
type RawBalance = [subject: string, item: string, free: number, held: number];
interface RawEscrow {
  readonly sagaId: string;
  readonly to: string;
  readonly item: string;
  readonly quantity: number;
  readonly allowNew: "0" | "1";
  readonly createdAt: number;
  readonly fingerprint: string;
}

export interface TransferSagaDeps {
  readonly settings: ScriptSettings;
  readonly shards: readonly ShardKeys[];
  /** Runs a one-subject script, restoring its subject first if the script asks (withRestore). */
  run(operation: string, script: ScriptCall): Promise<RawReply>;
  /** The typed error of a refused ledger reply ([status, message, expiredHolds]). */
  refusal(reply: RawReply, details: Record<string, unknown>): never;
  toBalance(raw: RawBalance): Balance;
  toHolds(raw: unknown): HoldRecord[];
  /** The raw escrow hashes of every shard, in shard order. */
  readEscrows(): Promise<readonly Record<string, Buffer>[]>;
}

/** The escrow's field in its shard's hash: the sender, then the key (a subject id holds no newline). */
const escrowField = (from: string, idempotencyKey: string): string => `${from}\n${idempotencyKey}`;

export function createTransferSaga(deps: TransferSagaDeps): TransferSaga {
  const { settings } = deps;
  const balances = (raw: unknown): Balance[] => (Array.isArray(raw) ? (raw as RawBalance[]).map(deps.toBalance) : []);

  async function finish(step: TransferSagaStep, sagaId: string, expired: HoldRecord[]): Promise<MutationReceipt> {
    const { transfer } = step;
    const details = { from: transfer.from, to: transfer.to, item: transfer.item, quantity: transfer.quantity, idempotencyKey: transfer.idempotencyKey };
    const credit = await deps.run("transfer", transferCreditArgs(settings, step, sagaId));
    if (credit[0] === ScriptStatus.RestoreNeeded || credit[0] === ScriptStatus.InvalidInput) deps.refusal(credit, details);
    expired.push(...deps.toHolds(credit[2]));
    const detail = packr.pack(credit[0] === ScriptStatus.Ok ? credit[1] : String(credit[1]));
    const settle = await deps.run("transfer", transferSettleArgs(settings, step, sagaId, credit[0], detail));
    if (settle[0] === ScriptStatus.Ok) return { replayed: false, balances: balances(settle[1]), expiredHolds: expired };
    if (settle[0] === ScriptStatus.Replayed && settle[1] !== false) return { replayed: true, balances: balances(settle[1]), expiredHolds: expired };
    // Refused by the receiver's step: the quantity is back with the sender, nothing was transferred.
    const status = settle[0] === ScriptStatus.Replayed ? credit[0] : settle[0];
    throw scriptError(status, String(credit[1]), "transfer", { ...details, ...(expired.length > 0 ? { expiredHolds: expired } : {}) });
  }

  return {
    async run(transfer) {
      const step: TransferSagaStep = { transfer, fingerprint: transferFingerprint(transfer), escrowField: escrowField(transfer.from, transfer.idempotencyKey) };
      const details = { from: transfer.from, to: transfer.to, item: transfer.item, quantity: transfer.quantity, idempotencyKey: transfer.idempotencyKey };
      const prepared = await deps.run("transfer", transferPrepareArgs(settings, transfer));
      if (prepared[0] < 0) deps.refusal(prepared, details);
      const expired = deps.toHolds(prepared[3]);
      const receiver = { known: prepared[1] === 1, total: Number(prepared[2]) };
      const debit = await deps.run("transfer", transferDebitArgs(settings, step, receiver, randomBytes(8).toString("hex")));
      if (debit[0] < 0) deps.refusal([debit[0], debit[1], [...expired.map(rawHoldOf), ...(Array.isArray(debit[2]) ? debit[2] : [])]], details);
      expired.push(...deps.toHolds(debit[2]));
      if (debit[0] === ScriptStatus.Replayed) return { replayed: true, balances: balances(debit[1]), expiredHolds: expired };
      return finish(step, (debit[3] as RawEscrow).sagaId, expired);
    },

    async completeStale(now, olderThanMs) {
      const hashes = await deps.readEscrows();
      const completed: CompletedTransfer[] = [];
      for (const hash of hashes) {
        for (const [field, value] of Object.entries(hash)) {
          const escrow = packr.unpack(value) as RawEscrow;
          if (escrow.createdAt > now - olderThanMs) continue;
          const cut = field.indexOf("\n");
          const transfer: Transfer = {
            from: field.slice(0, cut),
            idempotencyKey: field.slice(cut + 1),
            to: escrow.to,
            item: escrow.item,
            quantity: escrow.quantity,
            now,
            allowNewReceiver: escrow.allowNew === "1",
          };
          const request = { from: transfer.from, to: transfer.to, item: transfer.item, quantity: transfer.quantity, idempotencyKey: transfer.idempotencyKey };
          try {
            const receipt = await finish({ transfer, fingerprint: escrow.fingerprint, escrowField: field }, escrow.sagaId, []);
            completed.push({ request, receipt });
          } catch (error) {
            completed.push({ request, refused: error });
          }
        }
      }
      return completed;
    },
  };
}

/** A hold back in the raw reply form `refusal` reads (it decodes expired holds itself). */
function rawHoldOf(hold: HoldRecord): unknown[] {
  return [hold.holdId, hold.subject, hold.item, hold.quantity, hold.createdAt, hold.expiresAt, hold.state, hold.settledAt ?? -1];
}
