import type { ProgressionBackend } from "../backends/contract/progression-backend.ts";
import type { SeedDependent, SeedRequest, SeedResult, SubjectHistory } from "../backends/contract/history-backend.ts";
import type { CompiledMilestones } from "../definitions/compile-milestones.ts";
import { dependentsOf, type CounterPlan, type CounterSpec, type ThresholdCheck } from "../model/counter-plan.ts";
import type { HistoryPart, HistoryRollup, HistorySelector, HistoryStatus, RawEventsSettings } from "../model/history.ts";
import { mergeParts } from "../model/history.ts";
import type { HistoryArchive } from "./history-archive.ts";
import { rawEventsFromDay, usableRawEvents } from "./raw-events.ts";
import { replayCounters, selectorsOf } from "./replay-counters.ts";

/** How many times a subject that keeps changing while it is replayed is read again before giving up. */
const SEED_ATTEMPTS = 5;

export interface SubjectHistoryRead {
  readonly status: HistoryStatus;
  /**
   * Every rollup of the subject, from the backend and the archive, sorted by day; with the raw events a
   * replay may use (none past the retention, none when raw events are off).
   */
  readonly rollups: readonly HistoryRollup[];
}

export interface BackfillProgress {
  /** Subjects looked at so far. */
  readonly visited: number;
  /** Subjects whose counters were seeded from history. */
  readonly seeded: number;
  /** Milestones awarded retroactively. */
  readonly awarded: number;
  /** Pass it as `cursor` to continue from here; "0" once every subject was visited. */
  readonly cursor: string;
}

export interface SeededSubject extends SeedResult {
  readonly subject: string;
}

/**
 * Backfill from the event history (docs/semantics.md, "History"): a subject whose counters are complete
 * for an older counter set gets the counters the current set adds replayed from its rollups, and every
 * milestone they already meet awarded (retroactive, stamped with the day it was met). Written with
 * `seed` at the version it was read at, so an apply in between makes it read again instead of losing
 * that apply; a subject already complete costs one status read.
 */
export class Backfill {
  #archive: HistoryArchive | undefined;
  readonly #backend: ProgressionBackend;
  readonly #compiled: () => CompiledMilestones;
  readonly #clock: () => number;
  readonly #rawEvents: RawEventsSettings | undefined;
  readonly #registered = new Map<string, Promise<void>>();
  /** Counter sets read back from the backend (a set never changes once registered). */
  readonly #counterSets = new Map<string, readonly string[]>();

  /** `rawEvents`: the engine's `historyRawEvents` (undefined: off), which raw events a replay uses. */
  constructor(backend: ProgressionBackend, compiled: () => CompiledMilestones, clock: () => number, rawEvents?: RawEventsSettings) {
    this.#backend = backend;
    this.#compiled = compiled;
    this.#clock = clock;
    this.#rawEvents = rawEvents;
  }

