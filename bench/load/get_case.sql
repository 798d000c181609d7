-- pgbench: the statement GET /api/v1/cases/{id} sends for a provincial social
-- service (scope: handling province 61) — the case (with the returnee as recorded
-- at it), its identity's NIK and its active
-- transfer — reaching the case by its number instead of its id, which pgbench
-- cannot draw at random (the suite's cases are PLG-2019-000001 onwards).
\set n random(1, :cases)
SELECT c.*, p.nik, t.id, t.reference, t.status
  FROM cases c JOIN persons p ON p.id = c.person_id
  LEFT JOIN transfer_cases tc ON tc.case_id = c.id AND tc.active
  LEFT JOIN transfers t ON t.id = tc.transfer_id
 WHERE c.handling_province = '61' AND c.case_number = 'PLG-2019-' || lpad(:n::text, 6, '0');
