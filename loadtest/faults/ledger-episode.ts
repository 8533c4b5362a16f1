import type { ProgressionBackend } from "../../src/backends/contract/progression-backend.ts";
import { createProgression } from "../../src/engine/create-progression.ts";
import type { Progression } from "../../src/engine/progression.ts";
import type { Balance } from "../../src/model/balance.ts";
import type { HoldRecord } from "../../src/model/hold.ts";
import { isProgressionError } from "../../src/errors/progression-error.ts";
import type { HoldExpiry } from "../../src/runtime/hold-expiry.ts";
import { ANCHOR, ITEMS, LedgerGenerator, SUBJECTS, seedSteps, type Step } from "./ledger-generator.ts";
import { LedgerModel, sameBalance, type Outcome } from "./ledger-model.ts";
import { describeOp, isKeyed, primarySubject, type LedgerOp } from "./ledger-ops.ts";
import { SeededRandom } from "./seeded-random.ts";

/**
 * One episode of the model-based ledger test: a fresh engine on a fresh backend with a controllable
 * clock, `operations` generated calls (several in flight), each outcome compared with the model,
 * every expiry the engine announces (effects) and delivers (`hold.expired`) counted. Stops at the
 * first divergence and says which call it was, with the seed that replays it.
 */

export interface LedgerBreak {
  readonly seed: number;
  /** Index of the diverging call in the episode (seed calls included). */
  readonly call: number;
  readonly op: string;
  readonly problem: string;
  /** The steps before it, oldest first. */
  readonly before: readonly string[];
}

export interface EpisodeResult {
  readonly seed: number;
  readonly calls: number;
  readonly steps: number;
  /** Steps with more than one call in flight. */
  readonly concurrentSteps: number;
  readonly expiriesExpected: number;
  /** Expiries announced on the effects stream (each must be announced once). */
  readonly expiriesReported: number;
  /** `hold.expired` domain events delivered. */
  readonly expiredEvents: number;
  readonly duplicateReports: number;
  readonly ms: number;
  readonly break?: LedgerBreak;
}

export interface EpisodeOptions {
  readonly seed: number;
  readonly operations: number;
  readonly concurrency?: number;
  readonly backend: () => Promise<{ backend: ProgressionBackend; cleanup: () => Promise<void> }>;
}

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
const MAX_HOLD_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/** Nothing but the model test's own calls may release holds: no timer sweeps behind its back. */
const noHoldExpiry: HoldExpiry = { attach: () => undefined, holdPlaced: () => undefined, close: async () => undefined };

class Diverged extends Error {
  readonly op: LedgerOp;
  constructor(op: LedgerOp, problem: string) {
    super(problem);
    this.op = op;
  }
}

