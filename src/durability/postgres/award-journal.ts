import type { Pool } from "pg";
import type { DomainEnvelope } from "../../events/domain-topics.ts";
import type { AwardProvenance, AwardProvenanceSource } from "../../model/award-provenance.ts";
import { quoteSchemaName } from "./schema-name.ts";

/**
 * The award journal in PostgreSQL: every award's receipt (`milestone.reached`) with what made it, so
 * `explain` answers "which batch awarded this, and when?" for any process of the deployment. A
 * redelivered or repeated receipt adds nothing (one row per subject and code). Receipts of older
 * versions, without provenance, are not kept.
 */
export interface AwardJournal extends AwardProvenanceSource {
  /** Records the receipt; returns whether it was new. */
  append(envelope: DomainEnvelope<"milestone.reached">): Promise<boolean>;
}

export function createAwardJournal(options: { readonly pool: Pool; readonly schema: string }): AwardJournal {
  const s = quoteSchemaName(options.schema);
  const insert = `INSERT INTO ${s}.award_journal (subject, code, earned_at, retroactive, awarded_at, awarded_by, event_id)
    VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (subject, code) DO NOTHING`;
  const select = `SELECT awarded_at, awarded_by FROM ${s}.award_journal WHERE subject = $1 AND code = $2`;
  return {
    async append(envelope) {
      const { subject, code, earnedAt, retroactive, awardedAt, awardedBy } = envelope.payload;
      if (awardedAt === undefined || awardedBy === undefined) return false;
      const result = await options.pool.query(insert, [subject, code, earnedAt, retroactive, awardedAt, awardedBy, envelope.id]);
      return (result.rowCount ?? 0) > 0;
    },
    async provenance(subject, code): Promise<AwardProvenance | null> {
      const row = (await options.pool.query<{ awarded_at: string; awarded_by: string }>(select, [subject, code])).rows[0];
      return row === undefined ? null : { awardedAt: Number(row.awarded_at), awardedBy: row.awarded_by };
    },
  };
}
