DROP INDEX budget_ledger_booked_idx;
ALTER TABLE budget_ledger
    DROP COLUMN sp2d_date, DROP COLUMN sp2d_number, DROP COLUMN payee,
    DROP COLUMN account_code, DROP COLUMN spent_on;
ALTER TABLE transfer_cost_items
    DROP COLUMN sp2d_date, DROP COLUMN sp2d_number, DROP COLUMN payee,
    DROP COLUMN account_code, DROP COLUMN spent_on;
