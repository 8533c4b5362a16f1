import { randomBytes } from "node:crypto";
import type { CompiledMilestones } from "../rules/build-counter-plan.ts";
import type { CounterIncrement, SubjectApply } from "../store/progression-backend.ts";
import type { GameplayEvent } from "./gameplay-event.ts";
import type { EventBuffer, PendingBatch } from "./progression.ts";
import { validateEvent } from "./validate-input.ts";

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

/**
 * Routes each event to its counters at add time and coalesces per (subject, counter, time slot):
 * 1,000 kills of one player in one flush become one increment. Events with an id stay separate so
 * the backend can dedupe them; their increment id is `<event id>/<counter>` because one event may
 * advance several counters and each must count once.
 */
export class CoalescingBuffer implements EventBuffer {
  private subjects = new Map<string, Map<string, MutableIncrement>>();
  private events = 0;
  private increments = 0;
  /** The plan events were routed with since the last drain (a reload in between makes it mixed). */
  private routedWith: CompiledMilestones | undefined;
  private mixedPlans = false;
  private readonly compiled: () => CompiledMilestones;
  private readonly clock: () => number;
  private readonly coalesceMs: number;

  constructor(compiled: () => CompiledMilestones, clock: () => number, coalesceMs: number) {
    this.compiled = compiled;
    this.clock = clock;
    this.coalesceMs = coalesceMs;
  }

  get pendingEvents(): number {
    return this.events;
  }

  get pendingIncrements(): number {
    return this.increments;
  }

  add(event: GameplayEvent): void {
    const valid = validateEvent(event, this.clock());
    this.events += 1;
    const compiled = this.compiled();
    if (this.routedWith === undefined) this.routedWith = compiled;
    else if (this.routedWith !== compiled) this.mixedPlans = true;
    const routes = compiled.routesByTrigger.get(valid.type);
    if (routes === undefined) return;
    let slots: Map<string, MutableIncrement> | undefined;
    for (const route of routes) {
      if (!route.accepts(valid)) continue;
      if (slots === undefined) {
        slots = this.subjects.get(valid.subject);
        if (slots === undefined) {
          slots = new Map();
          this.subjects.set(valid.subject, slots);
        }
      }
      if (valid.id !== undefined) {
        const eventId = `${valid.id}/${route.counterId}`;
        // A second event with the same id in one buffer is the same event: counted once.
        if (!slots.has(`#${eventId}`)) {
          slots.set(`#${eventId}`, { counter: route.counterId, amount: valid.amount, at: valid.at, eventId, slot: -1 });
          this.increments += 1;
        }
        continue;
      }
      // Hot path: the counter's own key holds its most recent slot; older slots get a composite key.
      const slot = Math.floor(valid.at / this.coalesceMs);
      let increment = slots.get(route.counterId);
      if (increment !== undefined && increment.slot !== slot) {
        const slotKey = `${route.counterId}:${slot}`;
        increment = slots.get(slotKey);
        if (increment === undefined) {
          slots.set(slotKey, { counter: route.counterId, amount: valid.amount, at: valid.at, eventId: undefined, slot });
          this.increments += 1;
          continue;
        }
      } else if (increment === undefined) {
        slots.set(route.counterId, { counter: route.counterId, amount: valid.amount, at: valid.at, eventId: undefined, slot });
        this.increments += 1;
        continue;
      }
      increment.amount += valid.amount;
      if (valid.at > increment.at) increment.at = valid.at;
    }
  }

  /** Adds a subject with no increments (catch-up needs one even when the login event matches nothing). */
  touch(subject: string): void {
    if (!this.subjects.has(subject)) this.subjects.set(subject, new Map());
  }

  drain(): PendingBatch {
    const subjects: SubjectApply[] = [];
    for (const [subject, slots] of this.subjects) {
      // The buffer's own increment objects go out as they are (no copy per increment).
      const increments: CounterIncrement[] = [...slots.values()];
      if (increments.length > 1) increments.sort((a, b) => a.at - b.at);
      subjects.push({ subject, increments, catchUp: false });
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
