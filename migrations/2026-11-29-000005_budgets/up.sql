-- Budgets (pagu) with an append-only ledger, and cost-sharing agreements
-- between a province and its regencies. Money is whole rupiah in bigint.

CREATE TABLE budgets (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    fiscal_year      integer NOT NULL CHECK (fiscal_year BETWEEN 2000 AND 2100),
    source           text NOT NULL CHECK (source IN ('apbn', 'apbd_province', 'apbd_regency')),
    owner_agency_id  uuid NOT NULL REFERENCES agencies (id),
    -- The owner's province (for the scope of provincial readers); a national budget has none.
    province_code    text CHECK (province_code ~ '^[0-9]{2}$'),
    document_number  text NOT NULL,
    activity_code    text,
    name             text NOT NULL,
    status           text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'closed')),
    version          integer NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX budgets_year_source_idx ON budgets (fiscal_year, source);
CREATE INDEX budgets_owner_idx ON budgets (owner_agency_id, fiscal_year);
CREATE INDEX budgets_province_idx ON budgets (province_code, fiscal_year);

-- Every movement of money. Never updated or deleted: a correction is a
-- reversing entry. Amounts are signed; the balance is derived:
--   allocated = allocation + revision, committed = commitment - release,
--   realised = realisation, available = allocated - committed - realised.
CREATE TABLE budget_ledger (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    budget_id      uuid NOT NULL REFERENCES budgets (id),
    kind           text NOT NULL CHECK (kind IN ('allocation', 'revision', 'commitment', 'release', 'realisation')),
    amount         bigint NOT NULL,
    reason         text NOT NULL,
    transfer_id    uuid,
    cost_item_id   uuid,
    case_count     integer,
    reverses_id    bigint REFERENCES budget_ledger (id),
    missing_agreement boolean NOT NULL DEFAULT false,
    agreement_id   uuid,
    actor_id       uuid,
    actor_name     text,
    agency_id      uuid,
    recorded_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX budget_ledger_budget_idx ON budget_ledger (budget_id, id);
CREATE INDEX budget_ledger_transfer_idx ON budget_ledger (transfer_id) WHERE transfer_id IS NOT NULL;
CREATE UNIQUE INDEX budget_ledger_one_reversal ON budget_ledger (reverses_id) WHERE reverses_id IS NOT NULL;

CREATE FUNCTION budget_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'budget_ledger is append-only';
END;
$$;
CREATE TRIGGER budget_ledger_no_change BEFORE UPDATE OR DELETE ON budget_ledger
    FOR EACH STATEMENT EXECUTE FUNCTION budget_ledger_append_only();

CREATE TABLE cost_sharing_agreements (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    fiscal_year         integer NOT NULL,
    province_agency_id  uuid NOT NULL REFERENCES agencies (id),
    regency_agency_id   uuid NOT NULL REFERENCES agencies (id),
    regency_code        text NOT NULL REFERENCES regions (code),
    province_budget_id  uuid NOT NULL REFERENCES budgets (id),
    regency_budget_id   uuid NOT NULL REFERENCES budgets (id),
    -- The province's share in basis points: one for all costs, or per category.
    all_costs_bp        integer CHECK (all_costs_bp BETWEEN 0 AND 10000),
    category_bp         jsonb,
    status              text NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'approved', 'rejected')),
    proposed_by         uuid,
    decided_by          uuid,
    decided_at          timestamptz,
    decision_reason     text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT cost_sharing_one_split CHECK ((all_costs_bp IS NULL) <> (category_bp IS NULL))
);
-- One approved agreement per province, regency and year.
CREATE UNIQUE INDEX cost_sharing_one_approved ON cost_sharing_agreements (province_agency_id, regency_code, fiscal_year)
    WHERE status = 'approved';
CREATE INDEX cost_sharing_regency_idx ON cost_sharing_agreements (regency_agency_id, fiscal_year);
CREATE INDEX cost_sharing_province_idx ON cost_sharing_agreements (province_agency_id, fiscal_year);
