-- Typed extension properties on plans (service-level targets, business calendar, resource
-- plan) and the case activity feed: one row per case event, unique per plan by EventId.
ALTER TABLE plans ADD COLUMN extensions TEXT NOT NULL DEFAULT '{}';

-- Rows are appended in arrival order (rowid). Duplicates are found through `event_key`, a
-- 128-bit BLAKE3 digest of (plan id, EventId): a key that small keeps the unique index compact,
-- which matters because EventIds arrive in random order (a wide text key made each batch touch
-- most of the index's pages). A collision of two different events is as unlikely as one of
-- BLAKE3 itself.
CREATE TABLE case_events (
    seq             INTEGER PRIMARY KEY,
    event_key       BLOB    NOT NULL,
    plan_id         TEXT    NOT NULL REFERENCES plans (id),
    event_id        TEXT    NOT NULL,
    case_id         TEXT    NOT NULL,
    event_type      TEXT    NOT NULL,
    occurred_at     INTEGER NOT NULL,
    category        TEXT,
    priority        TEXT,
    channel         TEXT,
    team            TEXT,
    agent           TEXT,
    effort_minutes  REAL,
    amount_value    TEXT,
    amount_currency TEXT,
    outcome         TEXT,
    received_at     INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX case_events_once ON case_events (event_key);
-- Within a plan, rows arrive in rowid order, so this index grows at its end.
CREATE INDEX case_events_by_plan ON case_events (plan_id);
