//! `POST/GET /api/v1/cases` and `GET/PATCH /api/v1/cases/{id}`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::Utc;
use diesel_async::AsyncConnection;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::batch::{RecordResult, push_one};
use super::input::CaseInput;
use super::model::{CaseCategory, EntryPoint, FundingScope};
use super::queries::{self, CaseCursor, CaseFilter, CaseSort};
use super::status::CaseStatus;
use super::update::{CasePatch, apply_patch};
use super::view::CaseView;
use super::{store, write_access};
use crate::access::Operation;
use crate::audit::Actor;
use crate::auth::Caller;
use crate::changes::{self, Change};
use crate::error::{ApiError, ApiResult};
use crate::http::etag::{check_version, if_match_version};
use crate::http::extract::{Json, Query};
use crate::http::idempotency;
use crate::http::pagination::{Page, decode_cursor};
use crate::reads::{self, Read, ReadKind};
use crate::regions::RegionCode;
use crate::state::AppState;

/// The response for one case, with its `ETag`.
pub fn case_response(status: StatusCode, case: CaseView, caller: &Caller) -> HttpResponse {
    let case = for_caller(case, caller);
    let mut builder = HttpResponse::build(status);
    builder.insert_header(("ETag", case.etag()));
    if status == StatusCode::CREATED {
        builder.insert_header(("Location", format!("/api/v1/cases/{}", case.id)));
    }
    builder.json(&case)
}

/// A case as `caller` sees it: masked unless its role handles the person,
/// and, for a source reading back a case another source created, without
/// that source's reference (its own is in `GET /cases/{id}/reports`).
pub fn for_caller(case: CaseView, caller: &Caller) -> CaseView {
    let mut case = case.shown(caller.sees_personal_data());
    if let crate::access::CaseScope::PushedBy(agency) = caller.case_scope()
        && case.source_agency_id != agency
    {
        case.external_reference = None;
    }
    case
}

