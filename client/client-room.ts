/**
 * The parts of an `@colyseus/sdk` Room the client kit uses, as a structural type: any SDK room fits, and
 * the kit needs no import of the SDK (the game brings its own copy).
 */
export interface ProgressionRoom {
  /** Subscribes to one message type; returns the unsubscribe function. */
  onMessage(type: string, callback: (payload: unknown) => void): () => void;
  /** A request the room answers (`ctx.reject` on the server rejects the promise). */
  request(type: string, payload?: unknown): Promise<unknown>;
  /** Called after the SDK re-established a dropped connection (pushes sent meanwhile are lost). */
  readonly onReconnect: RoomSignal<() => void>;
  /** Called once the client has left the room for good. */
  readonly onLeave: RoomSignal<(code: number, reason?: string) => void>;
}

/** An SDK signal: call it to subscribe, `remove` to unsubscribe. */
export interface RoomSignal<Callback> {
  (callback: Callback): unknown;
  remove(callback: Callback): void;
}
