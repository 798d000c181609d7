//! Pulang's integration tests: one binary, one database per test.

mod auth;
mod errors;
mod health;
mod helpers;
mod local_cluster;
mod openapi_file;
mod schema;
