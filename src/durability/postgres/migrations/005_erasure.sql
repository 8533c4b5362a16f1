-- Erasure (deletion requests): the journal stays append-only, except for the rows of the one subject an
-- erasing transaction names in `colyseus_progression.erasing` (SET LOCAL, see erase-subject.ts).
CREATE OR REPLACE FUNCTION __SCHEMA__.ledger_journal_is_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND OLD.subject = current_setting('colyseus_progression.erasing', true) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'ledger_journal is append-only: % is not allowed', TG_OP;
END;
$$;
