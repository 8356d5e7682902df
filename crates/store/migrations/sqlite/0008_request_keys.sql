-- The idempotency key (hashed with its principal and the request) of the request that created
-- a plan, kept in the plan's own row: a retry that runs again after its first attempt's outcome was lost
-- (the process died between the commit and keeping the response) finds the plan instead of
-- creating a second one.
ALTER TABLE plans ADD COLUMN request_key TEXT;
CREATE UNIQUE INDEX plans_by_request_key ON plans (request_key) WHERE request_key IS NOT NULL;

-- The same for intervention requests.
ALTER TABLE interventions ADD COLUMN request_key TEXT;
CREATE UNIQUE INDEX interventions_by_request_key ON interventions (request_key)
    WHERE request_key IS NOT NULL;
