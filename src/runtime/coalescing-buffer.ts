import { randomBytes } from "node:crypto";
import type { CompiledMilestones, CounterRoute } from "../definitions/compile-milestones.ts";
import type { CounterIncrement, SubjectApply } from "../backends/contract/progression-backend.ts";
import type { GameplayEvent } from "../model/gameplay-event.ts";
import type { EventBuffer, PendingBatch } from "./event-buffer.ts";
import type { ValidatedEvent } from "../rules/custom-evaluator.ts";
import { dayOf } from "../model/utc-day.ts";
import type { HistoryEntry } from "../model/history.ts";
import { tagsText } from "../model/history.ts";
import type { StatGuardGate } from "./stat-guards.ts";
import { NO_TAGS, requireEventId, requireEventObject, requireIdentifier, requireQuantity, requireSubject, requireTags, requireTime } from "../model/validate-input.ts";

interface MutableIncrement {
  counter: string;
  amount: number;
  at: number;
  eventId: string | undefined;
  /** Time slot (at / coalesceMs) this increment gathers. */
  slot: number;
}

/** Per-process producer id + sequence: batch ids are unique without coordination. */
const producerId = randomBytes(4).toString("hex");
let batchSequence = 0;

export function nextBatchId(): string {
  batchSequence += 1;
  return `${producerId}-${batchSequence.toString(36)}`;
}

/** What the buffer holds for one subject until the next drain. */
interface SubjectSlots {
  /** By counter index: the increment of the counter's most recent time slot. */
  readonly latest: (MutableIncrement | undefined)[];
  /** Older time slots (`<counter>:<slot>`) and events with ids (`#<id>/<counter>`). */
  other: Map<string, MutableIncrement> | undefined;
  /** History rollups of this flush, in order of first event (few per subject: found by a short scan). */
  history: MutableRollup[] | undefined;
  /** The same rollups by key, once there are more than a scan should look through. */
  rollupsByKey: Map<string, MutableRollup> | undefined;
  /** Stat guards: the sum of this flush's event amounts per trigger with a window guard. */
  guarded?: Map<string, number>;
}

/** Past this many rollups in one subject's flush, they are found by key instead of by a scan. */
const ROLLUP_SCAN_LIMIT = 16;

interface MutableRollup {
  readonly type: string;
  /** A copy of the first event's tags (the caller may reuse its object), and their canonical text. */
  readonly tagValues: Readonly<Record<string, string>>;
  /** One of those tags (undefined: none), checked first: it tells most other events' tags apart in one read. */
  readonly firstTag: string | undefined;
  readonly firstValue: string | undefined;
  readonly tags: string;
  readonly day: number;
  count: number;
  sum: number;
  firstAt: number;
  lastAt: number;
  maxAmount: number;
  readonly eventId: string | undefined;
}

/**
 * Routes each event to its counters at add time and coalesces per (subject, counter, time slot):
 * 1,000 kills of one player in one flush become one increment. Events with an id stay separate so
 * the backend can dedupe them; their increment id is `<event id>/<counter>` because one event may
 * advance several counters and each must count once.
 *
 * `add` is the hot path of the whole product (every gameplay event of every room passes here), so it
 * validates fields without building a new event object, finds counters by array index, and only
 * materialises the full event for custom evaluators.
 */
export class CoalescingBuffer implements EventBuffer {
  private subjects = new Map<string, SubjectSlots>();
  private events = 0;
  private increments = 0;
  /** The plan events were routed with since the last drain (a reload in between makes it mixed). */
  private routedWith: CompiledMilestones | undefined;
  private mixedPlans = false;
  private readonly compiled: () => CompiledMilestones;
  private readonly clock: () => number;
  private readonly coalesceMs: number;
  private readonly keepHistory: boolean;
  private readonly guards: StatGuardGate | undefined;

  /** `history`: also roll every event up into the subject's history (docs/semantics.md, "History"). */
  constructor(compiled: () => CompiledMilestones, clock: () => number, coalesceMs: number, history = true, guards?: StatGuardGate) {
    this.guards = guards?.active === true ? guards : undefined;
    this.compiled = compiled;
    this.clock = clock;
    this.coalesceMs = coalesceMs;
    this.keepHistory = history;
  }

  get pendingEvents(): number {
    return this.events;
  }

  get pendingIncrements(): number {
    return this.increments;
  }

