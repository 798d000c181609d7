-- Persons become identities; what is recorded at a return belongs to its case.
--
-- Before: one mutable `persons` row per NIK, shared by every case of that NIK,
-- so that one agency's write changed another agency's case. After: a person is
-- the identity that links returns — the NIK (or, without one, a passport
-- number) and what the NIK fixes (sex, birth date) — and every case carries the
-- details as its agency recorded them. Each case keeps exactly the personal
-- details its API answer showed before this migration.

ALTER TABLE cases
    ADD COLUMN full_name       text,
    ADD COLUMN passport_number text,
    ADD COLUMN sex             text CHECK (sex IN ('male', 'female')),
    ADD COLUMN birth_date      date,
    ADD COLUMN birth_place     text,
    ADD COLUMN phone           text,
    -- How many returns of the same identity arrived before this one (by arrival, then id).
    ADD COLUMN earlier_returns integer NOT NULL DEFAULT 0 CHECK (earlier_returns >= 0);

UPDATE cases c
   SET full_name = p.full_name, passport_number = p.passport_number, sex = p.sex,
       birth_date = p.birth_date, birth_place = p.birth_place, phone = p.phone
  FROM persons p
 WHERE p.id = c.person_id;

ALTER TABLE cases
    ALTER COLUMN full_name SET NOT NULL,
    ADD CONSTRAINT cases_full_name_present CHECK (length(btrim(full_name)) > 0);

-- Identities without a NIK that share a passport number are one identity: link
-- their cases to the oldest.
WITH ranked AS (
    SELECT id, first_value(id) OVER (PARTITION BY passport_number ORDER BY created_at, id) AS keep
      FROM persons
     WHERE nik IS NULL AND passport_number IS NOT NULL
)
UPDATE cases c SET person_id = r.keep FROM ranked r WHERE c.person_id = r.id AND r.id <> r.keep;
DELETE FROM persons p
 WHERE p.nik IS NULL AND p.passport_number IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.person_id = p.id);

-- The identity keeps its key: the NIK, or a passport number only when there is no NIK.
UPDATE persons SET passport_number = NULL WHERE nik IS NOT NULL;
-- Sex and birth date are kept only where the NIK fixes them.
UPDATE persons SET sex = NULL, birth_date = NULL WHERE nik IS NULL;
DROP INDEX persons_name_trgm_idx;
DROP INDEX persons_birth_date_idx;
DROP INDEX persons_passport_idx;
ALTER TABLE persons DROP COLUMN full_name, DROP COLUMN birth_place, DROP COLUMN phone;
CREATE UNIQUE INDEX persons_passport_key ON persons (passport_number)
    WHERE nik IS NULL AND passport_number IS NOT NULL;

-- Repeat returns by arrival: the first return of an identity is the earliest arrival.
WITH ranked AS (
    SELECT id, (row_number() OVER (PARTITION BY person_id ORDER BY arrived_at, id) - 1)::integer AS earlier
      FROM cases
)
UPDATE cases c SET earlier_returns = r.earlier, repeat_return = r.earlier > 0
  FROM ranked r
 WHERE c.id = r.id AND (c.earlier_returns, c.repeat_return) IS DISTINCT FROM (r.earlier, r.earlier > 0);
ALTER TABLE cases ADD CONSTRAINT cases_repeat_fits CHECK (repeat_return = (earlier_returns > 0));

-- Name search and sort, passport search and matching, on the case's own details.
CREATE INDEX cases_name_trgm_idx ON cases USING gin (full_name gin_trgm_ops);
CREATE INDEX cases_name_idx ON cases (full_name, id);
CREATE INDEX cases_passport_idx ON cases (passport_number) WHERE passport_number IS NOT NULL;
CREATE INDEX cases_birth_date_idx ON cases (birth_date) WHERE birth_date IS NOT NULL;
CREATE INDEX cases_person_arrival_idx ON cases (person_id, arrived_at, id);
DROP INDEX cases_person_idx;

-- New kinds of history entries.
ALTER TABLE case_history DROP CONSTRAINT case_history_action_check;
ALTER TABLE case_history ADD CONSTRAINT case_history_action_check CHECK (action IN (
    'created', 'updated', 'status_changed', 'repeat_return_changed', 'identity_corrected',
    'identity_merged', 'identity_split', 'consent_recorded'));
