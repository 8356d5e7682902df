-- Typed extension properties on rules and performance records; every version of them;
-- recorded evaluations and back-tests of criteria; the intervention lifecycle.
ALTER TABLE rules ADD COLUMN extensions TEXT NOT NULL DEFAULT '{}';
ALTER TABLE performances ADD COLUMN extensions TEXT NOT NULL DEFAULT '{}';

CREATE TABLE record_versions (
    kind        TEXT    NOT NULL CHECK (kind IN ('rules', 'performance')),
    plan_id     TEXT    NOT NULL,
    record_id   TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    fields      TEXT    NOT NULL,
    extensions  TEXT    NOT NULL,
    changed_by  TEXT    NOT NULL,
    changed_at  INTEGER NOT NULL,
    PRIMARY KEY (kind, plan_id, record_id, version)
) STRICT;

CREATE TABLE evaluations (
    id              TEXT    PRIMARY KEY NOT NULL,
    plan_id         TEXT    NOT NULL,
    rules_id        TEXT    NOT NULL,
    rules_version   INTEGER NOT NULL,
    case_id         TEXT,
    facts           TEXT    NOT NULL,
    result          INTEGER NOT NULL,
    decision        TEXT,
    explanation     TEXT    NOT NULL,
    amount_value    TEXT,
    amount_currency TEXT,
    outcome         TEXT,
    outcome_at      INTEGER,
    evaluated_by    TEXT    NOT NULL,
    evaluated_at    INTEGER NOT NULL,
    FOREIGN KEY (plan_id, rules_id) REFERENCES rules (plan_id, id)
) STRICT;
CREATE INDEX evaluations_by_rule ON evaluations (plan_id, rules_id, id);

CREATE TABLE backtests (
    id            TEXT    PRIMARY KEY NOT NULL,
    plan_id       TEXT    NOT NULL,
    rules_id      TEXT    NOT NULL,
    rules_version INTEGER NOT NULL,
    proposal      TEXT    NOT NULL,
    report        TEXT    NOT NULL,
    summary       TEXT    NOT NULL,
    run_by        TEXT    NOT NULL,
    run_at        INTEGER NOT NULL,
    FOREIGN KEY (plan_id, rules_id) REFERENCES rules (plan_id, id)
) STRICT;
CREATE INDEX backtests_by_rule ON backtests (plan_id, rules_id, id);

CREATE TABLE intervention_transitions (
    intervention_id TEXT    NOT NULL REFERENCES interventions (id),
    seq             INTEGER NOT NULL,
    from_status     TEXT    NOT NULL,
    to_status       TEXT    NOT NULL,
    changed_by      TEXT    NOT NULL,
    comment         TEXT,
    changed_at      INTEGER NOT NULL,
    PRIMARY KEY (intervention_id, seq)
) STRICT;
CREATE INDEX interventions_by_subject ON interventions (plan_id, subject_kind, subject_id, status);
