import type { MilestoneProgress } from "../src/model/progress.ts";
import {
  ClientRequest,
  PushMessage,
  type ClaimResponse,
  type HoldExpiredMessage,
  type InventoryMessage,
  type PreviewMessage,
  type ProgressMessage,
  type RejectionReason,
  type SnapshotMessage,
  type UnlockedMessage,
} from "../src/protocol/client-messages.ts";
import type { ProgressionRoom } from "./client-room.ts";
import { Listeners } from "./listeners.ts";
import { ProgressionRequestError } from "./progression-request-error.ts";
import {
  applyClaim,
  applyHoldExpired,
  applyInventory,
  applyProgress,
  applyUnlock,
  emptyProgressionState,
  stateFromSnapshot,
  type ProgressionState,
} from "./progression-state.ts";
import { newRequestId } from "./request-id.ts";

/** What `progression.on(event, listener)` passes to the listener, by event name. */
export interface ProgressionEvents {
  /** A full snapshot replaced the state (on join, after `resync`, after a reconnection). */
  snapshot: SnapshotMessage;
  /** A milestone was reached (the state shows it completed, or claimed for autoClaim ones). */
  unlock: UnlockedMessage;
  progress: ProgressMessage;
  inventory: InventoryMessage;
  /** A hold ran out before it was confirmed; it left `state.holds` and its quantity is free again. */
  "hold-expired": HoldExpiredMessage;
  /** A claim (this client's `claim`, or a `progression:claim` the game sent itself) granted its rewards. */
  claimed: ClaimResponse;
  /** The server refused something sent with `room.send`, or a re-sync after a reconnection failed. */
  rejected: RejectionReason;
  /** An admin's preview of an unlock: show it, but nothing was awarded and the state does not change. */
  preview: PreviewMessage;
  /** After every state change, with the new state. */
  change: ProgressionState;
}

export interface AttachProgressionOptions {
  /**
   * Ask for a fresh snapshot right away. Set it when you attach later than right after `joinOrCreate`
   * (the join's snapshot may have arrived before anything listened). @default false
   */
  readonly resyncOnAttach?: boolean;
  /** Ask for a fresh snapshot after the SDK re-established a dropped connection. @default true */
  readonly resyncOnReconnect?: boolean;
}

export interface ClaimOptions {
  /**
   * Identifies this claim: a retry with the same id (e.g. after a timeout) claims once and answers the same
   * result. Generated when absent; pass your own to retry across a page reload.
   */
  readonly requestId?: string;
}

/** What the player owns of one item ({ free: 0, held: 0 } for an item never held). */
export interface ItemBalance {
  readonly item: string;
  readonly free: number;
  readonly held: number;
}

export interface ProgressionClient {
  /** The current state (a new object after each change). Empty until `ready` resolves. */
  readonly state: ProgressionState;
  /**
   * Resolves with the state once the first snapshot arrived; rejects if the server could not send it
   * (its rejection code and reason) or the room was left before.
   */
  readonly ready: Promise<ProgressionState>;
  milestone(code: string): MilestoneProgress | undefined;
  balance(item: string): ItemBalance;
  /** Subscribes a listener; returns the function that unsubscribes it. */
  on<Event extends keyof ProgressionEvents>(event: Event, listener: (payload: ProgressionEvents[Event]) => void): () => void;
  /** Claims a completed milestone's rewards; rejects with a ProgressionRequestError (e.g. NOT_COMPLETED). */
  claim(code: string, options?: ClaimOptions): Promise<ClaimResponse>;
  /** Replaces the state with a fresh snapshot from the server. */
  resync(): Promise<ProgressionState>;
  /** Stops listening to the room; the state stays as it was. */
  detach(): void;
}

/**
 * Keeps a player's progression state from the room's snapshot and pushes: milestones (current, target,
 * status), inventory (free, held), open holds. Attach it right after joining:
 * `const progression = attachProgression(await client.joinOrCreate("arena", options))`.
 */
