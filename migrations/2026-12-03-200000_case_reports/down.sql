ALTER TABLE case_history DROP CONSTRAINT case_history_action_check;
DELETE FROM case_history
 WHERE action IN ('report_attached', 'report_detached', 'duplicate_merged', 'duplicate_dismissed');
ALTER TABLE case_history ADD CONSTRAINT case_history_action_check CHECK (action IN (
    'created', 'updated', 'status_changed', 'repeat_return_changed', 'identity_corrected',
    'identity_merged', 'identity_split', 'consent_recorded'));
DROP TABLE case_aliases;
DROP TABLE possible_duplicates;
DROP INDEX persons_keyless_idx;
DROP INDEX cases_handling_origin_arrival_idx;
ALTER TABLE cases DROP COLUMN worker_fields;
-- A case keeps the reference of the report that created it; later reports are lost.
DROP TABLE case_reports;
CREATE UNIQUE INDEX cases_source_reference_key ON cases (source_agency_id, external_reference)
    WHERE external_reference IS NOT NULL;
