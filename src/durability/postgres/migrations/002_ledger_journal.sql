-- Append-only audit journal of ledger mutations, fed by `inventory.changed` domain events:
-- one row per (event, subject, item) with the balance after the mutation.
-- The unique key makes a redelivered event a no-op; the trigger forbids rewriting history.
CREATE TABLE __SCHEMA__.ledger_journal (
  id              bigserial   PRIMARY KEY,
  event_id        text        NOT NULL,
  idempotency_key text        NOT NULL,
  cause           text        NOT NULL,
  subject         text        NOT NULL,
  item            text        NOT NULL,
  free_after      bigint      NOT NULL,
  held_after      bigint      NOT NULL,
  occurred_at     bigint      NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (event_id, subject, item)
);
CREATE INDEX ledger_journal_by_subject ON __SCHEMA__.ledger_journal (subject, item, id);

CREATE FUNCTION __SCHEMA__.ledger_journal_is_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger_journal is append-only: % is not allowed', TG_OP;
END;
$$;

CREATE TRIGGER ledger_journal_append_only
  BEFORE UPDATE OR DELETE ON __SCHEMA__.ledger_journal
  FOR EACH ROW EXECUTE FUNCTION __SCHEMA__.ledger_journal_is_append_only();