  add(event: GameplayEvent): void {
    requireEventObject(event);
    const type = requireIdentifier(event.type, "event.type");
    const subject = requireSubject(event.subject, "event.subject");
    const amount = event.amount === undefined ? 1 : requireQuantity(event.amount, "event.amount");
    const at = event.at === undefined ? this.clock() : requireTime(event.at, "event.at");
    const tags = event.tags === undefined ? NO_TAGS : requireTags(event.tags);
    const id = event.id === undefined ? undefined : requireEventId(event.id);
    // Stat guards: maxAmount refuses the event here (nothing kept); window guards tally it below.
    const guard = this.guards?.guardOf(type);
    if (guard !== undefined) this.guards?.admit(guard, subject, type, amount, at);
    this.events += 1;

    const compiled = this.compiled();
    if (this.routedWith === undefined) this.routedWith = compiled;
    else if (this.routedWith !== compiled) this.mixedPlans = true;
    let slots: SubjectSlots | undefined;
    if (guard?.maxPerWindow !== undefined) {
      const tally = ((slots = this.slotsOf(subject, compiled)).guarded ??= new Map());
      tally.set(type, (tally.get(type) ?? 0) + amount);
    }
    // Every event goes into the history, also those no milestone counts yet: a later one may.
    if (this.keepHistory) this.remember((slots = this.slotsOf(subject, compiled)), type, tags, amount, at, id);
    const routes = compiled.routesByTrigger.get(type);
    if (routes === undefined) return;
    const slot = Math.floor(at / this.coalesceMs);
    let full: ValidatedEvent | undefined;
    for (const route of routes.unfiltered) {
      // Seasonal counters take only events inside their period (others: -Infinity..Infinity).
      if (at < route.from || at >= route.until) continue;
      if (route.custom !== null) {
        full ??= { type, subject, amount, at, tags, id };
        if (!route.custom(full)) continue;
      }
      this.count((slots ??= this.slotsOf(subject, compiled)), route, amount, at, slot, id);
    }
    for (const { tag, byValue } of routes.byTag) {
      const value = tags[tag];
      if (typeof value !== "string") continue;
      const candidates = byValue.get(value);
      if (candidates === undefined) continue;
      for (const route of candidates) {
        if (at >= route.from && at < route.until && matchesWhere(route.where, tags)) this.count((slots ??= this.slotsOf(subject, compiled)), route, amount, at, slot, id);
      }
    }
  }

  /** The subject's pending increments, looked up once per event (not once per matching counter). */
  private slotsOf(subject: string, compiled: CompiledMilestones): SubjectSlots {
    let slots = this.subjects.get(subject);
    if (slots === undefined) {
      slots = { latest: new Array<MutableIncrement | undefined>(compiled.counterCount), other: undefined, history: undefined, rollupsByKey: undefined };
      this.subjects.set(subject, slots);
    }
    return slots;
  }

  /**
   * Adds one event to its subject's rollup of (type, tags, day). A flush holds few rollups per subject,
   * so they are found by comparing tags field by field: no canonical text per event (computing it was the
   * history's largest cost in the buffer), only per new rollup.
   */
  private remember(slots: SubjectSlots, type: string, tags: Readonly<Record<string, string>>, amount: number, at: number, id: string | undefined): void {
    const history = (slots.history ??= []);
    const day = dayOf(at);
    let rollup: MutableRollup | undefined;
    if (history.length <= ROLLUP_SCAN_LIMIT) {
      for (const candidate of history) {
        if (
          candidate.day === day &&
          candidate.type === type &&
          candidate.eventId === id &&
          (candidate.firstTag === undefined || tags[candidate.firstTag] === candidate.firstValue) &&
          sameTags(candidate.tagValues, tags)
        ) {
          rollup = candidate;
          break;
        }
      }
    } else {
      slots.rollupsByKey ??= new Map(history.map((entry) => [rollupKeyOf(entry.day, entry.type, entry.tags, entry.eventId), entry]));
      rollup = slots.rollupsByKey.get(rollupKeyOf(day, type, tagsText(tags), id));
    }
    if (rollup === undefined) {
      const text = tagsText(tags);
      let firstTag: string | undefined;
      for (const name in tags) {
        firstTag = name;
        break;
      }
      const firstValue = firstTag === undefined ? undefined : tags[firstTag];
      const created: MutableRollup = { type, tagValues: { ...tags }, firstTag, firstValue, tags: text, day, count: 1, sum: amount, firstAt: at, lastAt: at, maxAmount: amount, eventId: id };
      history.push(created);
      slots.rollupsByKey?.set(rollupKeyOf(day, type, text, id), created);
    } else if (id === undefined) {
      rollup.count += 1;
      rollup.sum += amount;
      if (at < rollup.firstAt) rollup.firstAt = at;
      if (at > rollup.lastAt) rollup.lastAt = at;
      if (amount > rollup.maxAmount) rollup.maxAmount = amount;
    }
    // A second event with the same id in one buffer is the same event: kept once.
  }

