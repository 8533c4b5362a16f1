import type { Redis, Result } from "ioredis";
import { loadLuaScripts } from "./script-loader.ts";

/**
 * The scripts as typed ioredis commands, registered under versioned names (`name:version`, BullMQ
 * style) so two versions of this package can share one Redis. Bump SCRIPTS_VERSION whenever a
 * script's keys, arguments or stored encodings change. Every script replies with msgpack, so the
 * `...Buffer` variants are the ones called.
 */
export const SCRIPTS_VERSION = "1";

type Arg = string | Buffer | number;

declare module "ioredis" {
  interface RedisCommander<Context> {
    "applyBatch:1Buffer"(numberOfKeys: number, ...keysAndArgs: Arg[]): Result<Buffer, Context>;
    "changeFree:1Buffer"(...keysAndArgs: Arg[]): Result<Buffer, Context>;
    "transfer:1Buffer"(...keysAndArgs: Arg[]): Result<Buffer, Context>;
    "hold:1Buffer"(...keysAndArgs: Arg[]): Result<Buffer, Context>;
    "settleHold:1Buffer"(...keysAndArgs: Arg[]): Result<Buffer, Context>;
    "readLedger:1Buffer"(...keysAndArgs: Arg[]): Result<Buffer, Context>;
    "claim:1Buffer"(...keysAndArgs: Arg[]): Result<Buffer, Context>;
    "importSubject:1Buffer"(...keysAndArgs: Arg[]): Result<Buffer, Context>;
  }
}

/** The part of an ioredis client the backend uses (upstash style: depend on the narrowest type). */
export type ProgressionRedisClient = Pick<
  Redis,
  | "defineCommand"
  | "script"
  | "pipeline"
  | "multi"
  | "hgetall"
  | "sadd"
  | "spop"
  | "scard"
  | "zrangebyscore"
  | "quit"
  | "status"
  | "applyBatch:1Buffer"
  | "changeFree:1Buffer"
  | "transfer:1Buffer"
  | "hold:1Buffer"
  | "settleHold:1Buffer"
  | "readLedger:1Buffer"
  | "claim:1Buffer"
  | "importSubject:1Buffer"
> & { readonly isCluster?: boolean };

const registered = new WeakSet<object>();

/**
 * Defines every script on the client once (ioredis calls it with EVALSHA, falling back to EVAL), and
 * loads them into Redis right away: compiling the apply script on the first flush instead cost that
 * flush a few hundred ms, which players saw as a late first unlock.
 */
export function registerScripts(client: Pick<Redis, "defineCommand"> & Partial<Pick<Redis, "script">>): void {
  if (registered.has(client)) return;
  for (const script of loadLuaScripts()) {
    client.defineCommand(`${script.name}:${SCRIPTS_VERSION}`, {
      lua: script.lua,
      ...(script.numberOfKeys === undefined ? {} : { numberOfKeys: script.numberOfKeys }),
    });
    // Best effort: if it fails (Redis not up yet), the first call loads it as before.
    client.script?.("LOAD", script.lua).catch(() => {});
  }
  registered.add(client);
}
