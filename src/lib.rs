//! Pulang: the case and repatriation API for Indonesian migrant citizens with
//! problems and victims of trafficking (WNI-M KPO).
//!
//! Resources live in rooms of their own (`agencies`, `auth`, …), each with its
//! handlers, rules and queries; shared plumbing (`config`, `db`, `error`,
//! `http`, `openapi`) sits beside them.

pub mod access;
pub mod admin;
pub mod agencies;
pub mod app;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod budgets;
pub mod cases;
pub mod changes;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod events;
pub mod health;
pub mod housekeeping;
pub mod http;
pub mod i18n;
pub mod metrics;
pub mod money;
pub mod openapi;
pub mod reads;
pub mod regions;
pub mod schema;
pub mod seed;
pub mod seed_2019;
pub mod server;
pub mod state;
pub mod stats;
pub mod text;
pub mod text_enum;
pub mod transfers;
