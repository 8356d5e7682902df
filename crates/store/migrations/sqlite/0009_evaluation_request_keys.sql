-- Recorded evaluations and saved back-tests carry the creation guard plans and intervention
-- requests have (0008): the idempotency key of the request that created them, hashed with its
-- principal and the request, so a retry whose first attempt's response was lost finds the
-- record instead of making a second one.
ALTER TABLE evaluations ADD COLUMN request_key TEXT;
CREATE UNIQUE INDEX evaluations_by_request_key ON evaluations (request_key)
    WHERE request_key IS NOT NULL;

ALTER TABLE backtests ADD COLUMN request_key TEXT;
CREATE UNIQUE INDEX backtests_by_request_key ON backtests (request_key)
    WHERE request_key IS NOT NULL;
