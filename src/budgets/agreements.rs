//! Cost-sharing agreements between a province and one of its regencies:
//! `/api/v1/cost-sharing-agreements`.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::model::{BudgetRow, BudgetStatus, FundingSource};
use super::split::{CostCategory, WHOLE};
use crate::access::{BudgetScope, Operation, province_of};
use crate::agencies::{AgencyKind, queries as agencies};
use crate::audit::Actor;
use crate::auth::Caller;
use crate::changes::{self, Change};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::{Json, Query};
use crate::http::idempotency::{self, Created};
use crate::schema::{budgets, cost_sharing_agreements as csa};
use crate::state::AppState;

crate::text_enum! {
    /// Where an agreement stands.
    pub enum AgreementStatus {
        /// Proposed by the province; waiting for the regency.
        Proposed => "proposed",
        /// Approved by the regency: the split rule applies it.
        Approved => "approved",
        /// Rejected by the regency.
        Rejected => "rejected",
    }
}

/// A cost-sharing agreement.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = csa)]
#[schema(example = json!({
    "id": "3d4e5f60-7182-4930-a4b5-c6d7e8f90123", "fiscal_year": 2019,
    "province_agency_id": "5c1d2f9e-8f43-4f59-9a3e-5d1c2b7a9e11", "regency_agency_id": "6d2e3f4a-5b6c-4d7e-8f90-a1b2c3d4e5f6",
    "regency_code": "61.72", "province_budget_id": "1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9",
    "regency_budget_id": "4e5f6071-8293-4a4b-b5c6-d7e8f9012345", "all_costs_bp": 6000, "category_bp": null,
    "status": "approved", "proposed_by": "0b6f2f9e-8f43-4f59-9a3e-5d1c2b7a9e10", "decided_by": "7f8e9d0c-1b2a-4394-8576-a5b4c3d2e1f0",
    "decided_at": "2019-02-01T03:00:00Z", "decision_reason": "Sesuai rapat koordinasi", "created_at": "2019-01-20T03:00:00Z"
}))]
pub struct Agreement {
    /// Id.
    pub id: Uuid,
    /// Fiscal year.
    pub fiscal_year: i32,
    /// The provincial social service.
    pub province_agency_id: Uuid,
    /// The regency's social service.
    pub regency_agency_id: Uuid,
    /// The regency.
    pub regency_code: String,
    /// The province's APBD budget charged.
    pub province_budget_id: Uuid,
    /// The regency's APBD budget charged.
    pub regency_budget_id: Uuid,
    /// The province's share of every cost, in basis points (6000 = 60 %); the regency pays the rest.
    pub all_costs_bp: Option<i32>,
    /// Or the province's share per cost category, in basis points; unlisted categories are the province's.
    #[schema(value_type = Option<Object>, example = json!({"transport": 5000, "meals": 10000}))]
    pub category_bp: Option<serde_json::Value>,
    /// proposed, approved or rejected.
    pub status: AgreementStatus,
    /// Who proposed it.
    pub proposed_by: Option<Uuid>,
    /// Who approved or rejected it.
    pub decided_by: Option<Uuid>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
    /// Why.
    pub decision_reason: Option<String>,
    /// Proposed at.
    pub created_at: DateTime<Utc>,
}

/// A proposed agreement.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "fiscal_year": 2019, "regency_agency_id": "6d2e3f4a-5b6c-4d7e-8f90-a1b2c3d4e5f6",
    "province_budget_id": "1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9", "regency_budget_id": "4e5f6071-8293-4a4b-b5c6-d7e8f9012345",
    "all_costs_bp": 6000
}))]
pub struct NewAgreement {
    /// Fiscal year.
    pub fiscal_year: i32,
    /// The regency's social service.
    pub regency_agency_id: Uuid,
    /// The province's APBD budget of that year.
    pub province_budget_id: Uuid,
    /// The regency's APBD budget of that year.
    pub regency_budget_id: Uuid,
    /// The province's share of every cost, 0 to 10000 basis points. Give this or `category_bp`.
    pub all_costs_bp: Option<u32>,
    /// The province's share per category (transport, meals, escort_allowance, accommodation, other).
    pub category_bp: Option<BTreeMap<CostCategory, u32>>,
}

