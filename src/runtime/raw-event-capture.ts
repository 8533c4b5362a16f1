import type { GameplayEvent } from "../model/gameplay-event.ts";
import type { HistoryEntry, RawEventsSettings } from "../model/history.ts";
import { tagsText } from "../model/history.ts";
import { dayOf } from "../model/utc-day.ts";
import type { EventBuffer, PendingBatch } from "./event-buffer.ts";

/** A buffer that can also take a subject with no event (catch-up), as the coalescing buffer can. */
export interface TouchableBuffer extends EventBuffer {
  touch(subject: string): void;
}

/**
 * Raw events (option `historyRawEvents`) captured next to a buffer's rollups: the buffer coalesces
 * each event into its subject's rollup of (type, tags, UTC day); this keeps the event's own time and
 * amount too, and hands them out with that rollup's history entry at drain, so the backend writes them in
 * the same atomic step as the rollup (a retried batch, deduped as a whole, adds none twice).
 *
 * Events go through the buffer first: an event it refuses (bad input, a stat guard) is not kept here
 * either. An event without a time gets the clock's now here, once, so the rollup and the raw event
 * carry the same one. An event with its own id is kept once per buffer, as the buffer keeps it.
 */
export class RawEventCapture implements TouchableBuffer {
  readonly #buffer: TouchableBuffer;
  readonly #clock: () => number;
  readonly #settings: RawEventsSettings;
  /** subject -> rollup key (`<day>|<type>|<tags>`, or `#<event id>`) -> `[at, amount, ...]` in order recorded. */
  #raw = new Map<string, Map<string, number[]>>();

  constructor(buffer: TouchableBuffer, clock: () => number, settings: RawEventsSettings) {
    this.#buffer = buffer;
    this.#clock = clock;
    this.#settings = settings;
  }

  get pendingEvents(): number {
    return this.#buffer.pendingEvents;
  }

  get pendingIncrements(): number {
    return this.#buffer.pendingIncrements;
  }

  add(event: GameplayEvent): void {
    const timed = typeof event === "object" && event !== null && event.at === undefined ? { ...event, at: this.#clock() } : event;
    this.#buffer.add(timed); // validates: throws, keeping nothing, on bad input
    const at = timed.at instanceof Date ? timed.at.getTime() : (timed.at as number);
    const amount = timed.amount ?? 1;
    let bySubject = this.#raw.get(timed.subject);
    if (bySubject === undefined) this.#raw.set(timed.subject, (bySubject = new Map()));
    const key = timed.id === undefined ? `${dayOf(at)}|${timed.type}|${timed.tags === undefined ? "" : tagsText(timed.tags)}` : `#${timed.id}`;
    const events = bySubject.get(key);
    if (events === undefined) bySubject.set(key, [at, amount]);
    else if (timed.id === undefined) events.push(at, amount);
    // A second event with the same id in one buffer is the same event: kept once.
  }

  touch(subject: string): void {
    this.#buffer.touch(subject);
  }

  drain(): PendingBatch {
    const batch = this.#buffer.drain();
    const raw = this.#raw;
    this.#raw = new Map();
    const settings = this.#settings;
    const subjects = batch.subjects.map((apply) => {
      const bySubject = raw.get(apply.subject);
      if (apply.history === undefined || bySubject === undefined) return apply;
      const history = apply.history.map((entry): HistoryEntry => {
        const events = bySubject.get(entry.eventId === undefined ? `${entry.day}|${entry.type}|${entry.tags}` : `#${entry.eventId}`);
        return events === undefined ? entry : { ...entry, rawEvents: events, rawKept: settings };
      });
      return { ...apply, history };
    });
    return { ...batch, subjects };
  }
}
