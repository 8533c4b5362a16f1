-- Raw events of the history archive (engine option `historyRawEvents`, docs/semantics.md "History"): each
-- event's own time and amount, kept next to its rollup in `history` for a retention of their own. One row
-- per rollup row of `history` (subject, UTC day, trigger type, tags, part) whose raw events were all kept:
--   at, amount   the events, one element each, in the order they were written (at: epoch ms).
-- A part's raw events only grow by appending, so the writer replaces a row only by a longer copy:
-- replaying a snapshot changes nothing, and a newer copy wins.
--
-- Partitioned by day, one partition per UTC day (history_raw_events_p<day>), created when a write first
-- needs it; the retention (historyRawEvents.retentionDays) drops whole days
-- (src/durability/postgres/history-archive.ts). Key columns compare bytes, as `history`'s do (007).
CREATE TABLE __SCHEMA__.history_raw_events (
  subject text     COLLATE "C" NOT NULL,
  type    text     COLLATE "C" NOT NULL,
  tags    text     COLLATE "C" NOT NULL,
  day     int      NOT NULL,
  part    text     COLLATE "C" NOT NULL,
  at      bigint[] NOT NULL,
  amount  bigint[] NOT NULL,
  PRIMARY KEY (subject, day, type, tags, part),
  CHECK (cardinality(at) = cardinality(amount) AND cardinality(at) > 0)
) PARTITION BY RANGE (day);
