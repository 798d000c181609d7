//! `GET /api/v1/budgets/summary` and `POST /api/v1/budgets/split-preview`.

use std::collections::HashMap;

use actix_web::{HttpResponse, get, post, web};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::model::{Balance, FundingSource};
use super::payers;
use super::queries::{self, BudgetFilter};
use super::split::{Cost, CostCategory, SplitResult, split_cost};
use crate::access::Operation;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Query};
use crate::regions::{RegionCode, catalog};
use crate::state::AppState;
use crate::stats::figures::{per_head, percent};

/// Parameters of the summary.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// Fiscal year.
    #[param(example = 2019)]
    pub fiscal_year: i32,
    /// Only the budgets of this agency (a regency's view of its own share).
    pub agency_id: Option<Uuid>,
}

/// One budget's use.
#[derive(Debug, Serialize, ToSchema)]
pub struct BudgetUse {
    /// The budget.
    pub budget_id: Uuid,
    /// Its name.
    pub name: String,
    /// Funding source.
    pub source: FundingSource,
    /// DIPA (APBN) or DPA (APBD) number.
    pub document_number: String,
    /// Activity (kegiatan) code.
    pub activity_code: Option<String>,
    /// Owning agency.
    pub owner_agency_id: Uuid,
    /// The balance.
    pub balance: Balance,
    /// Realised as a share of the allocation, in percent (two decimals).
    #[schema(example = 17.45)]
    pub utilisation_percent: f64,
    /// Returnees whose transfers this budget paid for.
    pub returnees_paid_for: i64,
    /// Realised ÷ returnees, whole rupiah (rounded down).
    pub average_cost_per_returnee: Option<i64>,
}

/// The totals of one funding source.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct SourceTotals {
    /// Sum of the balances.
    pub balance: Balance,
    /// Realised ÷ allocated, in percent.
    pub utilisation_percent: f64,
    /// Returnees paid for.
    pub returnees_paid_for: i64,
    /// Realised ÷ returnees.
    pub average_cost_per_returnee: Option<i64>,
}

/// Budget use in a fiscal year.
#[derive(Debug, Serialize, ToSchema)]
pub struct BudgetSummary {
    /// The fiscal year.
    pub fiscal_year: i32,
    /// Totals per funding source (`apbn`, `apbd_province`, `apbd_regency`).
    pub by_source: HashMap<FundingSource, SourceTotals>,
    /// Every budget the caller may see.
    pub budgets: Vec<BudgetUse>,
}

#[derive(QueryableByName)]
struct Paid {
    #[diesel(sql_type = SqlUuid)]
    budget_id: Uuid,
    #[diesel(sql_type = BigInt)]
    returnees: i64,
}

/// Summarise budget use.
///
/// Per budget and per funding source for a fiscal year: allocated,
/// committed, realised, available, utilisation, the number of returnees paid
/// for and the average cost per returnee. With `agency_id`, only that
/// agency's budgets (a regency's view of its own share). Always within the
/// caller's budget scope.
#[utoipa::path(
    tag = "budgets",
    operation_id = "summarise_budgets",
    params(SummaryQuery),
    responses((status = 200, description = "The summary", body = BudgetSummary))
)]
#[get("/budgets/summary")]
pub async fn summarise_budgets(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<SummaryQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ReadBudgets)?;
    let mut conn = state.pool.get().await?;
    let filter = BudgetFilter {
        fiscal_year: Some(query.fiscal_year),
        owner_agency_id: query.agency_id,
        ..BudgetFilter::default()
    };
    let budgets = queries::list(&mut conn, &caller.budget_scope(), &filter).await?;
    let ids: Vec<Uuid> = budgets.iter().map(|b| b.id).collect();
    // Returnees of the transfers with a net realisation on each budget.
    let paid: Vec<Paid> = diesel::sql_query(
        "SELECT budget_id, coalesce(sum(cases), 0)::bigint AS returnees FROM ( \
           SELECT budget_id, transfer_id, max(case_count) AS cases, sum(amount) AS net FROM budget_ledger \
           WHERE kind = 'realisation' AND transfer_id IS NOT NULL AND budget_id = ANY($1) \
           GROUP BY budget_id, transfer_id) t WHERE net > 0 GROUP BY budget_id",
    )
    .bind::<diesel::sql_types::Array<SqlUuid>, _>(&ids)
    .load(&mut conn)
    .await?;
    let paid: HashMap<Uuid, i64> = paid
        .into_iter()
        .map(|p| (p.budget_id, p.returnees))
        .collect();
    let mut by_source: HashMap<FundingSource, SourceTotals> = HashMap::new();
    let mut uses = Vec::new();
    for b in budgets {
        let returnees = paid.get(&b.id).copied().unwrap_or(0);
        let totals = by_source.entry(b.source).or_default();
        totals.balance.allocated += b.balance.allocated;
        totals.balance.committed += b.balance.committed;
        totals.balance.realised += b.balance.realised;
        totals.balance.available += b.balance.available;
        totals.returnees_paid_for += returnees;
        uses.push(BudgetUse {
            budget_id: b.id,
            name: b.name,
            source: b.source,
            document_number: b.document_number,
            activity_code: b.activity_code,
            owner_agency_id: b.owner_agency_id,
            utilisation_percent: percent(b.balance.realised, b.balance.allocated),
            returnees_paid_for: returnees,
            average_cost_per_returnee: per_head(b.balance.realised, returnees),
            balance: b.balance,
        });
    }
    for totals in by_source.values_mut() {
        totals.utilisation_percent = percent(totals.balance.realised, totals.balance.allocated);
        totals.average_cost_per_returnee =
            per_head(totals.balance.realised, totals.returnees_paid_for);
    }
    Ok(HttpResponse::Ok().json(BudgetSummary {
        fiscal_year: query.fiscal_year,
        by_source,
        budgets: uses,
    }))
}