export async function runLedgerEpisode(options: EpisodeOptions): Promise<EpisodeResult> {
  const started = performance.now();
  const { backend, cleanup } = await options.backend();
  const clock = { now: T0 };
  const progression = createProgression({ definitions: [], backend, clock: () => clock.now, holdExpiry: noHoldExpiry, onMissingTranslations: () => undefined });
  const model = new LedgerModel(MAX_HOLD_TTL_MS);
  const random = new SeededRandom(options.seed);
  const generator = new LedgerGenerator(random, model, options.concurrency ?? 4);
  let reported: HoldRecord[] = [];
  const reportCounts = new Map<string, number>();
  const eventCounts = new Map<string, number>();
  let duplicateReports = 0;
  progression.effects.subscribe((effects) => {
    for (const subject of effects.subjects) reported.push(...subject.expiredHolds);
  });
  progression.events.on("hold.expired", "fault-suite-model", (envelope) => {
    const id = envelope.payload.hold.holdId;
    eventCounts.set(id, (eventCounts.get(id) ?? 0) + 1);
  });
  const history: string[] = [];
  let calls = 0;
  let steps = 0;
  let concurrentSteps = 0;
  /** Balances to read back right after a refused call: a refusal must change nothing. */
  let verify: LedgerOp[] = [];

  const runStep = async (step: Step): Promise<void> => {
    steps += 1;
    if (step.ops.length > 1) concurrentSteps += 1;
    history.push(step.ops.map(describeOp).join(" || ") + (step.pair ? " (same call twice at once)" : ""));
    if (history.length > 6) history.shift();
    reported = [];
    const outcomes = await Promise.all(step.ops.map((op) => call(progression, op)));
    calls += step.ops.length;
    const now = clock.now;
    // The backend released these first, then did the calls: settle them in the model before checking.
    // Expiries that only fit once the call freed room (e.g. a consume, then the release of a hold that
    // did not fit before it) are applied after the calls: the backend may release them at the end of the step.
    const deferredIds = new Set(model.overflowingGroups(reported).flatMap((group) => group.ids));
    const deferred = reported.filter((record) => deferredIds.has(record.holdId));
    model.unsettledItems.clear();
    for (const record of deferred) model.unsettledItems.add(`${record.subject}/${record.item}`);
    for (const record of reported) {
      const count = (reportCounts.get(record.holdId) ?? 0) + 1;
      reportCounts.set(record.holdId, count);
      if (count > 1) {
        duplicateReports += 1;
        throw new Diverged(step.ops[0] as LedgerOp, `the expiry of ${record.holdId} was reported ${count} times`);
      }
      if (deferredIds.has(record.holdId)) continue;
      const wrong = model.applyReportedExpiry(record, now);
      if (wrong !== undefined) throw new Diverged(step.ops[0] as LedgerOp, wrong);
    }
    // A pair: whichever call took effect is checked first, the other must be its replay.
    const order = step.ops.map((op, index) => ({ op, outcome: outcomes[index] as Outcome }));
    if (step.pair) order.sort((a, b) => rank(a.outcome) - rank(b.outcome));
    for (const { op, outcome } of order) {
      if (!outcome.ok && outcome.code === "THROWN") throw new Diverged(op, `threw something that is not a ProgressionError: ${outcome.message}`);
      // Due before the call (its reported expiries applied): what its lazy expiry had to release.
      const subject = primarySubject(op);
      const dueBefore = subject === undefined ? [] : model.dueHolds(now, subject).due;
      const problem = checkOne(op, outcome, now);
      if (problem !== undefined) throw new Diverged(op, problem);
      if (op.kind === "hold" && outcome.ok && (outcome.value as { replayed: boolean }).replayed === false) generator.holdPlaced((outcome.value as { hold: HoldRecord }).hold.holdId);
      if (isKeyed(op) && !outcome.ok && model.validationErrors(op).length === 0 && outcome.code !== "IDEMPOTENCY_CONFLICT") {
        const subjects = op.kind === "transfer" ? [op.from, op.to] : [op.subject];
        verify.push(...subjects.map((subject) => ({ kind: "balance" as const, subject, item: op.item })));
      }
      // Lazy expiry: a call that reached the backend about a subject released all its due holds first.
      if (subject !== undefined && reachedBackend(op, outcome)) {
        const due = dueBefore.filter((hold) => hold.state === "held");
        if (due.length > 0) {
          const hold = due[0] as (typeof due)[number];
          throw new Diverged(op, `left ${due.length} due hold(s) of ${subject} unreported, e.g. ${hold.holdId} (expiresAt ${hold.expiresAt}, now ${now}, ${hold.quantity} ${hold.item}, free ${model.free(subject, hold.item)}); the call answered ${outcome.ok ? "ok" : `${outcome.code}: ${outcome.message}`}`);
        }
      }
    }
    applyDeferred(deferred, step.ops[0] as LedgerOp, now);
    model.unsettledItems.clear();
    for (const record of deferred) verify.push({ kind: "balance", subject: record.subject, item: record.item });
  };

  const applyDeferred = (deferred: readonly HoldRecord[], op: LedgerOp, now: number): void => {
    if (deferred.length === 0) return;
    const overflow = model.checkReportedTotals(deferred);
    if (overflow !== undefined) throw new Diverged(op, overflow);
    for (const record of deferred) {
      const wrong = model.applyReportedExpiry(record, now);
      if (wrong !== undefined) throw new Diverged(op, wrong);
    }
  };

  const reachedBackend = (op: LedgerOp, outcome: Outcome): boolean => {
    if (model.validationErrors(op).length > 0) return false;
    if (outcome.ok) return !(isKeyed(op) && (outcome.value as { replayed?: boolean }).replayed === true);
    return outcome.code !== "IDEMPOTENCY_CONFLICT" && outcome.code !== "HOLD_UNKNOWN";
  };

  const checkOne = (op: LedgerOp, outcome: Outcome, now: number): string | undefined => {
    switch (op.kind) {
      case "advance":
        return undefined;
      case "list": {
        if (!outcome.ok) return `unexpected ${outcome.code}: ${outcome.message}`;
        return sameList(outcome.value as Balance[], model.list(op.subject, allItems(op.subject)));
      }
      case "holds": {
        if (!outcome.ok) return `unexpected ${outcome.code}: ${outcome.message}`;
        const got = (outcome.value as HoldRecord[]).map((hold) => hold.holdId);
        const wanted = model.openHolds(op.subject, now).map((hold) => hold.holdId);
        return JSON.stringify(got) === JSON.stringify(wanted) ? undefined : `holds answered ${JSON.stringify(got)}, the model has ${JSON.stringify(wanted)}`;
      }
      case "expireHolds": {
        if (!outcome.ok) return `unexpected ${outcome.code}: ${outcome.message}`;
        const released = (outcome.value as HoldRecord[]).map((hold) => hold.holdId).sort();
        const announced = reported.map((hold) => hold.holdId).sort();
        if (released.length > op.limit) return `expireHolds(${op.limit}) released ${released.length} holds`;
        if (JSON.stringify(released) !== JSON.stringify(announced)) return `expireHolds(${op.limit}) returned ${JSON.stringify(released)} but announced ${JSON.stringify(announced)}`;
        const { due } = model.dueHolds(now);
        if (released.length === 0 && due.length > 0) return `expireHolds(${op.limit}) released nothing while ${due.length} hold(s) are due, e.g. ${due[0]?.holdId} (expiresAt ${due[0]?.expiresAt}, now ${now})`;
        return undefined;
      }
      default:
        return model.check(op, outcome, now);
    }
  };

  const fresh = new Set<string>();
  const allItems = (subject: string): string[] => (fresh.has(subject) ? [...ITEMS] : [ANCHOR, ...ITEMS]);

  let failure: LedgerBreak | undefined;
  try {
    for (const step of seedSteps()) await runStep(step);
    while (calls < options.operations) {
      if (verify.length > 0) {
        const pending = verify;
        verify = [];
        for (const op of pending) await runStep({ pair: false, ops: [op] });
        continue;
      }
      const step = generator.next(clock.now);
      for (const op of step.ops) if (op.kind === "transfer" && /^n\d+$/.test(op.to)) fresh.add(op.to);
      const advance = step.ops.find((op) => op.kind === "advance");
      if (advance !== undefined && advance.kind === "advance") {
        clock.now += advance.ms;
        steps += 1;
        calls += 1;
        continue;
      }
      await runStep(step);
    }
    // Sweep what is due, then every balance, list and hold must match, and each expiry was announced once.
    for (let sweep = 0; sweep < 200; sweep += 1) {
      const before = model.expired;
      await runStep({ pair: false, ops: [{ kind: "expireHolds", limit: 500 }] });
      if (model.expired === before) break;
    }
    for (const subject of [...SUBJECTS, ...fresh]) {
      await runStep({ pair: false, ops: [{ kind: "list", subject }, ...ITEMS.map((item) => ({ kind: "balance" as const, subject, item }))] });
    }
    await progression.events.drain();
    for (const hold of model.holds.values()) {
      if (hold.state !== "expired") continue;
      const events = eventCounts.get(hold.holdId) ?? 0;
      if (events !== 1) throw new Diverged({ kind: "expireHolds", limit: 0 }, `hold ${hold.holdId} expired; ${events} hold.expired events were delivered for it (expected 1)`);
    }
    for (const [holdId, count] of eventCounts) {
      if (model.holds.get(holdId)?.state !== "expired") throw new Diverged({ kind: "expireHolds", limit: 0 }, `${count} hold.expired event(s) for ${holdId}, which the model has ${model.holds.get(holdId)?.state}`);
    }
  } catch (error) {
    if (!(error instanceof Diverged)) throw error;
    failure = { seed: options.seed, call: calls, op: describeOp(error.op), problem: error.message, before: history.slice(0, -1) };
  } finally {
    await progression.close().catch(() => undefined);
    await cleanup();
  }
  return {
    seed: options.seed,
    calls,
    steps,
    concurrentSteps,
    expiriesExpected: model.expired,
    expiriesReported: [...reportCounts.values()].reduce((sum, count) => sum + count, 0),
    expiredEvents: [...eventCounts.values()].reduce((sum, count) => sum + count, 0),
    duplicateReports,
    ms: Math.round(performance.now() - started),
    ...(failure === undefined ? {} : { break: failure }),
  };
}

