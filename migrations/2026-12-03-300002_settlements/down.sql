DROP INDEX budget_ledger_agreement_idx;
ALTER TABLE budget_ledger DROP CONSTRAINT budget_ledger_settlement_names_agreement;
ALTER TABLE budget_ledger DROP CONSTRAINT budget_ledger_kind_check;
ALTER TABLE budget_ledger ADD CONSTRAINT budget_ledger_kind_check
    CHECK (kind IN ('allocation', 'revision', 'commitment', 'release', 'realisation'));
