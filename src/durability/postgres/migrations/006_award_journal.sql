-- The award journal: each award's receipt (`milestone.reached`) as written, with its provenance (the id of
-- the recorded batch whose apply made it, or 'history' for a backfill from history) and when it was written.
-- One row per award: a redelivered receipt adds nothing. `explain` reads it.
CREATE TABLE __SCHEMA__.award_journal (
  subject     text    NOT NULL,
  code        text    NOT NULL,
  earned_at   bigint  NOT NULL,
  retroactive boolean NOT NULL,
  awarded_at  bigint  NOT NULL,
  awarded_by  text    NOT NULL,
  event_id    text    NOT NULL,
  PRIMARY KEY (subject, code)
);
