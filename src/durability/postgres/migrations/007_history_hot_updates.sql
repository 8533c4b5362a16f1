-- The history archive rewrites its hot days' rows in place (src/durability/postgres/history-archive.ts):
-- every snapshot pass merges the grown rollups of today and yesterday into rows that already exist.
--   - Byte-order ("C") collation for the key's text columns: the primary key is probed once per written
--     row, and comparing under the database's locale costs more than the rest of the probe. Nothing sorts
--     these columns for people, and equality is the same under every deterministic collation.
--   - Fill factor 50 for the partitions, so a rewritten row's new version fits on its own page (a HOT
--     update: no new index entry, and the page's dead versions are pruned by the next rewrite) instead
--     of moving to another page and adding to the index at every pass. New partitions are created with
--     it (HISTORY_FILL_FACTOR); here the existing ones get it for the pages they write from now on.
ALTER TABLE __SCHEMA__.history
  ALTER COLUMN subject TYPE text COLLATE "C",
  ALTER COLUMN type TYPE text COLLATE "C",
  ALTER COLUMN tags TYPE text COLLATE "C",
  ALTER COLUMN part TYPE text COLLATE "C";

DO $$
DECLARE
  partition regclass;
BEGIN
  FOR partition IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = '__SCHEMA__.history'::regclass LOOP
    EXECUTE format('ALTER TABLE %s SET (fillfactor = 50)', partition);
  END LOOP;
END $$;
