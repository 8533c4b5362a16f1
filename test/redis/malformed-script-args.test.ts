import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import { isProgressionError } from "../../src/errors/progression-error.ts";
import { packr } from "../../src/backends/redis/apply-request-codec.ts";
import { SCRIPT_FILES, registerScripts, runScript, type ScriptArg, type ScriptCall, type ScriptName } from "../../src/backends/redis/redis-commands.ts";
import { ScriptStatus, scriptError } from "../../src/backends/redis/script-errors.ts";
import type { ProgressionBackend } from "../../src/backends/contract/progression-backend.ts";
import { startRedisServer, type TestRedisServer } from "../support/redis-server.ts";
import { T0, check, counter, planOf, redisBackendForTest } from "./redis-backend-fixtures.ts";

/** The id a backend call gives applyBatch (16 hex digits). */
const CALL_ID = "0123456789abcdef";

/** Scripts fed garbage answer with a status code (a typed error), never a Lua stack trace, and write nothing. */
describe("redis backend: malformed script arguments", () => {
  let client: Redis;
  let prefix: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ client, prefix, cleanup } = await redisBackendForTest());
    registerScripts(client);
  });
  afterEach(async () => cleanup());

  const decode = (raw: Buffer) => packr.unpack(raw) as [number, string, unknown];
  const keyCount = async () => (await client.keys(`${prefix}:*`)).length;

  it("applyBatch: garbage payloads and bad shapes", async () => {
    const keys = [`${prefix}:dirty`, `${prefix}:milestone-stats`, `${prefix}:rarity`, `${prefix}:s:{x}`, `${prefix}:e:{x}`, `${prefix}:l:{x}`, `${prefix}:r:{x}`, `${prefix}:rl:{x}`, `${prefix}:o:{x}`];
    const applyBatch = (argv: ScriptArg[], groupKeys = keys): ScriptCall => ({ script: "applyBatch", keys: groupKeys, argv });
    const plan = [["c", "s", 1, [["k", 1, 1, 0]]]];
    const row = (overrides: Record<number, unknown>) => ["", Object.assign(["kill", "", 20_000, 1, 1, T0, T0, 1, "id-1"], overrides)];
    const line = "fg0|kill|\t1,1,mkbx1234,mkbx1234,1";
    const payloads: Array<Buffer | string> = [
      "not msgpack at all \u0000\u00ff",
      packr.pack("a string"),
      packr.pack([T0, 0, "soon", [], [], "set", 1000]),
      packr.pack([T0, 0, 1000, [["c", "q", 1, []]], [], "set", 1000]),
      packr.pack([T0, 0, 1000, plan, [["x", 0, ["c", 1, T0]]], "set", 1000]),
      packr.pack([T0, 0, 1000, plan, [["x", 0, ["c", -5, T0, ""]]], "set", 1000]),
      packr.pack([T0, 0, 1000, plan, [["x", 0, ["unknown", 1, T0, ""]]], "set", 1000]),
      packr.pack([T0, 0, 1000, [["c", "s", 1, [["k", 1, 1, [["gold", 0]]]]]], [["x", 0, ["c", 1, T0, ""]]], "set", 1000]),
      // No counter set, no rollup bound; then history rows of the wrong length, count or type.
      packr.pack([T0, 0, 1000, plan, [["x", 0, ["c", 1, T0, ""], 0]]]),
      packr.pack([T0, 0, 1000, plan, [["x", 0, ["c", 1, T0, ""], 0]], "set"]),
      packr.pack([T0, 0, 1000, plan, [["x", 0, ["c", 1, T0, ""], ["", ["kill", "", 1]]]], "set", 1000]),
      packr.pack([T0, 0, 1000, plan, [["x", 0, ["c", 1, T0, ""], [`${line}\nnot a line`, []]]], "set", 1000]),
      packr.pack([T0, 0, 1000, plan, [["x", 0, ["c", 1, T0, ""], [7, []]]], "set", 1000]),
      packr.pack([T0, 0, 1000, plan, [["x", 0, ["c", 1, T0, ""], row({ 3: 0 })]], "set", 1000]),
      packr.pack([T0, 0, 1000, plan, [["x", 0, ["c", 1, T0, ""], row({ 2: -1 })]], "set", 1000]),
      packr.pack([T0, 0, 1000, plan, [["x", 0, ["c", 1, T0, ""], row({ 0: 7 })]], "set", 1000]),
      packr.pack([T0, 0, 1000, plan, [["x", 0, ["c", 1, T0, ""], "rows"]], "set", 1000]),
    ];
    for (const payload of payloads) {
      const [status, message] = decode(await runScript(client, applyBatch([payload, "abcdef", CALL_ID])));
      expect(status).toBe(ScriptStatus.InvalidInput);
      expect(message).not.toMatch(/stack|traceback|user_script/);
      const error = scriptError(status, message, "apply");
      expect(isProgressionError(error, ErrorCode.InvalidInput)).toBe(true);
    }
    // A batch digest of the wrong length.
    const valid = packr.pack([T0, 0, 1000, plan, [["x", 0, ["c", 1, T0, ""], [line, []]]], "set", 1000]);
    const [digestStatus] = decode(await runScript(client, applyBatch([valid, "abc", CALL_ID])));
    expect(digestStatus).toBe(ScriptStatus.InvalidInput);
    // A call id of the wrong length, or none.
    const [callIdStatus] = decode(await runScript(client, applyBatch([valid, "abcdef", "abc"])));
    expect(callIdStatus).toBe(ScriptStatus.InvalidInput);
    const [noCallIdStatus] = decode(await runScript(client, applyBatch([valid, "abcdef"])));
    expect(noCallIdStatus).toBe(ScriptStatus.InvalidInput);
    // The rows above are refused for what is wrong in them: a well-formed history row goes through.
    const [rowStatus] = decode(await runScript(client, applyBatch([packr.pack([T0, 0, 1000, plan, [["x", 0, ["c", 1, T0, ""], row({})]], "set", 1000]), "abcdef", CALL_ID])));
    expect(rowStatus).toBe(ScriptStatus.Ok);
    await client.unlink(...(await client.keys(`${prefix}:*`)));
    // Wrong key count for the subjects listed.
    const [status] = decode(await runScript(client, applyBatch([packr.pack([T0, 0, 1000, [], [["x", 0, [], 0]], "set", 1000]), "abcdef", CALL_ID], keys.slice(0, 8))));
    expect(status).toBe(ScriptStatus.InvalidInput);
    expect(await keyCount()).toBe(0);
  });

  it("ledger scripts: non-numeric quantities, missing arguments, unknown actions", async () => {
    const ledger = [`${prefix}:s:{x}`, `${prefix}:l:{x}`, `${prefix}:h:{x}`, `${prefix}:t:{x}`, `${prefix}:dirty`, `${prefix}:holds-by-expiry`];
    const idem = `${prefix}:k:{x}1:key`;
    const stats = `${prefix}:milestone-stats`;
    const y = [`${prefix}:s:{y}`, `${prefix}:l:{y}`, `${prefix}:h:{y}`, `${prefix}:t:{y}`, `${prefix}:r:{y}`];
    // ARGV[1..5] of a one-subject ledger script: subject, now, use server time, retention, check restore.
    const head = ["x", T0, "0", 1000, "0"];
    const cases: Array<[ScriptCall, number]> = [
      [{ script: "changeFree", keys: [...ledger, idem], argv: [...head, "gem", "lots", 1, "[]"] }, ScriptStatus.InvalidQuantity],
      [{ script: "changeFree", keys: [...ledger, idem], argv: [...head, "gem", "1e400", 1, "[]"] }, ScriptStatus.InvalidQuantity],
      [{ script: "changeFree", keys: [...ledger, idem], argv: [...head, "gem", 1, 7, "[]"] }, ScriptStatus.InvalidInput],
      [{ script: "changeFree", keys: [...ledger, idem], argv: ["x", "soon", "0", 1000, "0", "gem", 1, 1, "[]"] }, ScriptStatus.InvalidInput],
      [{ script: "hold", keys: [...ledger, idem], argv: [...head, "gem", 1, -5, "hid", "[]"] }, ScriptStatus.InvalidInput],
      [{ script: "settleHold", keys: ledger, argv: [...head, "hid", "explode"] }, ScriptStatus.InvalidInput],
      [{ script: "balance", keys: ledger, argv: [...head, ""] }, ScriptStatus.InvalidInput],
      [{ script: "list", keys: ledger, argv: ["x", T0, "0", "forever", "0"] }, ScriptStatus.InvalidInput],
      [{ script: "getHold", keys: ledger, argv: head }, ScriptStatus.InvalidInput],
      [{ script: "expireHolds", keys: ledger, argv: ["x", T0, "0", 1000, 0] }, ScriptStatus.InvalidInput],
      [{ script: "transfer", keys: [...ledger, idem, ...y], argv: [...head, "x", "gem", 1, "[]", "0"] }, ScriptStatus.InvalidInput],
      [{ script: "transfer", keys: [...ledger, idem, ...y], argv: [...head, "y", "gem", 0, "[]", "0"] }, ScriptStatus.InvalidQuantity],
      [{ script: "transfer", keys: [...ledger, idem, ...y], argv: [...head, "y", "gem", 1, "[]", "yes"] }, ScriptStatus.InvalidInput],
      [{ script: "transfer", keys: [...ledger, idem, ...y], argv: [...head, "y", "gem", 1, "[]", "0"] }, ScriptStatus.UnknownSubject],
      [{ script: "claim", keys: [`${prefix}:s:{x}`, `${prefix}:l:{x}`, idem, `${prefix}:dirty`, stats], argv: ["x", "code", "[]", T0, 1000, "0", "gold"] }, ScriptStatus.InvalidInput],
      [{ script: "claim", keys: [`${prefix}:s:{x}`, `${prefix}:l:{x}`, idem, `${prefix}:dirty`, stats], argv: ["x", "code", "[]", T0, 1000, "0", "gold", 2 ** 60] }, ScriptStatus.InvalidQuantity],
      [{ script: "importSubject", keys: [...ledger.slice(0, 4), ledger[5] ?? "", `${prefix}:r:{x}`, stats], argv: ["garbage"] }, ScriptStatus.InvalidInput],
      [{ script: "seed", keys: [`${prefix}:s:{x}`, `${prefix}:l:{x}`, `${prefix}:r:{x}`, `${prefix}:dirty`, stats, `${prefix}:rarity`], argv: ["x", "garbage"] }, ScriptStatus.InvalidInput],
      [{ script: "seed", keys: [`${prefix}:s:{x}`, `${prefix}:l:{x}`, `${prefix}:r:{x}`, `${prefix}:dirty`, stats, `${prefix}:rarity`], argv: ["x", packr.pack([T0, 0, "set", ["odd"], []])] }, ScriptStatus.InvalidInput],
      [{ script: "seed", keys: [`${prefix}:s:{x}`, `${prefix}:l:{x}`, `${prefix}:r:{x}`, `${prefix}:dirty`, stats, `${prefix}:rarity`], argv: ["x", packr.pack([T0, 0, "set", [], [["code", "soon", 0]]])] }, ScriptStatus.InvalidInput],
      [{ script: "dropHistory", keys: [`${prefix}:r:{x}`], argv: [packr.pack(["part", "yesterday", []])] }, ScriptStatus.InvalidInput],
    ];
    for (const [call, expected] of cases) {
      const [status, message] = decode(await runScript(client, call));
      expect([call.script, status, message]).toEqual([call.script, expected, expect.any(String)]);
    }
    expect(await keyCount()).toBe(0);
  });

  it("every script called without arguments refuses with INVALID_INPUT and writes nothing", async () => {
    const key = (i: number) => `${prefix}:any:{x}${i}`;
    // foldHistory takes no arguments: called without any is its normal call (and it writes nothing on empty keys).
    for (const file of SCRIPT_FILES.filter((name) => !name.startsWith("foldHistory-"))) {
      const [name, count] = file.split("-") as [ScriptName, string];
      const keys = Array.from({ length: count === "n" ? 1 : Number(count) }, (_, i) => key(i));
      const [status, message] = decode(await runScript(client, { script: name, keys, argv: [] }));
      expect([name, status, message]).toEqual([name, ScriptStatus.InvalidInput, expect.any(String)]);
    }
    expect(await keyCount()).toBe(0);
  });
});

