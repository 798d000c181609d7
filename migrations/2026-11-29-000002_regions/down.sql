ALTER TABLE agencies DROP CONSTRAINT agencies_region_fk;
DROP INDEX agencies_region_idx;
DROP TABLE regions;
