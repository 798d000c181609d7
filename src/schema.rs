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
        token_version -> Int4,
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
        token_version -> Int4,
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
diesel::table! {
    case_consents (id) {
        id -> Int8,
        case_id -> Uuid,
        decision -> Text,
        decided_at -> Timestamptz,
        recorded_at -> Timestamptz,
        recorded_by -> Nullable<Uuid>,
        recorder_name -> Nullable<Text>,
        agency_id -> Nullable<Uuid>,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    read_log (id) {
        id -> Int8,
        occurred_at -> Timestamptz,
        principal_id -> Uuid,
        principal_kind -> Text,
        principal_name -> Text,
        agency_id -> Uuid,
        operation -> Text,
        case_ids -> Array<Uuid>,
        person_id -> Nullable<Uuid>,
        filter -> Nullable<Jsonb>,
        row_count -> Int4,
        via_grant -> Bool,
        request_id -> Nullable<Text>,
    }
}

diesel::table! {
    access_grants (id) {
        id -> Uuid,
        principal_id -> Uuid,
        principal_name -> Text,
        agency_id -> Uuid,
        case_id -> Uuid,
        person_id -> Uuid,
        reason -> Text,
        granted_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::joinable!(cases -> persons (person_id));
diesel::joinable!(case_consents -> cases (case_id));
diesel::joinable!(cases -> agencies (source_agency_id));
diesel::joinable!(case_history -> cases (case_id));
diesel::joinable!(budgets -> agencies (owner_agency_id));
diesel::joinable!(budget_ledger -> budgets (budget_id));
diesel::joinable!(transfer_cases -> transfers (transfer_id));
diesel::joinable!(transfer_cases -> cases (case_id));
diesel::joinable!(transfer_cost_items -> transfers (transfer_id));
diesel::joinable!(case_reports -> cases (case_id));
diesel::joinable!(case_aliases -> cases (case_id));
diesel::joinable!(cost_disputes -> transfer_cost_items (cost_item_id));

diesel::allow_tables_to_appear_in_same_query!(
    agencies,
    users,
    api_clients,
    revoked_tokens,
    regions,
    audit_events,
    sign_in_throttle,
    persons,
    case_number_counters,
    cases,
    case_history,
    idempotency_keys,
    budgets,
    budget_ledger,
    cost_sharing_agreements,
    transfer_number_counters,
    transfers,
    transfer_cases,
    transfer_cost_items,
    cost_disputes,
    change_events,
    case_consents,
    read_log,
    access_grants,
    case_reports,
    possible_duplicates,
    case_aliases,
);

diesel::table! {
    persons (id) {
        id -> Uuid,
        nik -> Nullable<Text>,
        passport_number -> Nullable<Text>,
        sex -> Nullable<Text>,
        birth_date -> Nullable<Date>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    case_number_counters (year) {
        year -> Int4,
        last -> Int4,
    }
}

diesel::table! {
    cases (id) {
        id -> Uuid,
        case_number -> Text,
        person_id -> Uuid,
        category -> Text,
        trafficking_indicated -> Bool,
        arrived_at -> Timestamptz,
        entry_point -> Text,
        country_left -> Text,
        documents -> Array<Text>,
        origin_region -> Text,
        origin_province -> Text,
        origin_address -> Nullable<Text>,
        needs -> Array<Text>,
        shelter -> Nullable<Text>,
        status -> Text,
        handling_province -> Text,
        funding_scope -> Text,
        source_agency_id -> Uuid,
        external_reference -> Nullable<Text>,
        notes -> Nullable<Text>,
        repeat_return -> Bool,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        full_name -> Text,
        passport_number -> Nullable<Text>,
        sex -> Nullable<Text>,
        birth_date -> Nullable<Date>,
        birth_place -> Nullable<Text>,
        phone -> Nullable<Text>,
        earlier_returns -> Int4,
        consent -> Text,
        worker_fields -> Array<Text>,
    }
}

diesel::table! {
    case_history (id) {
        id -> Int8,
        case_id -> Uuid,
        occurred_at -> Timestamptz,
        actor_id -> Nullable<Uuid>,
        actor_name -> Nullable<Text>,
        agency_id -> Nullable<Uuid>,
        action -> Text,
        from_status -> Nullable<Text>,
        to_status -> Nullable<Text>,
        reason -> Nullable<Text>,
        before -> Nullable<Jsonb>,
        after -> Nullable<Jsonb>,
    }
}

diesel::table! {
    idempotency_keys (principal_id, key) {
        principal_id -> Uuid,
        key -> Text,
        request_hash -> Text,
        status -> Int4,
        response -> Jsonb,
        location -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    budgets (id) {
        id -> Uuid,
        fiscal_year -> Int4,
        source -> Text,
        owner_agency_id -> Uuid,
        province_code -> Nullable<Text>,
        document_number -> Text,
        activity_code -> Nullable<Text>,
        name -> Text,
        status -> Text,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    budget_ledger (id) {
        id -> Int8,
        budget_id -> Uuid,
        kind -> Text,
        amount -> Int8,
        reason -> Text,
        transfer_id -> Nullable<Uuid>,
        cost_item_id -> Nullable<Uuid>,
        case_count -> Nullable<Int4>,
        reverses_id -> Nullable<Int8>,
        missing_agreement -> Bool,
        agreement_id -> Nullable<Uuid>,
        actor_id -> Nullable<Uuid>,
        actor_name -> Nullable<Text>,
        agency_id -> Nullable<Uuid>,
        recorded_at -> Timestamptz,
        spent_on -> Nullable<Date>,
        account_code -> Nullable<Text>,
        payee -> Nullable<Text>,
        sp2d_number -> Nullable<Text>,
        sp2d_date -> Nullable<Date>,
    }
}

diesel::table! {
    cost_sharing_agreements (id) {
        id -> Uuid,
        fiscal_year -> Int4,
        province_agency_id -> Uuid,
        regency_agency_id -> Uuid,
        regency_code -> Text,
        province_budget_id -> Uuid,
        regency_budget_id -> Uuid,
        all_costs_bp -> Nullable<Int4>,
        category_bp -> Nullable<Jsonb>,
        status -> Text,
        proposed_by -> Nullable<Uuid>,
        decided_by -> Nullable<Uuid>,
        decided_at -> Nullable<Timestamptz>,
        decision_reason -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    transfer_number_counters (year) {
        year -> Int4,
        last -> Int4,
    }
}

diesel::table! {
    transfers (id) {
        id -> Uuid,
        reference -> Text,
        fiscal_year -> Int4,
        handling_province -> Text,
        planning_agency_id -> Uuid,
        destination_region -> Text,
        destination_province -> Text,
        receiving_agency_id -> Nullable<Uuid>,
        status -> Text,
        legs -> Jsonb,
        planned_departure -> Nullable<Timestamptz>,
        escorts -> Jsonb,
        estimated_costs -> Jsonb,
        notes -> Nullable<Text>,
        bast_number -> Nullable<Text>,
        handed_over_at -> Nullable<Timestamptz>,
        received_by_name -> Nullable<Text>,
        received_by_position -> Nullable<Text>,
        witnesses -> Nullable<Jsonb>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        closed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    transfer_cases (transfer_id, case_id) {
        transfer_id -> Uuid,
        case_id -> Uuid,
        active -> Bool,
        outcome -> Nullable<Text>,
        outcome_reason -> Nullable<Text>,
        added_at -> Timestamptz,
        removed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    transfer_cost_items (id) {
        id -> Uuid,
        transfer_id -> Uuid,
        category -> Text,
        amount -> Int8,
        receipt_number -> Nullable<Text>,
        description -> Nullable<Text>,
        recorded_by -> Nullable<Uuid>,
        recorded_at -> Timestamptz,
        cancelled_at -> Nullable<Timestamptz>,
        cancelled_reason -> Nullable<Text>,
        late_reason -> Nullable<Text>,
        confirmed_at -> Nullable<Timestamptz>,
        confirmed_by -> Nullable<Uuid>,
        spent_on -> Nullable<Date>,
        account_code -> Nullable<Text>,
        payee -> Nullable<Text>,
        sp2d_number -> Nullable<Text>,
        sp2d_date -> Nullable<Date>,
    }
}

diesel::table! {
    cost_disputes (id) {
        id -> Uuid,
        transfer_id -> Uuid,
        cost_item_id -> Uuid,
        budget_id -> Uuid,
        raised_by_agency -> Uuid,
        raised_by -> Nullable<Uuid>,
        reason -> Text,
        status -> Text,
        resolution -> Nullable<Text>,
        resolved_by -> Nullable<Uuid>,
        resolved_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    change_events (txid, id) {
        txid -> Int8,
        id -> Int8,
        occurred_at -> Timestamptz,
        entity_type -> Text,
        entity_id -> Uuid,
        action -> Text,
        handling_province -> Nullable<Text>,
        origin_region -> Nullable<Text>,
        source_agency_id -> Nullable<Uuid>,
        destination_region -> Nullable<Text>,
        receiving_agency_id -> Nullable<Uuid>,
        out_of_province -> Nullable<Bool>,
        budget_source -> Nullable<Text>,
        budget_owner_id -> Nullable<Uuid>,
        budget_province -> Nullable<Text>,
        data -> Nullable<Jsonb>,
    }
}

diesel::table! {
    case_reports (id) {
        id -> Uuid,
        case_id -> Uuid,
        source_agency_id -> Uuid,
        external_reference -> Text,
        reported -> Jsonb,
        received_at -> Timestamptz,
        updated_at -> Timestamptz,
        attached -> Bool,
    }
}

diesel::table! {
    possible_duplicates (id) {
        id -> Uuid,
        case_id -> Uuid,
        duplicate_id -> Uuid,
        handling_province -> Text,
        similarity -> Float4,
        status -> Text,
        reason -> Nullable<Text>,
        created_at -> Timestamptz,
        decided_at -> Nullable<Timestamptz>,
        decided_by -> Nullable<Uuid>,
    }
}

diesel::table! {
    case_aliases (case_number) {
        case_number -> Text,
        former_id -> Uuid,
        case_id -> Uuid,
        merged_at -> Timestamptz,
    }
}
