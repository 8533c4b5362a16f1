import type { SnapshotWriter } from "../postgres/snapshot-writer.ts";
import type { SnapshotSource } from "../../backends/contract/progression-backend.ts";
import type { ArchivedHistory } from "../../backends/contract/history-backend.ts";
import { dayOf } from "../../model/utc-day.ts";

/**
 * One snapshot pass: takes dirty subjects in chunks, exports and writes each chunk (one COPY
 * transaction per chunk), and puts a chunk back into the dirty set if its write fails, so a failed
 * run loses nothing. A subject that changes while it is being written is marked dirty again by the
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
  while (written < options.maxSubjects) {
    const limit = Math.min(options.chunkSize, options.maxSubjects - written);
    // Read before the take. A take that empties the dirty set (fewer than asked) holds every subject an
    // apply before it changed and no earlier chunk wrote since: once its chunk is written, every event
    // applied before `takeAt` is in PostgreSQL (an apply marks its subject dirty in the same step).
    const takeAt = options.clock();
    const subjects = await source.takeDirtySubjects(limit);
    if (subjects.length === 0) {
      archivedThrough = takeAt;
      await options.onArchivedThrough?.(takeAt);
      break;
    }
    let archived: ArchivedHistory[] = [];
    try {
      // Taken before the export: a later export of the same subject always carries a later time.
      const takenAt = nextTakenAt(options.clock);
      const snapshots = await source.exportSubjects(subjects);
      const result = await writer.write(snapshots, takenAt);
      rows += result.rows;
      // Only a writer that archives history says how many parts it stored; any other keeps them in the backend.
      if (result.historyParts !== undefined) {
        archived = snapshots.map((s) => ({ subject: s.subject, parts: s.history ?? [] })).filter((a) => a.parts.length > 0);
      }
    } catch (error) {
      await source.markDirty(subjects);
      throw error;
    }
    written += subjects.length;
    if (subjects.length < limit) {
      archivedThrough = takeAt;
      await options.onArchivedThrough?.(takeAt);
    }
    if (archived.length > 0) {
      try {
        await source.dropArchivedHistory(archived, dayOf(options.clock()) - (hotDays - 1));
      } catch (error) {
        options.onHistoryDropFailed?.(error);
        for (const { subject } of archived) undropped.push(subject);
        continue;
      }
      options.onHistoryDropped?.();
    }
  }
  // Exported and dropped again by the next pass (a no-op in the archive, which holds them already).
  if (undropped.length > 0) await source.markDirty(undropped).catch((error: unknown) => options.onHistoryDropFailed?.(error));
  return { written, rows, backlog: await source.dirtyCount(), ...(archivedThrough === undefined ? {} : { archivedThrough }) };
}
