-- The append-only audit log: every write and every sign-in, success or failure.
CREATE TABLE audit_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    actor_id     uuid,
    actor_kind   text CHECK (actor_kind IN ('user', 'client', 'system')),
    actor_name   text,
    agency_id    uuid,
    action       text NOT NULL,
    entity_type  text NOT NULL,
    entity_id    text,
    outcome      text NOT NULL DEFAULT 'success' CHECK (outcome IN ('success', 'failure')),
    before       jsonb,
    after        jsonb,
    client_addr  text,
    request_id   text
);
CREATE INDEX audit_events_entity_idx ON audit_events (entity_type, entity_id, id);
CREATE INDEX audit_events_actor_idx ON audit_events (actor_id, id);
CREATE INDEX audit_events_agency_idx ON audit_events (agency_id, id);
CREATE INDEX audit_events_occurred_idx ON audit_events (occurred_at, id);

-- Append-only: refuse updates and deletes, whoever asks.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- Failed sign-ins per account name and per client address, so that guessing is slow
-- on every instance. Keys: 'account:<name>' (known or not) and 'address:<ip>'.
CREATE TABLE sign_in_throttle (
    key          text PRIMARY KEY,
    failures     integer NOT NULL,
    window_start timestamptz NOT NULL,
    locked_until timestamptz
);
