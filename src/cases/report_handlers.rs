//! `GET /api/v1/cases/{id}/reports` and
//! `POST /api/v1/cases/{id}/reports/{report_id}/detach`.

use actix_web::{HttpResponse, get, post, web};
use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::handlers::not_found;
use super::input::CaseInput;
use super::reports::{self, Disagreement, ReportView, StoredReport};
use super::store;
use super::view::CaseView;
use super::{queries, update};
use crate::access::{CaseScope, Operation};
use crate::audit::Actor;
use crate::auth::Caller;
use crate::changes::{self, CaseEntry, Change, HistoryAction};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Json;
use crate::state::AppState;

/// The reports of a case and where they disagree.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseReports {
    /// The case.
    pub case_id: Uuid,
    /// Its number.
    pub case_number: String,
    /// Every report of the case, oldest first. A source reading back sees its
    /// own reports whole, and of another source's only that it exists.
    pub reports: Vec<ReportView>,
    /// Fields on which the reports shown whole disagree, for a case worker to settle
    /// (by setting the field on the case, which then wins over every report).
    pub disagreements: Vec<Disagreement>,
}

/// Whether the caller sees a report's reference and values: the handling
/// agencies (whose scope is not a source's), and a source its own reports.
fn shows_whole(caller: &Caller, report: &StoredReport) -> bool {
    match caller.case_scope() {
        CaseScope::PushedBy(agency) => agency == report.source_agency_id,
        _ => true,
    }
}

/// List a case's reports.
///
/// One return can be reported by several source systems (BP3TKI at the
/// border, the ministry when it registers the same return), each under its
/// own reference. Each report keeps the values its source last sent; the
/// case shows the values a case worker set first, otherwise those of the
/// most recent report. `disagreements` lists the fields on which the reports
/// differ. Sensitive values are masked as on the case.
#[utoipa::path(
    tag = "cases",
    operation_id = "list_case_reports",
    params(("id" = Uuid, Path, description = "The case's id")),
    responses((status = 200, description = "The case's reports", body = CaseReports))
)]
#[get("/cases/{id}/reports")]
pub async fn list_case_reports(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ReadCases)?;
    let mut conn = state.pool.get().await?;
    let case = queries::find(&mut conn, &caller.case_scope(), *id)
        .await?
        .ok_or_else(not_found)?;
    let stored = reports::of_cases(&mut conn, &[case.id]).await?;
    let whole = caller.sees_personal_data();
    let mask = |mut v: serde_json::Value| {
        if !whole {
            super::mask::case_json(&mut v);
        }
        v
    };
    let shown: Vec<StoredReport> = stored
        .iter()
        .filter(|r| shows_whole(&caller, r))
        .cloned()
        .map(|mut r| {
            r.reported = mask(r.reported);
            r
        })
        .collect();
    let case_values = mask(serde_json::to_value(&case).unwrap_or_default());
    let disagreements = reports::disagreements(&shown, &case_values);
    let views = stored
        .into_iter()
        .map(|r| {
            let visible = shows_whole(&caller, &r);
            ReportView {
                id: r.id,
                source_agency_id: r.source_agency_id,
                created_the_case: r.source_agency_id == case.source_agency_id
                    && case.external_reference.as_deref() == Some(r.external_reference.as_str()),
                external_reference: visible.then(|| r.external_reference.clone()),
                reported: visible.then(|| mask(r.reported)),
                received_at: r.received_at,
                updated_at: r.updated_at,
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(CaseReports {
        case_id: case.id,
        case_number: case.case_number,
        reports: views,
        disagreements,
    }))
}

/// Why a report is detached.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "The ministry's record is of her sister, who arrived the same week"}))]
pub struct DetachRequest {
    /// Why the report does not describe this return (required).
    pub reason: String,
}

/// The answer to a detach.
#[derive(Debug, Serialize, ToSchema)]
pub struct Detached {
    /// The case the report was attached to, after.
    pub case: CaseView,
    /// The new case the report now describes.
    pub detached_case: CaseView,
}

/// Detach a report into a case of its own.
///
/// Undoes a wrong attachment: the report becomes the first report of a new
/// case (numbered, with its identity and repeat flag counted as for any new
/// case, and in the queue of possible duplicates when it qualifies). The case
/// it leaves shows the values of its most recent remaining report (fields a
/// case worker set stay). Both cases record the detachment, with the reason,
/// in their history and in the change feed. A case's only report cannot be
/// detached (409).
#[utoipa::path(
    tag = "cases",
    operation_id = "detach_case_report",
    params(
        ("id" = Uuid, Path, description = "The case's id"),
        ("report_id" = Uuid, Path, description = "The report's id"),
    ),
    request_body = DetachRequest,
    responses(
        (status = 200, description = "Both cases after", body = Detached),
        (status = 409, description = "The report is the case's only one", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/cases/{id}/reports/{report_id}/detach")]
pub async fn detach_case_report(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    body: Json<DetachRequest>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::WriteCases)?;
    let (case_id, report_id) = path.into_inner();
    let reason = body.reason.trim().to_owned();
    if reason.is_empty() {
        return Err(ApiError::invalid_field("reason", "is required"));
    }
    let scope = caller.case_scope();
    let actor = Actor::from(&caller);
    let window = state.settings.same_return_window;
    let mut conn = state.pool.get().await?;
    let (case, detached) = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let before = queries::find_for_update(conn, &scope, case_id)
                .await?
                .ok_or_else(not_found)?;
            let all = reports::of_cases(conn, &[case_id]).await?;
            let Some(report) = all.iter().find(|r| r.id == report_id).cloned() else {
                return Err(ApiError::not_found("the case has no such report"));
            };
            if all.len() < 2 {
                return Err(ApiError::conflict(
                    "this is the case's only report; a case cannot be left without its report",
                ));
            }
            let (detached, change) =
                detach(conn, &actor, &before, &report, &all, &reason, window).await?;
            let after = queries::find(conn, &CaseScope::All, case_id)
                .await?
                .ok_or_else(not_found)?;
            changes::record(conn, change.before(&before).after(&after)).await?;
            Ok((after, detached))
        })
        .await?;
    let whole = caller.sees_personal_data();
    Ok(HttpResponse::Ok().json(Detached {
        case: case.shown(whole),
        detached_case: detached.shown(whole),
    }))
}

