-- Snapshot tables: the durable record of every subject's counters, awards, balances and open holds.
-- __SCHEMA__ is replaced by the configured (quoted) schema name by the migration runner.
-- Times are epoch milliseconds (bigint), as everywhere in the engine.

-- One row per subject ever snapshotted; snapshot_at orders snapshots so a late one never
-- replaces the balances and holds written by a newer one.
CREATE TABLE __SCHEMA__.subjects (
  subject     text        PRIMARY KEY,
  snapshot_at bigint      NOT NULL,
  written_at  timestamptz NOT NULL DEFAULT now()
);

-- Counters merge monotonically (GREATEST): a replayed or out-of-order snapshot never lowers them.
-- sum: value, at | window: at (+ window_buckets) | days: value, last_day, at | gap: at = last, max_gap, max_gap_at
CREATE TABLE __SCHEMA__.counters (
  subject    text    NOT NULL,
  counter    text    NOT NULL,
  kind       text    NOT NULL CHECK (kind IN ('sum', 'window', 'days', 'gap')),
  value      bigint  NOT NULL DEFAULT 0,
  at         bigint  NOT NULL DEFAULT 0,
  last_day   integer,
  max_gap    bigint,
  max_gap_at bigint,
  PRIMARY KEY (subject, counter)
);

-- Window counters: one amount per UTC day, merged by max per day.
CREATE TABLE __SCHEMA__.window_buckets (
  subject text    NOT NULL,
  counter text    NOT NULL,
  day     integer NOT NULL,
  amount  bigint  NOT NULL CHECK (amount >= 0),
  PRIMARY KEY (subject, counter, day)
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
