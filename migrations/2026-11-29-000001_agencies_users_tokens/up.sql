-- Agencies, the people and machine clients that act for them, and revoked tokens.
-- Enumerations are text with CHECK constraints, mirrored by Rust enums: adding a
-- value is a one-line migration, and the values read plainly in SQL.

CREATE TABLE agencies (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    code        text NOT NULL,
    name        text NOT NULL,
    kind        text NOT NULL CHECK (kind IN (
                    'system', 'ministry', 'migrant_protection_service', 'provincial_social_service',
                    'regency_social_service', 'provincial_secretariat', 'shelter', 'police', 'other')),
    region_code text,
    parent_id   uuid REFERENCES agencies (id),
    email       text,
    phone       text,
    address     text,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT agencies_code_format CHECK (code ~ '^[A-Z0-9][A-Z0-9_-]{1,31}$')
);
CREATE UNIQUE INDEX agencies_code_key ON agencies (code);

CREATE TABLE users (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    agency_id           uuid NOT NULL REFERENCES agencies (id),
    username            text NOT NULL,
    full_name           text NOT NULL,
    email               text,
    password_hash       text NOT NULL,
    roles               text[] NOT NULL CHECK (roles <@ ARRAY[
                            'system_admin', 'agency_admin', 'case_worker', 'finance_officer', 'viewer']::text[]
                            AND cardinality(roles) > 0),
    active              boolean NOT NULL DEFAULT true,
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_username_format CHECK (username ~ '^[a-z0-9][a-z0-9._-]{2,63}$')
);
CREATE UNIQUE INDEX users_username_key ON users (username);
CREATE INDEX users_agency_idx ON users (agency_id);

-- Machine clients (BP3TKI and Kemensos systems) sign in with a client id and secret.
CREATE TABLE api_clients (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    agency_id         uuid NOT NULL REFERENCES agencies (id),
    client_id         text NOT NULL,
    name              text NOT NULL,
    secret_hash       text NOT NULL,
    roles             text[] NOT NULL CHECK (roles <@ ARRAY['integration', 'viewer']::text[]
                          AND cardinality(roles) > 0),
    active            boolean NOT NULL DEFAULT true,
    secret_rotated_at timestamptz NOT NULL DEFAULT now(),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX api_clients_client_id_key ON api_clients (client_id);
CREATE INDEX api_clients_agency_idx ON api_clients (agency_id);

-- Tokens revoked before they expire (sign-out). Rows past expires_at may be purged.
CREATE TABLE revoked_tokens (
    jti        uuid PRIMARY KEY,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX revoked_tokens_expires_idx ON revoked_tokens (expires_at);
