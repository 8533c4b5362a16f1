import type { CounterKind, CounterState } from "../model/counter-state.ts";
import type { CounterBehaviour } from "./counter-kind.ts";
export type { HistoryDay } from "./counter-kind.ts";
import { daysCounter, type LiveDays, type StoredDays } from "./days.ts";
import { gapCounter, type LiveGap, type StoredGap } from "./gap.ts";
import { sumCounter, type LiveSum, type StoredSum } from "./sum.ts";
import { windowCounter, type LiveWindow, type StoredWindow } from "./window.ts";

/** The live state of any counter on the embedded backend. */
export type LiveCounter = LiveSum | LiveWindow | LiveDays | LiveGap;
/** Any counter as stored in PostgreSQL (`subjects.counters`). */
export type StoredCounter = StoredSum | StoredWindow | StoredDays | StoredGap;

type AnyCounterBehaviour = CounterBehaviour<CounterKind, LiveCounter, StoredCounter>;

/** Every counter kind by name. Adding a kind: its module, its Lua twin, and one entry here. */
const counterKinds: Readonly<Record<CounterKind, AnyCounterBehaviour>> = {
  sum: sumCounter as unknown as AnyCounterBehaviour,
  window: windowCounter as unknown as AnyCounterBehaviour,
  days: daysCounter as unknown as AnyCounterBehaviour,
  gap: gapCounter as unknown as AnyCounterBehaviour,
};

/**
 * The behaviour of a counter kind. Callers pass states of that same kind (the union's members are
 * told apart by `kind`, which is how every caller picks the behaviour).
 */
export function counterKind(kind: CounterKind): AnyCounterBehaviour {
  return counterKinds[kind];
}

/** Decodes a Redis counter field by its leading tag (the untagged kind last). */
const byTextTag = Object.values(counterKinds).sort((a, b) => b.textTag.length - a.textTag.length);
export function decodeCounterText(raw: string): CounterState | null {
  for (const behaviour of byTextTag) {
    if (behaviour.textTag !== "" && raw[0] !== behaviour.textTag) continue;
    return behaviour.decodeText(raw);
  }
  return null;
}
