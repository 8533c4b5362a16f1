-- What each journal row's change was, for people: "claim of first_blood", "transfer of 5 gold from a to b",
-- "commit of hold <id>". Null for rows written before it was kept.
ALTER TABLE __SCHEMA__.ledger_journal ADD COLUMN detail text;
