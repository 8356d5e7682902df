-- One summary per case, updated as its events arrive, so that computing a plan's statistics
-- reads one row per case that matters for the window instead of the case's events; and one
-- row per plan counting its activity: `generation` grows with every batch that added events,
-- so a computed figure can be reused for as long as the generation it was computed at holds.
CREATE TABLE case_timelines (
    plan_id       TEXT    NOT NULL REFERENCES plans (id),
    case_id       TEXT    NOT NULL,
    first_seen_at INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    is_open       INTEGER NOT NULL,
    timeline      TEXT    NOT NULL,
    PRIMARY KEY (plan_id, case_id)
) STRICT, WITHOUT ROWID;
-- The two ways a case matters for a window: seen recently, or still open.
CREATE INDEX case_timelines_recent ON case_timelines (plan_id, last_seen_at);
CREATE INDEX case_timelines_open ON case_timelines (plan_id, first_seen_at) WHERE is_open = 1;

CREATE TABLE plan_activity (
    plan_id    TEXT    PRIMARY KEY NOT NULL REFERENCES plans (id),
    generation INTEGER NOT NULL,
    events     INTEGER NOT NULL
) STRICT;