/// Moves `report` from `before` (locked) to a new case and lets the case show
/// its most recent remaining report. Returns the new case, and the change to
/// record once the caller has read the case after.
async fn detach<'a>(
    conn: &mut AsyncPgConnection,
    actor: &'a Actor,
    before: &CaseView,
    report: &StoredReport,
    all: &[StoredReport],
    reason: &str,
    window: chrono::Duration,
) -> ApiResult<(CaseView, Change<'a>)> {
    use crate::schema::{case_reports, cases};
    let input: CaseInput = serde_json::from_value(report.reported.clone())
        .map_err(|e| ApiError::internal(anyhow::anyhow!("stored report {}: {e}", report.id)))?;
    let valid = input
        .validate(Utc::now(), None)
        .map_err(ApiError::validation)?;
    let (new_case, created) = store::insert_case(conn, report.source_agency_id, &valid).await?;
    diesel::update(case_reports::table.find(report.id))
        .set((
            case_reports::case_id.eq(new_case.id),
            case_reports::attached.eq(false),
        ))
        .execute(conn)
        .await?;
    let rest: Vec<&StoredReport> = all.iter().filter(|r| r.id != report.id).collect();
    // The case keeps the source and reference of its oldest remaining report
    // when the detached one had created it.
    let mut current = before.clone();
    if before.source_agency_id == report.source_agency_id
        && before.external_reference.as_deref() == Some(report.external_reference.as_str())
        && let Some(oldest) = <[&StoredReport]>::first(&rest)
    {
        diesel::update(cases::table.find(before.id))
            .set((
                cases::source_agency_id.eq(oldest.source_agency_id),
                cases::external_reference.eq(&oldest.external_reference),
            ))
            .execute(conn)
            .await?;
        diesel::update(case_reports::table.find(oldest.id))
            .set(case_reports::attached.eq(false))
            .execute(conn)
            .await?;
        current.source_agency_id = oldest.source_agency_id;
        current.external_reference = Some(oldest.external_reference.clone());
    }
    if let Some(latest) = rest
        .iter()
        .max_by_key(|r| (r.updated_at, r.received_at, r.id))
        && let Ok(input) = serde_json::from_value::<CaseInput>(latest.reported.clone())
        && let Ok(record) = input.validate(Utc::now(), None)
    {
        let worker = reports::worker_fields(conn, &[before.id]).await?;
        let origin = current.source_agency_id == latest.source_agency_id
            && current.external_reference.as_deref() == Some(latest.external_reference.as_str());
        let shown = reports::effective(
            &record,
            &current,
            worker.get(&before.id).map(Vec::as_slice).unwrap_or(&[]),
            origin,
            rest.len() == 1,
        );
        if !super::batch::identical(&current, &shown) {
            update::write_case(conn, &current, &shown).await?;
        }
    }
    let after = queries::find(conn, &CaseScope::All, before.id)
        .await?
        .ok_or_else(not_found)?;
    let moved = serde_json::json!({
        "report_id": report.id,
        "source_agency_id": report.source_agency_id,
        "external_reference": report.external_reference,
        "detached_case_id": new_case.id,
        "detached_case_number": new_case.case_number,
    });
    let from = serde_json::json!({"case_id": before.id, "case_number": before.case_number});
    let change = Change::case(
        actor,
        "case.detach_report",
        CaseEntry::new(before.id, HistoryAction::ReportDetached)
            .reason(reason)
            .before(before)
            .after(&after),
    )
    .and_case(created)
    .and_case(
        CaseEntry::new(new_case.id, HistoryAction::ReportDetached)
            .reason(reason)
            .before(&from)
            .after(&moved),
    );
    super::duplicates::queue(conn, &[new_case.id], window).await?;
    Ok((new_case, change))
}
