//! `GET/POST /api/v1/agencies` and `GET/PATCH /api/v1/agencies/{id}`.

use actix_web::{HttpResponse, get, patch, post, web};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::model::{Agency, AgencyKind, AgencyPatch, NewAgency};
use super::queries::{self, AgencyFilter};
use super::rules;
use crate::access::Operation;
use crate::audit::Actor;
use crate::auth::Caller;
use crate::changes::{self, Change};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, decode_cursor};
use crate::regions::RegionCode;
use crate::schema::agencies;
use crate::state::AppState;

/// Filters of `GET /api/v1/agencies`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgencyListQuery {
    /// Only this kind.
    pub kind: Option<AgencyKind>,
    /// Only agencies covering this region; a province code includes its regencies.
    #[param(value_type = Option<crate::regions::RegionCode>, example = "61")]
    pub region: Option<String>,
    /// Only active (`true`) or deactivated (`false`) agencies.
    pub active: Option<bool>,
    /// Code or name containing this text, case-insensitive.
    pub q: Option<String>,
    /// Page size, 1 to 500 (default 100).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The page size of `list_agencies`.
pub const AGENCY_PAGE: crate::http::pagination::PageSize = crate::http::pagination::PageSize {
    default: 100,
    max: 500,
};

/// List agencies.
///
/// The directory of agencies, ordered by code. Every signed-in caller may read
/// it (to address a transfer to a receiving agency, for example).
#[utoipa::path(
    tag = "agencies",
    operation_id = "list_agencies",
    params(AgencyListQuery),
    responses((status = 200, description = "A page of agencies", body = Page<Agency>))
)]
#[get("/agencies")]
pub async fn list_agencies(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<AgencyListQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ReadAgencies)?;
    let q = query.0;
    let limit = AGENCY_PAGE.of(q.limit)?;
    let region = q
        .region
        .as_deref()
        .map(RegionCode::parse)
        .transpose()
        .map_err(|e| ApiError::bad_parameter("region", e))?;
    let filter = AgencyFilter {
        kind: q.kind,
        region: region.map(|r| r.to_string()),
        active: q.active,
        text: q
            .q
            .filter(|t| !t.trim().is_empty())
            .map(|t| t.trim().to_owned()),
        after_code: q
            .cursor
            .as_deref()
            .map(decode_cursor::<String>)
            .transpose()?,
    };
    let rows = queries::list(&mut *state.pool.get().await?, filter, limit as i64 + 1).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, limit, |a| a.code.clone())))
}

/// Get an agency.
///
/// One agency of the directory by its id, active or not.
#[utoipa::path(
    tag = "agencies",
    operation_id = "get_agency",
    params(("id" = Uuid, Path, description = "The agency's id")),
    responses((status = 200, description = "The agency", body = Agency))
)]
#[get("/agencies/{id}")]
pub async fn get_agency(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ReadAgencies)?;
    let agency = queries::find(&mut *state.pool.get().await?, *id)
        .await?
        .ok_or_else(|| ApiError::not_found("there is no such agency"))?;
    Ok(HttpResponse::Ok().json(agency))
}

/// Create an agency.
///
/// For system administrators. The region must fit the kind: a provincial
/// social service or secretariat covers a province, a regency social service a
/// regency, the ministry no region. The code is unique (409 when taken).
#[utoipa::path(
    tag = "agencies",
    operation_id = "create_agency",
    request_body = NewAgency,
    responses(
        (status = 201, description = "The new agency", body = Agency),
        (status = 409, description = "The code is taken", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/agencies")]
pub async fn create_agency(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<NewAgency>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ManageAgencies)?;
    let mut conn = state.pool.get().await?;
    let agency = insert_agency(&mut conn, &Actor::from(&caller), body.0).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/agencies/{}", agency.id)))
        .json(agency))
}

/// Validates and inserts an agency, with its audit entry, in one transaction.
pub async fn insert_agency(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    new: NewAgency,
) -> ApiResult<Agency> {
    let mut errors = Vec::new();
    let code = rules::normalise_code(&new.code)
        .map_err(|e| errors.push(e))
        .ok();
    let name = rules::check_name("name", &new.name)
        .map_err(|e| errors.push(e))
        .ok();
    let email = new
        .email
        .as_deref()
        .map(rules::check_email)
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    check_region_and_parent(
        conn,
        new.kind,
        new.region_code.as_ref(),
        new.parent_id,
        &mut errors,
    )
    .await?;
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let (code, name) = (code.unwrap_or_default(), name.unwrap_or_default());
    conn.transaction::<_, ApiError, _>(async |conn| {
        let agency: Agency = diesel::insert_into(agencies::table)
            .values((
                agencies::code.eq(&code),
                agencies::name.eq(&name),
                agencies::kind.eq(new.kind),
                agencies::region_code.eq(new.region_code.as_ref().map(|r| r.to_string())),
                agencies::parent_id.eq(new.parent_id),
                agencies::email.eq(email),
                agencies::phone.eq(new.phone.map(|p| p.trim().to_owned())),
                agencies::address.eq(new.address.map(|a| a.trim().to_owned())),
            ))
            .returning(Agency::as_returning())
            .get_result(conn)
            .await
            .map_err(|e| unique_code_conflict(e, &code))?;
        changes::record(
            conn,
            Change::of(actor, "agency.create", "agency", agency.id).after(&agency),
        )
        .await?;
        Ok(agency)
    })
    .await
}

