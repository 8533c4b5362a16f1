/**
 * When and by what an award was written (`explain`): the id of the recorded batch whose apply made it
 * (the key of its announcement, the ledger journal's key for its autoClaim), or "history" for a
 * backfill from history. Kept by an award journal fed by the awards' receipts (`milestone.reached`),
 * not in the player's Redis state, whose size per player is a budget.
 */
export interface AwardProvenance {
  readonly awardedAt: number;
  readonly awardedBy: string;
}

/** Where `explain` finds an award's provenance: PostgreSQL with durability, the process itself when embedded. */
export interface AwardProvenanceSource {
  provenance(subject: string, code: string): Promise<AwardProvenance | null>;
}

/** The provenance a receipt names for an award made by a backfill from history (`catchUp`, `backfill`, `rebuild`). */
export const AWARDED_FROM_HISTORY = "history";
