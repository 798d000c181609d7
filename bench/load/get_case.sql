-- pgbench: the case and its person by key, as GET /api/v1/cases/{id} reads
-- them (the case numbers of the suite's load run from PLG-2019-000001).
\set n random(1, :cases)
SELECT c.*, p.* FROM cases c JOIN persons p ON p.id = c.person_id
 WHERE c.case_number = 'PLG-2019-' || lpad(:n::text, 6, '0') AND c.handling_province = '61';
