import { LocalPresence, Server, matchMaker, type Presence } from "@colyseus/core";
import type { ClaimOutcome, Progression, ProgressionLedger } from "../src/engine/progression.ts";
import { ErrorCode } from "../src/errors/error-codes.ts";
import { ProgressionError } from "../src/errors/progression-error.ts";
import type { UnlockPayload } from "../src/model/unlock-payload.ts";
import { positiveOrZeroOption } from "../src/runtime/positive-option.ts";
import { Recorder, type RecorderStats } from "../src/runtime/recorder.ts";
import { defaultLocaleOf, defaultOnError, defaultOnSuspicious, defaultSubjectOf, progressionHostDefaults, type HostErrorReport, type ProgressionHostOptions } from "./progression-host-options.ts";
import { describeSuspicious, type SuspiciousEvent, type SuspiciousListener } from "../src/runtime/stat-guards.ts";
import { describeError } from "../src/logging/logger.ts";
import { PushFanout, type ConnectedSubject, type PushTarget } from "./push-fanout.ts";
import { pushesOf } from "./subject-push.ts";
import { useAdapterLogger } from "./adapter-logger.ts";
import type { Client } from "@colyseus/core";

/** Counters for dashboards and tests (the recorder's). */
export type HostStats = RecorderStats;

export interface InstallOptions {
  /**
   * Close the engine (and with it durability and the backend) after the host at server shutdown.
   * @default true
   */
  readonly closeEngine?: boolean;
}

const SPLIT_CORE =
  "colyseus-progression and your server use two different copies of @colyseus/core (`npm ls @colyseus/core` shows both): " +
  "install one version; colyseus-progression declares it as a peer dependency (^0.18.0) so npm can share it";

/** One open host per process, across copies of this package too (two would split every player's buffer). */
const ACTIVE_HOST = Symbol.for("colyseus-progression.active-host");
type HostRegistry = { [ACTIVE_HOST]?: ProgressionHost };

/**
 * The Colyseus side of one process, shared by every room: the recorder (one buffer, so a player's
 * events coalesce across rooms, and one sequential flusher), and the fan-out that turns the engine's
 * effects into client messages, in every room of this process and, through Colyseus presence, of every
 * other process. Rooms use it through `ProgressionPlugin`; `install(server)` wires its shutdown.
 */
export class ProgressionHost {
  readonly progression: Progression;
  /** The engine's ledger; every change it makes is pushed to the clients of the subjects involved. */
  readonly ledger: ProgressionLedger;
  readonly recorder: Recorder;

  /** The subject of a client (option `subjectOf`). */
  readonly subjectOf: (client: Client) => string | undefined;
  /** The locale of a joining client (option `localeOf`, falling back to the engine's default locale). */
  readonly localeOf: (client: Client, joinOptions: unknown) => string;

  private readonly fanout: PushFanout;
  private readonly presenceOption: ProgressionHostOptions["presence"];
  private readonly stopPushes: () => void;
  private readonly stopSuspicious: () => void;
  /** Rooms' `onSuspicious` listeners (ProgressionPlugin), after the host's own. */
  private readonly suspiciousListeners = new Set<SuspiciousListener>();
  private installed = false;
  private closing: Promise<void> | null = null;