/** A pair's outcomes in the order to check them: the one that took effect first. */
function rank(outcome: Outcome): number {
  if (!outcome.ok) return 1;
  return (outcome.value as { replayed?: boolean }).replayed === true ? 2 : 0;
}

function sameList(got: readonly Balance[], wanted: readonly Balance[]): string | undefined {
  if (got.length !== wanted.length) return `list answered ${JSON.stringify(got)}, the model has ${JSON.stringify(wanted)}`;
  for (let index = 0; index < got.length; index += 1) {
    const wrong = sameBalance(got[index] as Balance, wanted[index] as Balance);
    if (wrong !== undefined) return `list: ${wrong}`;
  }
  return undefined;
}

/** One public ledger call with the raw arguments; errors become outcomes (their code, or THROWN). */
async function call(progression: Progression, op: LedgerOp): Promise<Outcome> {
  const ledger = progression.ledger;
  // Raw arguments, invalid ones included: the engine must refuse them, not the type checker.
  const raw = op as unknown as { quantity: number; ttlMs: number };
  try {
    switch (op.kind) {
      case "acquire":
        return { ok: true, value: await ledger.acquire({ subject: op.subject, item: op.item, quantity: raw.quantity, idempotencyKey: op.key }) };
      case "consume":
        return { ok: true, value: await ledger.consume({ subject: op.subject, item: op.item, quantity: raw.quantity, idempotencyKey: op.key }) };
      case "transfer": {
        // allowNewReceiver is passed as the caller wrote it (absent, true or false).
        const request = { from: op.from, to: op.to, item: op.item, quantity: raw.quantity, idempotencyKey: op.key, ...(op.allowNewReceiver === undefined ? {} : { allowNewReceiver: op.allowNewReceiver }) };
        return { ok: true, value: await ledger.transfer(request) };
      }
      case "hold":
        return { ok: true, value: await ledger.hold({ subject: op.subject, item: op.item, quantity: raw.quantity, ttlMs: raw.ttlMs, idempotencyKey: op.key }) };
      case "commit":
        return { ok: true, value: await ledger.commit(op.holdId) };
      case "release":
        return { ok: true, value: await ledger.release(op.holdId) };
      case "getHold":
        return { ok: true, value: await ledger.getHold(op.holdId) };
      case "balance":
        return { ok: true, value: await ledger.balance(op.subject, op.item) };
      case "list":
        return { ok: true, value: await ledger.list(op.subject) };
      case "holds":
        return { ok: true, value: await ledger.holds(op.subject) };
      case "expireHolds":
        return { ok: true, value: await ledger.expireHolds(op.limit) };
      case "advance":
        return { ok: true, value: undefined };
    }
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const message = error instanceof Error ? (process.env.HF_DEBUG ? String(error.stack) : error.message) : String(error);
    return { ok: false, code: isProgressionError(error) && typeof code === "string" ? code : "THROWN", message };
  }
}