  /** Adds one routed event to its subject's increment for the counter and time slot. */
  private count(slots: SubjectSlots, route: CounterRoute, amount: number, at: number, slot: number, id: string | undefined): void {
    if (id !== undefined) {
      const eventId = `${id}/${route.counterId}`;
      const other = (slots.other ??= new Map());
      // A second event with the same id in one buffer is the same event: counted once.
      if (!other.has(`#${eventId}`)) {
        other.set(`#${eventId}`, { counter: route.counterId, amount, at, eventId, slot: -1 });
        this.increments += 1;
      }
      return;
    }
    let increment = slots.latest[route.index];
    if (increment === undefined) {
      slots.latest[route.index] = { counter: route.counterId, amount, at, eventId: undefined, slot };
      this.increments += 1;
      return;
    }
    if (increment.slot !== slot || increment.counter !== route.counterId) {
      const other = (slots.other ??= new Map());
      if (slot > increment.slot && increment.counter === route.counterId) {
        // Time moved on: the older slot retires under its own key and the new one takes the fast path.
        // After a reload moved the counter to another index, that key may hold the same slot already.
        const retiredKey = `${increment.counter}:${increment.slot}`;
        const retired = other.get(retiredKey);
        if (retired === undefined) {
          other.set(retiredKey, increment);
        } else {
          retired.amount += increment.amount;
          if (increment.at > retired.at) retired.at = increment.at;
          this.increments -= 1;
        }
        slots.latest[route.index] = { counter: route.counterId, amount, at, eventId: undefined, slot };
        this.increments += 1;
        return;
      }
      // A late event for an older slot, or (after a reload) another counter at this index: apart by key.
      const key = `${route.counterId}:${slot}`;
      increment = other.get(key);
      if (increment === undefined) {
        other.set(key, { counter: route.counterId, amount, at, eventId: undefined, slot });
        this.increments += 1;
        return;
      }
    }
    increment.amount += amount;
    if (at > increment.at) increment.at = at;
  }

  /** Adds a subject with no increments (catch-up needs one even when the login event matches nothing). */
  touch(subject: string): void {
    if (!this.subjects.has(subject)) this.subjects.set(subject, { latest: [], other: undefined, history: undefined, rollupsByKey: undefined });
  }

  drain(): PendingBatch {
    const subjects: SubjectApply[] = [];
    for (const [subject, slots] of this.subjects) {
      // The buffer's own increment objects go out as they are (no copy per increment).
      const increments: CounterIncrement[] = [];
      for (const increment of slots.latest) if (increment !== undefined) increments.push(increment);
      if (slots.other !== undefined) for (const increment of slots.other.values()) increments.push(increment);
      if (increments.length > 1) increments.sort((a, b) => a.at - b.at);
      const history: HistoryEntry[] | undefined = slots.history;
      const apply: SubjectApply = history === undefined ? { subject, increments, catchUp: false } : { subject, increments, catchUp: false, history };
      // The window checks go with the batch: a retry of it sends the same ones.
      const guards = slots.guarded === undefined ? undefined : this.guards?.checks(slots.guarded, this.compiled().plan);
      subjects.push(guards === undefined ? apply : { ...apply, guards });
    }
    const planVersion = this.mixedPlans ? undefined : this.routedWith?.plan.version;
    const batch: PendingBatch = { batchId: nextBatchId(), events: this.events, subjects, planVersion };
    this.subjects = new Map();
    this.events = 0;
    this.increments = 0;
    this.routedWith = undefined;
    this.mixedPlans = false;
    return batch;
  }
}

function rollupKeyOf(day: number, type: string, tags: string, eventId: string | undefined): string {
  return eventId === undefined ? `${day}|${type}|${tags}` : `#${eventId}`;
}

/** Same tags, whatever their order (values are strings: validated). */
function sameTags(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  let count = 0;
  for (const key in a) {
    if (a[key] !== b[key]) return false;
    count += 1;
  }
  for (const _key in b) count -= 1;
  return count === 0;
}

function matchesWhere(where: readonly (readonly [string, string])[], tags: Readonly<Record<string, string>>): boolean {
  // Inherited properties are functions or objects, never the expected string, so no own-check is needed.
  for (const [tag, expected] of where) if (tags[tag] !== expected) return false;
  return true;
}
