import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { packr } from "../../src/backends/redis/apply-request-codec.ts";
import { registerScripts, runScript } from "../../src/backends/redis/redis-commands.ts";
import { ScriptStatus } from "../../src/backends/redis/script-errors.ts";
import type { ProgressionBackend } from "../../src/backends/contract/progression-backend.ts";
import { T0, redisBackendForTest } from "./redis-backend-fixtures.ts";

/**
 * applyBatch-n.lua checks the history log text of each subject before writing anything (one gsub over
 * the whole text, includes/history.lua): well-formed lines are applied and folded as they came, and any
 * text with a line that is not one is refused as a whole.
 */
describe("redis backend: history log text from the caller", () => {
  let backend: ProgressionBackend;
  let client: Redis;
  let prefix: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ backend, client, prefix, cleanup } = await redisBackendForTest());
    registerScripts(client);
  });
  afterEach(async () => cleanup());

  const line = "fg0|kill|\t1,1,mkbx1234,mkbx1234,1";
  const apply = async (subject: string, text: string): Promise<number> => {
    const keys = [`${prefix}:dirty`, `${prefix}:milestone-stats`, `${prefix}:rarity`, ...["s", "e", "l", "r", "rl", "o"].map((kind) => `${prefix}:${kind}:{${subject}}`)];
    const payload = packr.pack([T0, 0, 1000, [], [[subject, 0, [], [text, []]]], "set", 1000]);
    const [status] = packr.unpack(await runScript(client, { script: "applyBatch", keys, argv: [payload, "abcdef", "0123456789abcdef"] })) as [number];
    return status;
  };

  it("applies well-formed lines, tags with a bar or quotes among them", async () => {
    const texts = ["", line, `${line}\n${line}`, 'fg1|kill|{"creature":"a|b"}\t2,3,mkbx1234,mkbx1299,2', "fg1|kill_streak|\t1,1,0,0,1"];
    for (const [i, text] of texts.entries()) expect(await apply(`ok${i}`, text)).toBe(ScriptStatus.Ok);
    const history = await backend.readHistory("ok3");
    expect(history.parts).toEqual([{ part: expect.any(String), type: "kill", tags: '{"creature":"a|b"}', day: parseInt("fg1", 36), count: 2, sum: 3, firstAt: parseInt("mkbx1234", 36), lastAt: parseInt("mkbx1299", 36), maxAmount: 2 }]);
    // Two lines of one rollup fold into one.
    expect((await backend.readHistory("ok2")).parts).toMatchObject([{ count: 2, sum: 2 }]);
  });

  it("refuses a text with any malformed line, writing nothing", async () => {
    const texts = [
      "\n",
      `${line}\n`,
      `\n${line}`,
      `${line}\n\n${line}`,
      `#${line}`,
      `${line}#`,
      "FG0|kill|\t1,1,mkbx1234,mkbx1234,1",
      "fg0|kill|\t1,1,mkbx1234,mkbx1234",
      "fg0|kill|\t1,1,mkbx1234,mkbx1234,1,1",
      "fg0|kill|\t1,,mkbx1234,mkbx1234,1",
      "fg0|kill|1,1,mkbx1234,mkbx1234,1",
      "fg0|kill|\t\t1,1,mkbx1234,mkbx1234,1",
      "fg0|kill\t1,1,mkbx1234,mkbx1234,1",
      `${line}\nfg0|kill|\t1,1,mkbx-1234,mkbx1234,1`,
    ];
    for (const [i, text] of texts.entries()) {
      expect(await apply(`bad${i}`, text), JSON.stringify(text)).toBe(ScriptStatus.InvalidInput);
      expect(await client.keys(`${prefix}:*{bad${i}}`)).toEqual([]);
    }
  });
});
