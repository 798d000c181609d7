//! `GET /api/v1/audit-events`.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::Operation;
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::http::extract::Query;
use crate::http::pagination::{Page, decode_cursor};
use crate::schema::audit_events;
use crate::state::AppState;

/// An entry of the audit log.
#[derive(Debug, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = audit_events)]
#[schema(example = json!({
    "id": 42, "occurred_at": "2026-11-29T04:20:00Z",
    "actor_id": "0b6f2f9e-8f43-4f59-9a3e-5d1c2b7a9e10", "actor_kind": "user", "actor_name": "admin",
    "agency_id": "5c1d2f9e-8f43-4f59-9a3e-5d1c2b7a9e11", "action": "agency.create", "entity_type": "agency",
    "entity_id": "7a1d2f9e-8f43-4f59-9a3e-5d1c2b7a9e12", "outcome": "success",
    "before": null, "after": {"code": "DINSOS-6171"}, "client_addr": "10.0.0.5", "request_id": "trace-1"
}))]
pub struct AuditEvent {
    /// Position in the log; larger is later.
    pub id: i64,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// The user or client that acted, if known.
    pub actor_id: Option<Uuid>,
    /// `user`, `client` or `system`.
    pub actor_kind: Option<String>,
    /// The username or client id that acted (or that a failed sign-in named).
    pub actor_name: Option<String>,
    /// The agency acted for.
    pub agency_id: Option<Uuid>,
    /// What was done: `<resource>.<verb>`.
    pub action: String,
    /// The kind of record.
    pub entity_type: String,
    /// The record's id.
    pub entity_id: Option<String>,
    /// `success` or `failure`.
    pub outcome: String,
    /// The record before.
    pub before: Option<serde_json::Value>,
    /// The record after.
    pub after: Option<serde_json::Value>,
    /// The caller's network address.
    pub client_addr: Option<String>,
    /// The request's id.
    pub request_id: Option<String>,
}

/// Filters of `GET /api/v1/audit-events`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only what this user or client did.
    pub actor_id: Option<Uuid>,
    /// Only what was done for this agency.
    pub agency_id: Option<Uuid>,
    /// Only this kind of record (`agency`, `user`, `client`, `session`, …).
    pub entity_type: Option<String>,
    /// Only this record.
    pub entity_id: Option<String>,
    /// Only this action (`agency.create`, `auth.sign_in`, …).
    pub action: Option<String>,
    /// `success` or `failure`.
    pub outcome: Option<String>,
    /// At or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Before this time.
    pub to: Option<DateTime<Utc>>,
    /// Page size, 1 to 500 (default 100).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The page size of `list_audit_events`.
pub const AUDIT_PAGE: crate::http::pagination::PageSize = crate::http::pagination::PageSize {
    default: 100,
    max: 500,
};

/// List audit events.
///
/// The append-only audit log, newest first: every write (who, which agency,
/// when, what, before and after) and every sign-in, successful or not. For
/// system administrators only.
#[utoipa::path(
    tag = "audit",
    operation_id = "list_audit_events",
    params(AuditQuery),
    responses((status = 200, description = "A page of audit events, newest first", body = Page<AuditEvent>))
)]
#[get("/audit-events")]
pub async fn list_audit_events(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<AuditQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ReadAudit)?;
    let q = query.0;
    let limit = AUDIT_PAGE.of(q.limit)?;
    let mut sql = audit_events::table
        .select(AuditEvent::as_select())
        .order(audit_events::id.desc())
        .limit(limit as i64 + 1)
        .into_boxed();
    if let Some(v) = q.actor_id {
        sql = sql.filter(audit_events::actor_id.eq(v));
    }
    if let Some(v) = q.agency_id {
        sql = sql.filter(audit_events::agency_id.eq(v));
    }
    if let Some(v) = q.entity_type {
        sql = sql.filter(audit_events::entity_type.eq(v));
    }
    if let Some(v) = q.entity_id {
        sql = sql.filter(audit_events::entity_id.eq(v));
    }
    if let Some(v) = q.action {
        sql = sql.filter(audit_events::action.eq(v));
    }
    if let Some(v) = q.outcome {
        sql = sql.filter(audit_events::outcome.eq(v));
    }
    if let Some(v) = q.from {
        sql = sql.filter(audit_events::occurred_at.ge(v));
    }
    if let Some(v) = q.to {
        sql = sql.filter(audit_events::occurred_at.lt(v));
    }
    if let Some(cursor) = q.cursor {
        sql = sql.filter(audit_events::id.lt(decode_cursor::<i64>(&cursor)?));
    }
    let rows = sql.load(&mut state.pool.get().await?).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, limit, |e| e.id)))
}