/// Register a case.
///
/// Records one return of one person. The person is linked by NIK (or, without
/// a NIK, by passport number) to earlier returns, and the case is then marked
/// `repeat_return`. With an `external_reference` the record is a report of
/// your agency, like one record of `POST /api/v1/cases/batch`: when the same
/// person already has a return in the same handling province arriving within
/// the same-return window, the record attaches to that case as a new report
/// and the answer is 200 with that case and the header
/// `Pulang-Record-Result: linked` (`updated` or `unchanged` for a reference
/// you sent before); otherwise 201 with the new case. The status starts at `registered`; the funding scope
/// follows from the origin and the handling province. Send an
/// `Idempotency-Key` header to make retries safe: a repeat with the same key
/// and body returns the first answer and creates nothing. A key is
/// remembered for 24 hours.
#[utoipa::path(
    tag = "cases",
    operation_id = "create_case",
    request_body = CaseInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry within 24 hours return the first answer instead of creating again")),
    responses(
        (status = 201, description = "The new case", body = CaseView,
         headers(("ETag" = String, description = "The case's version"), ("Location" = String, description = "The case's address"))),
        (status = 200, description = "The record is a report of a return already recorded: that case", body = CaseView,
         headers(("ETag" = String, description = "The case's version"), ("Pulang-Record-Result" = String, description = "`linked`, `updated` or `unchanged`"))),
    )
)]
#[post("/cases")]
pub async fn create_case(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: Json<CaseInput>,
) -> ApiResult<HttpResponse> {
    if !caller.may(Operation::WriteCases) && !caller.may(Operation::PushCases) {
        return Err(ApiError::forbidden(
            "your roles in your agency do not allow cases.write or cases.push",
        ));
    }
    let key = idempotency::key_of(&req)?;
    let hash = idempotency::fingerprint(&body.0);
    let agency_region = caller
        .agency_region
        .as_deref()
        .and_then(|r| RegionCode::parse(r).ok());
    let case = body
        .0
        .validate(Utc::now(), agency_region.as_ref())
        .map_err(ApiError::validation)?;
    write_access::check_handling_province(&caller, &case.handling_province)?;
    let actor = Actor::from(&caller);
    let window = state.settings.same_return_window;
    let mut conn = state.pool.get().await?;
    // A serialization failure or deadlock (two sources reporting one return)
    // runs the whole transaction once more.
    let outcome = crate::db::retry_once(async || {
        conn.transaction::<_, ApiError, _>(async |conn| {
            if let Some(key) = &key
                && let Some(replay) =
                    idempotency::claim(conn, caller.principal_id, key, &hash).await?
            {
                return Ok(Err(replay));
            }
            let (result, view, entry) = match case.external_reference.clone() {
                // A record with the source's reference is a report: it may
                // describe a return already recorded.
                Some(reference) => {
                    let (result, id) = push_one(
                        conn,
                        &actor,
                        caller.agency_id,
                        reference,
                        case.clone(),
                        window,
                    )
                    .await?;
                    let view = queries::find(conn, &crate::access::CaseScope::All, id)
                        .await?
                        .ok_or_else(not_found)?;
                    // The push recorded the cases' history and feed events
                    // with its set-based statements.
                    (result, view, None)
                }
                None => {
                    let (view, entry) = store::insert_case(conn, caller.agency_id, &case).await?;
                    // What the case worker recorded wins over any later report.
                    super::reports::mark_worker_fields(
                        conn,
                        view.id,
                        &super::reports::given_fields(&case),
                    )
                    .await?;
                    super::duplicates::queue(conn, &[view.id], window).await?;
                    (RecordResult::Created, view, Some(entry))
                }
            };
            let change = match entry {
                Some(entry) => Change::case(&actor, "case.create", entry),
                None => Change::of(&actor, "case.report", "case", view.id),
            };
            changes::record(conn, change.after(&view)).await?;
            let status = if result == RecordResult::Created {
                201
            } else {
                200
            };
            if let Some(key) = &key {
                let shown = view.clone().shown(caller.sees_personal_data());
                let body = serde_json::to_value(&shown).map_err(ApiError::internal)?;
                let location = format!("/api/v1/cases/{}", view.id);
                idempotency::store(
                    conn,
                    caller.principal_id,
                    key,
                    status,
                    &body,
                    Some(&location),
                )
                .await?;
            }
            Ok(Ok((result, view)))
        })
        .await
    })
    .await?;
    Ok(match outcome {
        Ok((RecordResult::Created, view)) => case_response(StatusCode::CREATED, view, &caller),
        Ok((result, view)) => {
            let mut response = case_response(StatusCode::OK, view, &caller);
            if let Ok(value) = actix_web::http::header::HeaderValue::from_str(result.as_str()) {
                response.headers_mut().insert(
                    actix_web::http::header::HeaderName::from_static("pulang-record-result"),
                    value,
                );
            }
            response
        }
        Err(replay) => {
            let mut builder =
                HttpResponse::build(StatusCode::from_u16(replay.status).unwrap_or(StatusCode::OK));
            if let Some(location) = replay.location {
                builder.insert_header(("Location", location));
            }
            if let Some(version) = replay
                .body
                .get("version")
                .and_then(serde_json::Value::as_i64)
                .and_then(|v| i32::try_from(v).ok())
            {
                builder.insert_header(("ETag", crate::http::etag::tag(version)));
            }
            builder
                .insert_header(("Idempotent-Replayed", "true"))
                .json(replay.body)
        }
    })
}

/// Get a case.
///
/// The case with its person. The `ETag` header carries its version: send it
/// back as `If-Match` to update. A case outside the caller's scope answers
/// 404, exactly like one that does not exist. The id of a case merged into
/// another (a confirmed possible duplicate) answers 301 with the kept case's
/// address in `Location`.
#[utoipa::path(
    tag = "cases",
    operation_id = "get_case",
    params(("id" = Uuid, Path, description = "The case's id")),
    responses(
        (status = 200, description = "The case", body = CaseView, headers(("ETag" = String, description = "The case's version"))),
        (status = 301, description = "The case was merged into another", headers(("Location" = String, description = "The kept case's address"))),
    )
)]
#[get("/cases/{id}")]
pub async fn get_case(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ReadCases)?;
    let scope = caller.case_scope();
    let mut conn = state.pool.get().await?;
    let (case, via_grant) = match queries::find(&mut conn, &scope, *id).await? {
        Some(case) => (case, false),
        None => {
            // A case merged into another (a confirmed duplicate) still finds it.
            if let Some(kept) = queries::merged_into(&mut conn, *id).await?
                && queries::find(&mut conn, &scope, kept).await?.is_some()
            {
                return Ok(HttpResponse::MovedPermanently()
                    .insert_header(("Location", format!("/api/v1/cases/{kept}")))
                    .finish());
            }
            (
                super::grants::granted_case(&mut conn, &caller, *id)
                    .await?
                    .ok_or_else(not_found)?,
                true,
            )
        }
    };
    state.reads.record(
        &caller,
        ReadKind::Case,
        Read {
            case_ids: vec![case.id],
            via_grant,
            ..Read::default()
        },
    );
    Ok(case_response(StatusCode::OK, case, &caller))
}

