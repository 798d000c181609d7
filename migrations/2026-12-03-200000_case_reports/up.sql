-- One return, however many systems report it (issue 21).
--
-- Three levels: the person (an identity), the return (a case: one arrival,
-- handled once) and the report (one source system's record of that return,
-- keyed by source agency and the source's own reference). The (source agency,
-- external reference) key moves from cases to reports; a case keeps the
-- source and reference of the report that created it, for display only.

CREATE TABLE case_reports (
    id                 uuid PRIMARY KEY,
    case_id            uuid NOT NULL REFERENCES cases (id),
    source_agency_id   uuid NOT NULL REFERENCES agencies (id),
    external_reference text NOT NULL CHECK (length(btrim(external_reference)) > 0),
    -- The record as its source last sent it, validated and normalised
    -- (the shape of a new case in the API).
    reported           jsonb NOT NULL,
    received_at        timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    -- False for the report that created its case (the case's source agency
    -- and reference), true for one attached to a case another report created.
    attached           boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX case_reports_source_reference_key ON case_reports (source_agency_id, external_reference);
CREATE INDEX case_reports_case_idx ON case_reports (case_id, received_at, id);
-- The PushedBy scope: the cases an agency created (cases.source_agency_id)
-- and those its reports were attached to — few, since a source mostly
-- reports first, so that a source's case list stays one small array.
CREATE INDEX case_reports_attached_idx ON case_reports (source_agency_id, case_id) WHERE attached;

-- Every existing case's reference becomes its first report, carrying what the
-- case shows today.
INSERT INTO case_reports (id, case_id, source_agency_id, external_reference, reported, received_at, updated_at)
SELECT gen_random_uuid(), c.id, c.source_agency_id, c.external_reference,
       jsonb_build_object(
         'person', jsonb_build_object(
            'full_name', c.full_name, 'nik', p.nik, 'passport_number', c.passport_number, 'sex', c.sex,
            'birth_date', c.birth_date, 'birth_place', c.birth_place, 'phone', c.phone),
         'category', c.category, 'trafficking_indicated', c.trafficking_indicated,
         'arrived_at', to_char(c.arrived_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
         'entry_point', c.entry_point, 'country_left', c.country_left, 'documents', to_jsonb(c.documents),
         'origin_region', c.origin_region, 'origin_address', c.origin_address, 'needs', to_jsonb(c.needs),
         'shelter', c.shelter, 'handling_province', c.handling_province,
         'external_reference', c.external_reference, 'notes', c.notes),
       c.created_at, c.updated_at
  FROM cases c JOIN persons p ON p.id = c.person_id
 WHERE c.external_reference IS NOT NULL;

DROP INDEX cases_source_reference_key;

-- The fields a case worker set on the case: they win over every report.
ALTER TABLE cases ADD COLUMN worker_fields text[] NOT NULL DEFAULT '{}';

-- Possible duplicate returns: a record without NIK or passport that closely
-- matches another return (or the other way round), waiting for a case worker
-- of the handling province to confirm or dismiss. `duplicate_id` has no
-- foreign key: after a confirmation it names the case merged away.
CREATE TABLE possible_duplicates (
    id            uuid PRIMARY KEY,
    case_id       uuid NOT NULL REFERENCES cases (id),
    duplicate_id  uuid NOT NULL,
    handling_province text NOT NULL,
    similarity    real NOT NULL,
    status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'confirmed', 'dismissed')),
    reason        text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    decided_at    timestamptz,
    decided_by    uuid,
    CONSTRAINT possible_duplicates_pair_key UNIQUE (case_id, duplicate_id),
    CONSTRAINT possible_duplicates_distinct CHECK (case_id <> duplicate_id)
);
CREATE INDEX possible_duplicates_open_idx ON possible_duplicates (handling_province, created_at, id)
    WHERE status = 'open';
CREATE INDEX possible_duplicates_duplicate_idx ON possible_duplicates (duplicate_id);
-- Finding the candidates of a new return: the returns of its regency in the
-- window, and the identities without NIK or passport.
CREATE INDEX cases_handling_origin_arrival_idx ON cases (handling_province, origin_region, arrived_at);
CREATE INDEX persons_keyless_idx ON persons (id) WHERE nik IS NULL AND passport_number IS NULL;

-- The numbers of cases merged into another: a search by the old number, or a
-- read of the old id, still finds the case.
CREATE TABLE case_aliases (
    case_number  text PRIMARY KEY,
    former_id    uuid NOT NULL UNIQUE,
    case_id      uuid NOT NULL REFERENCES cases (id),
    merged_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_aliases_case_idx ON case_aliases (case_id);
CREATE INDEX case_aliases_number_prefix_idx ON case_aliases (case_number text_pattern_ops);

ALTER TABLE case_history DROP CONSTRAINT case_history_action_check;
ALTER TABLE case_history ADD CONSTRAINT case_history_action_check CHECK (action IN (
    'created', 'updated', 'status_changed', 'repeat_return_changed', 'identity_corrected',
    'identity_merged', 'identity_split', 'consent_recorded',
    'report_attached', 'report_detached', 'duplicate_merged', 'duplicate_dismissed'));
