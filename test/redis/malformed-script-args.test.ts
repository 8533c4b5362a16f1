import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import { isProgressionError } from "../../src/errors/progression-error.ts";
import { packr } from "../../src/backends/redis/apply-request-codec.ts";
import { registerScripts } from "../../src/backends/redis/redis-commands.ts";
import { ScriptStatus, scriptError } from "../../src/backends/redis/script-errors.ts";
import type { ProgressionBackend } from "../../src/backends/contract/progression-backend.ts";
import { T0, check, counter, planOf, redisBackendForTest } from "./redis-backend-fixtures.ts";

/** Scripts fed garbage answer with a status code (a typed error), never a Lua stack trace, and write nothing. */
describe("redis backend: malformed script arguments", () => {
  let client: Redis;
  let prefix: string;
  let backend: ProgressionBackend;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ client, prefix, backend, cleanup } = await redisBackendForTest());
    registerScripts(client);
  });
  afterEach(async () => cleanup());

  const decode = (raw: Buffer) => packr.unpack(raw) as [number, string, unknown];
  const keyCount = async () => (await client.keys(`${prefix}:*`)).length;

  it("applyBatch: garbage payloads and bad shapes", async () => {
    const dirty = `${prefix}:dirty`;
    const state = `${prefix}:s:{x}`;
    const payloads: Array<Buffer | string> = [
      "not msgpack at all \u0000\u00ff",
      packr.pack("a string"),
      packr.pack([T0, 0, 0, "soon", [], []]),
      packr.pack([T0, 0, 0, 1000, [["c", "q", 1, []]], []]),
      packr.pack([T0, 0, 0, 1000, [["c", "s", 1, [["k", 1, 1, 0]]]], [["x", 0, ["c", 1, T0]]]]),
      packr.pack([T0, 0, 0, 1000, [["c", "s", 1, [["k", 1, 1, 0]]]], [["x", 0, ["c", -5, T0, ""]]]]),
      packr.pack([T0, 0, 0, 1000, [["c", "s", 1, [["k", 1, 1, 0]]]], [["x", 0, ["unknown", 1, T0, ""]]]]),
      packr.pack([T0, 0, 0, 1000, [["c", "s", 1, [["k", 1, 1, [["gold", 0]]]]]], [["x", 0, ["c", 1, T0, ""]]]]),
    ];
    for (const payload of payloads) {
      const [status, message] = decode(await client["applyBatch:1Buffer"](4, dirty, state, `${prefix}:e:{x}`, `${prefix}:l:{x}`, payload, "abcdef"));
      expect(status).toBe(ScriptStatus.InvalidInput);
      expect(message).not.toMatch(/stack|traceback|user_script/);
      const error = scriptError(status, message, "apply");
      expect(isProgressionError(error, ErrorCode.InvalidInput)).toBe(true);
    }
    // A batch digest of the wrong length.
    const valid = packr.pack([T0, 0, 0, 1000, [["c", "s", 1, [["k", 1, 1, 0]]]], [["x", 0, ["c", 1, T0, ""]]]]);
    const [digestStatus] = decode(await client["applyBatch:1Buffer"](4, dirty, state, `${prefix}:e:{x}`, `${prefix}:l:{x}`, valid, "abc"));
    expect(digestStatus).toBe(ScriptStatus.InvalidInput);
    // Wrong key count for the subjects listed.
    const [status] = decode(
      await client["applyBatch:1Buffer"](1, dirty, packr.pack([T0, 0, 0, 1000, [], [["x", 0, []]]]), "abcdef"),
    );
    expect(status).toBe(ScriptStatus.InvalidInput);
    expect(await keyCount()).toBe(0);
  });

  it("ledger scripts: non-numeric quantities, missing arguments, unknown actions", async () => {
    const subjectKeys = [`${prefix}:s:{x}`, `${prefix}:l:{x}`, `${prefix}:h:{x}`, `${prefix}:t:{x}`, `${prefix}:dirty`, `${prefix}:holds-by-expiry`];
    const idem = `${prefix}:k:{x}1:key`;
    const cases: Array<[Promise<Buffer>, number]> = [
      [client["changeFree:1Buffer"](...subjectKeys, idem, "x", "gem", "lots", "[]", T0, "0", 1000, "0", 1), ScriptStatus.InvalidQuantity],
      [client["changeFree:1Buffer"](...subjectKeys, idem, "x", "gem", "1e400", "[]", T0, "0", 1000, "0", 1), ScriptStatus.InvalidQuantity],
      [client["changeFree:1Buffer"](...subjectKeys, idem, "x", "gem", 1, "[]", T0, "0", 1000, "0", 7), ScriptStatus.InvalidInput],
      [client["changeFree:1Buffer"](...subjectKeys, idem, "x", "gem", 1, "[]", "soon", "0", 1000, "0", 1), ScriptStatus.InvalidInput],
      [client["hold:1Buffer"](...subjectKeys, idem, "x", "gem", 1, "[]", T0, "0", 1000, "0", -5, "hid"), ScriptStatus.InvalidInput],
      [client["settleHold:1Buffer"](...subjectKeys, "x", "hid", "explode", "", T0, "0", 1000, "0"), ScriptStatus.InvalidInput],
      [client["readLedger:1Buffer"](...subjectKeys, "x", "whatever", 0, "", T0, "0", 1000, "0"), ScriptStatus.InvalidInput],
      [client["claim:1Buffer"](`${prefix}:s:{x}`, `${prefix}:l:{x}`, idem, `${prefix}:dirty`, "x", "code", "[]", T0, 1000, "0", "gold"), ScriptStatus.InvalidInput],
      [client["importSubject:1Buffer"](...subjectKeys, "garbage"), ScriptStatus.InvalidInput],
    ];
    for (const [call, expected] of cases) {
      const [status, message] = decode(await call);
      expect([status, message]).toEqual([expected, expect.any(String)]);
    }
    expect(await keyCount()).toBe(0);
  });

  it("bad input never reaches a script: the backend boundary refuses it first", async () => {
    const plan = planOf(counter("kills001", "sum", [check("k1", 1)]));
    // MONITOR sees every client of the shared server: keep only commands naming this test's prefix.
    const monitor = await client.duplicate().monitor();
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
    await client.ping();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(evals()).toBe(0);
    // A valid call afterwards shows up, so the monitor was listening.
    await backend.acquire({ idempotencyKey: "k", subject: "x", item: "gem", quantity: 1, now: T0 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    monitor.disconnect();
    expect(evals()).toBeGreaterThan(0);
  });
});
