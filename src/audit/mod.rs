//! The audit log: an append-only record of every write and every sign-in.
//!
//! Entries are written by [`crate::changes::record`] on the same connection
//! (inside the same transaction) as the change itself, so a change and its
//! audit entry are committed together or not at all. The table refuses
//! updates and deletes.

pub mod handlers;

use uuid::Uuid;

use crate::auth::{Caller, PrincipalKind};

/// Who did something, and from where.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    /// The user's or client's id.
    pub id: Option<Uuid>,
    /// `user`, `client` or `system`.
    pub kind: Option<&'static str>,
    /// The username or client id.
    pub name: Option<String>,
    /// The agency acted for.
    pub agency_id: Option<Uuid>,
    /// The client's network address.
    pub client_addr: Option<String>,
    /// The request's id.
    pub request_id: Option<String>,
}

impl Actor {
    /// The command line or a background job.
    pub fn system() -> Self {
        Self {
            kind: Some("system"),
            ..Self::default()
        }
    }
}

impl From<&Caller> for Actor {
    fn from(caller: &Caller) -> Self {
        Self {
            id: Some(caller.principal_id),
            kind: Some(match caller.kind {
                PrincipalKind::User => "user",
                PrincipalKind::Client => "client",
            }),
            name: Some(caller.name.clone()),
            agency_id: Some(caller.agency_id),
            client_addr: caller.client_addr.clone(),
            request_id: caller.request_id.clone(),
        }
    }
}

/// One thing that happened.
#[derive(Debug, Clone)]
pub struct Entry {
    /// What was done, `<resource>.<verb>` (`agency.create`, `auth.sign_in`).
    pub action: &'static str,
    /// The kind of record (`agency`, `user`, `client`, `case`, …).
    pub entity_type: &'static str,
    /// The record's id.
    pub entity_id: Option<String>,
    /// Whether it succeeded.
    pub success: bool,
    /// The record before the change.
    pub before: Option<serde_json::Value>,
    /// The record after the change.
    pub after: Option<serde_json::Value>,
}
