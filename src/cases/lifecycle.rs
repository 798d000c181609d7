//! `POST /api/v1/cases/{id}/transitions` and `GET /api/v1/cases/{id}/history`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::handlers::{case_response, not_found};
use super::queries;
use super::status::{CaseStatus, Mover};
use super::store;
use crate::access::Operation;
use crate::audit::Actor;
use crate::auth::Caller;
use crate::changes::{self, Change};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::Json;
use crate::schema::case_history;
use crate::state::AppState;

/// A requested status change of a case.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to": "assessed", "reason": "Social worker assessment done; no medical needs"}))]
pub struct CaseTransitionRequest {
    /// The status to move to.
    pub to: CaseStatus,
    /// Why (kept in the case's history).
    pub reason: crate::text::Line<1000>,
}

/// Change a case's status.
///
/// Moves the case along its life: registered → sheltered → assessed →
/// ready_for_transfer, and the side exits (referred, absconded, deceased,
/// cancelled, closed). `in_transfer` and `returned` follow from the case's
/// transfer and cannot be set here. A move the state machine does not allow is
/// a 409 whose `allowed` member lists the statuses reachable from the current one.
#[utoipa::path(
    tag = "cases",
    operation_id = "transition_case",
    params(("id" = Uuid, Path, description = "The case's id")),
    request_body = CaseTransitionRequest,
    responses(
        (status = 200, description = "The case in its new status", body = super::view::CaseView,
         headers(("ETag" = String, description = "The case's new version"))),
        (status = 409, description = "Not allowed from the current status; `allowed` lists what is", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "/problems/illegal-transition", "title": "Transition not allowed", "status": 409,
                          "detail": "a case that is registered cannot move to returned", "instance": "/api/v1/cases/8e2f0a4b-1c3d-4e5f-8a9b-0c1d2e3f4a5b/transitions",
                          "request_id": "trace-1", "current": "registered", "allowed": ["sheltered", "assessed", "referred", "absconded", "deceased", "cancelled"]})),
    )
)]
#[post("/cases/{id}/transitions")]
pub async fn transition_case(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<CaseTransitionRequest>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::WriteCases)?;
    let request = body.0;
    let reason = request.reason.trim().to_owned();
    if reason.is_empty() {
        return Err(ApiError::validation(vec![FieldError::new(
            "reason",
            "must not be empty",
        )]));
    }
    let scope = caller.case_scope();
    let actor = Actor::from(&caller);
    let mut conn = state.pool.get().await?;
    let case = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let case = queries::find_for_update(conn, &scope, *id)
                .await?
                .ok_or_else(not_found)?;
            if !case.status.can_move_to(request.to, Mover::Hand) {
                let allowed: Vec<&str> = case
                    .status
                    .next(Mover::Hand)
                    .iter()
                    .map(|s| s.as_str())
                    .collect();
                let detail = if matches!(request.to, CaseStatus::InTransfer | CaseStatus::Returned)
                {
                    format!(
                        "a case becomes {} through its transfer, not by hand",
                        request.to
                    )
                } else {
                    format!(
                        "a case that is {} cannot move to {}",
                        case.status, request.to
                    )
                };
                return Err(ApiError::conflict(detail)
                    .with_kind("illegal-transition", "Transition not allowed")
                    .with_extension(
                        crate::error::ProblemMember::Current,
                        serde_json::json!(case.status),
                    )
                    .with_extension(
                        crate::error::ProblemMember::Allowed,
                        serde_json::json!(allowed),
                    ));
            }
            let entry = store::set_status(conn, &case, request.to, Some(&reason)).await?;
            let after = queries::find(conn, &scope, case.id)
                .await?
                .ok_or_else(not_found)?;
            let change = Change::case(&actor, "case.transition", entry)
                .before(&serde_json::json!({"status": case.status}))
                .after(&serde_json::json!({"status": request.to, "reason": reason}));
            changes::record(conn, change).await?;
            Ok(after)
        })
        .await?;
    Ok(case_response(StatusCode::OK, case, &caller))
}

