import { createServer } from "node:net";
import { defineRoom, defineServer, type RegisteredHandler, type Server } from "@colyseus/core";
import { ColyseusSDK, type Room as SdkRoom } from "@colyseus/sdk";
import { createProgressionHost } from "../../../plugins/create-progression-host.ts";
import type { ProgressionHost } from "../../../plugins/progression-host.ts";
import type { ProgressionHostOptions } from "../../../plugins/progression-host-options.ts";
import type { Progression } from "../../../src/engine/progression.ts";
import type { ProgressionBackend } from "../../../src/backends/contract/progression-backend.ts";
import { backendFactories, type BackendFixture } from "../../support/backend-factories.ts";
import type { ProgressionOptions } from "../../../src/engine/progression-options.ts";
import { createArenaProgression } from "../../../rooms/arena/arena-progression.ts";
import { createArenaRoom, type ArenaSettings } from "../../../rooms/arena/arena-room.ts";

/**
 * A real Colyseus server on a free port, real SDK clients, and one arena room type per backend
 * (`arena` on memory, `arena_redis` on Redis with its own key prefix), each with its own engine and
 * host. Colyseus' matchmaker is process-wide, so a test file starts one cluster and shares it; tests
 * use fresh player ids, so the two backends never see each other's players.
 */
export const e2eBackends = backendFactories.map((factory) => factory.name);

/** One backend's arena: its engine, its host, and clients joining its room type. */
export interface ArenaServer {
  readonly backendName: string;
  readonly roomName: string;
  readonly progression: Progression;
  readonly host: ProgressionHost;
  readonly sdk: ColyseusSDK;
  readonly port: number;
  /** Joins (or creates) an arena as `playerId` and records every message it receives. */
  join(playerId: string, options?: Record<string, unknown>): Promise<TestClient>;
  /** Creates a new arena room (never an existing one) and joins it. */
  joinNewRoom(playerId: string, options?: Record<string, unknown>): Promise<TestClient>;
}

export interface ArenaCluster {
  readonly server: Server;
  readonly sdk: ColyseusSDK;
  readonly port: number;
  arena(backendName: string): ArenaServer;
  close(): Promise<void>;
}

export interface ArenaServerOptions {
  readonly progression?: Partial<ProgressionOptions>;
  readonly host?: ProgressionHostOptions;
  readonly arena?: ArenaSettings;
  /** Wraps each backend before the engine gets it (e.g. to inject faults). */
  readonly wrapBackend?: (backend: ProgressionBackend, backendName: string) => ProgressionBackend;
}

export async function startArenaCluster(options: ArenaServerOptions = {}): Promise<ArenaCluster> {
  const port = await freePort();
  const sdk = new ColyseusSDK(`ws://127.0.0.1:${port}`);
  const clients: TestClient[] = [];
  const track = (room: SdkRoom): TestClient => {
    const client = new TestClient(room);
    clients.push(client);
    return client;
  };
  const setups: Array<{ arena: ArenaServer; fixture: BackendFixture }> = [];
  const rooms: Record<string, RegisteredHandler> = {};
  for (const factory of backendFactories) {
    const fixture = await factory.create();
    const backend = options.wrapBackend?.(fixture.backend, factory.name) ?? fixture.backend;
    const progression = createArenaProgression({ onMissingTranslations: () => {}, ...options.progression, backend });
    const host = createProgressionHost(progression, {
      flushIntervalMs: 10,
      holdExpirySweepMs: 50,
      // Every flush's progress at once, so a test can wait for it; progress-throttle.test.ts covers the default.
      progressIntervalMs: 0,
      ...options.host,
    });
    const roomName = factory.name === "memory" ? "arena" : `arena_${factory.name}`;
    rooms[roomName] = defineRoom(createArenaRoom(host, options.arena)) as unknown as RegisteredHandler;
    const arena: ArenaServer = {
      backendName: factory.name,
      roomName,
      progression,
      host,
      sdk,
      port,
      join: async (playerId, joinOptions = {}) => track(await sdk.joinOrCreate(roomName, { playerId, ...joinOptions })),
      joinNewRoom: async (playerId, joinOptions = {}) => track(await sdk.create(roomName, { playerId, ...joinOptions })),
    };
    setups.push({ arena, fixture });
  }
  const server = defineServer({ rooms, greet: false, gracefullyShutdown: false });
  await server.listen(port);
  return {
    server,
    sdk,
    port,
    arena(backendName) {
      const found = setups.find((setup) => setup.arena.backendName === backendName);
      if (found === undefined) throw new Error(`no arena on backend ${backendName}`);
      return found.arena;
    },
    async close() {
      await Promise.all(clients.map((client) => client.leave()));
      await server.gracefullyShutdown(false);
      for (const { arena, fixture } of setups) {
        await arena.host.close();
        await arena.progression.close();
        await fixture.cleanup();
      }
    },
  };
}

export interface ReceivedMessage {
  readonly type: string;
  readonly payload: unknown;
}

/** An SDK room plus everything the server sent it, in order. */
export class TestClient {
  room: SdkRoom;
  readonly received: ReceivedMessage[] = [];

  constructor(room: SdkRoom) {
    this.room = room;
    this.listen(room);
  }

  listen(room: SdkRoom): void {
    this.room = room;
    room.onMessage("*", (type, payload) => {
      this.received.push({ type: String(type), payload });
    });
  }

  /** Payloads of one message type received so far. */
  messages<T = Record<string, unknown>>(type: string): T[] {
    return this.received.filter((message) => message.type === type).map((message) => message.payload as T);
  }

  send(type: string, payload?: unknown): void {
    this.room.send(type, payload);
  }

  request<T = unknown>(type: string, payload?: unknown): Promise<T> {
    return this.room.request(type, payload) as Promise<T>;
  }

  /** A round trip on the same socket: everything the server sent before it has arrived when this resolves. */
  roundTrip(): Promise<void> {
    return new Promise((resolve) => this.room.ping(() => resolve()));
  }

  /** Waits until a message of `type` matching `match` has arrived. */
  async waitFor<T = Record<string, unknown>>(
    type: string,
    match: (payload: T) => boolean = () => true,
    timeoutMs = 3_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages<T>(type).find(match);
      if (found !== undefined) return found;
      if (Date.now() > deadline) {
        throw new Error(`no ${type} message matched within ${timeoutMs} ms; received: ${this.received.map((m) => m.type).join(", ")}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async leave(): Promise<void> {
    if (this.room.connection.isOpen) await this.room.leave(true);
  }
}

/**
 * Waits until the server has handled everything the clients sent, applies everything recorded, then
 * waits for the pushes it caused to reach each client.
 */
export async function settle(host: ProgressionHost, ...clients: TestClient[]): Promise<void> {
  await Promise.all(clients.map((client) => client.roundTrip()));
  await host.flush();
  await Promise.all(clients.map((client) => client.roundTrip()));
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => (address !== null && typeof address === "object" ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

let playerSequence = 0;
/** A player id no other test uses. */
export function newPlayerId(label: string): string {
  playerSequence += 1;
  return `${label}-${process.pid}-${playerSequence}-${Math.random().toString(36).slice(2, 8)}`;
}
