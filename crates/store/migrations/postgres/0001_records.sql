-- Plans, their rules and performance records, and intervention requests.
-- Timestamps are microseconds since the Unix epoch (UTC); properties are a JSON object.
CREATE TABLE plans (
    id          TEXT   PRIMARY KEY,
    fields      JSONB  NOT NULL,
    version     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE rules (
    plan_id     TEXT   NOT NULL REFERENCES plans (id),
    id          TEXT   NOT NULL,
    fields      JSONB  NOT NULL,
    version     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (plan_id, id)
);

CREATE TABLE performances (
    plan_id     TEXT   NOT NULL REFERENCES plans (id),
    id          TEXT   NOT NULL,
    fields      JSONB  NOT NULL,
    version     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (plan_id, id)
);

CREATE TABLE interventions (
    id               TEXT   PRIMARY KEY,
    plan_id          TEXT   NOT NULL REFERENCES plans (id),
    subject_kind     TEXT   NOT NULL CHECK (subject_kind IN ('plan', 'rules', 'performance')),
    subject_id       TEXT,
    reason           TEXT,
    requested_action TEXT,
    details          JSONB  NOT NULL,
    requester        TEXT   NOT NULL,
    status           TEXT   NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved', 'rejected')),
    version          BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);

CREATE INDEX interventions_by_plan ON interventions (plan_id, id);
CREATE INDEX interventions_by_plan_status ON interventions (plan_id, status, id);
