import type { HoldRecord, HoldState } from "../../model/hold.ts";
import type { AwardRecord } from "../../model/award.ts";
import type { Balance } from "../../model/balance.ts";
import type { CounterState } from "../../model/counter-state.ts";
import type { SubjectSnapshot } from "../../model/subject-state.ts";
import type { MilestoneCounts } from "../../model/milestone-stats.ts";
import type { RarityCounts } from "../../model/rarity.ts";
import { counterKind, decodeCounterText } from "../../counters/counter-kinds.ts";

/**
 * The stored text encodings of a subject, mirrored from lua/includes/codec.lua, includes/counters/<kind>.lua and includes/holds.lua
 * (TypeScript reads them for readState/export and writes them for a snapshot restore), and of the milestone stats hash
 * (includes/milestone-stats.lua).
 */

export const AWARD_FIELD_PREFIX = "!";

export function decodeAward(code: string, raw: string): AwardRecord {
  const [earned, retro, claimed] = raw.split(",");
  return {
    code,
    earnedAt: Number(earned),
    retroactive: retro === "1",
    claimedAt: claimed === undefined || claimed === "" ? null : Number(claimed),
  };
}

export function encodeAward(award: AwardRecord): string {
  if (!award.retroactive && award.claimedAt === null) return String(award.earnedAt);
  return `${award.earnedAt},${award.retroactive ? 1 : 0},${award.claimedAt ?? ""}`;
}

/** Counters and awards of a state hash (HGETALL); bookkeeping fields are skipped. */
export function decodeStateHash(fields: Readonly<Record<string, string>>): {
  counters: Map<string, CounterState>;
  awards: Map<string, AwardRecord>;
} {
  const counters = new Map<string, CounterState>();
  const awards = new Map<string, AwardRecord>();
  for (const [field, raw] of Object.entries(fields)) {
    if (field.startsWith("~")) continue;
    if (field.startsWith(AWARD_FIELD_PREFIX)) {
      const code = field.slice(AWARD_FIELD_PREFIX.length);
      awards.set(code, decodeAward(code, raw));
    } else {
      const counter = decodeCounterText(raw);
      if (counter) counters.set(field, counter);
    }
  }
  return { counters, awards };
}

export function decodeBalancesHash(subject: string, fields: Readonly<Record<string, string>>): Balance[] {
  const byItem = new Map<string, { free: number; held: number }>();
  for (const [field, raw] of Object.entries(fields)) {
    const item = field.slice(2);
    const entry = byItem.get(item) ?? { free: 0, held: 0 };
    if (field.startsWith("f:")) entry.free = Number(raw);
    else entry.held = Number(raw);
    byItem.set(item, entry);
  }
  return [...byItem.keys()]
    .sort()
    .map((item) => ({ subject, item, free: byItem.get(item)?.free ?? 0, held: byItem.get(item)?.held ?? 0 }));
}

const HOLD_STATES: Readonly<Record<string, HoldState>> = { h: "held", c: "committed", r: "released", x: "expired" };
const HOLD_STATE_CHARS: Readonly<Record<HoldState, string>> = { held: "h", committed: "c", released: "r", expired: "x" };

export function decodeHold(subject: string, holdId: string, raw: string): HoldRecord | null {
  const match = /^(\d+),(-?\d+),(-?\d+),([a-z]),(-?\d*),(.*)$/s.exec(raw);
  if (!match) return null;
  const [, quantity, createdAt, expiresAt, state, settledAt, item] = match;
  return {
    holdId,
    subject,
    item: item ?? "",
    quantity: Number(quantity),
    createdAt: Number(createdAt),
    expiresAt: Number(expiresAt),
    state: HOLD_STATES[state ?? ""] ?? "held",
    settledAt: settledAt ? Number(settledAt) : null,
  };
}

export function encodeHold(hold: HoldRecord): string {
  return `${hold.quantity},${hold.createdAt},${hold.expiresAt},${HOLD_STATE_CHARS[hold.state]},${hold.settledAt ?? ""},${hold.item}`;
}

/** What importSubject-7.lua installs: [stateFields, balanceFields, open holds, historyCompleteFor or ""]. */
export function encodeSnapshotForImport(snapshot: SubjectSnapshot): [string[], string[], Array<[string, string, number]>, string] {
  const stateFields: string[] = [];
  for (const [id, counter] of snapshot.counters) stateFields.push(id, counterKind(counter.kind).encodeText(counter));
  for (const [code, award] of snapshot.awards) stateFields.push(`${AWARD_FIELD_PREFIX}${code}`, encodeAward(award));
  const balanceFields: string[] = [];
  for (const balance of snapshot.balances) {
    if (balance.free !== 0) balanceFields.push(`f:${balance.item}`, String(balance.free));
    if (balance.held !== 0) balanceFields.push(`h:${balance.item}`, String(balance.held));
  }
  const holds = snapshot.holds
    .filter((hold) => hold.state === "held")
    .map((hold): [string, string, number] => [hold.holdId, encodeHold(hold), hold.expiresAt]);
  return [stateFields, balanceFields, holds, snapshot.historyCompleteFor ?? ""];
}

/** The milestone stats hash (lua/includes/milestone-stats.lua): `r:<code>` reached, `c:<code>` claimed. */
export function decodeMilestoneStats(fields: Record<string, string>): Map<string, MilestoneCounts> {
  const stats = new Map<string, { reached: number; claimed: number }>();
  for (const [field, raw] of Object.entries(fields)) {
    const kind = field.slice(0, 2);
    if (kind !== "r:" && kind !== "c:") continue;
    const code = field.slice(2);
    const counts = stats.get(code) ?? { reached: 0, claimed: 0 };
    if (kind === "r:") counts.reached = Number(raw);
    else counts.claimed = Number(raw);
    stats.set(code, counts);
  }
  return stats;
}

/** The window's UTC days as the rarity hash names them (base 36, lua/includes/rarity.lua), oldest first. */
export function rarityWindowDays(today: number, windowDays: number): string[] {
  const days: string[] = [];
  for (let day = today - windowDays + 1; day <= today; day += 1) days.push(day.toString(36));
  return days;
}

/** Sums an HMGET of `rarityWindowDays` x (`a:<day>`, then `<day>:<code>` per code) into the window's counts. */
export function decodeRarityCounts(codes: readonly string[], dayCount: number, values: readonly (string | null)[]): RarityCounts {
  let activePlayers = 0;
  const holders = new Map<string, number>();
  const stride = 1 + codes.length;
  for (let d = 0; d < dayCount; d += 1) {
    activePlayers += Number(values[d * stride] ?? 0);
    codes.forEach((code, i) => {
      const raw = values[d * stride + 1 + i];
      if (raw !== null && raw !== undefined) holders.set(code, (holders.get(code) ?? 0) + Number(raw));
    });
  }
  return { activePlayers, holders };
}
