import type { SnapshotWriter } from "../postgres/snapshot-writer.ts";
import type { SnapshotSource } from "../../backends/contract/progression-backend.ts";
import type { ArchivedHistory } from "../../backends/contract/history-backend.ts";
import { dayOf } from "../../model/utc-day.ts";
import type { SubjectSnapshot } from "../../model/subject-state.ts";

/**
 * One snapshot pass: takes dirty subjects in chunks, exports and writes each chunk (one COPY
 * transaction per chunk; the next chunk is taken and exported while one is written), and puts a chunk
 * back into the dirty set if its write fails (and the one taken ahead of it), so a failed run loses
 * nothing. A subject that changes while it is being written is marked dirty again by the
 * backend and goes out with the next pass.
 *
 * Once a chunk is written, the history parts it carried are in the archive: the backend is told to drop
 * those of days before the hot ones (`historyHotDays`: today and yesterday by default stay in the
 * backend, where new events still land). A failed drop fails nothing: its subjects go back into the
 * dirty set, so the next pass exports them again (a no-op in the archive) and drops their parts.
 */

export interface SnapshotPassOptions {
  /** Subjects per COPY transaction. */
  readonly chunkSize: number;
  /** Stop after this many subjects (keeps one job short); the rest waits for the next run. */
  readonly maxSubjects: number;
  readonly clock: () => number;
  /** UTC days (today included) whose archived history parts the backend keeps. Default 2. */
  readonly historyHotDays?: number;
  /** Told when the backend could not drop archived history parts (the pass goes on). Default: nothing. */
  readonly onHistoryDropFailed?: (error: unknown) => void;
  /** Told when the backend dropped archived history parts (ends an outage the failures reported). */
  readonly onHistoryDropped?: () => void;
  /**
   * Told, and waited for, each time the pass has archived every event applied before `at` (after a chunk
   * whose take emptied the dirty set). Must not throw. Default: nothing.
   */
  readonly onArchivedThrough?: (at: number) => Promise<void> | void;
}

export const snapshotPassDefaults = { historyHotDays: 2 } as const;

export interface SnapshotPassResult {
  readonly written: number;
  readonly rows: number;
  /** Subjects still dirty when the pass ended. */
  readonly backlog: number;
  /**
   * Every event applied before this time is now in PostgreSQL (history-archive-lag.ts): the time of the
   * pass's last take that emptied the dirty set. Absent when no take did (every one filled its chunk).
   */
  readonly archivedThrough?: number;
}

/**
 * The last export time handed out in this process. Export times only grow, by at least 1 ms: two passes in
 * the same millisecond (the scheduled one and a `snapshotNow`) would otherwise carry equal times, and the
 * older export, landing second, would replace the newer balances and holds.
 */
let lastTakenAt = 0;

function nextTakenAt(clock: () => number): number {
  lastTakenAt = Math.max(clock(), lastTakenAt + 1);
  return lastTakenAt;
}

/** A chunk taken from the dirty set and exported, ready to be written. */
interface PreparedChunk {
  /** The clock before the take (the archive's watermark when this take emptied the dirty set). */
  readonly takeAt: number;
  readonly limit: number;
  readonly subjects: readonly string[];
  readonly takenAt: number;
  readonly snapshots: readonly SubjectSnapshot[];
}

export async function snapshotDirtySubjects(
  source: SnapshotSource,
  writer: SnapshotWriter,
  options: SnapshotPassOptions,
): Promise<SnapshotPassResult> {
  const hotDays = options.historyHotDays ?? snapshotPassDefaults.historyHotDays;
  let archivedThrough: number | undefined;
  let written = 0;
  let rows = 0;
  // Subjects whose archived parts the backend failed to drop: dirty again once this pass is over (not
  // before, or the pass would take them straight back).
  const undropped: string[] = [];
  const prepare = async (limit: number): Promise<PreparedChunk> => {
    // Read before the take. A take that empties the dirty set (fewer than asked) holds every subject an
    // apply before it changed and no earlier chunk wrote since: once its chunk is written, every event
    // applied before `takeAt` is in PostgreSQL (an apply marks its subject dirty in the same step).
    const takeAt = options.clock();
    const subjects = await source.takeDirtySubjects(limit);
    if (subjects.length === 0) return { takeAt, limit, subjects, takenAt: 0, snapshots: [] };
    try {
      // Taken before the export: a later export of the same subject always carries a later time.
      const takenAt = nextTakenAt(options.clock);
      return { takeAt, limit, subjects, takenAt, snapshots: await source.exportSubjects(subjects) };
    } catch (error) {
      await source.markDirty(subjects);
      throw error;
    }
  };
  // The next chunk is taken and exported (Redis) while the current one is written (PostgreSQL). Chunks are
  // written in the order they were taken, so a subject taken twice is written last with its later export.
  let next: Promise<PreparedChunk> | undefined = options.maxSubjects > 0 ? prepare(Math.min(options.chunkSize, options.maxSubjects)) : undefined;
  try {
    while (next !== undefined) {
      const chunk: PreparedChunk = await next;
      next = undefined;
      if (chunk.subjects.length === 0) {
        archivedThrough = chunk.takeAt;
        await options.onArchivedThrough?.(chunk.takeAt);
        break;
      }
      const after = written + chunk.subjects.length;
      if (after < options.maxSubjects) next = prepare(Math.min(options.chunkSize, options.maxSubjects - after));
      let archived: ArchivedHistory[] = [];
      try {
        const result = await writer.write(chunk.snapshots, chunk.takenAt);
        rows += result.rows;
        // Only a writer that archives history says how many parts it stored; any other keeps them in the backend.
        if (result.historyParts !== undefined) {
          archived = chunk.snapshots.map((s) => ({ subject: s.subject, parts: s.history ?? [] })).filter((a) => a.parts.length > 0);
        }
      } catch (error) {
        await source.markDirty(chunk.subjects);
        throw error;
      }
      written = after;
      if (chunk.subjects.length < chunk.limit) {
        archivedThrough = chunk.takeAt;
        await options.onArchivedThrough?.(chunk.takeAt);
      }
      if (archived.length > 0) {
        try {
          await source.dropArchivedHistory(archived, dayOf(options.clock()) - (hotDays - 1));
          options.onHistoryDropped?.();
        } catch (error) {
          options.onHistoryDropFailed?.(error);
          for (const { subject } of archived) undropped.push(subject);
        }
      }
    }
  } finally {
    // A chunk taken ahead and not written (the pass failed): back into the dirty set, so nothing is lost.
    if (next !== undefined) {
      const pending = await next.catch(() => undefined);
      if (pending !== undefined && pending.subjects.length > 0) await source.markDirty(pending.subjects).catch((error: unknown) => options.onHistoryDropFailed?.(error));
    }
  }
  // Exported and dropped again by the next pass (a no-op in the archive, which holds them already).
  if (undropped.length > 0) await source.markDirty(undropped).catch((error: unknown) => options.onHistoryDropFailed?.(error));
  return { written, rows, backlog: await source.dirtyCount(), ...(archivedThrough === undefined ? {} : { archivedThrough }) };
}
