-- Money that reconciles (issue 23).
--
-- A transfer remembers when it was closed (handed over or cancelled) in the
-- system, so that late costs follow one rule: allowed for a set number of
-- days after closing with a reason, refused afterwards.
ALTER TABLE transfers ADD COLUMN closed_at timestamptz;
UPDATE transfers SET closed_at = updated_at WHERE status IN ('handed_over', 'cancelled');

-- Separation of duties: a case worker proposes a cost item (nothing moves);
-- a finance officer of a budget that pays it confirms it, and only then is it
-- realised. Items recorded before this rule were realised when recorded.
ALTER TABLE transfer_cost_items
    ADD COLUMN confirmed_at timestamptz,
    ADD COLUMN confirmed_by uuid;
UPDATE transfer_cost_items SET confirmed_at = recorded_at, confirmed_by = recorded_by;

-- A cost item is never deleted: a cancellation reverses its realisations on
-- every paying budget in the same transaction and is kept here, with why.
-- A cost recorded after the transfer closed carries the reason it is late.
ALTER TABLE transfer_cost_items
    ADD COLUMN cancelled_at timestamptz,
    ADD COLUMN cancelled_reason text,
    ADD COLUMN late_reason text,
    ADD CONSTRAINT transfer_cost_items_cancel_has_reason
        CHECK ((cancelled_at IS NULL) = (cancelled_reason IS NULL));
CREATE INDEX budget_ledger_cost_item_idx ON budget_ledger (cost_item_id) WHERE cost_item_id IS NOT NULL;

-- A regency that disputes its share of a cost item raises a dispute; the
-- province resolves it. Upheld, the cost item is cancelled (and may be
-- recorded again correctly); rejected, nothing moves. One open dispute per
-- cost item.
CREATE TABLE cost_disputes (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    transfer_id       uuid NOT NULL REFERENCES transfers (id),
    cost_item_id      uuid NOT NULL REFERENCES transfer_cost_items (id),
    budget_id         uuid NOT NULL REFERENCES budgets (id),
    raised_by_agency  uuid NOT NULL REFERENCES agencies (id),
    raised_by         uuid,
    reason            text NOT NULL,
    status            text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'upheld', 'rejected')),
    resolution        text,
    resolved_by       uuid,
    resolved_at       timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX cost_disputes_one_open ON cost_disputes (cost_item_id) WHERE status = 'open';
CREATE INDEX cost_disputes_budget_idx ON cost_disputes (budget_id, created_at);
