-- Consent, the read log and break-the-glass access grants (issue 13).

-- The returnee's consent to share their data beyond the government agencies
-- involved in their return. The latest decision is on the case (so that lists,
-- exports and the change feed filter on it); every decision is kept.
ALTER TABLE cases ADD COLUMN consent text NOT NULL DEFAULT 'unknown'
    CHECK (consent IN ('unknown', 'given', 'refused'));
CREATE TABLE case_consents (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id       uuid NOT NULL REFERENCES cases (id),
    decision      text NOT NULL CHECK (decision IN ('given', 'refused')),
    decided_at    timestamptz NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    recorded_by   uuid,
    recorder_name text,
    agency_id     uuid,
    note          text
);
CREATE INDEX case_consents_case_idx ON case_consents (case_id, id);

-- Every read of a case or person record: who, when, which operation, which
-- records (or, for lists and exports, the filter and the row count).
CREATE TABLE read_log (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at    timestamptz NOT NULL,
    principal_id   uuid NOT NULL,
    principal_kind text NOT NULL CHECK (principal_kind IN ('user', 'client')),
    principal_name text NOT NULL,
    agency_id      uuid NOT NULL,
    operation      text NOT NULL,
    case_ids       uuid[] NOT NULL DEFAULT '{}',
    person_id      uuid,
    filter         jsonb,
    row_count      integer NOT NULL CHECK (row_count >= 0),
    via_grant      boolean NOT NULL DEFAULT false,
    request_id     text
);
CREATE INDEX read_log_occurred_idx ON read_log (occurred_at DESC, id DESC);
CREATE INDEX read_log_principal_idx ON read_log (principal_id, occurred_at DESC);
CREATE INDEX read_log_agency_idx ON read_log (agency_id, occurred_at DESC);
CREATE INDEX read_log_cases_idx ON read_log USING gin (case_ids);

CREATE FUNCTION read_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'read_log is append-only';
END;
$$;
CREATE TRIGGER read_log_no_change BEFORE UPDATE OR DELETE ON read_log
    FOR EACH STATEMENT EXECUTE FUNCTION read_log_append_only();

-- Break the glass: a case worker handling a repeat return may read the earlier
-- returns of the same person for a few hours, with a reason.
CREATE TABLE access_grants (
    id             uuid PRIMARY KEY,
    principal_id   uuid NOT NULL,
    principal_name text NOT NULL,
    agency_id      uuid NOT NULL REFERENCES agencies (id),
    case_id        uuid NOT NULL REFERENCES cases (id),
    person_id      uuid NOT NULL,
    reason         text NOT NULL CHECK (length(btrim(reason)) > 0),
    granted_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    CHECK (expires_at > granted_at)
);
CREATE INDEX access_grants_principal_idx ON access_grants (principal_id, person_id, expires_at);
CREATE INDEX access_grants_person_idx ON access_grants (person_id, granted_at DESC);