  useArchive(archive: HistoryArchive): void {
    this.#archive = archive;
    archive.useRawEventRetention?.(this.#rawEvents?.retentionDays);
  }

  /** Registers the plan's counter set with the backend, once per set and process (before it is applied). */
  register(compiled: CompiledMilestones): Promise<void> {
    const set = compiled.plan.counterSet;
    let registered = this.#registered.get(set);
    if (registered === undefined) {
      registered = this.#backend.registerCounterSet(set, [...compiled.plan.counters.keys()]);
      registered.catch(() => this.#registered.delete(set));
      this.#registered.set(set, registered);
    }
    return registered;
  }

  /** A subject's whole history: the backend's copy first, then the archive's (never the other way round). */
  async read(subject: string): Promise<SubjectHistoryRead> {
    const read = (await this.readMany([subject])).get(subject);
    return read ?? { status: { completeFor: null, version: 0 }, rollups: [] };
  }

  /** The histories of many subjects: the backend's copies, then one archive query for them all. */
  async readMany(subjects: readonly string[], selection?: readonly HistorySelector[]): Promise<Map<string, SubjectHistoryRead>> {
    if (subjects.length === 0) return new Map();
    const fromDay = rawEventsFromDay(this.#rawEvents, this.#clock());
    const own = await this.#backend.readHistories(subjects, selection);
    // Both reads keep to the selection (the archive's in SQL); what they let through, the replay filters.
    const archived = this.#archive === undefined ? undefined : await this.#archive.read(subjects, selection, fromDay);
    return new Map(subjects.map((subject, i) => [subject, new MergedHistoryRead(own[i], archived, subject, fromDay)]));
  }

  /**
   * Seeds the counters `subject` lacks for the current counter set; null when it is complete already
   * (or has no history). `rebuild` replays every counter of the plan instead (repair; awards are kept).
   */
  async seedSubject(subject: string, options: { readonly rebuild?: boolean } = {}): Promise<SeededSubject | null> {
    for (let attempt = 1; attempt <= SEED_ATTEMPTS; attempt += 1) {
      const compiled = this.#compiled();
      await this.register(compiled);
      const status = await this.#backend.historyStatus(subject);
      if (options.rebuild !== true && !this.#needsSeed(status, compiled)) return null;
      const specs = options.rebuild === true ? [...compiled.plan.counters.values()] : await this.#freshCounters(subject, status, compiled);
      const history = await this.read(subject);
      if (history.status.completeFor !== status.completeFor) continue;
      const result = await this.#write(subject, compiled, specs, history);
      if (!result.conflict) return result;
    }
    return null;
  }

  /**
   * Visits every subject with a history in pages of `chunk`, seeding each; resumable from `cursor`. A page
   * costs one status read per subject, and for those that need a backfill one history read each and one
   * archive query for the page (after the backend reads, as `read` orders them).
   */
  async backfillAll(options: {
    readonly cursor?: string;
    readonly chunk?: number;
    readonly onSeeded: (seeded: SeededSubject) => void;
    readonly onProgress?: (progress: BackfillProgress) => void | Promise<void>;
  }): Promise<BackfillProgress> {
    const chunk = options.chunk ?? 500;
    let visited = 0;
    let seeded = 0;
    let awarded = 0;
    // Two pages at once (the next one is listed and read while this one's writes run), reported in order,
    // so a reported cursor never skips a page that is not done.
    let page = await this.#backend.historySubjects(options.cursor ?? "0", chunk);
    let running = this.#seedPage(page.subjects, options.onSeeded);
    for (;;) {
      const next = page.cursor === "0" ? undefined : await this.#backend.historySubjects(page.cursor, chunk);
      const nextRunning = next === undefined ? undefined : this.#seedPage(next.subjects, options.onSeeded);
      try {
        const results = await running;
        visited += page.subjects.length;
        for (const result of results) {
          if (result === null) continue;
          seeded += 1;
          awarded += result.reached.length;
        }
        await options.onProgress?.({ visited, seeded, awarded, cursor: page.cursor });
      } catch (error) {
        // Nothing keeps running after the walk failed (its caller resumes from the last cursor).
        await nextRunning?.catch(() => undefined);
        throw error;
      }
      if (next === undefined || nextRunning === undefined) return { visited, seeded, awarded, cursor: "0" };
      page = next;
      running = nextRunning;
    }
  }

  /**
   * One page: a status read per subject; for those that need a backfill, one history read each (only
   * their new counters' triggers) and one archive query for the page, after the backend reads.
   */
  async #seedPage(subjects: readonly string[], onSeeded: (seeded: SeededSubject) => void): Promise<(SeededSubject | null)[]> {
    const compiled = this.#compiled();
    await this.register(compiled);
    const statuses = await this.#backend.historyStatuses(subjects);
    const needing: { subject: string; status: HistoryStatus; specs: CounterSpec[] }[] = [];
    for (const [i, subject] of subjects.entries()) {
      const status = statuses[i];
      if (status !== undefined && this.#needsSeed(status, compiled)) needing.push({ subject, status, specs: await this.#freshCounters(subject, status, compiled) });
    }
    if (needing.length === 0) return [];
    // One read for the page: the triggers of every counter any of them lacks.
    const selection = selectorsOf(compiled, needing.flatMap(({ specs }) => specs));
    const fromDay = rawEventsFromDay(this.#rawEvents, this.#clock());
    const own = await this.#backend.readHistories(needing.map(({ subject }) => subject), selection);
    const archived = this.#archive === undefined ? undefined : await this.#archive.read(needing.map(({ subject }) => subject), selection, fromDay);
    // Each subject's history is merged and replayed on its own, and dropped before the next one's.
    const requests: SeedRequest[] = [];
    for (const [i, { subject, status, specs }] of needing.entries()) {
      const read = own[i];
      if (read === undefined || read.status.completeFor !== status.completeFor) continue;
      requests.push(this.#seedRequest(subject, compiled, specs, new MergedHistoryRead(read, archived, subject, fromDay)));
    }
    const written = await this.#backend.seedMany(requests);
    const bySubject = new Map(requests.map((request, i) => [request.subject, written[i]]));
    return Promise.all(
      needing.map(async ({ subject }) => {
        const done = bySubject.get(subject);
        // Changed meanwhile (or read before a reload): the one-subject path reads it again.
        const result: SeededSubject | null = done !== undefined && !done.conflict ? { ...done, subject } : await this.seedSubject(subject);
        // Announced as soon as it is written: a walk that fails later has announced what it wrote.
        if (result !== null) onSeeded(result);
        return result;
      }),
    );
  }

  #needsSeed(status: HistoryStatus, compiled: CompiledMilestones): boolean {
    return status.completeFor !== null && status.completeFor !== compiled.plan.counterSet;
  }

  /** Replays `specs` over the history read and writes them at the version it was read at. */
  async #write(subject: string, compiled: CompiledMilestones, specs: readonly CounterSpec[], history: SubjectHistoryRead): Promise<SeededSubject> {
    const result = await this.#backend.seed(this.#seedRequest(subject, compiled, specs, history));
    return { ...result, subject };
  }

  #seedRequest(subject: string, compiled: CompiledMilestones, specs: readonly CounterSpec[], history: SubjectHistoryRead): SeedRequest {
    const replayed = replayCounters(compiled, specs, subject, history.rollups);
    const awards = replayed.flatMap((counter) => counter.met);
    const dependents = seedDependents(compiled.plan, awards, new Set(replayed.map(({ counter }) => counter)));
    return {
      subject,
      expectVersion: history.status.version,
      counterSet: compiled.plan.counterSet,
      counters: replayed.map(({ counter, state }) => ({ counter, state })),
      awards,
      ...(dependents.length > 0 ? { dependents } : {}),
      now: this.#clock(),
    };
  }

  /** Counters of the current set the subject's complete set lacks (or, that set unknown, the subject lacks). */
  async #freshCounters(subject: string, status: HistoryStatus, compiled: CompiledMilestones): Promise<CounterSpec[]> {
    const previous = status.completeFor === null ? null : await this.#counterSet(status.completeFor);
    const known: ReadonlySet<string> = previous !== null ? new Set(previous) : new Set((await this.#backend.readState(subject)).counters.keys());
    return [...compiled.plan.counters.values()].filter((spec) => !known.has(spec.id));
  }

  async #counterSet(counterSet: string): Promise<readonly string[] | null> {
    const cached = this.#counterSets.get(counterSet);
    if (cached !== undefined) return cached;
    const counters = await this.#backend.counterSetOf(counterSet);
    if (counters !== null) this.#counterSets.set(counterSet, counters);
    return counters;
  }
}

/**
 * A subject's history as `readMany` and a backfill page read it: the backend's parts and the archive's,
 * merged each time `rollups` is asked for, and not kept. A page's subjects are replayed one after the
 * other, so each one's rollups are dropped before the next one's are made: they die young instead of a
 * page's worth of them living through collections (V8 then moves their allocation to the old generation).
 */
class MergedHistoryRead implements SubjectHistoryRead {
  readonly status: HistoryStatus;
  readonly #own: readonly HistoryPart[];
  readonly #archived: ReadonlyMap<string, readonly HistoryPart[]> | undefined;
  readonly #subject: string;
  readonly #fromDay: number | undefined;

  constructor(own: SubjectHistory | undefined, archived: ReadonlyMap<string, readonly HistoryPart[]> | undefined, subject: string, fromDay: number | undefined) {
    this.status = own?.status ?? { completeFor: null, version: 0 };
    this.#own = own?.parts ?? [];
    this.#archived = archived;
    this.#subject = subject;
    this.#fromDay = fromDay;
  }

  get rollups(): readonly HistoryRollup[] {
    return usableRawEvents(mergeParts([this.#own, this.#archived?.get(this.#subject) ?? []]), this.#fromDay);
  }
}

/**
 * The checks a seed also measures on stored counters (docs/semantics.md, "Preconditions"): those that
 * require, directly or down a chain, a check the history met, on counters the seed does not replace (the
 * history's own verdict covers those). In plan order, so both backends award in the same order.
 */
export function seedDependents(plan: CounterPlan, met: readonly { readonly check: ThresholdCheck }[], replaced: ReadonlySet<string>): SeedDependent[] {
  const dependents = dependentsOf(plan);
  if (dependents.size === 0) return [];
  const reached = new Set(met.map(({ check }) => check.code));
  const found = new Map<string, SeedDependent>();
  const queue = [...reached];
  for (let code = queue.shift(); code !== undefined; code = queue.shift()) {
    for (const { counter, check } of dependents.get(code) ?? []) {
      if (reached.has(check.code) || found.has(check.code)) continue;
      reached.add(check.code);
      queue.push(check.code);
      if (!replaced.has(counter.id)) found.set(check.code, { counter: counter.id, kind: counter.kind, check });
    }
  }
  const order = planOrder(plan);
  return [...found.values()].sort((a, b) => (order.get(a.check.code) ?? 0) - (order.get(b.check.code) ?? 0));
}

const ordersByPlan = new WeakMap<CounterPlan, ReadonlyMap<string, number>>();

function planOrder(plan: CounterPlan): ReadonlyMap<string, number> {
  let order = ordersByPlan.get(plan);
  if (order === undefined) {
    const built = new Map<string, number>();
    for (const counter of plan.counters.values()) for (const check of counter.checks) built.set(check.code, built.size);
    order = built;
    ordersByPlan.set(plan, order);
  }
  return order;
}
