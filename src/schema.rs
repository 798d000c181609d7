// @generated-style Diesel table definitions, kept in sync with `migrations/`.
// The test `schema_matches_the_migrations` fails when a column is missing here.

diesel::table! {
    agencies (id) {
        id -> Uuid,
        code -> Text,
        name -> Text,
        kind -> Text,
        region_code -> Nullable<Text>,
        parent_id -> Nullable<Uuid>,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        address -> Nullable<Text>,
        active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        agency_id -> Uuid,
        username -> Text,
        full_name -> Text,
        email -> Nullable<Text>,
        password_hash -> Text,
        roles -> Array<Text>,
        active -> Bool,
        password_changed_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    api_clients (id) {
        id -> Uuid,
        agency_id -> Uuid,
        client_id -> Text,
        name -> Text,
        secret_hash -> Text,
        roles -> Array<Text>,
        active -> Bool,
        secret_rotated_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    revoked_tokens (jti) {
        jti -> Uuid,
        expires_at -> Timestamptz,
        revoked_at -> Timestamptz,
    }
}

diesel::table! {
    regions (code) {
        code -> Text,
        level -> Text,
        parent_code -> Nullable<Text>,
        name -> Text,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Int8,
        occurred_at -> Timestamptz,
        actor_id -> Nullable<Uuid>,
        actor_kind -> Nullable<Text>,
        actor_name -> Nullable<Text>,
        agency_id -> Nullable<Uuid>,
        action -> Text,
        entity_type -> Text,
        entity_id -> Nullable<Text>,
        outcome -> Text,
        before -> Nullable<Jsonb>,
        after -> Nullable<Jsonb>,
        client_addr -> Nullable<Text>,
        request_id -> Nullable<Text>,
    }
}

diesel::table! {
    sign_in_throttle (key) {
        key -> Text,
        failures -> Int4,
        window_start -> Timestamptz,
        locked_until -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(users -> agencies (agency_id));
diesel::joinable!(api_clients -> agencies (agency_id));
diesel::joinable!(agencies -> regions (region_code));

diesel::allow_tables_to_appear_in_same_query!(
    agencies,
    users,
    api_clients,
    revoked_tokens,
    regions,
    audit_events,
    sign_in_throttle,
);
