-- Who may do what: every plan belongs to a business unit (set when it is created), and API
-- keys are kept as hashes of their secrets.
ALTER TABLE plans ADD COLUMN business_unit TEXT NOT NULL DEFAULT 'default';
CREATE INDEX plans_by_business_unit ON plans (business_unit, id);

CREATE TABLE api_keys (
    id             TEXT    PRIMARY KEY NOT NULL,
    name           TEXT    NOT NULL,
    secret_hash    BLOB    NOT NULL,
    scopes         TEXT    NOT NULL,
    business_units TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    created_by     TEXT    NOT NULL,
    revoked_at     INTEGER
) STRICT;
