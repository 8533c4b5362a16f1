import type { RarityCounts } from "../../model/rarity.ts";

/** Days of counts kept: the longest rarity window is a year; older days can no longer be asked for. */
export const RARITY_KEEP_DAYS = 400;

/**
 * Rarity counts in memory, as the Redis backend keeps them (includes/rarity.lua, docs/semantics.md
 * "Rarity"): per UTC day, the players whose latest apply was that day, and of those the holders of each
 * award. A subject's first apply of a day moves it, with its awards, from its previous day to that day,
 * so a window's counts are the sum of its days and nothing scans players.
 */
export class RarityTally {
  private readonly activeByDay = new Map<number, number>();
  private readonly holdersByDay = new Map<number, Map<string, number>>();

  /**
   * The subject applied something on `today`: returns the day its awards are counted under from now on
   * (today, or a later day it was already seen on when clocks of two processes disagree).
   */
  noteActivity(subject: { lastActiveDay?: number | undefined; readonly awards: ReadonlyMap<string, unknown> }, today: number): number {
    const last = subject.lastActiveDay;
    if (last !== undefined && last >= today) return last;
    if (!this.activeByDay.has(today)) this.prune(today - RARITY_KEEP_DAYS);
    const movable = last !== undefined && last >= today - RARITY_KEEP_DAYS;
    this.add(this.activeByDay, today, 1);
    if (movable) this.add(this.activeByDay, last, -1);
    for (const code of subject.awards.keys()) {
      this.countHolder(code, 1, today);
      if (movable) this.countHolder(code, -1, last);
    }
    subject.lastActiveDay = today;
    return today;
  }

  /** One more (1) or one fewer (-1) holder of `code` among the players last active on `activeDay`. */
  countHolder(code: string, delta: 1 | -1, activeDay: number | undefined): void {
    if (activeDay === undefined) return; // never active since rarity counts began: counted on its next apply
    let holders = this.holdersByDay.get(activeDay);
    if (holders === undefined) {
      holders = new Map();
      this.holdersByDay.set(activeDay, holders);
    }
    this.add(holders, code, delta);
  }

  /** Takes an erased subject out: its active day and every award it held. */
  forget(subject: { readonly lastActiveDay?: number | undefined; readonly awards: ReadonlyMap<string, unknown> }): void {
    const day = subject.lastActiveDay;
    if (day === undefined) return;
    this.add(this.activeByDay, day, -1);
    for (const code of subject.awards.keys()) this.countHolder(code, -1, day);
  }

  counts(today: number, windowDays: number, codes: readonly string[]): RarityCounts {
    let activePlayers = 0;
    const holders = new Map<string, number>();
    for (let day = today - windowDays + 1; day <= today; day += 1) {
      activePlayers += this.activeByDay.get(day) ?? 0;
      const ofDay = this.holdersByDay.get(day);
      if (ofDay === undefined) continue;
      for (const code of codes) {
        const count = ofDay.get(code);
        if (count !== undefined) holders.set(code, (holders.get(code) ?? 0) + count);
      }
    }
    return { activePlayers, holders };
  }

  private prune(beforeDay: number): void {
    for (const day of this.activeByDay.keys()) if (day < beforeDay) this.activeByDay.delete(day);
    for (const day of this.holdersByDay.keys()) if (day < beforeDay) this.holdersByDay.delete(day);
  }

  private add<K>(map: Map<K, number>, key: K, delta: number): void {
    const next = (map.get(key) ?? 0) + delta;
    if (next === 0) map.delete(key);
    else map.set(key, next);
  }
}
