-- What a finance officer books (issue 23): the date of spending, the account
-- code (kode rekening), the payee and, once paid, the payment order (SP2D)
-- number and date — on cost items, and on the ledger entries that realise
-- them or that a finance officer records by hand.
ALTER TABLE transfer_cost_items
    ADD COLUMN spent_on date,
    ADD COLUMN account_code text,
    ADD COLUMN payee text,
    ADD COLUMN sp2d_number text,
    ADD COLUMN sp2d_date date;
ALTER TABLE budget_ledger
    ADD COLUMN spent_on date,
    ADD COLUMN account_code text,
    ADD COLUMN payee text,
    ADD COLUMN sp2d_number text,
    ADD COLUMN sp2d_date date;
-- The date an entry counts on in reports "as of" a date and by month: the
-- date of spending when known, else the day it was recorded (in UTC).
CREATE INDEX budget_ledger_booked_idx
    ON budget_ledger (budget_id, (coalesce(spent_on, (recorded_at AT TIME ZONE 'UTC')::date)));
