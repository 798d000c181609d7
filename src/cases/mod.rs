//! Cases (kasus) and persons: every returnee is a case, from arrival at the
//! border to handover at home. A person who returns again is linked, not
//! duplicated, and the new case is marked as a repeat return.

pub mod batch;
pub mod bulk_sql;
pub mod countries;
pub mod export;
pub mod handlers;
pub mod input;
pub mod lifecycle;
pub mod model;
pub mod nik;
pub mod persons;
pub mod queries;
pub mod status;
pub mod store;
pub mod update;
pub mod view;
pub mod write_access;

pub use status::CaseStatus;
pub use view::{CaseView, Person};
