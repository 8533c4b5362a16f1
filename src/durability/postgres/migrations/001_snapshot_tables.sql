-- Snapshot tables: the durable record of every subject's counters, awards, balances and open holds.
-- __SCHEMA__ is replaced by the configured (quoted) schema name by the migration runner.
-- Times are epoch milliseconds (bigint), as everywhere in the engine.

-- One row per subject ever snapshotted. snapshot_at orders snapshots, so a late one never replaces the
-- balances and holds written by a newer one. counters holds every counter of the subject in one json
-- object keyed by counter id: one row per subject instead of one per counter and window day keeps a
-- 100,000-subject snapshot within seconds; json rather than jsonb because it is only ever read and
-- written whole. The writer merges it monotonically (see snapshot-writer.ts):
--   sum:    {"kind":"sum","value":n,"at":t}
--   window: {"kind":"window","at":t,"buckets":{"<utc day>":n,...}}
--   days:   {"kind":"days","value":n,"lastDay":d,"at":t}
--   gap:    {"kind":"gap","last":t,"maxGap":ms,"maxGapAt":t}
-- The *_hash columns fingerprint the last block written, so an unchanged block is not rewritten.
CREATE TABLE __SCHEMA__.subjects (
  subject       text        PRIMARY KEY,
  snapshot_at   bigint      NOT NULL,
  counters      json        NOT NULL DEFAULT '{}',
  awards_hash   text,
  balances_hash text,
  holds_hash    text,
  written_at    timestamptz NOT NULL DEFAULT now()
);

-- Awards are unique per (subject, code): granted once, never revoked, never downgraded from claimed.
CREATE TABLE __SCHEMA__.awards (
  subject     text    NOT NULL,
  code        text    NOT NULL,
  earned_at   bigint  NOT NULL,
  retroactive boolean NOT NULL,
  claimed_at  bigint,
  PRIMARY KEY (subject, code)
);

-- Balances and open holds are the current truth: replaced per subject by the newest snapshot.
CREATE TABLE __SCHEMA__.balances (
  subject text   NOT NULL,
  item    text   NOT NULL,
  free    bigint NOT NULL CHECK (free >= 0),
  held    bigint NOT NULL CHECK (held >= 0),
  PRIMARY KEY (subject, item)
);

CREATE TABLE __SCHEMA__.holds (
  hold_id    text   PRIMARY KEY,
  subject    text   NOT NULL,
  item       text   NOT NULL,
  quantity   bigint NOT NULL CHECK (quantity > 0),
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX holds_by_subject ON __SCHEMA__.holds (subject);
