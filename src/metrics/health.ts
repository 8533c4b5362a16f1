import type { BackendHealth } from "../backends/contract/progression-backend.ts";
import type { RecorderStats } from "../runtime/recorder.ts";

/** What a health route reports: each dependency's answer, and whether the recorder keeps up. */
export interface HealthReport {
  readonly ok: boolean;
  readonly checks: Readonly<Record<string, BackendHealth>>;
  readonly buffer?: Pick<RecorderStats, "pendingEvents" | "pendingIncrements" | "pendingGrants" | "failedAttempts" | "lastFlushLagMs">;
}

export interface HealthSources {
  /** The backend (its `health()`: a Redis PING). */
  readonly backend?: { readonly kind: string; health?(): Promise<BackendHealth> };
  /** Durability (its `health()`: PostgreSQL and the BullMQ connection). */
  readonly durability?: { health(): Promise<Readonly<Record<string, BackendHealth>>> };
  /** The recorder's counters: `host.stats`. */
  readonly stats?: () => RecorderStats;
}

/**
 * Checks every dependency now (each bounded by its own timeout) and the recorder's state: healthy when
 * every dependency answers and no batch is failing. For a `/health` route: 200 when `ok`, else 503.
 */
export async function checkHealth(sources: HealthSources): Promise<HealthReport> {
  const checks: Record<string, BackendHealth> = {};
  if (sources.backend?.health !== undefined) checks[sources.backend.kind] = await sources.backend.health();
  else if (sources.backend !== undefined) checks[sources.backend.kind] = { ok: true, detail: `${sources.backend.kind} backend in this process` };
  if (sources.durability !== undefined) Object.assign(checks, await sources.durability.health());
  const stats = sources.stats?.();
  const bufferOk = stats === undefined || stats.failedAttempts === 0;
  const ok = bufferOk && Object.values(checks).every((check) => check.ok);
  if (stats === undefined) return { ok, checks };
  const { pendingEvents, pendingIncrements, pendingGrants, failedAttempts, lastFlushLagMs } = stats;
  return { ok, checks, buffer: { pendingEvents, pendingIncrements, pendingGrants, failedAttempts, lastFlushLagMs } };
}
