import { randomUUID } from "node:crypto";
import { RoomPlugin, type Client } from "@colyseus/core";
import { z } from "zod";
import type { Progression, ProgressionLedger } from "../src/engine/progression.ts";
import { ErrorCode } from "../src/errors/error-codes.ts";
import { ProgressionError, isProgressionError } from "../src/errors/progression-error.ts";
import { ClientRequest, PushMessage, type ClaimResponse, type RejectionReason, type SnapshotMessage } from "../src/protocol/client-messages.ts";
import { guardedMessage } from "./guarded-message.ts";
import type { RateCaps } from "./rate-caps.ts";
import { holdViewOf } from "./hold-view.ts";
import type { ProgressionHost } from "./progression-host.ts";
import { requireSubject } from "../src/model/validate-input.ts";
import type { SuspiciousEvent } from "../src/runtime/stat-guards.ts";

/** Options of `new ProgressionPlugin(host, options)`; every option is optional. */
export interface ProgressionPluginOptions {
  /**
   * Told about every stat guard refusal (engine option `statGuards`) of a subject with clients in this room,
   * with those clients (e.g. to log it, warn or kick the player). The host has already sent them
   * `progression:rejected` for a window breach; a `maxAmount` refusal is also thrown by `record()`.
   * @default none (the host's own `onSuspicious` still runs)
   */
  readonly onSuspicious?: (event: SuspiciousEvent, clients: readonly Client[]) => void;
  /**
   * Rate caps for the plugin's own messages, `progression:claim` and `progression:resync` (see `createRateCaps`;
   * the room's caps can be shared: list the two types in its `perType`).
   * @default none
   */
  readonly rateCaps?: RateCaps;
}

interface Session {
  readonly subject: string;
  readonly locale: string;
  readonly detach: () => void;
}

const claimRequestSchema = z.strictObject({
  code: z.string().min(1).max(128),
  /** Makes a retried claim safe: the same requestId claims once and answers the same result. */
  requestId: z.string().min(1).max(64).optional(),
});

/** `room.send("progression:resync")` carries no payload; `{}` is accepted too. */
const resyncRequestSchema = z.strictObject({}).optional();

/**
 * The per-room side of colyseus-progression. Add it with
 * `plugins = definePlugins([new ProgressionPlugin(host)])`, then call `this.plugins.progression.record(...)`
 * from your room's message handlers. Clients cannot record anything; they only receive pushes and may
 * request `progression:claim` and `progression:resync` (a fresh snapshot: the response of a `room.request`,
 * a `progression:snapshot` message after a `room.send`).
 *
 * On join it attaches the client to its subject's pushes, runs the catch-up (login rules, retroactive
 * awards) and sends `progression:snapshot`. On dispose it flushes everything recorded so far.
 */
export class ProgressionPlugin extends RoomPlugin {
  override readonly pluginName = "progression" as const;

  private readonly host: ProgressionHost;
  private readonly sessions = new Map<string, Session>();
  private readonly options: ProgressionPluginOptions;
  private stopSuspicious: (() => void) | undefined;

  // Built in the constructor: they need its options (the rate caps).
  protected override messages: Record<string, ReturnType<typeof guardedMessage>>;

  constructor(host: ProgressionHost, options: ProgressionPluginOptions = {}) {
    super();
    this.host = host;
    this.options = options;
    const rateCap = options.rateCaps === undefined ? {} : { rateCap: options.rateCaps };
    this.messages = {
      [ClientRequest.Claim]: guardedMessage(ClientRequest.Claim, claimRequestSchema, async (client, request): Promise<ClaimResponse> => {
        const session = this.sessionOf(client);
        const key = `claim:${request.code}:${request.requestId ?? randomUUID()}`;
        const outcome = await this.host.claim(session.subject, request.code, key, session.locale);
        return { code: outcome.code, claimedAt: outcome.claimedAt, rewards: outcome.rewards, balances: outcome.balances };
      }, { replyOnSend: PushMessage.Claimed, ...rateCap }),
      [ClientRequest.Resync]: guardedMessage(
        ClientRequest.Resync,
        resyncRequestSchema,
        (client): Promise<SnapshotMessage> => this.snapshotOf(this.sessionOf(client)),
        { replyOnSend: PushMessage.Snapshot, ...rateCap },
      ),
    };
  }

  /** The engine, for reads such as `progress` or `preview`. */
  get progression(): Progression {
    return this.host.progression;
  }

  /** The engine's ledger; every change it makes is pushed to every client of the subjects involved. */
  get ledger(): ProgressionLedger {
    return this.host.ledger;
  }

  /**
   * Records a gameplay event for a client (its subject) or a subject id. Validated now; applied by the
   * next flush (tens of ms). Throws a ProgressionError on bad input, or BACKEND_UNAVAILABLE when the
   * buffer is full because the store has been down for long (see `maxBufferedIncrements`).
   */
  record(who: Client | string, type: string, tags?: Readonly<Record<string, string>>, amount?: number): void {
    this.host.record(typeof who === "string" ? who : this.subjectOf(who), type, tags, amount);
  }