/// A cost to split, without recording anything.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"fiscal_year": 2019, "handling_province": "61", "origin_region": "61.72", "category": "transport", "amount": 1_250_000}))]
pub struct SplitPreviewRequest {
    /// Fiscal year whose budgets and agreements apply.
    #[schema(minimum = 2000, maximum = 2100)]
    pub fiscal_year: i32,
    /// The province handling the return.
    pub handling_province: String,
    /// The returnee's regency of origin.
    pub origin_region: String,
    /// What the cost pays for.
    pub category: CostCategory,
    /// Whole rupiah, 1 to 10^15.
    #[schema(minimum = 1, maximum = 1_000_000_000_000_000_i64)]
    pub amount: i64,
}

/// One budget's part of a previewed cost.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewCharge {
    /// The budget charged; `null` when it is not a budget the caller may read.
    pub budget_id: Option<Uuid>,
    /// The budget's funding source.
    pub source: FundingSource,
    /// Whole rupiah.
    pub amount: i64,
}

/// The outcome of the split rule, as the caller may see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SplitPreview {
    /// The parts, summing exactly to the cost.
    pub charges: Vec<PreviewCharge>,
    /// `apbn` or `apbd_shared`.
    #[schema(example = "apbd_shared")]
    pub funding: &'static str,
    /// The agreement applied, if any and if the caller may read it.
    pub agreement_id: Option<Uuid>,
    /// True when an in-province cost had no approved agreement and the province paid all.
    pub missing_agreement: bool,
}

/// Preview a cost split.
///
/// Runs the split rule on a cost without recording anything: out of the
/// province → all on the APBN budget; inside → the approved agreement's split
/// between the province's and the regency's budgets; inside without an
/// approved agreement → the province pays all (`missing_agreement`). The parts
/// always sum exactly to the amount. Budgets and the agreement the caller may
/// not read are not named (their ids are `null`); the amounts and sources are.
#[utoipa::path(
    tag = "budgets",
    operation_id = "preview_cost_split",
    request_body = SplitPreviewRequest,
    responses(
        (status = 200, description = "The charges per budget", body = SplitPreview),
        (status = 409, description = "No active budget to charge", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/budgets/split-preview")]
pub async fn preview_cost_split(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<SplitPreviewRequest>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ReadBudgets)?;
    let request = body.0;
    let mut errors = Vec::new();
    let province = match RegionCode::parse(&request.handling_province) {
        Ok(p) if catalog::is_province(&p) => Some(p),
        _ => {
            errors.push(crate::error::FieldError::new(
                "handling_province",
                "must be a province code",
            ));
            None
        }
    };
    let origin = match RegionCode::parse(&request.origin_region) {
        Ok(r) if catalog::is_regency(&r) => Some(r),
        _ => {
            errors.push(crate::error::FieldError::new(
                "origin_region",
                "must be a regency code",
            ));
            None
        }
    };
    errors.extend(crate::money::check_amount("amount", request.amount, 1));
    if !(2000..=2100).contains(&request.fiscal_year) {
        errors.push(crate::error::FieldError::new(
            "fiscal_year",
            "must be between 2000 and 2100",
        ));
    }
    let (Some(province), Some(origin), true) = (province, origin, errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let set = payers::load(
        &mut *state.pool.get().await?,
        request.fiscal_year,
        &province,
    )
    .await?;
    let cost = Cost {
        category: request.category,
        amount: request.amount,
        origin,
        handling_province: province,
    };
    let result = split_cost(&cost, &set.payers()).map_err(|e| {
        ApiError::conflict(e.to_string()).with_kind("no-budget", "No budget to charge")
    })?;
    Ok(HttpResponse::Ok().json(in_scope(&state, &caller, result).await?))
}

/// The split as the caller may see it: the ids of budgets and of an agreement
/// outside the caller's budget scope are left out, in the query's `WHERE`.
async fn in_scope(
    state: &AppState,
    caller: &Caller,
    result: SplitResult,
) -> ApiResult<SplitPreview> {
    use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};

    use crate::schema::budgets;
    let scope = caller.budget_scope();
    let ids: Vec<Uuid> = result.charges.iter().map(|c| c.budget_id).collect();
    let mut conn = state.pool.get().await?;
    let sources: HashMap<Uuid, FundingSource> = budgets::table
        .filter(budgets::id.eq_any(&ids))
        .select((budgets::id, budgets::source))
        .load::<(Uuid, FundingSource)>(&mut conn)
        .await?
        .into_iter()
        .collect();
    let visible: Vec<Uuid> = queries::scoped(&scope)
        .filter(budgets::id.eq_any(&ids))
        .load(&mut conn)
        .await?
        .into_iter()
        .map(|b: super::model::BudgetRow| b.id)
        .collect();
    let agreement_id = match result.agreement_id {
        Some(id) => super::agreements::scoped(&scope, caller.agency_id)
            .filter(crate::schema::cost_sharing_agreements::id.eq(id))
            .first::<super::agreements::Agreement>(&mut conn)
            .await
            .optional()?
            .map(|a| a.id),
        None => None,
    };
    let charges = result
        .charges
        .into_iter()
        .map(|c| {
            let source = sources
                .get(&c.budget_id)
                .copied()
                .ok_or_else(|| ApiError::internal_msg("a charged budget has no row"))?;
            Ok(PreviewCharge {
                budget_id: visible.contains(&c.budget_id).then_some(c.budget_id),
                source,
                amount: c.amount,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(SplitPreview {
        charges,
        funding: result.funding,
        agreement_id,
        missing_agreement: result.missing_agreement,
    })
}
