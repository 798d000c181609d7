-- Housekeeping (src/housekeeping.rs) deletes idempotency keys past their
-- retention and sign-in throttle counters past their window; these indexes
-- keep each sweep to the rows it deletes.
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
CREATE INDEX sign_in_throttle_window_idx ON sign_in_throttle (window_start);