/// The answer to an agreement.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Sesuai hasil rapat koordinasi 5 November 2019"}))]
pub struct Decision {
    /// Why.
    pub reason: Option<crate::text::Line<1000>>,
}

/// Filters of the agreement list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgreementQuery {
    /// Fiscal year.
    pub fiscal_year: Option<i32>,
    /// Status.
    pub status: Option<AgreementStatus>,
    /// Regency code.
    pub regency_code: Option<String>,
}

type Boxed<'a> = csa::BoxedQuery<
    'a,
    diesel::pg::Pg,
    diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<Agreement, diesel::pg::Pg>>,
>;

pub(super) fn scoped<'a>(scope: &BudgetScope, agency: Uuid) -> Boxed<'a> {
    let q = csa::table.select(Agreement::as_select()).into_boxed();
    match scope.clone() {
        BudgetScope::All => q,
        BudgetScope::Province(p) => q.filter(csa::regency_code.like(format!("{p}.%"))),
        BudgetScope::OwnAgency(_) => q.filter(
            csa::regency_agency_id
                .eq(agency)
                .or(csa::province_agency_id.eq(agency)),
        ),
        BudgetScope::National | BudgetScope::Nothing => q.filter(sql::<Bool>("false")),
    }
}

fn not_found() -> ApiError {
    ApiError::not_found("there is no such agreement, or it is not yours to see")
}

/// List cost-sharing agreements.
///
/// The agreements the caller may see: a province's service and secretariat see
/// those of the province, a regency its own.
#[utoipa::path(
    tag = "budgets",
    operation_id = "list_cost_sharing_agreements",
    params(AgreementQuery),
    responses((status = 200, description = "Agreements, newest first", body = Vec<Agreement>))
)]
#[get("/cost-sharing-agreements")]
pub async fn list_cost_sharing_agreements(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<AgreementQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ReadBudgets)?;
    let mut q = scoped(&caller.budget_scope(), caller.agency_id);
    if let Some(v) = query.fiscal_year {
        q = q.filter(csa::fiscal_year.eq(v));
    }
    if let Some(v) = query.status {
        q = q.filter(csa::status.eq(v));
    }
    if let Some(v) = &query.regency_code {
        let code = crate::regions::RegionCode::parse(v)
            .map_err(|e| ApiError::bad_parameter("regency_code", e))?;
        q = q.filter(csa::regency_code.eq(code.to_string()));
    }
    let rows: Vec<Agreement> = q
        .order(csa::created_at.desc())
        .limit(1000)
        .load(&mut *state.pool.get().await?)
        .await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// Get a cost-sharing agreement.
///
/// One agreement, with its split and where it stands.
#[utoipa::path(
    tag = "budgets",
    operation_id = "get_cost_sharing_agreement",
    params(("id" = Uuid, Path, description = "The agreement's id")),
    responses((status = 200, description = "The agreement", body = Agreement))
)]
#[get("/cost-sharing-agreements/{id}")]
pub async fn get_cost_sharing_agreement(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ReadBudgets)?;
    let found: Agreement = scoped(&caller.budget_scope(), caller.agency_id)
        .filter(csa::id.eq(*id))
        .first(&mut *state.pool.get().await?)
        .await
        .optional()?
        .ok_or_else(not_found)?;
    Ok(HttpResponse::Ok().json(found))
}

