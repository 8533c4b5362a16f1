import type { Pool } from "pg";
import { quoteSchemaName } from "./schema-name.ts";
import { checkOut } from "./checked-out-client.ts";

/** Rows each table held for the erased subject. */
export type ErasedRows = Readonly<Record<"subjects" | "awards" | "award_journal" | "balances" | "holds" | "history" | "history_raw_events" | "ledger_journal", number>>;

/**
 * Deletes every row of one subject in one transaction (a deletion request, `progression.erase`): the
 * snapshot, awards and their journal, balances, holds, archived history and its raw events, and ledger journal. The journal's append-only
 * trigger lets exactly this subject's rows go, for this transaction only.
 */
export async function eraseSubjectRows(pool: Pool, schema: string, subject: string): Promise<ErasedRows> {
  const s = quoteSchemaName(schema);
  const { client, release } = await checkOut(pool);
  try {
    await client.query("BEGIN");
    await client.query("SELECT set_config('colyseus_progression.erasing', $1, true)", [subject]);
    const erased: Record<string, number> = {};
    for (const table of ["subjects", "awards", "award_journal", "balances", "holds", "history", "history_raw_events", "ledger_journal"] as const) {
      erased[table] = (await client.query(`DELETE FROM ${s}.${table} WHERE subject = $1`, [subject])).rowCount ?? 0;
    }
    await client.query("COMMIT");
    return erased as ErasedRows;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    release();
  }
}
