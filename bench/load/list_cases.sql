-- pgbench: the statement GET /api/v1/cases?origin_region=…&status=registered&limit=50
-- sends for a provincial social service (scope: handling province 61), for one
-- of the suite's 25 origin regencies picked at random.
\set r random(1, 25)
SELECT c.*, p.nik, t.id, t.reference, t.status
  FROM cases c JOIN persons p ON p.id = c.person_id
  LEFT JOIN transfer_cases tc ON tc.case_id = c.id AND tc.active
  LEFT JOIN transfers t ON t.id = tc.transfer_id
 WHERE c.handling_province = '61' AND c.status = 'registered'
   AND c.origin_region = (ARRAY['61.01','61.02','61.03','61.04','61.05','61.06','61.07','61.08','61.09','61.10',
                                '61.11','61.12','61.71','61.72','32.01','32.03','33.01','33.02','35.07','35.09',
                                '52.01','52.03','53.01','18.01','12.01'])[:r]
 ORDER BY c.arrived_at DESC, c.id DESC LIMIT 51;
