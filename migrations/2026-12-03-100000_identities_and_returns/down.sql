-- Back to one shared person row per identity, carrying the details of the
-- identity's most recent return.
ALTER TABLE case_history DROP CONSTRAINT case_history_action_check;
DELETE FROM case_history WHERE action NOT IN ('created', 'updated', 'status_changed');
ALTER TABLE case_history ADD CONSTRAINT case_history_action_check
    CHECK (action IN ('created', 'updated', 'status_changed'));
DROP INDEX cases_person_arrival_idx;
CREATE INDEX cases_person_idx ON cases (person_id);
DROP INDEX cases_birth_date_idx;
DROP INDEX cases_passport_idx;
DROP INDEX cases_name_idx;
DROP INDEX cases_name_trgm_idx;
DROP INDEX persons_passport_key;
ALTER TABLE persons ADD COLUMN full_name text, ADD COLUMN birth_place text, ADD COLUMN phone text;
UPDATE persons p
   SET full_name = c.full_name, passport_number = coalesce(p.passport_number, c.passport_number),
       sex = coalesce(p.sex, c.sex), birth_date = coalesce(p.birth_date, c.birth_date),
       birth_place = c.birth_place, phone = c.phone
  FROM (SELECT DISTINCT ON (person_id) * FROM cases ORDER BY person_id, arrived_at DESC, id DESC) c
 WHERE c.person_id = p.id;
UPDATE persons SET full_name = '?' WHERE full_name IS NULL;
ALTER TABLE persons ALTER COLUMN full_name SET NOT NULL,
    ADD CONSTRAINT persons_full_name_check CHECK (length(btrim(full_name)) > 0);
CREATE INDEX persons_passport_idx ON persons (passport_number) WHERE passport_number IS NOT NULL;
CREATE INDEX persons_birth_date_idx ON persons (birth_date);
CREATE INDEX persons_name_trgm_idx ON persons USING gin (full_name gin_trgm_ops);
ALTER TABLE cases DROP CONSTRAINT cases_repeat_fits, DROP CONSTRAINT cases_full_name_present,
    DROP COLUMN earlier_returns, DROP COLUMN phone, DROP COLUMN birth_place, DROP COLUMN birth_date,
    DROP COLUMN sex, DROP COLUMN passport_number, DROP COLUMN full_name;