  constructor(progression: Progression, options: ProgressionHostOptions = {}) {
    const registry = globalThis as HostRegistry;
    const active = registry[ACTIVE_HOST];
    if (active !== undefined && !active.closed) {
      throw new ProgressionError(
        ErrorCode.Unsupported,
        "a progression host is already running in this process: create one host per process and give it to every room's ProgressionPlugin (close the first one before creating another)",
      );
    }
    this.progression = progression;
    this.ledger = progression.ledger;
    const logger = options.logger ?? progression.logger;
    const onError = options.onError ?? defaultOnError(logger);
    const { subjectOf, localeOf, progressIntervalMs, presence, onError: _onError, logger: _logger, onSuspicious, ...recorderOptions } = options;
    // Every option is checked before anything starts a timer.
    const progressInterval = positiveOrZeroOption("progressIntervalMs", progressIntervalMs, progressionHostDefaults.progressIntervalMs);
    this.recorder = new Recorder(progression, { ...recorderOptions, onError });
    this.subjectOf = subjectOf ?? defaultSubjectOf;
    const locale = localeOf ?? defaultLocaleOf;
    this.localeOf = (client, joinOptions) => locale(client, joinOptions) ?? progression.defaultLocale;
    this.presenceOption = presence;
    this.fanout = new PushFanout(progression, {
      presence: () => presence ?? matchMaker.presence,
      progressIntervalMs: progressInterval,
      onError: (report: HostErrorReport) => onError(report),
    });
    // Every change of the engine (flushes, catch-ups, claims, ledger calls, expiries) reaches clients from here.
    this.stopPushes = progression.effects.subscribe((effects) => this.fanout.publishAll(pushesOf(effects)));
    // Stat guard refusals: the game is told; a window breach also reaches the subject's clients.
    const suspicious = onSuspicious ?? defaultOnSuspicious(logger);
    this.stopSuspicious = progression.onSuspicious((event) => {
      if (event.guard === "maxPerWindow") {
        this.fanout.reject(event.subject, { type: event.trigger, code: ErrorCode.GuardExceeded, message: describeSuspicious(event) });
      }
      for (const listener of [suspicious, ...this.suspiciousListeners]) {
        try {
          listener(event);
        } catch (error) {
          logger.warn(`an onSuspicious listener failed: ${describeError(error)}`);
        }
      }
    });
    registry[ACTIVE_HOST] = this;
    useAdapterLogger(logger);
  }

  /**
   * Records one gameplay event for `subject`. It is validated now (a bad event throws a ProgressionError
   * and nothing is kept), buffered, and applied by the next flush. At the buffer bound it throws
   * BACKEND_UNAVAILABLE: the store has been unreachable for a long time and nothing more is accepted.
   */
  record(subject: string, type: string, tags?: Readonly<Record<string, string>>, amount?: number): void {
    this.recorder.record({ subject, type, ...(tags === undefined ? {} : { tags }), ...(amount === undefined ? {} : { amount }) });
  }

  /** Coalesced item grants (e.g. loot): see `Recorder.grant`. */
  grant(subject: string, item: string, quantity: number): void {
    this.recorder.grant(subject, item, quantity);
  }

  /** Applies pending grants now (all, or only `subject`'s, e.g. before a trade). */
  flushGrants(subject?: string): Promise<boolean> {
    return this.recorder.flushGrants(subject);
  }

  /** Applies every event recorded before this call (waiting through retries), up to `timeoutMs`. */
  flush(timeoutMs?: number): Promise<boolean> {
    return this.recorder.flush(timeoutMs);
  }

  get stats(): HostStats {
    return this.recorder.stats;
  }

  get closed(): boolean {
    return this.closing !== null;
  }

  /**
   * Starts delivering `subject`'s pushes to `target` (one connected client). Resolves once pushes from
   * other processes can reach it too; the returned function stops delivery.
   */
  attach(subject: string, target: PushTarget): Promise<() => void> {
    if (this.presenceOption === undefined && (matchMaker.presence as Presence | undefined) === undefined) {
      return Promise.reject(new ProgressionError(ErrorCode.Unsupported, SPLIT_CORE));
    }
    return this.fanout.attach(subject, target);
  }

  /** Catch-up for a joining subject: login-type rules and retroactive awards (pushed to all its clients). */
  catchUp(subject: string, locale: string): Promise<readonly UnlockPayload[]> {
    return this.progression.catchUp(subject, { locale });
  }

  /** Claims a completed milestone; the granted balances are pushed to all the subject's clients. */
  claim(subject: string, code: string, idempotencyKey: string, locale: string): Promise<ClaimOutcome> {
    return this.progression.claim(subject, code, idempotencyKey, locale);
  }

  /**
   * Shows `subject`'s clients how the unlock of `code` looks, without awarding it: a `progression:preview`
   * message (`preview: true`) to each of its clients in this process and, with a cross-process presence,
   * in every other one. Texts are in `locale` when given, else in each client's own locale. Nothing is
   * stored or counted and no effects or domain events are announced. Throws UNKNOWN_MILESTONE (nothing
   * sent) for a code the engine does not have. Returns how many clients it reached in this process.
   */
  preview(subject: string, code: string, locale?: string): { readonly clients: number } {
    return { clients: this.fanout.preview(subject, code, locale) };
  }

