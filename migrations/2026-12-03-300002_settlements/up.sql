-- A regency's share of in-province costs is realised on its own budget when
-- a cost is confirmed (the obligation); the money reaches the province when
-- the regency settles. A settlement is a ledger entry on the regency's
-- budget, naming the agreement; it does not change the balance (the share
-- was realised already). Issue 23.
ALTER TABLE budget_ledger DROP CONSTRAINT budget_ledger_kind_check;
ALTER TABLE budget_ledger ADD CONSTRAINT budget_ledger_kind_check
    CHECK (kind IN ('allocation', 'revision', 'commitment', 'release', 'realisation', 'settlement'));
ALTER TABLE budget_ledger ADD CONSTRAINT budget_ledger_settlement_names_agreement
    CHECK (kind <> 'settlement' OR agreement_id IS NOT NULL);
CREATE INDEX budget_ledger_agreement_idx ON budget_ledger (agreement_id) WHERE agreement_id IS NOT NULL;
