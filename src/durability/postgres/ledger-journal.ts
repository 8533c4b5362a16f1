import type { Pool } from "pg";
import type { DomainEnvelope } from "../../events/domain-topics.ts";
import { quoteSchemaName } from "./schema-name.ts";

/**
 * The append-only ledger journal: every inventory mutation with its idempotency key and the balance
 * after it, for audit. Fed by `inventory.changed` domain events (one row per balance they carry);
 * a redelivered event adds nothing, thanks to the unique (event id, subject, item). `detail` says what
 * the change was ("claim of first_blood", "transfer of 5 gold from a to b"), so "why does this player
 * have 500 gold?" is one query.
 */

export interface JournalEntry {
  readonly eventId: string;
  readonly idempotencyKey: string;
  readonly cause: string;
  /** What the change was, for people; null for rows written before it was kept. */
  readonly detail: string | null;
  readonly subject: string;
  readonly item: string;
  readonly freeAfter: number;
  readonly heldAfter: number;
  readonly occurredAt: number;
}

export interface LedgerJournal {
  /** Inserts the entries not recorded yet; returns how many were new. */
  append(entries: readonly JournalEntry[]): Promise<number>;
  /** The journal entries of one `inventory.changed` envelope. */
  entriesOf(envelope: DomainEnvelope<"inventory.changed">): readonly JournalEntry[];
}

export function createLedgerJournal(options: { readonly pool: Pool; readonly schema: string }): LedgerJournal {
  const s = quoteSchemaName(options.schema);
  const sql = `INSERT INTO ${s}.ledger_journal
      (event_id, idempotency_key, cause, subject, item, free_after, held_after, occurred_at, detail)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[], $9::text[])
    ON CONFLICT (event_id, subject, item) DO NOTHING`;

  return {
    async append(entries) {
      if (entries.length === 0) return 0;
      const result = await options.pool.query(sql, [
        entries.map((e) => e.eventId),
        entries.map((e) => e.idempotencyKey),
        entries.map((e) => e.cause),
        entries.map((e) => e.subject),
        entries.map((e) => e.item),
        entries.map((e) => e.freeAfter),
        entries.map((e) => e.heldAfter),
        entries.map((e) => e.occurredAt),
        entries.map((e) => e.detail),
      ]);
      return result.rowCount ?? 0;
    },
    entriesOf(envelope) {
      return envelope.payload.balances.map((balance) => ({
        eventId: envelope.id,
        idempotencyKey: envelope.idempotencyKey,
        cause: envelope.payload.cause,
        detail: envelope.payload.detail ?? null,
        subject: balance.subject,
        item: balance.item,
        freeAfter: balance.free,
        heldAfter: balance.held,
        occurredAt: envelope.occurredAt,
      }));
    },
  };
}
