DROP TABLE idempotency_keys;
DROP TABLE case_history;
DROP TABLE cases;
DROP TABLE case_number_counters;
DROP TABLE persons;
DROP EXTENSION IF EXISTS pg_trgm;
