import { parentPort, workerData } from "node:worker_threads";
import { Client } from "@colyseus/sdk";

/**
 * A flooding client on a thread of its own, like a player on another machine: the test's event loop (the
 * server's and the other players') does not pay for encoding its messages. Joins `roomId` as `playerId`,
 * says "joined", floods `count` messages of `type` when told "flood", and reports how it was disconnected.
 */

export interface FloodWorkerData {
  readonly endpoint: string;
  readonly roomId: string;
  readonly playerId: string;
  readonly type: string;
  readonly payload: unknown;
  readonly count: number;
}

export type FloodWorkerMessage =
  | { readonly kind: "joined"; readonly subject: string }
  | {
      readonly kind: "left";
      readonly code: number;
      readonly reason: string | undefined;
      /** From the first message sent to the close, as this client saw it. */
      readonly floodMs: number;
      /** How long sending all `count` took (the close may come before or after). */
      readonly sendMs: number;
      readonly rejections: readonly { readonly type: string; readonly code: string; readonly message: string }[];
    };

const data = workerData as FloodWorkerData;
const port = parentPort;
if (port === null) throw new Error("flood-worker.ts runs as a worker thread (started by test/e2e/rate-caps.test.ts)");

const room = await new Client(data.endpoint).joinById(data.roomId, { playerId: data.playerId });
room.reconnection.enabled = false;
const rejections: { type: string; code: string; message: string }[] = [];
room.onMessage("progression:rejected", (reason: { type: string; code: string; message: string }) => rejections.push(reason));
room.onMessage("*", () => undefined);
let floodStarted = 0;
let sendMs = 0;
room.onLeave((code: number, reason?: string) => {
  port.postMessage({ kind: "left", code, reason, floodMs: performance.now() - floodStarted, sendMs, rejections } satisfies FloodWorkerMessage);
});
const subject = await new Promise<string>((resolve) => room.onMessage("progression:snapshot", (snapshot: { subject: string }) => resolve(snapshot.subject)));
port.on("message", (message: unknown) => {
  if (message !== "flood") return;
  floodStarted = performance.now();
  // Corked, as a hostile client would: the whole flood leaves in a few writes, at the server's door at once
  // (and this thread spends its CPU on the flood, not on 10,000 system calls).
  const socket = (room.connection.transport as { ws?: { _socket?: { cork(): void; uncork(): void } } }).ws?._socket;
  socket?.cork();
  for (let index = 0; index < data.count; index += 1) room.send(data.type, data.payload);
  socket?.uncork();
  sendMs = performance.now() - floodStarted;
});
port.postMessage({ kind: "joined", subject } satisfies FloodWorkerMessage);
