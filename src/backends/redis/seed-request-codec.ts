import { counterKind } from "../../counters/counter-kinds.ts";
import type { SeedRequest } from "../contract/history-backend.ts";
import { packCheck, packr } from "./apply-request-codec.ts";
import { requireText, requireTime } from "./boundary-validation.ts";

/**
 * The msgpack request of seed-6.lua: [now, expectVersion, counterSet, counters, awards, dependents]. An
 * award is [code, earnedAt, rewards|0] and, for a milestone with preconditions or a period, then
 * [requires|0, availableUntil|0]; a dependent is [counterId, kind letter, packed check].
 */
export function packSeedRequest(request: SeedRequest): Buffer {
  const counters: string[] = [];
  for (const { counter, state } of request.counters) counters.push(requireText(counter, "counter", 200), counterKind(state.kind).encodeText(state));
  const awards = request.awards.map(({ check, earnedAt }) => {
    const [code, , , rewards, ...rest] = packCheck(check);
    return [requireText(code, "code", 200), requireTime(earnedAt, "earnedAt"), rewards, ...rest];
  });
  const dependents = (request.dependents ?? []).map(({ counter, kind, check }) => [requireText(counter, "counter", 200), counterKind(kind).scriptCode, packCheck(check)]);
  return packr.pack([requireTime(request.now), request.expectVersion, requireText(request.counterSet, "counterSet", 200), counters, awards, dependents]);
}
