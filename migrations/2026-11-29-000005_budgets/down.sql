DROP TABLE cost_sharing_agreements;
DROP TRIGGER budget_ledger_no_change ON budget_ledger;
DROP FUNCTION budget_ledger_append_only();
DROP TABLE budget_ledger;
DROP TABLE budgets;
