import type { Reward } from "../src/model/milestone.ts";
import type { MilestoneProgress, ProgressUpdate } from "../src/model/progress.ts";
import type { UnlockPayload } from "../src/model/unlock-payload.ts";
import type { Balance } from "../src/model/balance.ts";

/**
 * What the server sends to clients, by message name. Clients subscribe with
 * `room.onMessage("progression:unlocked", (unlock) => ...)`.
 */
export const PushMessage = {
  /** Sent once per newly reached milestone, to every connected client of the subject (any room, any process). */
  Unlocked: "progression:unlocked",
  /** Current/target of visible milestones whose counters moved; at most one per milestone per flush. */
  Progress: "progression:progress",
  /** Balances that changed (rewards, trades, shop holds, expiries). */
  Inventory: "progression:inventory",
  /** A shop hold ran out before it was confirmed: its quantity is free again. */
  HoldExpired: "progression:hold-expired",
  /** Sent on join (and on `resync`): every milestone's progress plus the inventory. */
  Snapshot: "progression:snapshot",
  /** The answer to a `progression:claim` sent with `room.send` (a `room.request` gets it as its response). */
  Claimed: "progression:claimed",
  /** A fire-and-forget message (`room.send`) was refused; `room.request` gets a rejection instead. */
  Rejected: "progression:rejected",
} as const;

/** What clients send. Only requests; clients never record progress. */
export const ClientRequest = {
  /** `{ code: string, requestId?: string }` -> `{ code, claimedAt, rewards, balances }`. */
  Claim: "progression:claim",
} as const;

/** `progression:unlocked`: the engine's unlock payload, minus what the client already knows (who, which locale). */
export type UnlockedMessage = Omit<UnlockPayload, "subject" | "locale">;

/** `progression:progress`: at most one per milestone per flush. */
export type ProgressMessage = ProgressUpdate;

export interface InventoryMessage {
  readonly balances: readonly Balance[];
}

export interface HoldExpiredMessage {
  readonly holdId: string;
  readonly item: string;
  readonly quantity: number;
  readonly expiresAt: number;
}

export interface SnapshotMessage {
  readonly subject: string;
  readonly locale: string;
  readonly milestones: readonly MilestoneProgress[];
  readonly inventory: readonly Balance[];
}

/** The reason of a rejection: the same shape for `ctx.reject` replies and `progression:rejected` messages. */
export interface RejectionReason {
  /** The message type that was refused, e.g. "progression:claim" or "trade". */
  readonly type: string;
  /**
   * A stable code: the ProgressionError code (e.g. "NOT_COMPLETED", "INVALID_INPUT"), "UNKNOWN_MESSAGE" for a
   * message type the room does not have, or "INTERNAL" when the server failed (logged server-side).
   */
  readonly code: string;
  /** What was wrong and how to fix it. */
  readonly message: string;
}

export interface ClaimResponse {
  readonly code: string;
  readonly claimedAt: number;
  readonly rewards: readonly Reward[];
  readonly balances: readonly Balance[];
}

/**
 * Server -> client payloads by message name, for typed client handlers, e.g.
 * `room.onMessage("progression:unlocked", (unlock: ProgressionPushes["progression:unlocked"]) => ...)`.
 */
export interface ProgressionPushes {
  "progression:unlocked": UnlockedMessage;
  "progression:progress": ProgressMessage;
  "progression:inventory": InventoryMessage;
  "progression:hold-expired": HoldExpiredMessage;
  "progression:snapshot": SnapshotMessage;
  "progression:rejected": RejectionReason;
  "progression:claimed": ClaimResponse;
}