/// One entry of a case's history.
#[derive(Debug, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = case_history)]
#[schema(example = json!({
    "id": 17, "occurred_at": "2019-03-15T02:00:00Z", "actor_id": "0b6f2f9e-8f43-4f59-9a3e-5d1c2b7a9e10",
    "actor_name": "dinsos.kalbar", "agency_id": "5c1d2f9e-8f43-4f59-9a3e-5d1c2b7a9e11", "action": "status_changed",
    "from_status": "sheltered", "to_status": "assessed", "reason": "Assessment done", "before": null, "after": null
}))]
pub struct HistoryEvent {
    /// Position in the history.
    pub id: i64,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// The user or client who did it.
    pub actor_id: Option<Uuid>,
    /// Their username or client id.
    pub actor_name: Option<String>,
    /// Their agency.
    pub agency_id: Option<Uuid>,
    /// `created`, `updated`, `status_changed`, `repeat_return_changed` (recorded by the
    /// system when an earlier return of the same person was recorded late, or
    /// an identity changed), `identity_corrected`, `identity_merged`,
    /// `identity_split`, `consent_recorded`, `report_attached` (another
    /// source's report of this return), `report_detached` (a report moved to a
    /// case of its own, with the reason), `duplicate_merged` (a possible
    /// duplicate confirmed and merged into this case; `before` is the merged
    /// case) or `duplicate_dismissed`.
    pub action: String,
    /// For status changes: from.
    pub from_status: Option<String>,
    /// For status changes: to.
    pub to_status: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// The case before (updates).
    pub before: Option<serde_json::Value>,
    /// The case after (creation, updates).
    pub after: Option<serde_json::Value>,
}

/// A case's history.
///
/// Every change to the case, oldest first: who, which agency, when, what, and
/// the case before and after (with personal data masked for callers who see
/// it masked).
#[utoipa::path(
    tag = "cases",
    operation_id = "list_case_history",
    params(("id" = Uuid, Path, description = "The case's id")),
    responses((status = 200, description = "The history, oldest first", body = Vec<HistoryEvent>))
)]
#[get("/cases/{id}/history")]
pub async fn list_case_history(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ReadCases)?;
    let mut conn = state.pool.get().await?;
    let via_grant = match queries::find(&mut conn, &caller.case_scope(), *id).await? {
        Some(_) => false,
        None => {
            super::grants::granted_case(&mut conn, &caller, *id)
                .await?
                .ok_or_else(not_found)?;
            true
        }
    };
    let mut events: Vec<HistoryEvent> = case_history::table
        .filter(case_history::case_id.eq(*id))
        .order(case_history::id)
        .select(HistoryEvent::as_select())
        .load(&mut conn)
        .await?;
    state.reads.record(
        &caller,
        crate::reads::ReadKind::CaseHistory,
        crate::reads::Read {
            case_ids: vec![*id],
            via_grant,
            ..Default::default()
        },
    );
    let whole = !via_grant && caller.sees_personal_data();
    let source = match caller.case_scope() {
        crate::access::CaseScope::PushedBy(agency) => Some(agency),
        _ => None,
    };
    for event in &mut events {
        for snapshot in [&mut event.before, &mut event.after].into_iter().flatten() {
            if !whole {
                super::mask::case_json(snapshot);
            }
            if let Some(agency) = source {
                hide_other_sources_reference(snapshot, agency);
            }
        }
    }
    Ok(HttpResponse::Ok().json(events))
}

/// A source reading a case's history does not learn another source's
/// reference: snapshots (cases, attached or detached reports) that name
/// another source agency lose their `external_reference`.
fn hide_other_sources_reference(snapshot: &mut serde_json::Value, agency: Uuid) {
    let Some(object) = snapshot.as_object_mut() else {
        return;
    };
    let other = object
        .get("source_agency_id")
        .and_then(serde_json::Value::as_str)
        .is_some_and(|s| s != agency.to_string());
    if other && let Some(reference) = object.get_mut("external_reference") {
        *reference = serde_json::Value::Null;
    }
}
