/**
 * What rarity (src/backends/redis/lua/includes/rarity.lua) costs inside Redis, measured by `npm run
 * bench:store` on its own redis-server: the per-award count (one holder +1) and the active-player update
 * (a subject's first apply of a day: its day and each of its awards move to today). The functions run
 * from a probe script built with the backend's own include, so the figure is theirs alone; Redis CPU
 * (INFO cpu) divided by the operations.
 */
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { LUA_DIR, loadLuaScripts } from "../../src/backends/redis/script-loader.ts";

const PROBE = `--- @include "includes/rarity"
local mode, count, day = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
if mode == "award" then
  for i = 1, count do countHolder(KEYS[1], "milestone_" .. (i % 50), 1, day) end
else
  for i = 2, #KEYS do noteActivity(KEYS[1], KEYS[i], day, redis.call("HGET", KEYS[i], "~a")) end
end
return 0
`;

export interface RarityCost {
  /** Redis CPU per award counted (us). */
  readonly perAwardUs: number;
  /** Redis CPU per active-player update of a subject holding `awardsPerSubject` awards (us). */
  readonly perActiveUpdateUs: number;
  /** The same subjects' later applies that day: the check that finds the day already counted (us; the apply reads "~a" with its other fields, this includes an HGET). */
  readonly perSameDayCheckUs: number;
  readonly awardsPerSubject: number;
}

export async function measureRarityCost(client: Redis, redisCpuSeconds: (client: Redis) => Promise<number>): Promise<RarityCost> {
  const dir = mkdtempSync(join(tmpdir(), "rarity-probe-"));
  symlinkSync(join(LUA_DIR, "includes"), join(dir, "includes"));
  writeFileSync(join(dir, "rarityProbe-n.lua"), PROBE);
  const lua = loadLuaScripts(dir).find((script) => script.name === "rarityProbe")?.lua;
  rmSync(dir, { recursive: true });
  if (lua === undefined) throw new Error("the rarity probe script did not load");
  const sha = String(await client.script("LOAD", lua));
  const rarityKey = "rarity-bench:rarity";
  const day = 20_000;

  const AWARDS = 200_000;
  const before = await redisCpuSeconds(client);
  for (let done = 0; done < AWARDS; done += 10_000) await client.evalsha(sha, 1, rarityKey, "award", 10_000, day);
  const perAwardUs = (((await redisCpuSeconds(client)) - before) * 1e6) / AWARDS;

  // 10,000 subjects holding 10 awards each (fields as the apply writes them), last active yesterday.
  const SUBJECTS = 10_000;
  const AWARDS_PER_SUBJECT = 10;
  const stateKey = (i: number): string => `rarity-bench:s:{p${i}}`;
  for (let i = 0; i < SUBJECTS; i += 1000) {
    const pipeline = client.pipeline();
    for (let j = i; j < i + 1000; j += 1) {
      const fields: string[] = ["~a", (day - 1).toString(36), "~b", "x".repeat(48)];
      for (let a = 0; a < AWARDS_PER_SUBJECT; a += 1) fields.push(`!milestone_${a}`, String(1_767_225_600_000 + a));
      for (let c = 0; c < 20; c += 1) fields.push(`c${c}`, "s,5,lx2z1,lx2z1");
      pipeline.hset(stateKey(j), ...fields);
    }
    await pipeline.exec();
  }
  const activity = async (): Promise<number> => {
    const started = await redisCpuSeconds(client);
    for (let i = 0; i < SUBJECTS; i += 100) {
      const keys = Array.from({ length: 100 }, (_, k) => stateKey(i + k));
      await client.evalsha(sha, 1 + keys.length, rarityKey, ...keys, "activity", 0, day);
    }
    return (((await redisCpuSeconds(client)) - started) * 1e6) / SUBJECTS;
  };
  const perActiveUpdateUs = await activity(); // first apply of the day: moves
  const perSameDayCheckUs = await activity(); // later that day: finds "~a" = today

  let cursor = "0";
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", "rarity-bench:*", "COUNT", 5000);
    cursor = next;
    if (keys.length > 0) await client.unlink(...keys);
  } while (cursor !== "0");
  return { perAwardUs, perActiveUpdateUs, perSameDayCheckUs, awardsPerSubject: AWARDS_PER_SUBJECT };
}
