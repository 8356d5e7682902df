-- Per-plan activity and one summary (timeline) per case.
--
-- Every batch that adds events to a plan gets the next *generation* of the plan; its events
-- carry it. Timelines are derived from the events and folded in behind them: `folded` is the
-- generation up to which they include every event. Computing a plan's statistics reads one
-- timeline per case that matters for the window instead of the case's events; a timeline
-- carries the generation of the fold that last changed it, so a reader holding the timelines
-- of one generation can fetch only those changed since.
ALTER TABLE case_events ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
UPDATE case_events SET generation = 1;
DROP INDEX case_events_by_plan;
CREATE INDEX case_events_by_generation ON case_events (plan_id, generation);

CREATE TABLE plan_activity (
    plan_id    TEXT    PRIMARY KEY NOT NULL REFERENCES plans (id),
    generation INTEGER NOT NULL,
    folded     INTEGER NOT NULL,
    events     INTEGER NOT NULL
) STRICT;
-- Events stored before generations existed are generation 1, not yet folded.
INSERT INTO plan_activity (plan_id, generation, folded, events)
    SELECT plan_id, 1, 0, count(*) FROM case_events GROUP BY plan_id;

CREATE TABLE case_timelines (
    plan_id       TEXT    NOT NULL REFERENCES plans (id),
    case_id       TEXT    NOT NULL,
    first_seen_at INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    is_open       INTEGER NOT NULL,
    generation    INTEGER NOT NULL,
    timeline      TEXT    NOT NULL,
    PRIMARY KEY (plan_id, case_id)
) STRICT, WITHOUT ROWID;
-- The two ways a case matters for a window: seen recently, or still open; and what changed.
CREATE INDEX case_timelines_recent ON case_timelines (plan_id, last_seen_at);
CREATE INDEX case_timelines_open ON case_timelines (plan_id, first_seen_at) WHERE is_open = 1;
CREATE INDEX case_timelines_changed ON case_timelines (plan_id, generation);
