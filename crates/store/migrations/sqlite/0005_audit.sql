-- The audit trail: one record per change, append-only, hash-chained per plan (chain = the
-- plan id; '' for service-wide events). See crates/store/src/audit for the hash layout.
CREATE TABLE audit_records (
    seq            INTEGER PRIMARY KEY NOT NULL,
    chain          TEXT    NOT NULL,
    at             INTEGER NOT NULL,
    actor          TEXT    NOT NULL,
    interaction_id TEXT,
    action         TEXT    NOT NULL,
    subject        TEXT    NOT NULL,
    before         TEXT,
    after          TEXT,
    prev_hash      BLOB    NOT NULL,
    hash           BLOB    NOT NULL
) STRICT;
-- Verification walks each chain in order; the API lists a plan's records newest first.
CREATE UNIQUE INDEX audit_records_by_chain ON audit_records (chain, seq);

-- Each chain's last record: where the next record links to, and what verification expects
-- the chain to end with.
CREATE TABLE audit_heads (
    chain TEXT    PRIMARY KEY NOT NULL,
    seq   INTEGER NOT NULL,
    hash  BLOB    NOT NULL
) STRICT;

CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records
BEGIN
    SELECT RAISE(ABORT, 'audit records are append-only');
END;
CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records
BEGIN
    SELECT RAISE(ABORT, 'audit records are append-only');
END;
