ALTER TABLE transfer_cost_items DROP CONSTRAINT transfer_cost_items_amount_bounded;
ALTER TABLE budget_ledger DROP CONSTRAINT budget_ledger_amount_bounded;
DROP TRIGGER api_clients_token_version ON api_clients;
DROP TRIGGER users_token_version ON users;
DROP FUNCTION bump_token_version();
ALTER TABLE api_clients DROP COLUMN token_version;
ALTER TABLE users DROP COLUMN token_version;
