import type { ArenaBotSettings } from "../bots/arena-bot-session.ts";
import type { BotReport } from "../bots/bot-report.ts";

/** Messages between the runner and its bot worker threads. */

export interface BotWorkerData {
  readonly bots: readonly ArenaBotSettings[];
  /** Joins in flight at once per worker (matchmaking is an HTTP request plus a WebSocket upgrade). */
  readonly joinConcurrency: number;
  readonly tickMs: number;
}

export type RunnerToWorker =
  | { readonly type: "start"; readonly seconds: number; readonly drainSeconds: number }
  | { readonly type: "leave" };

export type WorkerToRunner =
  | { readonly type: "joined"; readonly joined: number; readonly failed: number; readonly errors: readonly string[] }
  /** Sending is over: what each bot sent (final), before waiting for pushes and replies. */
  | { readonly type: "sent"; readonly sendingMs: number; readonly reports: readonly BotReport[] }
  | { readonly type: "report"; readonly reports: readonly BotReport[]; readonly drainMs: number }
  | { readonly type: "left" };
