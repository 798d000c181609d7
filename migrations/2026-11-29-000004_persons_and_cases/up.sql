-- Persons (identity) and cases (one return of one person), their history, and
-- idempotency keys for creating POSTs.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE persons (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    full_name       text NOT NULL CHECK (length(btrim(full_name)) > 0),
    nik             text CHECK (nik ~ '^[0-9]{16}$'),
    passport_number text,
    sex             text CHECK (sex IN ('male', 'female')),
    birth_date      date,
    birth_place     text,
    phone           text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- One person per NIK: a returnee who comes back is linked, not duplicated.
CREATE UNIQUE INDEX persons_nik_key ON persons (nik) WHERE nik IS NOT NULL;
CREATE INDEX persons_passport_idx ON persons (passport_number) WHERE passport_number IS NOT NULL;
CREATE INDEX persons_birth_date_idx ON persons (birth_date);
CREATE INDEX persons_name_trgm_idx ON persons USING gin (full_name gin_trgm_ops);

-- Case numbers are handed out per year from a counter row.
CREATE TABLE case_number_counters (
    year integer PRIMARY KEY,
    last integer NOT NULL
);

CREATE TABLE cases (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    case_number           text NOT NULL,
    person_id             uuid NOT NULL REFERENCES persons (id),
    category              text NOT NULL CHECK (category IN ('migrant_worker', 'undocumented_migrant', 'trafficking_victim')),
    trafficking_indicated boolean NOT NULL DEFAULT false,
    arrived_at            timestamptz NOT NULL,
    entry_point           text NOT NULL CHECK (entry_point IN (
                              'plbn_entikong', 'plbn_aruk', 'plbn_nanga_badau',
                              'pelabuhan_dwikora_pontianak', 'bandara_supadio', 'other')),
    country_left          text NOT NULL CHECK (country_left ~ '^[A-Z]{2}$'),
    documents             text[] NOT NULL DEFAULT '{}',
    origin_region         text NOT NULL REFERENCES regions (code),
    -- Derived from origin_region (checked below), kept for the province filter's index.
    origin_province       text NOT NULL,
    origin_address        text,
    needs                 text[] NOT NULL DEFAULT '{}' CHECK (needs <@ ARRAY[
                              'health', 'psychosocial', 'legal', 'unaccompanied_minor']::text[]),
    shelter               text,
    status                text NOT NULL CHECK (status IN (
                              'registered', 'sheltered', 'assessed', 'ready_for_transfer', 'in_transfer',
                              'returned', 'closed', 'referred', 'absconded', 'deceased', 'cancelled')),
    -- Checked against the shipped region list by the application; no foreign key,
    -- so that bulk pushes fire one trigger fewer per row.
    handling_province     text NOT NULL CHECK (handling_province ~ '^[0-9]{2}$'),
    funding_scope         text NOT NULL CHECK (funding_scope IN ('apbn', 'apbd_shared')),
    source_agency_id      uuid NOT NULL REFERENCES agencies (id),
    external_reference    text,
    notes                 text,
    repeat_return         boolean NOT NULL DEFAULT false,
    version               integer NOT NULL DEFAULT 1,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT cases_origin_province_fits CHECK (origin_province = split_part(origin_region, '.', 1)),
    CONSTRAINT cases_funding_fits CHECK (
        funding_scope = CASE WHEN origin_province = handling_province THEN 'apbd_shared' ELSE 'apbn' END)
);
-- text_pattern_ops: also serves the prefix search of case numbers, whatever the collation.
CREATE UNIQUE INDEX cases_case_number_key ON cases (case_number text_pattern_ops);
-- Bulk pushes upsert by the source's own reference.
CREATE UNIQUE INDEX cases_source_reference_key ON cases (source_agency_id, external_reference)
    WHERE external_reference IS NOT NULL;
CREATE INDEX cases_person_idx ON cases (person_id);
-- List indexes: every filter, in the sort orders frontends use (newest arrival first).
CREATE INDEX cases_arrival_idx ON cases (arrived_at DESC, id DESC);
CREATE INDEX cases_created_idx ON cases (created_at DESC, id DESC);
CREATE INDEX cases_origin_status_arrival_idx ON cases (origin_region, status, arrived_at DESC, id DESC);
CREATE INDEX cases_origin_province_arrival_idx ON cases (origin_province, arrived_at DESC, id DESC);
CREATE INDEX cases_status_arrival_idx ON cases (status, arrived_at DESC, id DESC);
CREATE INDEX cases_handling_arrival_idx ON cases (handling_province, arrived_at DESC, id DESC);
CREATE INDEX cases_category_arrival_idx ON cases (category, arrived_at DESC, id DESC);
CREATE INDEX cases_entry_point_arrival_idx ON cases (entry_point, arrived_at DESC, id DESC);
CREATE INDEX cases_funding_arrival_idx ON cases (funding_scope, arrived_at DESC, id DESC);
CREATE INDEX cases_source_arrival_idx ON cases (source_agency_id, arrived_at DESC, id DESC);

-- Every change to a case: who, when, what, before and after.
CREATE TABLE case_history (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id     uuid NOT NULL REFERENCES cases (id),
    occurred_at timestamptz NOT NULL DEFAULT now(),
    actor_id    uuid,
    actor_name  text,
    agency_id   uuid,
    action      text NOT NULL CHECK (action IN ('created', 'updated', 'status_changed')),
    from_status text,
    to_status   text,
    reason      text,
    before      jsonb,
    after       jsonb
);
CREATE INDEX case_history_case_idx ON case_history (case_id, id);

-- The first answer to a creating POST with an Idempotency-Key, replayed on retries.
CREATE TABLE idempotency_keys (
    principal_id  uuid NOT NULL,
    key           text NOT NULL,
    request_hash  text NOT NULL,
    status        integer NOT NULL,
    response      jsonb NOT NULL,
    location      text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal_id, key)
);