describe("redis backend: bad input at the boundary", () => {
  // A private redis-server: MONITOR must see no other test's traffic. (ioredis enters monitor mode
  // a tick after MONITOR's reply, so a line that arrives with that reply breaks its command queue.)
  let server: TestRedisServer;
  let client: Redis;
  let prefix: string;
  let backend: ProgressionBackend;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    server = await startRedisServer({ useEnv: false });
    ({ client, prefix, backend, cleanup } = await redisBackendForTest({}, server.url));
    // The scripts' preload (SCRIPT LOAD, not awaited) is done once this reply is in.
    await client.ping();
  });
  afterEach(async () => {
    await cleanup();
    await server.stop();
  });

  it("bad input never reaches a script: the backend boundary refuses it first", async () => {
    const plan = planOf(counter("kills001", "sum", [check("k1", 1)]));
    const connection = client.duplicate();
    const monitor = await connection.monitor();
    const seen: string[] = [];
    monitor.on("monitor", (_time: string, args: string[]) => {
      if (args.some((arg) => String(arg).startsWith(`${prefix}:`))) seen.push(String(args[0]).toLowerCase());
    });
    await expect(backend.apply({ batchId: "", now: T0, plan, subjects: [] })).rejects.toMatchObject({ code: ErrorCode.InvalidInput });
    await expect(
      backend.apply({ batchId: "b", now: T0, plan, subjects: [{ subject: "x", catchUp: false, increments: [{ counter: "kills001", amount: 1.5, at: T0 }] }] }),
    ).rejects.toMatchObject({ code: ErrorCode.InvalidQuantity });
    await expect(backend.acquire({ idempotencyKey: "k", subject: "x", item: "gem", quantity: 0, now: T0 })).rejects.toMatchObject({ code: ErrorCode.InvalidQuantity });
    await expect(backend.hold({ idempotencyKey: "k", subject: "x", item: "gem", quantity: 1, ttlMs: -1, now: T0 })).rejects.toMatchObject({ code: ErrorCode.InvalidInput });
    await expect(backend.transfer({ idempotencyKey: "k", from: "x", to: "x", item: "gem", quantity: 1, now: T0 })).rejects.toMatchObject({ code: ErrorCode.InvalidInput });
    const evals = () => seen.filter((command) => command.startsWith("eval")).length;
    // MONITOR reports commands in order: once this marker is seen, everything sent before it was too.
    await client.echo(`${prefix}:marker`);
    await expect.poll(() => seen.includes("echo"), { timeout: 5000, interval: 10 }).toBe(true);
    expect(evals()).toBe(0);
    // A valid call afterwards shows up, so the monitor was listening.
    await backend.acquire({ idempotencyKey: "k", subject: "x", item: "gem", quantity: 1, now: T0 });
    await expect.poll(evals, { timeout: 5000, interval: 10 }).toBeGreaterThan(0);
    monitor.disconnect();
    connection.disconnect();
  });
});
