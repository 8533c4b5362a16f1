import type { HistoryPart } from "../model/history.ts";

/**
 * Where rollups go once a backend hands them over (durability's PostgreSQL table). The engine reads the
 * backend's copy first and the archive second, so a part moving between them in the meantime is seen in
 * one or both, never in neither; copies merge by maximum (`mergeParts`).
 */
export interface HistoryArchive {
  /** The archived parts of each subject (subjects without any are absent), only of `types` when given. */
  read(subjects: readonly string[], types?: ReadonlySet<string>): Promise<ReadonlyMap<string, readonly HistoryPart[]>>;
}
