DROP TABLE cost_disputes;
DROP INDEX budget_ledger_cost_item_idx;
ALTER TABLE transfer_cost_items
    DROP CONSTRAINT transfer_cost_items_cancel_has_reason,
    DROP COLUMN late_reason,
    DROP COLUMN cancelled_reason,
    DROP COLUMN cancelled_at,
    DROP COLUMN confirmed_by,
    DROP COLUMN confirmed_at;
ALTER TABLE transfers DROP COLUMN closed_at;
