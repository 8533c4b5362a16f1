import type { HistoryPart, HistorySelector } from "../model/history.ts";

/**
 * Where rollups go once a backend hands them over (durability's PostgreSQL table). The engine reads the
 * backend's copy first and the archive second, so a part moving between them in the meantime is seen in
 * one or both, never in neither; copies merge by maximum (`mergeParts`).
 */
export interface HistoryArchive {
  /**
   * The archived parts of each subject (subjects without any are absent), in no particular order; with
   * `selection`, only those it selects (`selects`; more may come back, none it selects may be left out).
   * With `rawEventsFromDay`, the parts of that UTC day and later carry the raw events the archive keeps.
   */
  read(subjects: readonly string[], selection?: readonly HistorySelector[], rawEventsFromDay?: number): Promise<ReadonlyMap<string, readonly HistoryPart[]>>;
  /**
   * The engine says for how many UTC days (today included) it uses raw events (`historyRawEvents`), or
   * undefined when it keeps none: the archive's owner drops older ones (durability: its retention pass).
   */
  useRawEventRetention?(retentionDays: number | undefined): void;
}
