//! Cases (kasus) and persons: every returnee is a case, from arrival at the
//! border to handover at home. A person who returns again is linked, not
//! duplicated, and the new case is marked as a repeat return.

pub mod batch;
pub mod bulk_sql;
pub mod consent;
pub mod countries;
pub mod duplicates;
pub mod export;
pub mod grants;
pub mod handlers;
pub mod identity;
pub mod input;
pub mod lifecycle;
pub mod mask;
pub mod model;
pub mod nik;
pub mod persons;
pub mod queries;
pub mod relink;
pub mod report_handlers;
pub mod reports;
pub mod status;
pub mod store;
pub mod update;
pub mod view;
pub mod write_access;

pub use status::CaseStatus;
pub use view::{CaseView, Identity, Person};

/// A new id for a case, a person or a history row's subject: a UUIDv7, whose
/// leading bits are the creation time. Rows created together sit together in
/// every index keyed by id, so a bulk push appends to the right edge of
/// `cases_pkey`, `persons_pkey` and `cases_person_idx` instead of dirtying a
/// random page of each per row — which is what a million cases made
/// expensive. The time it reveals is the record's `created_at`, which every
/// reader of the record already sees.
pub fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}