  /**
   * Tells `listener` about every stat guard refusal this process sees (see the `onSuspicious` option);
   * returns the function that stops it. `ProgressionPlugin` registers its room's hook here.
   */
  onSuspicious(listener: (event: SuspiciousEvent) => void): () => void {
    this.suspiciousListeners.add(listener);
    return () => {
      this.suspiciousListeners.delete(listener);
    };
  }

  /** The subjects with clients connected to this process (every room), with their client count and locales. */
  connectedSubjects(): readonly ConnectedSubject[] {
    return this.fanout.connectedSubjects();
  }

  /**
   * Wires the host into the server's shutdown, once: rooms flush as they are disposed, then the host
   * applies what is left and detaches from presence, then your own `server.onShutdown` callback runs
   * (registered before or after this call), then the engine closes (durability's final snapshot, the
   * backend). Presence is kept open until the host is done with it, so no push is lost and nothing is
   * logged on a clean shutdown.
   */
  install(server: Pick<Server, "onShutdown" | "onBeforeShutdown">, options: InstallOptions = {}): void {
    if (this.installed) {
      throw new ProgressionError(ErrorCode.InvalidInput, "this progression host is already installed into a server; call install(server) once");
    }
    // A Server from another copy of @colyseus/core would run a matchmaker this host never sees.
    if (typeof (server as Partial<Server>).gracefullyShutdown === "function" && !(server instanceof Server)) {
      throw new ProgressionError(ErrorCode.Unsupported, SPLIT_CORE);
    }
    this.installed = true;
    const closeEngine = options.closeEngine ?? true;
    // Callbacks the game registers itself still run: read the one set before, capture those set after.
    const slots = server as unknown as { onShutdownCallback?: () => unknown; onBeforeShutdownCallback?: () => unknown };
    let userShutdown = slots.onShutdownCallback;
    let userBeforeShutdown = slots.onBeforeShutdownCallback;
    const registerShutdown = server.onShutdown.bind(server);
    const registerBeforeShutdown = server.onBeforeShutdown.bind(server);
    server.onShutdown = (callback) => {
      userShutdown = callback;
    };
    server.onBeforeShutdown = (callback) => {
      userBeforeShutdown = callback;
    };
    let releasePresence: (() => void) | undefined;
    registerBeforeShutdown(async () => {
      releasePresence = this.holdPresenceOpen();
      await userBeforeShutdown?.();
    });
    registerShutdown(async () => {
      try {
        await this.close();
        await userShutdown?.();
        if (closeEngine) await this.progression.close();
      } finally {
        releasePresence?.();
      }
    });
  }

  /**
   * Graceful shutdown: refuses new events, applies everything buffered (retrying up to
   * `shutdownTimeoutMs`; what is left is reported through `onError`), then stops pushing. Does not close
   * the engine (`install` does, after it). Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.recorder.close();
      } finally {
        this.stopPushes();
        this.stopSuspicious();
        await this.fanout.close();
        const registry = globalThis as HostRegistry;
        if (registry[ACTIVE_HOST] === this) delete registry[ACTIVE_HOST];
      }
    })();
    return this.closing;
  }

  /**
   * Colyseus shuts presence down before its onShutdown callbacks run; the host still publishes its last
   * pushes and leaves its topic then. So the presence's shutdown waits for the host (returns the release).
   */
  private holdPresenceOpen(): () => void {
    const presence = (this.presenceOption ?? matchMaker.presence) as Partial<Presence> | undefined;
    if (presence === undefined || presence instanceof LocalPresence || typeof presence.shutdown !== "function") return () => {};
    const shutdown = presence.shutdown.bind(presence);
    let released = false;
    let requested = false;
    presence.shutdown = () => {
      requested = true;
      if (released) shutdown();
    };
    return () => {
      released = true;
      presence.shutdown = shutdown;
      if (requested) shutdown();
    };
  }
}

/**
 * Creates the process-wide host: once per process, after `createProgression(...)`; give it to every room's
 * `ProgressionPlugin` and `install(server)` it so shutdown is handled. A second open host is refused.
 */
export function createProgressionHost(progression: Progression, options: ProgressionHostOptions = {}): ProgressionHost {
  return new ProgressionHost(progression, options);
}
