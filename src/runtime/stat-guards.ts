import { randomUUID } from "node:crypto";
import type { GuardCheck, SubjectApplyResult } from "../backends/contract/progression-backend.ts";
import { ErrorCode } from "../errors/error-codes.ts";
import { ProgressionError } from "../errors/progression-error.ts";
import type { DomainEventBus } from "../events/domain-event-bus.ts";
import type { DomainTopics } from "../events/domain-topics.ts";
import { describeError, type ProgressionLogger } from "../logging/logger.ts";
import type { CounterPlan } from "../model/counter-plan.ts";
import type { ProgressionInstruments } from "./instruments.ts";

/**
 * Stat guards (docs/semantics.md, "Stat guards"): per trigger, the most one event may carry and the most
 * one subject's events may add up to within a window. `maxAmount` is checked as an event is recorded;
 * `maxPerWindow` by the backend, in the atomic apply, from the per-subject tally the buffer sends with
 * each batch, so several rooms or processes cannot each stay under a limit they pass together.
 */
export interface StatGuard {
  /** The most one event of the trigger may carry (its `amount`); a larger one is refused by `record()`. */
  readonly maxAmount?: number;
  /** The most one subject's events of the trigger may add up to within a window of `windowMs` (epoch-aligned). */
  readonly maxPerWindow?: { readonly amount: number; readonly windowMs: number };
}

/** `statGuards` of the engine options: a guard per trigger (event type). */
export type StatGuards = Readonly<Record<string, StatGuard>>;

/** A refusal by a stat guard: the payload of the `progression.suspicious` domain event. */
export type SuspiciousEvent = DomainTopics["progression.suspicious"];

export type SuspiciousListener = (event: SuspiciousEvent) => void;

const TRIGGER = /^[A-Za-z0-9_.:-]{1,128}$/;
const GUARD_FIELDS = new Set(["maxAmount", "maxPerWindow"]);
const WINDOW_FIELDS = new Set(["amount", "windowMs"]);

function invalidGuard(trigger: string, field: string, message: string): never {
  throw new ProgressionError(ErrorCode.InvalidInput, `statGuards.${trigger}${field === "" ? "" : `.${field}`} ${message}`, { trigger, field });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function positive(trigger: string, field: string, value: unknown, unit: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
    invalidGuard(trigger, field, `must be a positive safe integer (${unit}), got ${typeof value === "number" ? String(value) : JSON.stringify(value) ?? typeof value}`);
  }
  return value;
}

/** Checks the `statGuards` option when the engine is created; a bad entry throws INVALID_INPUT naming the trigger and field. */
export function compileStatGuards(input: unknown): ReadonlyMap<string, StatGuard> {
  const guards = new Map<string, StatGuard>();
  if (input === undefined) return guards;
  if (!isRecord(input)) {
    throw new ProgressionError(ErrorCode.InvalidInput, "statGuards must be an object of guards by trigger, e.g. { kill: { maxAmount: 10, maxPerWindow: { amount: 600, windowMs: 60000 } } }", {
      field: "statGuards",
    });
  }
  for (const [trigger, guard] of Object.entries(input)) {
    if (!TRIGGER.test(trigger)) {
      throw new ProgressionError(ErrorCode.InvalidInput, `statGuards: ${JSON.stringify(trigger)} is not an event type (1-128 letters, digits, '_', '.', ':' or '-')`, { trigger, field: "" });
    }
    if (!isRecord(guard)) invalidGuard(trigger, "", "must be an object: { maxAmount?, maxPerWindow?: { amount, windowMs } }");
    for (const key of Object.keys(guard)) {
      if (!GUARD_FIELDS.has(key)) invalidGuard(trigger, key, "is not a stat guard option: use maxAmount and/or maxPerWindow: { amount, windowMs }");
    }
    const compiled: { maxAmount?: number; maxPerWindow?: { amount: number; windowMs: number } } = {};
    if (guard["maxAmount"] !== undefined) compiled.maxAmount = positive(trigger, "maxAmount", guard["maxAmount"], "the most one event may carry");
    const window = guard["maxPerWindow"];
    if (window !== undefined) {
      if (!isRecord(window)) invalidGuard(trigger, "maxPerWindow", "must be an object: { amount, windowMs }");
      for (const key of Object.keys(window)) {
        if (!WINDOW_FIELDS.has(key)) invalidGuard(trigger, `maxPerWindow.${key}`, "is not a window option: use amount and windowMs");
      }
      compiled.maxPerWindow = {
        amount: positive(trigger, "maxPerWindow.amount", window["amount"], "the most per subject per window"),
        windowMs: positive(trigger, "maxPerWindow.windowMs", window["windowMs"], "the window's length in milliseconds"),
      };
    }
    if (compiled.maxAmount === undefined && compiled.maxPerWindow === undefined) invalidGuard(trigger, "", "sets no guard: give maxAmount and/or maxPerWindow: { amount, windowMs }");
    guards.set(trigger, compiled);
  }
  return guards;
}

