//! `PUT /api/v1/cases/{id}/consent`: the returnee's consent to share their
//! data beyond the government agencies involved in their return.
//!
//! Non-government partners (agency kind `other`) see only the cases of their
//! province whose latest decision is `given` — in lists, single reads, CSV
//! exports and the change feed — and always with personal data masked.
//! `unknown` counts as refused. Every decision is kept; the case shows the
//! latest.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, put, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::handlers::{case_response, not_found};
use super::model::Consent;
use super::queries;
use crate::access::Operation;
use crate::audit::Actor;
use crate::auth::Caller;
use crate::changes::{self, CaseEntry, Change, HistoryAction};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::Json;
use crate::schema::{case_consents, cases};
use crate::state::AppState;

/// A consent decision as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsentDecision {
    /// The returnee agreed to share their data beyond the government.
    Given,
    /// The returnee refused (or withdrew an earlier consent).
    Refused,
}

impl From<ConsentDecision> for Consent {
    fn from(d: ConsentDecision) -> Self {
        match d {
            ConsentDecision::Given => Consent::Given,
            ConsentDecision::Refused => Consent::Refused,
        }
    }
}

/// A consent decision to record.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"decision": "given", "decided_at": "2019-03-15T03:00:00Z",
    "note": "Explained in Bahasa Indonesia with the shelter's social worker present; signed form in the file"}))]
pub struct ConsentRequest {
    /// `given` or `refused`.
    pub decision: ConsentDecision,
    /// When the returnee decided; now when absent. Not in the future.
    pub decided_at: Option<DateTime<Utc>>,
    /// How consent was asked and recorded (at most 2,000 characters).
    pub note: Option<crate::text::Prose<2000>>,
}

/// Record the returnee's consent.
///
/// Records whether the returnee agrees to share their data beyond the
/// government agencies involved in their return, when, and how it was asked.
/// The case's `consent` shows the latest decision (a new version, in its
/// history and the change feed); every decision is kept. Non-government
/// partners see the case only while it is `given`.
#[utoipa::path(
    tag = "cases",
    operation_id = "record_case_consent",
    params(("id" = Uuid, Path, description = "The case's id")),
    request_body = ConsentRequest,
    responses(
        (status = 200, description = "The case with its consent", body = super::view::CaseView,
         headers(("ETag" = String, description = "The case's new version"))),
    )
)]
#[put("/cases/{id}/consent")]
pub async fn record_case_consent(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<ConsentRequest>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::WriteCases)?;
    let request = body.0;
    let now = Utc::now();
    let decided_at = request.decided_at.unwrap_or(now);
    let note = request.note.and_then(crate::text::Text::non_empty);
    let mut errors = Vec::new();
    if decided_at > now + chrono::Duration::minutes(5) {
        errors.push(FieldError::new("decided_at", "is in the future"));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let scope = caller.case_scope();
    let actor = Actor::from(&caller);
    let mut conn = state.pool.get().await?;
    let case = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let before = queries::find_for_update(conn, &scope, *id)
                .await?
                .ok_or_else(not_found)?;
            let consent = Consent::from(request.decision);
            diesel::insert_into(case_consents::table)
                .values((
                    case_consents::case_id.eq(before.id),
                    case_consents::decision.eq(consent),
                    case_consents::decided_at.eq(decided_at),
                    case_consents::recorded_by.eq(caller.principal_id),
                    case_consents::recorder_name.eq(&caller.name),
                    case_consents::agency_id.eq(caller.agency_id),
                    case_consents::note.eq(&note),
                ))
                .execute(conn)
                .await?;
            diesel::update(cases::table.find(before.id))
                .set((
                    cases::consent.eq(consent),
                    cases::version.eq(cases::version + 1),
                    cases::updated_at.eq(now),
                ))
                .execute(conn)
                .await?;
            let recorded = serde_json::json!({
                "consent": consent, "decided_at": decided_at, "note": note
            });
            let earlier = serde_json::json!({"consent": before.consent});
            let entry = CaseEntry::new(before.id, HistoryAction::ConsentRecorded)
                .before(&earlier)
                .after(&recorded);
            let change = Change::case(&actor, "case.consent", entry)
                .before(&earlier)
                .after(&recorded);
            changes::record(conn, change).await?;
            queries::find(conn, &scope, before.id)
                .await?
                .ok_or_else(not_found)
        })
        .await?;
    Ok(case_response(StatusCode::OK, case, &caller))
}
