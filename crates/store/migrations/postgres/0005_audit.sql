-- The audit trail: one record per change, append-only, hash-chained per plan (chain = the
-- plan id; '' for service-wide events). See crates/store/src/audit for the hash layout.
CREATE SEQUENCE audit_records_seq;
CREATE TABLE audit_records (
    seq            BIGINT PRIMARY KEY,
    chain          TEXT   NOT NULL,
    at             BIGINT NOT NULL,
    actor          TEXT   NOT NULL,
    interaction_id TEXT,
    action         TEXT   NOT NULL,
    subject        TEXT   NOT NULL,
    -- JSON kept as the exact text that was hashed (JSONB would not keep it byte for byte).
    before         TEXT,
    after          TEXT,
    prev_hash      BYTEA  NOT NULL,
    hash           BYTEA  NOT NULL
);
-- Verification walks each chain in order; the API lists a plan's records newest first.
CREATE UNIQUE INDEX audit_records_by_chain ON audit_records (chain, seq);

-- Each chain's last record: where the next record links to, and what verification expects
-- the chain to end with. Writers lock their chain's row, so appends to one chain take turns.
CREATE TABLE audit_heads (
    chain TEXT   PRIMARY KEY,
    seq   BIGINT NOT NULL,
    hash  BYTEA  NOT NULL
);

CREATE FUNCTION audit_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit records are append-only';
END
$$;
CREATE TRIGGER audit_records_append_only BEFORE UPDATE OR DELETE ON audit_records
    FOR EACH ROW EXECUTE FUNCTION audit_records_append_only();
CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON audit_records
    FOR EACH STATEMENT EXECUTE FUNCTION audit_records_append_only();