/// The answer for a case that does not exist or is outside the caller's scope.
pub fn not_found() -> ApiError {
    ApiError::not_found("there is no such case, or it is not yours to see")
}

/// Filters and paging of `GET /api/v1/cases`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseListQuery {
    /// Statuses, comma separated (`sheltered,assessed`).
    #[param(example = "ready_for_transfer")]
    pub status: Option<String>,
    /// Category.
    pub category: Option<CaseCategory>,
    /// Region of origin: a regency (`61.71`), or a province (`61`) for all its regencies.
    #[param(value_type = Option<crate::regions::RegionCode>, example = "61.71")]
    pub origin_region: Option<String>,
    /// Funding scope.
    pub funding_scope: Option<FundingScope>,
    /// Entry point.
    pub entry_point: Option<EntryPoint>,
    /// Arrived on or after this date.
    pub arrived_from: Option<chrono::NaiveDate>,
    /// Arrived on or before this date.
    pub arrived_to: Option<chrono::NaiveDate>,
    /// An agency that registered or reported the case: it created it, or one of
    /// its reports was attached to it.
    pub source_agency_id: Option<Uuid>,
    /// The province handling the case.
    #[param(value_type = Option<crate::regions::RegionCode>, example = "61")]
    pub handling_province: Option<String>,
    /// Only repeat returns (`true`) or first returns (`false`).
    pub repeat_return: Option<bool>,
    /// Search name (tolerating spelling variants), NIK, passport or case number.
    #[param(example = "siti nurhalisa")]
    pub q: Option<String>,
    /// Order: `-arrived_at` (default), `arrived_at`, `-created_at`, `created_at`, `full_name`, `-full_name`.
    pub sort: Option<CaseSort>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Also count every matching case (`total`); costs a second query.
    pub with_total: Option<bool>,
}

impl CaseListQuery {
    /// The filter these parameters describe.
    pub fn filter(&self) -> ApiResult<CaseFilter> {
        let status = match &self.status {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(|s| {
                    s.trim()
                        .parse::<CaseStatus>()
                        .map_err(|e| ApiError::bad_parameter("status", e))
                })
                .collect::<ApiResult<Vec<_>>>()?,
        };
        let region = |name: &str, value: &Option<String>| {
            value
                .as_deref()
                .map(RegionCode::parse)
                .transpose()
                .map_err(|e| ApiError::bad_parameter(name, e))
        };
        let handling_province = region("handling_province", &self.handling_province)?;
        if let (Some(from), Some(to)) = (self.arrived_from, self.arrived_to)
            && from > to
        {
            return Err(ApiError::bad_parameter(
                "arrived_from",
                "is after arrived_to",
            ));
        }
        Ok(CaseFilter {
            status,
            category: self.category,
            origin: region("origin_region", &self.origin_region)?,
            funding_scope: self.funding_scope,
            entry_point: self.entry_point,
            arrived_from: self.arrived_from,
            arrived_to: self.arrived_to,
            source_agency_id: self.source_agency_id,
            text: self
                .q
                .as_deref()
                .map(str::trim)
                .filter(|q| !q.is_empty())
                .map(str::to_owned),
            handling_province: handling_province.map(|p| p.province().to_string()),
            repeat_return: self.repeat_return,
            person_id: None,
        })
    }
}

