import { createServer } from "node:net";
import { createRouter, defineRoom, defineServer, type Endpoint, type Server } from "@colyseus/core";
import { afterAll, beforeAll, describe } from "vitest";
import { timerHoldExpiry } from "../../../src/runtime/hold-expiry.ts";
import { ColyseusSDK, type Room as SdkRoom } from "@colyseus/sdk";
import { createProgressionHost, type ProgressionHost } from "../../../plugins/progression-host.ts";
import type { ProgressionHostOptions } from "../../../plugins/progression-host-options.ts";
import type { Progression } from "../../../src/engine/progression.ts";
import type { ProgressionBackend } from "../../../src/backends/contract/progression-backend.ts";
import { backendFactories, type BackendFixture } from "../../support/backend-factories.ts";
import type { ProgressionOptions } from "../../../src/engine/progression-options.ts";
import { createArenaProgression } from "../../../rooms/arena/arena-progression.ts";
import { createArenaRoom, type ArenaSettings } from "../../../rooms/arena/arena-room.ts";

/**
 * A real Colyseus server on a free port, real SDK clients, and the arena room on one backend, with its
 * own engine and host (one host per process: the product refuses a second). `describeArena` runs a
 * test body once per backend, each with its own server, started before and closed after its tests.
 */
export const e2eBackends = backendFactories.map((factory) => factory.name);

/** One backend's arena: its engine, its host, and clients joining its room. */
export interface ArenaServer {
  readonly backendName: string;
  readonly roomName: string;
  readonly progression: Progression;
  readonly host: ProgressionHost;
  readonly server: Server;
  readonly sdk: ColyseusSDK;
  readonly port: number;
  /** Joins (or creates) an arena as `playerId` and records every message it receives. */
  join(playerId: string, options?: Record<string, unknown>): Promise<TestClient>;
  /** Creates a new arena room (never an existing one) and joins it. */
  joinNewRoom(playerId: string, options?: Record<string, unknown>): Promise<TestClient>;
  /** Leaves every client, shuts the server down through the host's install (flush, host, engine). */
  close(): Promise<void>;
}

export interface ArenaServerOptions {
  readonly progression?: Partial<ProgressionOptions>;
  readonly host?: ProgressionHostOptions;
  readonly arena?: ArenaSettings;
  /** Wraps the backend before the engine gets it (e.g. to inject faults). */
  readonly wrapBackend?: (backend: ProgressionBackend, backendName: string) => ProgressionBackend;
  /** HTTP routes the server also serves (e.g. the admin routes), made from the arena's engine and host. */
  readonly routes?: (progression: Progression, host: ProgressionHost) => Record<string, Endpoint>;
}

export async function startArena(backendName: string, options: ArenaServerOptions = {}): Promise<ArenaServer> {
  const factory = backendFactories.find((candidate) => candidate.name === backendName);
  if (factory === undefined) throw new Error(`no backend named ${backendName}`);
  const port = await freePort();
  const sdk = new ColyseusSDK(`ws://127.0.0.1:${port}`);
  const clients: TestClient[] = [];
  const track = (room: SdkRoom): TestClient => {
    const client = new TestClient(room);
    clients.push(client);
    return client;
  };
  const fixture: BackendFixture = await factory.create();
  const backend = options.wrapBackend?.(fixture.backend, factory.name) ?? fixture.backend;
  const progression = createArenaProgression({
    onMissingTranslations: () => {},
    // Shop holds expire within 50 ms of their time, so expiry tests stay short.
    holdExpiry: timerHoldExpiry({ intervalMs: 50 }),
    ...options.progression,
    backend,
  });
  const host = createProgressionHost(progression, {
    flushIntervalMs: 10,
    // Every flush's progress at once, so a test can wait for it; progress-throttle.test.ts covers the default.
    progressIntervalMs: 0,
    ...options.host,
  });
  const roomName = "arena";
  const server = defineServer({
    rooms: { [roomName]: defineRoom(createArenaRoom(host, options.arena)) },
    ...(options.routes === undefined ? {} : { routes: createRouter(options.routes(progression, host)) }),
    greet: false,
    gracefullyShutdown: false,
  });
  host.install(server);
  await server.listen(port);
  return {
    backendName: factory.name,
    roomName,
    progression,
    host,
    server,
    sdk,
    port,
    join: async (playerId, joinOptions = {}) => track(await sdk.joinOrCreate(roomName, { playerId, ...joinOptions })),
    joinNewRoom: async (playerId, joinOptions = {}) => track(await sdk.create(roomName, { playerId, ...joinOptions })),
    async close() {
      await Promise.all(clients.map((client) => client.leave()));
      await server.gracefullyShutdown(false);
      await fixture.cleanup();
    },
  };
}

/**
 * Runs `body` once per backend inside `describe("on <backend>")`, with an arena started before its
 * tests and closed after them. `body` gets a handle that always points at that backend's arena.
 */
export function describeArena(options: ArenaServerOptions, body: (arena: ArenaServer) => void): void {
  for (const backendName of e2eBackends) {
    describe(`on ${backendName}`, () => {
      let current: ArenaServer | undefined;
      const arena = (): ArenaServer => {
        if (current === undefined) throw new Error(`the ${backendName} arena is not started (use it inside a test)`);
        return current;
      };
      beforeAll(async () => {
        current = await startArena(backendName, options);
      });
      afterAll(async () => {
        await current?.close();
        current = undefined;
      });
      body({
        backendName,
        get roomName() { return arena().roomName; },
        get progression() { return arena().progression; },
        get host() { return arena().host; },
        get server() { return arena().server; },
        get sdk() { return arena().sdk; },
        get port() { return arena().port; },
        join: (playerId, joinOptions) => arena().join(playerId, joinOptions),
        joinNewRoom: (playerId, joinOptions) => arena().joinNewRoom(playerId, joinOptions),
        close: () => arena().close(),
      });
    });
  }
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
