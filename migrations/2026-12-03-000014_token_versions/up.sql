-- A per-account token version, carried in every access token (`ver`) and
-- checked on every request: a password change, a role change, a deactivation
-- or a client secret rotation bumps it, which ends every token issued before,
-- also one issued in the same second (timestamps have one-second tokens).
-- Bumped by a trigger, so that no path that changes these columns (API, CLI,
-- seed) can forget it.
ALTER TABLE users ADD COLUMN token_version integer NOT NULL DEFAULT 0;
ALTER TABLE api_clients ADD COLUMN token_version integer NOT NULL DEFAULT 0;

CREATE FUNCTION bump_token_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.token_version := OLD.token_version + 1;
    RETURN NEW;
END
$$;

CREATE TRIGGER users_token_version BEFORE UPDATE OF password_hash, roles, active ON users
    FOR EACH ROW
    WHEN (OLD.password_hash IS DISTINCT FROM NEW.password_hash
          OR OLD.roles IS DISTINCT FROM NEW.roles
          OR OLD.active IS DISTINCT FROM NEW.active)
    EXECUTE FUNCTION bump_token_version();

CREATE TRIGGER api_clients_token_version BEFORE UPDATE OF secret_hash, roles, active ON api_clients
    FOR EACH ROW
    WHEN (OLD.secret_hash IS DISTINCT FROM NEW.secret_hash
          OR OLD.roles IS DISTINCT FROM NEW.roles
          OR OLD.active IS DISTINCT FROM NEW.active)
    EXECUTE FUNCTION bump_token_version();

-- No single amount of money may exceed 10^15 rupiah (issue 14); checked for
-- new rows only, so that a database holding older values still migrates.
ALTER TABLE budget_ledger ADD CONSTRAINT budget_ledger_amount_bounded
    CHECK (amount BETWEEN -1000000000000000 AND 1000000000000000) NOT VALID;
ALTER TABLE transfer_cost_items ADD CONSTRAINT transfer_cost_items_amount_bounded
    CHECK (amount <= 1000000000000000) NOT VALID;