async fn budget(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<BudgetRow>> {
    budgets::table
        .find(id)
        .select(BudgetRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Propose a cost-sharing agreement.
///
/// For finance officers of a provincial social service: how the province and
/// one of its regencies split the cost of returns to that regency in a fiscal
/// year, in basis points of the province's share — one split for all costs or
/// one per cost category — and which budget each side pays from. It applies
/// once the regency's social service approves it. Send an `Idempotency-Key`
/// header so that a retry after a 503 or a lost answer proposes nothing twice.
#[utoipa::path(
    tag = "budgets",
    operation_id = "create_cost_sharing_agreement",
    request_body = NewAgreement,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry within 24 hours return the first answer instead of proposing again")),
    responses((status = 201, description = "The proposed agreement", body = Agreement))
)]
#[post("/cost-sharing-agreements")]
pub async fn create_cost_sharing_agreement(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: Json<NewAgreement>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ManageBudgets)?;
    let key = idempotency::key_of(&req)?;
    let hash = idempotency::fingerprint(&body.0);
    if caller.agency_kind != AgencyKind::ProvincialSocialService {
        return Err(ApiError::forbidden(
            "a provincial social service proposes cost-sharing agreements",
        ));
    }
    let new = body.0;
    let province = caller
        .agency_region
        .as_deref()
        .map(province_of)
        .unwrap_or_default()
        .to_owned();
    let mut conn = state.pool.get().await?;
    let mut errors = Vec::new();
    let regency = agencies::find(&mut conn, new.regency_agency_id).await?;
    let regency_code = match &regency {
        Some(a)
            if a.kind == AgencyKind::RegencySocialService
                && a.region_code.as_deref().map(province_of) == Some(province.as_str()) =>
        {
            a.region_code.clone().unwrap_or_default()
        }
        _ => {
            errors.push(FieldError::new(
                "regency_agency_id",
                format!("must be a regency social service in province {province}"),
            ));
            String::new()
        }
    };
    let check_budget = |b: Option<BudgetRow>,
                        field: &str,
                        source: FundingSource,
                        owner: Uuid,
                        errors: &mut Vec<FieldError>| match b {
        Some(b)
            if b.source == source
                && b.owner_agency_id == owner
                && b.fiscal_year == new.fiscal_year
                && b.status != BudgetStatus::Closed => {}
        _ => errors.push(FieldError::new(
            field,
            format!(
                "must be an open {source} budget of fiscal year {} owned by that agency",
                new.fiscal_year
            ),
        )),
    };
    let province_budget = budget(&mut conn, new.province_budget_id).await?;
    check_budget(
        province_budget,
        "province_budget_id",
        FundingSource::ApbdProvince,
        caller.agency_id,
        &mut errors,
    );
    let regency_budget = budget(&mut conn, new.regency_budget_id).await?;
    check_budget(
        regency_budget,
        "regency_budget_id",
        FundingSource::ApbdRegency,
        new.regency_agency_id,
        &mut errors,
    );
    match (new.all_costs_bp, &new.category_bp) {
        (Some(_), Some(_)) | (None, None) => errors.push(FieldError::new(
            "all_costs_bp",
            "give either all_costs_bp or category_bp",
        )),
        (Some(bp), None) if bp > WHOLE => errors.push(FieldError::new(
            "all_costs_bp",
            "must be 0 to 10000 basis points",
        )),
        (None, Some(map)) if map.is_empty() || map.values().any(|bp| *bp > WHOLE) => {
            errors.push(FieldError::new(
                "category_bp",
                "must give 0 to 10000 basis points for at least one category",
            ))
        }
        _ => {}
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let category_bp = new.category_bp.map(|m| {
        serde_json::Value::Object(
            m.into_iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.into()))
                .collect(),
        )
    });
    let actor = Actor::from(&caller);
    let location = |a: &Agreement| Some(format!("/api/v1/cost-sharing-agreements/{}", a.id));
    let agreement = conn
        .transaction::<_, ApiError, _>(async |conn| {
            idempotency::create_once(
                conn,
                caller.principal_id,
                key.as_deref(),
                &hash,
                location,
                async |conn| {
                    let agreement: Agreement = diesel::insert_into(csa::table)
                        .values((
                            csa::fiscal_year.eq(new.fiscal_year),
                            csa::province_agency_id.eq(caller.agency_id),
                            csa::regency_agency_id.eq(new.regency_agency_id),
                            csa::regency_code.eq(&regency_code),
                            csa::province_budget_id.eq(new.province_budget_id),
                            csa::regency_budget_id.eq(new.regency_budget_id),
                            csa::all_costs_bp.eq(new.all_costs_bp.map(|bp| bp as i32)),
                            csa::category_bp.eq(category_bp),
                            csa::status.eq(AgreementStatus::Proposed),
                            csa::proposed_by.eq(caller.principal_id),
                        ))
                        .returning(Agreement::as_returning())
                        .get_result(conn)
                        .await?;
                    changes::record(
                        conn,
                        Change::of(&actor, "agreement.propose", "agreement", agreement.id)
                            .after(&agreement),
                    )
                    .await?;
                    Ok(agreement)
                },
            )
            .await
        })
        .await?;
    Ok(match agreement {
        Created::New(agreement) => HttpResponse::Created()
            .insert_header((
                "Location",
                format!("/api/v1/cost-sharing-agreements/{}", agreement.id),
            ))
            .json(agreement),
        Created::Replayed(replay) => replay.respond(),
    })
}

