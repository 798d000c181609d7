DROP TABLE access_grants;
DROP TRIGGER read_log_no_change ON read_log;
DROP FUNCTION read_log_append_only();
DROP TABLE read_log;
DROP TABLE case_consents;
ALTER TABLE cases DROP COLUMN consent;
