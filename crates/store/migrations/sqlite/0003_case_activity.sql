-- Typed extension properties on plans (service-level targets, business calendar, resource
-- plan) and the case activity feed: one row per case event, unique per plan by EventId.
ALTER TABLE plans ADD COLUMN extensions TEXT NOT NULL DEFAULT '{}';

CREATE TABLE case_events (
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
    received_at     INTEGER NOT NULL,
    PRIMARY KEY (plan_id, event_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX case_events_by_case ON case_events (plan_id, case_id, occurred_at);
CREATE INDEX case_events_by_time ON case_events (plan_id, occurred_at);
