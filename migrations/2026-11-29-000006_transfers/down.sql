DROP TABLE transfer_cost_items;
DROP TABLE transfer_cases;
DROP TABLE transfers;
DROP TABLE transfer_number_counters;