fn unique_code_conflict(error: diesel::result::Error, code: &str) -> ApiError {
    match error {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) => ApiError::conflict(format!("the agency code {code} is taken")),
        other => other.into(),
    }
}

/// Checks that the region exists and fits the kind, and that the parent exists.
async fn check_region_and_parent(
    conn: &mut AsyncPgConnection,
    kind: AgencyKind,
    region: Option<&RegionCode>,
    parent: Option<Uuid>,
    errors: &mut Vec<FieldError>,
) -> ApiResult<()> {
    let level = match region {
        Some(code) => match queries::region_level(conn, code.as_str()).await? {
            Some(level) => Some(level),
            None => {
                errors.push(FieldError::new(
                    "region_code",
                    format!("there is no region {code}"),
                ));
                return Ok(());
            }
        },
        None => None,
    };
    if let Err(e) = rules::check_region(kind, level) {
        errors.push(e);
    }
    if let Some(parent) = parent
        && queries::find(conn, parent).await?.is_none()
    {
        errors.push(FieldError::new("parent_id", "there is no such agency"));
    }
    Ok(())
}

/// Change an agency.
///
/// For system administrators. Absent fields stay as they are; `null` clears
/// an optional field. `"active": false` deactivates the agency: its users and
/// clients can no longer sign in and their tokens stop working, but nothing is
/// deleted.
#[utoipa::path(
    tag = "agencies",
    operation_id = "update_agency",
    params(("id" = Uuid, Path, description = "The agency's id")),
    request_body = AgencyPatch,
    responses((status = 200, description = "The changed agency", body = Agency))
)]
#[patch("/agencies/{id}")]
pub async fn update_agency(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<AgencyPatch>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ManageAgencies)?;
    let id = *id;
    let patch = body.0;
    let actor = Actor::from(&caller);
    let mut conn = state.pool.get().await?;
    let agency = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let before = queries::find_for_update(conn, id)
                .await?
                .ok_or_else(|| ApiError::not_found("there is no such agency"))?;
            let mut errors = Vec::new();
            let name = patch
                .name
                .as_deref()
                .map(|n| rules::check_name("name", n))
                .transpose()
                .map_err(|e| errors.push(e))
                .ok()
                .flatten();
            let email = rules::check_email_patch(&patch.email, &mut errors);
            let region = match &patch.region_code {
                Some(r) => r.clone(),
                None => before
                    .region_code
                    .as_deref()
                    .map(RegionCode::parse)
                    .transpose()
                    .ok()
                    .flatten(),
            };
            let parent = patch.parent_id.unwrap_or(before.parent_id);
            if parent == Some(id) {
                errors.push(FieldError::new(
                    "parent_id",
                    "an agency cannot report to itself",
                ));
            }
            check_region_and_parent(conn, before.kind, region.as_ref(), parent, &mut errors)
                .await?;
            if !errors.is_empty() {
                return Err(ApiError::validation(errors));
            }
            let after: Agency = diesel::update(agencies::table.find(id))
                .set((
                    agencies::name.eq(name.unwrap_or_else(|| before.name.clone())),
                    agencies::region_code.eq(region.map(|r| r.to_string())),
                    agencies::parent_id.eq(parent),
                    agencies::email.eq(email.unwrap_or_else(|| before.email.clone())),
                    agencies::phone.eq(patch.phone.clone().unwrap_or_else(|| before.phone.clone())),
                    agencies::address.eq(patch
                        .address
                        .clone()
                        .unwrap_or_else(|| before.address.clone())),
                    agencies::active.eq(patch.active.unwrap_or(before.active)),
                    agencies::updated_at.eq(diesel::dsl::now),
                ))
                .returning(Agency::as_returning())
                .get_result(conn)
                .await?;
            changes::record(
                conn,
                Change::of(&actor, "agency.update", "agency", id)
                    .before(&before)
                    .after(&after),
            )
            .await?;
            Ok(after)
        })
        .await?;
    Ok(HttpResponse::Ok().json(agency))
}
