-- Transfers: movements of returnees home, their members, cost items and handover (BAST).
CREATE TABLE transfer_number_counters (
    year integer PRIMARY KEY,
    last integer NOT NULL
);

CREATE TABLE transfers (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    reference             text NOT NULL UNIQUE,
    fiscal_year           integer NOT NULL,
    handling_province     text NOT NULL CHECK (handling_province ~ '^[0-9]{2}$'),
    planning_agency_id    uuid NOT NULL REFERENCES agencies (id),
    destination_region    text NOT NULL REFERENCES regions (code),
    destination_province  text NOT NULL,
    receiving_agency_id   uuid REFERENCES agencies (id),
    status                text NOT NULL DEFAULT 'planned'
                          CHECK (status IN ('planned', 'departed', 'arrived', 'handed_over', 'cancelled')),
    legs                  jsonb NOT NULL DEFAULT '[]',
    planned_departure     timestamptz,
    escorts               jsonb NOT NULL DEFAULT '[]',
    estimated_costs       jsonb NOT NULL DEFAULT '[]',
    notes                 text,
    bast_number           text,
    handed_over_at        timestamptz,
    received_by_name      text,
    received_by_position  text,
    witnesses             jsonb,
    version               integer NOT NULL DEFAULT 1,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT transfers_destination_province_fits CHECK (destination_province = split_part(destination_region, '.', 1))
);
CREATE INDEX transfers_status_departure_idx ON transfers (status, planned_departure, id);
CREATE INDEX transfers_handling_idx ON transfers (handling_province, planned_departure DESC, id);
CREATE INDEX transfers_destination_idx ON transfers (destination_region, planned_departure DESC, id);
CREATE INDEX transfers_receiving_idx ON transfers (receiving_agency_id);

-- Members. A case is in at most one active transfer.
CREATE TABLE transfer_cases (
    transfer_id     uuid NOT NULL REFERENCES transfers (id),
    case_id         uuid NOT NULL REFERENCES cases (id),
    active          boolean NOT NULL DEFAULT true,
    outcome         text CHECK (outcome IN ('received', 'absconded', 'returned_to_shelter')),
    outcome_reason  text,
    added_at        timestamptz NOT NULL DEFAULT now(),
    removed_at      timestamptz,
    PRIMARY KEY (transfer_id, case_id)
);
CREATE UNIQUE INDEX transfer_cases_one_active ON transfer_cases (case_id) WHERE active;
CREATE INDEX transfer_cases_case_idx ON transfer_cases (case_id);

-- What the transfer actually cost.
CREATE TABLE transfer_cost_items (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    transfer_id     uuid NOT NULL REFERENCES transfers (id),
    category        text NOT NULL CHECK (category IN ('transport', 'meals', 'escort_allowance', 'accommodation', 'other')),
    amount          bigint NOT NULL CHECK (amount > 0),
    receipt_number  text,
    description     text,
    recorded_by     uuid,
    recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX transfer_cost_items_transfer_idx ON transfer_cost_items (transfer_id);
