DROP TABLE revoked_tokens;
DROP TABLE api_clients;
DROP TABLE users;
DROP TABLE agencies;
