-- Plans, their rules and performance records, and intervention requests.
-- Timestamps are microseconds since the Unix epoch (UTC); properties are a JSON object text.
CREATE TABLE plans (
    id          TEXT    PRIMARY KEY NOT NULL,
    fields      TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE rules (
    plan_id     TEXT    NOT NULL REFERENCES plans (id),
    id          TEXT    NOT NULL,
    fields      TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (plan_id, id)
) STRICT;

CREATE TABLE performances (
    plan_id     TEXT    NOT NULL REFERENCES plans (id),
    id          TEXT    NOT NULL,
    fields      TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (plan_id, id)
) STRICT;

CREATE TABLE interventions (
    id               TEXT    PRIMARY KEY NOT NULL,
    plan_id          TEXT    NOT NULL REFERENCES plans (id),
    subject_kind     TEXT    NOT NULL CHECK (subject_kind IN ('plan', 'rules', 'performance')),
    subject_id       TEXT,
    reason           TEXT,
    requested_action TEXT,
    details          TEXT    NOT NULL,
    requester        TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved', 'rejected')),
    version          INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
) STRICT;

CREATE INDEX interventions_by_plan ON interventions (plan_id, id);
CREATE INDEX interventions_by_plan_status ON interventions (plan_id, status, id);
