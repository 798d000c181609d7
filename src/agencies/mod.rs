//! Agencies (instansi): the organisations that use Pulang and feed it data.
//! Users and machine clients each belong to exactly one agency.

pub mod model;

pub use model::AgencyKind;
