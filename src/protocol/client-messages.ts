import type { Balance } from "../model/balance.ts";
import type { HoldState } from "../model/hold.ts";
import type { Reward } from "../model/milestone.ts";
import type { MilestoneProgress, ProgressUpdate } from "../model/progress.ts";
import type { UnlockPayload } from "../model/unlock-payload.ts";

/*
 * The wire protocol between the room plugin and a game's client: message names and payloads. Shared by
 * the server (`colyseus-progression/colyseus`) and the browser kit (`colyseus-progression/client`), so
 * this module holds only constants and types (no Node built-ins, nothing of the server).
 */

/**
 * What the server sends to clients, by message name. Clients subscribe with
 * `room.onMessage("progression:unlocked", (unlock) => ...)`, or let `attachProgression` from
 * `colyseus-progression/client` keep the state.
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
  /**
   * An admin's "preview on a live player": how an unlock looks, sent to the player's clients. Marked
   * `preview: true`; nothing is awarded, stored or counted.
   */
  Preview: "progression:preview",
  /** Sent on join (and on `resync`): every milestone's progress, the inventory and the open holds. */
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
  /** `{}` -> a fresh `progression:snapshot` (a client sends it after a reconnection; pushes sent while away are lost). */
  Resync: "progression:resync",
} as const;

/**
 * `progression:unlocked`: the engine's unlock payload, minus what the client already knows (who, which locale).
 * `series` and `rarity` are absent when the milestone has none (not in a series, rarity unknown).
 */
export type UnlockedMessage = Omit<UnlockPayload, "subject" | "locale">;

/** `progression:progress`: at most one per milestone per flush. */
export type ProgressMessage = ProgressUpdate;

/** `progression:preview`: an unlock as the player would see it, never awarded. */
export interface PreviewMessage extends UnlockedMessage {
  readonly preview: true;
}

/** A hold as the client sees it: quantity of `item` moved from free to held until `expiresAt`. */
export interface HoldView {
  readonly holdId: string;
  readonly item: string;
  readonly quantity: number;
  readonly expiresAt: number;
  /** "held" while open; "committed", "released" or "expired" once settled (the client drops it then). */
  readonly state: HoldState;
}

export interface InventoryMessage {
  readonly balances: readonly Balance[];
  /** Holds this change opened or settled, in their state after it (absent when it touched none). */
  readonly holds?: readonly HoldView[];
}

/** `progression:hold-expired`: the hold that ran out (its quantity is free again). */
export type HoldExpiredMessage = Omit<HoldView, "state">;

export interface SnapshotMessage {
  /** The player id the server attached this client to. */
  readonly subject: string;
  /** The locale the texts are in. */
  readonly locale: string;
  /** Every active milestone, in definition order; hidden ones masked until reached. */
  readonly milestones: readonly MilestoneProgress[];
  /** One balance per item the player holds or held (free and held). */
  readonly inventory: readonly Balance[];
  /** The subject's open holds (state "held", e.g. shop checkouts waiting for a confirm), by expiry. */
  readonly holds: readonly HoldView[];
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
  "progression:preview": PreviewMessage;
}