export function attachProgression(room: ProgressionRoom, options: AttachProgressionOptions = {}): ProgressionClient {
  const listeners = new Listeners<ProgressionEvents>();
  let state = emptyProgressionState;
  let synced = false;
  let detached = false;
  const snapshotWaiters = new Set<(snapshot: SnapshotMessage) => void>();

  let resolveReady: (state: ProgressionState) => void = () => {};
  let rejectReady: (error: Error) => void = () => {};
  const ready = new Promise<ProgressionState>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  // Games that never await `ready` should not get an unhandled rejection for it.
  ready.catch(() => {});

  const change = <Event extends keyof ProgressionEvents>(next: ProgressionState, event: Event, payload: ProgressionEvents[Event]): void => {
    const changed = next !== state;
    state = next;
    listeners.emit(event, payload);
    if (changed) listeners.emit("change", state);
  };

  const applySnapshot = (snapshot: SnapshotMessage): void => {
    change(stateFromSnapshot(snapshot), "snapshot", snapshot);
    if (!synced) {
      synced = true;
      resolveReady(state);
    }
    for (const waiter of [...snapshotWaiters]) waiter(snapshot);
  };

  const applyClaimed = (claim: ClaimResponse): void => change(applyClaim(state, claim), "claimed", claim);

  const unsubscribes = [
    room.onMessage(PushMessage.Snapshot, (payload) => applySnapshot(payload as SnapshotMessage)),
    room.onMessage(PushMessage.Unlocked, (payload) => change(applyUnlock(state, payload as UnlockedMessage), "unlock", payload as UnlockedMessage)),
    room.onMessage(PushMessage.Progress, (payload) => change(applyProgress(state, payload as ProgressMessage), "progress", payload as ProgressMessage)),
    room.onMessage(PushMessage.Inventory, (payload) => change(applyInventory(state, payload as InventoryMessage), "inventory", payload as InventoryMessage)),
    room.onMessage(PushMessage.HoldExpired, (payload) => change(applyHoldExpired(state, payload as HoldExpiredMessage), "hold-expired", payload as HoldExpiredMessage)),
    room.onMessage(PushMessage.Claimed, (payload) => applyClaimed(payload as ClaimResponse)),
    room.onMessage(PushMessage.Preview, (payload) => listeners.emit("preview", payload as PreviewMessage)),
    room.onMessage(PushMessage.Rejected, (payload) => {
      const reason = payload as RejectionReason;
      // The join's snapshot failed (e.g. the store was down): `ready` says why instead of waiting forever.
      if (!synced && reason.type === PushMessage.Snapshot) rejectReady(new ProgressionRequestError(reason.type, reason.code, reason.message));
      listeners.emit("rejected", reason);
    }),
  ];

  const resync = async (): Promise<ProgressionState> => {
    // Listening before asking: a snapshot sent as a message arrives before the request's answer.
    let waiter: (snapshot: SnapshotMessage) => void = () => {};
    const answered = new Promise<void>((resolve) => {
      waiter = () => {
        snapshotWaiters.delete(waiter);
        resolve();
      };
      snapshotWaiters.add(waiter);
    });
    let response: unknown;
    try {
      response = await room.request(ClientRequest.Resync, {});
    } catch (error) {
      snapshotWaiters.delete(waiter);
      throw ProgressionRequestError.from(ClientRequest.Resync, error);
    }
    // The snapshot is the request's answer; a server that sends it as a message instead is waited for.
    if (isSnapshot(response)) {
      snapshotWaiters.delete(waiter);
      applySnapshot(response);
    } else await answered;
    return state;
  };

  const onReconnect = (): void => {
    resync().catch((error: unknown) => {
      const failure = error instanceof ProgressionRequestError ? error : ProgressionRequestError.from(ClientRequest.Resync, error);
      listeners.emit("rejected", { type: failure.type, code: failure.code, message: failure.message });
    });
  };
  const onLeave = (code: number, reason?: string): void => {
    if (!synced) rejectReady(new ProgressionRequestError(PushMessage.Snapshot, "ROOM_LEFT", `the room was left (${code}${reason ? `: ${reason}` : ""}) before the first progression snapshot arrived; join again`));
    detach();
  };
  if (options.resyncOnReconnect ?? true) room.onReconnect(onReconnect);
  room.onLeave(onLeave);

  function detach(): void {
    if (detached) return;
    detached = true;
    for (const unsubscribe of unsubscribes) unsubscribe();
    room.onReconnect.remove(onReconnect);
    room.onLeave.remove(onLeave);
    listeners.clear();
    snapshotWaiters.clear();
  }

  if (options.resyncOnAttach === true) onReconnect();

  return {
    get state() {
      return state;
    },
    ready,
    milestone: (code) => state.milestones.find((milestone) => milestone.code === code),
    balance(item) {
      const balance = state.inventory.find((known) => known.item === item);
      return { item, free: balance?.free ?? 0, held: balance?.held ?? 0 };
    },
    on: (event, listener) => listeners.on(event, listener),
    async claim(code, claimOptions = {}) {
      const requestId = claimOptions.requestId ?? newRequestId();
      let response: ClaimResponse;
      try {
        response = (await room.request(ClientRequest.Claim, { code, requestId })) as ClaimResponse;
      } catch (error) {
        throw ProgressionRequestError.from(ClientRequest.Claim, error);
      }
      if (!detached) applyClaimed(response);
      return response;
    },
    resync,
    detach,
  };
}

function isSnapshot(value: unknown): value is SnapshotMessage {
  return value !== null && typeof value === "object" && "milestones" in value && Array.isArray(value.milestones);
}
