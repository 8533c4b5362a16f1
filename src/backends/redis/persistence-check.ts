import type { Redis } from "ioredis";
import type { RedisTopology } from "./redis-topology.ts";
import { ErrorCode } from "../../errors/error-codes.ts";
import { ProgressionError } from "../../errors/progression-error.ts";
import { backendUnavailable } from "./script-errors.ts";

/**
 * No AOF, no ledger: the backend reads `INFO persistence` once (of every master, on a Cluster) and refuses
 * a Redis that would lose acknowledged writes on a restart (`aof_enabled:0`) with VOLATILE_STORE, unless the
 * game opted in (`allowVolatileRedis`). docs/durability.md says what each configuration can lose.
 */
export interface PersistenceCheck {
  /**
   * Resolves once this Redis was seen with AOF on (then at no cost), or at once when volatile is allowed.
   * Rejects with VOLATILE_STORE (checked again on the next call, so a Redis switched to `appendonly yes`
   * is accepted without a restart), or BACKEND_UNAVAILABLE when Redis cannot be asked.
   * `operation` prefixes the message ("acquire: ..."); none at start-up.
   */
  require(operation?: string): Promise<void>;
}

/** Where the check asks: one Redis, or every master of a Cluster. */
export type PersistenceTargets = Pick<RedisTopology, "masters">;

export function createPersistenceCheck(targets: PersistenceTargets, allowVolatile: boolean): PersistenceCheck {
  let confirmed = allowVolatile;
  // Calls arriving together share one INFO.
  let asking: Promise<{ address: string; reason: string } | null> | undefined;

  /** The first Redis that is volatile and why, or null when every one keeps its writes (AOF on). */
  async function ask(): Promise<{ address: string; reason: string } | null> {
    const masters = targets.masters();
    // A Cluster client learns its masters when it connects: until then there is nothing to confirm.
    if (masters.length === 0) throw new Error("no Redis Cluster master known yet (not connected)");
    const reasons = await Promise.all(masters.map(({ node }) => volatility(node)));
    const at = reasons.findIndex((reason) => reason !== null);
    return at === -1 ? null : { address: masters[at]?.address ?? "?", reason: reasons[at] as string };
  }

  /** Why this Redis is volatile, or null when it keeps its writes (AOF on). */
  async function volatility(client: Pick<Redis, "info">): Promise<string | null> {
    let info: string;
    try {
      info = await client.info("persistence");
    } catch (error) {
      // A refused command (INFO disabled, ACL) is an answer; a lost connection is not.
      if (error instanceof Error && error.name === "ReplyError") return `cannot read INFO persistence (${error.message.split("\n")[0]})`;
      throw error;
    }
    const aof = /^aof_enabled:(\d+)\r?$/m.exec(info)?.[1];
    if (aof === "1") return null;
    return aof === undefined ? "reports no aof_enabled in INFO persistence" : "runs without AOF (aof_enabled:0)";
  }

  return {
    async require(operation) {
      if (confirmed) return;
      asking ??= ask().finally(() => {
        asking = undefined;
      });
      let volatile: { address: string; reason: string } | null;
      try {
        volatile = await asking;
      } catch (error) {
        throw backendUnavailable(operation ?? "checking Redis persistence", error);
      }
      if (volatile === null) {
        confirmed = true;
        return;
      }
      const { address, reason } = volatile;
      throw new ProgressionError(
        ErrorCode.VolatileStore,
        `${operation === undefined ? "" : `${operation}: `}Redis at ${address} ${reason}: a restart or crash of it loses every change since each ` +
          `player's last PostgreSQL snapshot, or everything without durability (progress, awards, claims, inventory players were told they have); ` +
          `set "appendonly yes" on it (appendfsync everysec or always), or pass allowVolatileRedis: true to accept that loss` +
          (operation === undefined ? "" : "; nothing was changed"),
        { address, ...(operation === undefined ? {} : { operation }) },
      );
    },
  };
}

/** Backend members that run before or without the check: they read or write no data. */
const UNCHECKED = new Set(["kind", "ready", "health", "close"]);

/** `backend` with every data method running `check.require(<method name>)` first. */
export function checkedBackend<Backend extends object>(backend: Backend, check: PersistenceCheck): Backend {
  const checked: Record<string, unknown> = { ...(backend as Record<string, unknown>) };
  for (const [name, member] of Object.entries(backend)) {
    if (typeof member !== "function" || UNCHECKED.has(name)) continue;
    const method = member as (...args: unknown[]) => unknown;
    checked[name] = async function (this: unknown, ...args: unknown[]): Promise<unknown> {
      await check.require(name);
      return method.apply(this, args);
    };
  }
  return checked as Backend;
}