/// The page size of `list_cases`.
pub const CASE_PAGE: crate::http::pagination::PageSize = crate::http::pagination::PageSize {
    default: 50,
    max: 500,
};

/// List cases.
///
/// The cases the caller may see, filtered and sorted, a page at a time
/// (keyset pagination: pass `next_cursor` as `cursor`). Every filter is
/// backed by an index. With `Accept: text/csv` the answer is every matching
/// case as CSV (UTF-8 with BOM, header row, times in UTC as spreadsheet
/// dates, formula-like cells neutralised), streamed page by page.
#[utoipa::path(
    tag = "cases",
    operation_id = "list_cases",
    params(CaseListQuery),
    responses((status = 200, description = "A page of cases, or all of them as CSV", body = Page<CaseView>,
               content((Page<CaseView> = "application/json"), (String = "text/csv"))))
)]
#[get("/cases")]
pub async fn list_cases(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: Query<CaseListQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ReadCases)?;
    let filter = query.filter()?;
    let sort = query.sort.unwrap_or_default();
    let recorded = reads::query_filter(req.query_string());
    if crate::http::csv::wants_csv(&req) {
        return super::export::csv_response(
            &state.pool,
            crate::http::csv::ExportLimits::of(&state.settings),
            state.reads.clone(),
            caller,
            filter,
            sort,
            recorded,
        )
        .await;
    }
    let limit = CASE_PAGE.of(query.limit)?;
    let cursor = query
        .cursor
        .as_deref()
        .map(decode_cursor::<CaseCursor>)
        .transpose()?;
    if cursor.as_ref().is_some_and(|c| c.sort != sort) {
        return Err(ApiError::bad_parameter(
            "cursor",
            "belongs to a list in another order",
        ));
    }
    let scope = caller.case_scope();
    let mut conn = state.pool.get().await?;
    let rows = queries::list(
        &mut conn,
        &scope,
        &filter,
        sort,
        cursor.as_ref(),
        limit as i64 + 1,
    )
    .await?;
    let mut page = Page::from_rows(rows, limit, |c| queries::cursor_after(c, sort));
    state.reads.record(
        &caller,
        if filter.text.is_some() {
            ReadKind::CaseSearch
        } else {
            ReadKind::CaseList
        },
        Read {
            case_ids: page.items.iter().map(|c| c.id).collect(),
            filter: recorded,
            ..Read::default()
        },
    );
    page.items = page
        .items
        .into_iter()
        .map(|c| for_caller(c, &caller))
        .collect();
    if query.with_total == Some(true) {
        page.total = Some(queries::count(&mut conn, &scope, &filter).await?);
    }
    Ok(HttpResponse::Ok().json(page))
}

/// Update a case.
///
/// Changes the given fields (absent fields stay, `null` clears an optional
/// one), checked by the same rules as a new case. Needs `If-Match` with the
/// `ETag` of the version being changed: 412 when someone changed the case in
/// between, 428 without it. Status changes go through
/// `POST /api/v1/cases/{id}/transitions`.
#[utoipa::path(
    tag = "cases",
    operation_id = "update_case",
    params(
        ("id" = Uuid, Path, description = "The case's id"),
        ("If-Match" = String, Header, description = "The ETag of the version being changed"),
    ),
    request_body = CasePatch,
    responses(
        (status = 200, description = "The changed case", body = CaseView, headers(("ETag" = String, description = "The new version"))),
        (status = 412, description = "The case changed since that ETag", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match is missing", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/cases/{id}")]
pub async fn update_case(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<CasePatch>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::WriteCases)?;
    let expected = if_match_version(&req)?;
    let scope = caller.case_scope();
    let actor = Actor::from(&caller);
    let patch = body.0;
    let mut conn = state.pool.get().await?;
    let case = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let before = queries::find_for_update(conn, &scope, *id)
                .await?
                .ok_or_else(not_found)?;
            check_version("case", before.version, expected)?;
            let (after, entry) = apply_patch(conn, &before, patch).await?;
            let change = Change::case(&actor, "case.update", entry)
                .before(&before)
                .after(&after);
            changes::record(conn, change).await?;
            Ok(after)
        })
        .await?;
    Ok(case_response(StatusCode::OK, case, &caller))
}
