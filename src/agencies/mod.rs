//! Agencies (instansi): the organisations that use Pulang and feed it data.
//! Users and machine clients each belong to exactly one agency.

pub mod accounts;
pub mod clients;
pub mod handlers;
pub mod model;
pub mod queries;
pub mod rules;
pub mod users;

pub use model::{Agency, AgencyKind};