/** What a refusal says, in a log line, a `progression:rejected` message or a GUARD_EXCEEDED error. */
export function describeSuspicious(event: SuspiciousEvent): string {
  if (event.guard === "maxAmount") {
    return `${event.trigger}: an amount of ${event.value} passes the stat guard maxAmount ${event.limit} (statGuards.${event.trigger}.maxAmount); the event was not recorded`;
  }
  return (
    `${event.trigger}: ${event.value} within ${event.windowMs ?? 0} ms would pass the stat guard maxPerWindow ${event.limit} ` +
    `(statGuards.${event.trigger}.maxPerWindow); these ${event.trigger} events of ${event.subject} were not applied`
  );
}

export interface StatGuardSinks {
  readonly events: DomainEventBus;
  readonly instruments: ProgressionInstruments;
  readonly logger: ProgressionLogger;
}

/**
 * The engine's side of the stat guards: `maxAmount` when an event is added to a buffer, the window
 * checks each batch carries, and the reports (domain event, metric, listeners such as the room host)
 * of every refusal.
 */
export class StatGuardGate {
  private readonly guards: ReadonlyMap<string, StatGuard>;
  private readonly sinks: StatGuardSinks;
  private readonly listeners = new Set<SuspiciousListener>();
  /** Per plan: the counters of each guarded trigger (refused with it). */
  private readonly countersByPlan = new WeakMap<CounterPlan, ReadonlyMap<string, readonly string[]>>();

  constructor(guards: ReadonlyMap<string, StatGuard>, sinks: StatGuardSinks) {
    this.guards = guards;
    this.sinks = sinks;
  }

  /** Whether any trigger is guarded (a buffer without guards skips every check). */
  get active(): boolean {
    return this.guards.size > 0;
  }

  /** The guard of an event type, if any: one map lookup per recorded event. */
  guardOf(type: string): StatGuard | undefined {
    return this.guards.get(type);
  }

  /** `maxAmount`: an event carrying more is reported and refused with GUARD_EXCEEDED (the caller keeps nothing of it). */
  admit(guard: StatGuard, subject: string, trigger: string, amount: number, at: number): void {
    if (guard.maxAmount === undefined || amount <= guard.maxAmount) return;
    const event: SuspiciousEvent = { subject, trigger, guard: "maxAmount", limit: guard.maxAmount, value: amount, at };
    this.report(event, `progression.suspicious:${subject}:${trigger}:maxAmount:${randomUUID()}`);
    throw new ProgressionError(ErrorCode.GuardExceeded, describeSuspicious(event), { subject, trigger, guard: "maxAmount", limit: guard.maxAmount, value: amount });
  }

  /**
   * The window checks of one subject's batch part, from the tally of its events' amounts per guarded
   * trigger; undefined when none of its triggers has a window guard. Built once at drain: a retried
   * batch sends the same checks.
   */
  checks(tally: ReadonlyMap<string, number>, plan: CounterPlan): GuardCheck[] | undefined {
    let checks: GuardCheck[] | undefined;
    for (const [trigger, amount] of tally) {
      const window = this.guards.get(trigger)?.maxPerWindow;
      if (window === undefined) continue;
      (checks ??= []).push({
        trigger,
        amount: Math.min(amount, Number.MAX_SAFE_INTEGER),
        limit: window.amount,
        windowMs: window.windowMs,
        counters: this.countersOf(plan).get(trigger) ?? [],
      });
    }
    return checks;
  }

  /** Reports the window guards an apply refused (a duplicate reports none). */
  reportBreaches(results: readonly SubjectApplyResult[], batchId: string, now: number): void {
    for (const result of results) {
      if (result.duplicate) continue;
      for (const breach of result.guarded ?? []) {
        this.report(
          { subject: result.subject, trigger: breach.trigger, guard: "maxPerWindow", limit: breach.limit, windowMs: breach.windowMs, value: breach.value, at: now },
          `progression.suspicious:${result.subject}:${breach.trigger}:maxPerWindow:${batchId}`,
        );
      }
    }
  }

  /** Tells `listener` about every refusal from now on; returns the function that stops it. */
  subscribe(listener: SuspiciousListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private report(event: SuspiciousEvent, idempotencyKey: string): void {
    this.sinks.instruments.suspicious?.(event.trigger, event.guard);
    // A refusal is reported whatever happens to its listeners: none of them may turn it into another error.
    try {
      this.sinks.events.emit("progression.suspicious", idempotencyKey, event, event.at);
    } catch (error) {
      this.sinks.logger.warn(`progression.suspicious for ${event.subject} could not be emitted: ${describeError(error)}`);
    }
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.sinks.logger.warn(`an onSuspicious listener failed: ${describeError(error)}`);
      }
    }
  }

  private countersOf(plan: CounterPlan): ReadonlyMap<string, readonly string[]> {
    let byTrigger = this.countersByPlan.get(plan);
    if (byTrigger === undefined) {
      const built = new Map<string, string[]>();
      for (const [id, spec] of plan.counters) {
        if (!this.guards.has(spec.trigger)) continue;
        const list = built.get(spec.trigger);
        if (list === undefined) built.set(spec.trigger, [id]);
        else list.push(id);
      }
      byTrigger = built;
      this.countersByPlan.set(plan, byTrigger);
    }
    return byTrigger;
  }
}
