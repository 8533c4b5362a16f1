-- The history archive: every subject's event rollups (docs/semantics.md, "History") once the snapshot job
-- has taken them out of the backend. One row per (subject, UTC day, trigger type, tags, part):
--   tags   canonical JSON of the event's tags (keys sorted), '' for none;
--   part   which life of the backend (or which late write to an archived day) wrote the rollup.
-- A part only ever grows, so the writer merges two copies of one row by GREATEST(count, sum, last_at,
-- max_amount) and LEAST(first_at): replaying a snapshot changes nothing, and a newer copy wins. The history
-- of a (day, type, tags) is the SUM over its parts (src/model/history.ts, mergeParts).
--
-- Partitioned by day: the writer creates one partition per 32 UTC days on demand
-- (history_p<first day>, FOR VALUES FROM (first day) TO (first day + 32)), and retention drops whole
-- partitions (src/durability/postgres/history-archive.ts). The primary key leads with subject, so reading
-- a subject is one index probe per partition.
CREATE TABLE __SCHEMA__.history (
  subject    text   NOT NULL,
  type       text   NOT NULL,
  tags       text   NOT NULL,
  day        int    NOT NULL,
  part       text   NOT NULL,
  count      bigint NOT NULL,
  sum        bigint NOT NULL,
  first_at   bigint NOT NULL,
  last_at    bigint NOT NULL,
  max_amount bigint NOT NULL,
  PRIMARY KEY (subject, day, type, tags, part)
) PARTITION BY RANGE (day);

-- The counter set a subject's counters are complete for (HistoryStatus.completeFor), kept with its
-- snapshot so a restored subject is backfilled from the right point; null: no history.
ALTER TABLE __SCHEMA__.subjects ADD COLUMN history_complete_for text;