async fn decide(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    reason: Option<String>,
    to: AgreementStatus,
) -> ApiResult<Agreement> {
    caller.require(Operation::ManageBudgets)?;
    let scope = caller.budget_scope();
    let actor = Actor::from(caller);
    let mut conn = state.pool.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let before: Agreement = scoped(&scope, caller.agency_id)
            .filter(csa::id.eq(id))
            .first(conn)
            .await
            .optional()?
            .ok_or_else(not_found)?;
        if !caller.is_system_admin() && caller.agency_id != before.regency_agency_id {
            return Err(ApiError::forbidden("the regency's social service decides on an agreement"));
        }
        if before.status != AgreementStatus::Proposed {
            return Err(ApiError::conflict(format!("the agreement is already {}", before.status)));
        }
        // The status is checked again in the statement that changes it: of two
        // decisions racing on one proposal, the second finds no proposed row (409).
        let after: Agreement = diesel::update(
            csa::table
                .find(id)
                .filter(csa::status.eq(AgreementStatus::Proposed)),
        )
        .set((
                csa::status.eq(to),
                csa::decided_by.eq(caller.principal_id),
                csa::decided_at.eq(Utc::now()),
                csa::decision_reason.eq(reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty())),
            ))
            .returning(Agreement::as_returning())
            .get_result(conn)
            .await
            .optional()
            .map_err(|e| match e {
                diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => ApiError::conflict(
                    "this province and regency already have an approved agreement for the year; one applies at a time",
                ),
                other => other.into(),
            })?
            .ok_or_else(|| ApiError::conflict("the agreement was decided by another request at the same time"))?;
        let action = if to == AgreementStatus::Approved { "agreement.approve" } else { "agreement.reject" };
        changes::record(
conn, Change::of(&actor, action, "agreement", id).before(&before).after(&after)).await?;
        Ok(after)
    })
    .await
}

/// Approve a cost-sharing agreement.
///
/// For finance officers of the regency's social service. From now on the
/// split rule charges in-province returns to this regency by this agreement.
/// A province and regency have at most one approved agreement per year (409).
#[utoipa::path(
    tag = "budgets",
    operation_id = "approve_cost_sharing_agreement",
    params(("id" = Uuid, Path, description = "The agreement's id")),
    request_body = Decision,
    responses(
        (status = 200, description = "The approved agreement", body = Agreement),
        (status = 409, description = "Not proposed any more, or another is already approved", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/cost-sharing-agreements/{id}/approve")]
pub async fn approve_cost_sharing_agreement(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<Decision>,
) -> ApiResult<HttpResponse> {
    let agreement = decide(
        &state,
        &caller,
        *id,
        body.0.reason.map(crate::text::Text::into_inner),
        AgreementStatus::Approved,
    )
    .await?;
    Ok(HttpResponse::Ok().json(agreement))
}

/// Reject a cost-sharing agreement.
///
/// For finance officers of the regency's social service. The province may then
/// propose another.
#[utoipa::path(
    tag = "budgets",
    operation_id = "reject_cost_sharing_agreement",
    params(("id" = Uuid, Path, description = "The agreement's id")),
    request_body = Decision,
    responses(
        (status = 200, description = "The rejected agreement", body = Agreement),
        (status = 409, description = "Not proposed any more", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/cost-sharing-agreements/{id}/reject")]
pub async fn reject_cost_sharing_agreement(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<Decision>,
) -> ApiResult<HttpResponse> {
    let agreement = decide(
        &state,
        &caller,
        *id,
        body.0.reason.map(crate::text::Text::into_inner),
        AgreementStatus::Rejected,
    )
    .await?;
    Ok(HttpResponse::Ok().json(agreement))
}
