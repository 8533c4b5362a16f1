import type { SnapshotWriter } from "../postgres/snapshot-writer.ts";
import type { SnapshotSource } from "../../backends/contract/progression-backend.ts";

/**
 * One snapshot pass: takes dirty subjects in chunks, exports and writes each chunk (one COPY
 * transaction per chunk), and puts a chunk back into the dirty set if its write fails, so a failed
 * run loses nothing. A subject that changes while it is being written is marked dirty again by the
 * backend and goes out with the next pass.
 */

export interface SnapshotPassOptions {
  /** Subjects per COPY transaction. */
  readonly chunkSize: number;
  /** Stop after this many subjects (keeps one job short); the rest waits for the next run. */
  readonly maxSubjects: number;
  readonly clock: () => number;
}

export interface SnapshotPassResult {
  readonly written: number;
  readonly rows: number;
  /** Subjects still dirty when the pass ended. */
  readonly backlog: number;
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
  let written = 0;
  let rows = 0;
  while (written < options.maxSubjects) {
    const subjects = await source.takeDirtySubjects(Math.min(options.chunkSize, options.maxSubjects - written));
    if (subjects.length === 0) break;
    try {
      // Taken before the export: a later export of the same subject always carries a later time.
      const takenAt = nextTakenAt(options.clock);
      const snapshots = await source.exportSubjects(subjects);
      rows += (await writer.write(snapshots, takenAt)).rows;
    } catch (error) {
      await source.markDirty(subjects);
      throw error;
    }
    written += subjects.length;
  }
  return { written, rows, backlog: await source.dirtyCount() };
}
