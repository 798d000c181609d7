//! The audit log: an append-only record of every write and every sign-in.
//!
//! Writers call [`record`] on the same connection (inside the same
//! transaction) as the change itself, so a change and its audit entry are
//! committed together or not at all. The table refuses updates and deletes.

pub mod handlers;

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use uuid::Uuid;

use crate::auth::{Caller, PrincipalKind};
use crate::schema::audit_events;

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

impl Entry {
    /// A successful change of `entity_type` `entity_id` from `before` to `after`.
    pub fn change<B: Serialize, A: Serialize>(
        action: &'static str,
        entity_type: &'static str,
        entity_id: impl ToString,
        before: Option<&B>,
        after: Option<&A>,
    ) -> Self {
        Self {
            action,
            entity_type,
            entity_id: Some(entity_id.to_string()),
            success: true,
            before: before.and_then(|b| serde_json::to_value(b).ok()),
            after: after.and_then(|a| serde_json::to_value(a).ok()),
        }
    }
}

/// Appends an entry. Call it on the connection of the change's transaction.
pub async fn record(conn: &mut AsyncPgConnection, actor: &Actor, entry: Entry) -> QueryResult<()> {
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::actor_id.eq(actor.id),
            audit_events::actor_kind.eq(actor.kind),
            audit_events::actor_name.eq(&actor.name),
            audit_events::agency_id.eq(actor.agency_id),
            audit_events::action.eq(entry.action),
            audit_events::entity_type.eq(entry.entity_type),
            audit_events::entity_id.eq(entry.entity_id),
            audit_events::outcome.eq(if entry.success { "success" } else { "failure" }),
            audit_events::before.eq(entry.before),
            audit_events::after.eq(entry.after),
            audit_events::client_addr.eq(&actor.client_addr),
            audit_events::request_id.eq(&actor.request_id),
        ))
        .execute(conn)
        .await
        .map(drop)
}
