-- Typed extension properties on rules and performance records; every version of them;
-- recorded evaluations and back-tests of criteria; the intervention lifecycle.
ALTER TABLE rules ADD COLUMN extensions JSONB NOT NULL DEFAULT '{}';
ALTER TABLE performances ADD COLUMN extensions JSONB NOT NULL DEFAULT '{}';

CREATE TABLE record_versions (
    kind        TEXT   NOT NULL CHECK (kind IN ('rules', 'performance')),
    plan_id     TEXT   NOT NULL,
    record_id   TEXT   NOT NULL,
    version     BIGINT NOT NULL,
    fields      JSONB  NOT NULL,
    extensions  JSONB  NOT NULL,
    changed_by  TEXT   NOT NULL,
    changed_at  BIGINT NOT NULL,
    PRIMARY KEY (kind, plan_id, record_id, version)
);

CREATE TABLE evaluations (
    id              TEXT    PRIMARY KEY,
    plan_id         TEXT    NOT NULL,
    rules_id        TEXT    NOT NULL,
    rules_version   BIGINT  NOT NULL,
    case_id         TEXT,
    facts           JSONB   NOT NULL,
    result          BOOLEAN NOT NULL,
    decision        TEXT,
    explanation     JSONB   NOT NULL,
    amount_value    TEXT,
    amount_currency TEXT,
    outcome         TEXT,
    outcome_at      BIGINT,
    evaluated_by    TEXT    NOT NULL,
    evaluated_at    BIGINT  NOT NULL,
    FOREIGN KEY (plan_id, rules_id) REFERENCES rules (plan_id, id)
);
CREATE INDEX evaluations_by_rule ON evaluations (plan_id, rules_id, id);

CREATE TABLE backtests (
    id            TEXT   PRIMARY KEY,
    plan_id       TEXT   NOT NULL,
    rules_id      TEXT   NOT NULL,
    rules_version BIGINT NOT NULL,
    proposal      JSONB  NOT NULL,
    report        JSONB  NOT NULL,
    summary       TEXT   NOT NULL,
    run_by        TEXT   NOT NULL,
    run_at        BIGINT NOT NULL,
    FOREIGN KEY (plan_id, rules_id) REFERENCES rules (plan_id, id)
);
CREATE INDEX backtests_by_rule ON backtests (plan_id, rules_id, id);

CREATE TABLE intervention_transitions (
    intervention_id TEXT   NOT NULL REFERENCES interventions (id),
    seq             BIGINT NOT NULL,
    from_status     TEXT   NOT NULL,
    to_status       TEXT   NOT NULL,
    changed_by      TEXT   NOT NULL,
    comment         TEXT,
    changed_at      BIGINT NOT NULL,
    PRIMARY KEY (intervention_id, seq)
);
CREATE INDEX interventions_by_subject ON interventions (plan_id, subject_kind, subject_id, status);
