//! Pulang's integration tests: one binary, one database per test.

mod access_matrix;
mod accounts;
mod agencies;
mod auth;
mod budgets;
mod case_push;
mod cases;
mod demo_2019;
mod errors;
mod events;
mod export;
mod health;
mod helpers;
mod housekeeping;
mod local_cluster;
mod openapi_file;
mod regions;
mod returns_reports;
mod schema;
mod sign_in_throttle;
mod stats;
mod transfers;
mod two_instances;
