import type { ChainableCommander, ClientContext, Redis, Result } from "ioredis";
import { loadLuaScripts } from "./script-loader.ts";

/**
 * The scripts as typed ioredis commands. Each is registered under `<name>:<SCRIPTS_VERSION>`, so two
 * versions of this package can share one Redis; `scriptCommand` is the one place that name is made.
 * Bump SCRIPTS_VERSION whenever a script's keys, arguments or stored encodings change.
 */
export const SCRIPTS_VERSION = "12";

/** Every script of lua/, by file name without `.lua`: `<name>-<key count>` (`n`: the caller says). */
export const SCRIPT_FILES = [
  "applyBatch-n",
  "balance-6",
  "changeFree-7",
  "claim-5",
  "dropHistory-1",
  "eraseSubject-12",
  "expireHolds-6",
  "foldHistory-2",
  "getHold-6",
  "hold-7",
  "importSubject-7",
  "list-6",
  "readHistory-2",
  "seed-6",
  "settleHold-6",
  "transfer-12",
  "transferCredit-8",
  "transferDebit-8",
  "transferPrepare-7",
  "transferSettle-8",
] as const;

type ScriptFile = (typeof SCRIPT_FILES)[number];
type NameOf<File> = File extends `${infer Name}-${string}` ? Name : never;
export type ScriptName = NameOf<ScriptFile>;

export type ScriptArg = string | Buffer | number;

/** One call of a script: its keys and ARGV, made by the script's argument builder (script-args.ts). */
export interface ScriptCall {
  readonly script: ScriptName;
  readonly keys: readonly string[];
  readonly argv: readonly ScriptArg[];
}

/** The command ioredis defines per script; its `Buffer` variant (every script replies msgpack) is called. */
type VersionedName<Name extends ScriptName> = `${Name}:${typeof SCRIPTS_VERSION}`;
type ScriptCommandName = `${VersionedName<ScriptName>}Buffer`;
type ScriptCommands<Context extends ClientContext> = {
  [Name in ScriptName as `${VersionedName<Name>}Buffer`]: (numberOfKeys: number, ...keysAndArgs: ScriptArg[]) => Result<Buffer, Context>;
};

declare module "ioredis" {
  // Declaration merging: the script commands become members of every client and pipeline.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the members come from ScriptCommands
  interface RedisCommander<Context> extends ScriptCommands<Context> {}
}

/** The part of an ioredis client (a `Redis`, or a `Cluster`) the backend uses (depend on the narrowest type). */
export type ProgressionRedisClient = Pick<
  Redis,
  "defineCommand" | "script" | "pipeline" | "multi" | "ping" | "info" | "get" | "set" | "hgetall" | "hget" | "hmget" | "hsetnx" | "scan" | "unlink" | "sadd" | "spop" | "scard" | "zrangebyscore" | "quit" | ScriptCommandName
> & { readonly isCluster?: boolean; readonly status: string };

/** The table read from the file names: each script's name and KEYS count (undefined: variable). */
const SCRIPTS = SCRIPT_FILES.map((file: ScriptFile) => {
  const [name, count] = file.split("-") as [NameOf<typeof file>, string];
  return { file, name, numberOfKeys: count === "n" ? undefined : Number(count) };
});
const KEY_COUNTS = new Map<ScriptName, number | undefined>(SCRIPTS.map((script) => [script.name, script.numberOfKeys]));

/** The versioned name a script is registered under: the one place SCRIPTS_VERSION is applied. */
export function scriptCommand<Name extends ScriptName>(script: Name): VersionedName<Name> {
  return `${script}:${SCRIPTS_VERSION}`;
}

/**
 * Runs a script call on a client (a promise of the msgpack reply) or queues it on a pipeline. The
 * key count always travels with the call, and a fixed-count script refuses any other count here
 * (an argument builder's bug) instead of letting keys slide into ARGV.
 */
export function runScript(target: Pick<Redis, ScriptCommandName>, call: ScriptCall): Promise<Buffer>;
export function runScript(target: ChainableCommander, call: ScriptCall): ChainableCommander;
export function runScript(target: ScriptCommands<ClientContext>, call: ScriptCall): Promise<Buffer> | ChainableCommander {
  const expected = KEY_COUNTS.get(call.script);
  if (expected !== undefined && expected !== call.keys.length) {
    throw new Error(`script ${call.script} takes ${expected} keys, its call has ${call.keys.length}`);
  }
  return target[`${scriptCommand(call.script)}Buffer`](call.keys.length, ...call.keys, ...call.argv);
}

const registered = new WeakSet<object>();

/**
 * Defines every script on the client once (ioredis calls it with EVALSHA, falling back to EVAL), and
 * loads them into Redis right away: compiling the apply script on the first flush instead cost that
 * flush a few hundred ms, which players saw as a late first unlock.
 */
export function registerScripts(client: Pick<Redis, "defineCommand"> & Partial<Pick<Redis, "script">>): void {
  if (registered.has(client)) return;
  const loaded = new Map(loadLuaScripts().map((script) => [script.file, script.lua]));
  for (const { file, name } of SCRIPTS) {
    const lua = loaded.get(`${file}.lua`);
    if (lua === undefined) throw new Error(`Lua script ${file}.lua is missing from the package`);
    // No numberOfKeys: runScript passes the count with every call.
    client.defineCommand(scriptCommand(name), { lua });
    // Best effort: if it fails (Redis not up yet), the first call loads it as before.
    client.script?.("LOAD", lua).catch(() => {});
  }
  registered.add(client);
}