  /**
   * Grants items (e.g. loot) without a ledger call per pickup: coalesced per player and item and applied
   * within `grantIntervalMs`, the new balance pushed then. Call `flushGrants` before spending them.
   */
  grant(who: Client | string, item: string, quantity: number): void {
    this.host.grant(typeof who === "string" ? who : this.subjectOf(who), item, quantity);
  }

  /** Applies a player's pending grants now (before a trade or a purchase spends them). */
  flushGrants(who: Client | string): Promise<boolean> {
    return this.host.flushGrants(typeof who === "string" ? who : this.subjectOf(who));
  }

  /** The subject of a connected client. */
  subjectOf(client: Client): string {
    return this.sessionOf(client).subject;
  }

  /** The locale the client joined with. */
  localeOf(client: Client): string {
    return this.sessionOf(client).locale;
  }

  /** Sends a fresh `progression:snapshot` (e.g. from the room's `onReconnect`, pushes sent while away are lost). */
  async resync(client: Client): Promise<void> {
    const session = this.sessionOf(client);
    await this.sendSnapshot(client, session);
  }

  /** Applies everything recorded so far (see `ProgressionHost.flush`). */
  flush(timeoutMs?: number): Promise<boolean> {
    return this.host.flush(timeoutMs);
  }

  protected override onCreate(): void {
    const hook = this.options.onSuspicious;
    if (hook === undefined) return;
    this.stopSuspicious = this.host.onSuspicious((event) => {
      const clients: Client[] = [];
      for (const [sessionId, session] of this.sessions) {
        const client = session.subject === event.subject ? this.room.clients.get(sessionId) : undefined;
        if (client !== undefined) clients.push(client);
      }
      if (clients.length > 0) hook(event, clients);
    });
  }

  protected override async onJoin(client: Client, options?: unknown): Promise<void> {
    const subject = this.host.subjectOf(client);
    if (subject === undefined) {
      throw new ProgressionError(
        ErrorCode.InvalidInput,
        "this client has no subject: return { id } from the room's onAuth (client.auth.id), or pass subjectOf to createProgressionHost",
      );
    }
    // The join is refused with the reason: a player whose id no trade or ledger call can name would be stuck.
    requireSubject(subject, "the client's subject (client.auth.id or subjectOf)");
    const locale = this.host.localeOf(client, options);
    const sessionId = client.sessionId;
    const detach = await this.host.attach(subject, {
      locale,
      // Resolved at send time: after a reconnection the same session has a new Client object.
      send: (type, payload) => this.room.clients.get(sessionId)?.send(type, payload),
      corked: (write) => corkedWrite(this.room.clients.get(sessionId), write),
    });
    const session: Session = { subject, locale, detach };
    this.sessions.set(sessionId, session);
    try {
      await this.host.catchUp(subject, locale);
      await this.sendSnapshot(client, session);
    } catch (error) {
      // The player still gets in; the client learns why its progression is missing.
      client.send(PushMessage.Rejected, rejectionOf(PushMessage.Snapshot, error));
    }
  }

  protected override onLeave(client: Client): void {
    const session = this.sessions.get(client.sessionId);
    if (session === undefined) return;
    this.sessions.delete(client.sessionId);
    session.detach();
  }

  protected override async onDispose(): Promise<void> {
    this.stopSuspicious?.();
    for (const session of this.sessions.values()) session.detach();
    this.sessions.clear();
    await this.host.flush();
  }

  private async sendSnapshot(client: Client, session: Session): Promise<void> {
    client.send(PushMessage.Snapshot, await this.snapshotOf(session));
  }

  private async snapshotOf(session: Session): Promise<SnapshotMessage> {
    const [milestones, inventory, holds] = await Promise.all([
      this.host.progression.progress(session.subject, session.locale),
      this.host.progression.ledger.list(session.subject),
      this.host.progression.ledger.holds(session.subject),
    ]);
    return { subject: session.subject, locale: session.locale, milestones, inventory, holds: holds.map(holdViewOf) };
  }

  private sessionOf(client: Client): Session {
    const session = this.sessions.get(client.sessionId);
    if (session === undefined) {
      throw new ProgressionError(
        ErrorCode.InvalidInput,
        `client ${client.sessionId} has not joined this room through the progression plugin; pass a subject id to record() instead`,
      );
    }
    return session;
  }
}

function rejectionOf(type: string, error: unknown): RejectionReason {
  if (isProgressionError(error)) return { type, code: error.code, message: error.message };
  return { type, code: ErrorCode.BackendUnavailable, message: `${type}: the progression store failed; rejoin to retry` };
}

/** The socket under a client of the `ws` transport (`WebSocketClient.ref` is the `ws` WebSocket); other transports have none. */
function socketOf(client: Client | undefined): { cork(): void; uncork(): void } | undefined {
  const socket = (client as { ref?: { _socket?: unknown } } | undefined)?.ref?._socket as { cork?: unknown; uncork?: unknown } | undefined;
  return typeof socket?.cork === "function" && typeof socket.uncork === "function" ? (socket as { cork(): void; uncork(): void }) : undefined;
}

/** Runs `write` with the client's socket corked: its messages leave in one write when it is uncorked. */
function corkedWrite(client: Client | undefined, write: () => void): void {
  const socket = socketOf(client);
  socket?.cork();
  try {
    write();
  } finally {
    socket?.uncork();
  }
}
