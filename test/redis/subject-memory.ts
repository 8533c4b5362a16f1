import type { Redis } from "ioredis";
import type { CounterPlan } from "../../src/model/counter-plan.ts";
import type { RedisKeys } from "../../src/backends/redis/redis-keys.ts";
import { check, counter, planOf } from "./plan-builders.ts";

/**
 * The memory budget's reference subject (also used by the store benchmark): 20 counters (14 count,
 * 3 window of 7 days, 2 daily, 1 gap) with 8-char ids as the plan makes them, 10 of whose checks are
 * reached after a few batches, with codes of typical length (10 chars, e.g. `kills_3_10`).
 */
export function subjectMemoryPlan(): { plan: CounterPlan; counterIds: string[] } {
  const counters = [];
  for (let i = 0; i < 14; i += 1) {
    const id = `cnt${String(i).padStart(2, "0")}abc`;
    counters.push(counter(id, "sum", i < 10 ? [check(`kills_${i}_10`, 10), check(`kills_${i}_10000`, 10_000)] : [check(`loot_${i}_1000`, 1000)]));
  }
  for (let i = 0; i < 3; i += 1) counters.push(counter(`win${i}xxxxx`, "window", [check(`weekly_${i}`, 1000, { windowDays: 7 })], 7));
  for (let i = 0; i < 2; i += 1) counters.push(counter(`day${i}xxxxx`, "days", [check(`daily_${i}_100`, 100)]));
  counters.push(counter("gap0xxxx", "gap", [check("welcome_back", 30 * 86_400_000)]));
  return { plan: planOf(...counters), counterIds: counters.map((c) => c.id) };
}

/** Sum of MEMORY USAGE over every key of one subject (0 for keys that do not exist). */
export async function subjectMemoryUsage(client: Redis, keys: RedisKeys, subject: string): Promise<number> {
  const k = keys.subject(subject);
  let total = 0;
  for (const key of [k.state, k.eventIds, k.balances, k.holds, k.holdTimers]) {
    const bytes = (await client.call("MEMORY", "USAGE", key, "SAMPLES", "0")) as number | null;
    total += bytes ?? 0;
  }
  return total;
}
