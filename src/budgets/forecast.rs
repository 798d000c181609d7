//! `GET /api/v1/budgets/forecast`: what is left of each budget once what is
//! committed, proposed and still waiting is paid.
//!
//! - **committed**: the estimates of planned and running transfers (already
//!   out of `available`);
//! - **proposed**: cost items a case worker proposed and no finance officer
//!   has confirmed yet, split as the rule will split them;
//! - **waiting**: returnees not yet in a transfer (registered, sheltered,
//!   assessed, ready for transfer) whose return this budget pays for — all
//!   out-of-province returns for the APBN, the province's in-province returns
//!   for its APBD, a regency's own for its APBD — priced at what this budget
//!   has paid per returnee so far (absent without a history).

use std::collections::HashMap;

use actix_web::{HttpResponse, get, web};
use diesel::QueryableByName;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::model::{Balance, FundingSource};
use super::queries::{self, BudgetFilter};
use crate::access::Operation;
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::http::extract::Query;
use crate::schema::{agencies, transfer_cost_items, transfers};
use crate::state::AppState;
use crate::stats::figures::per_head;
use crate::transfers::model::TransferRow;

/// Parameters of the forecast.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ForecastQuery {
    /// Fiscal year.
    #[param(example = 2019)]
    pub fiscal_year: i32,
}

/// One budget's forecast.
#[derive(Debug, Serialize, ToSchema)]
pub struct BudgetForecast {
    /// The budget.
    pub budget_id: Uuid,
    /// Its name.
    pub name: String,
    /// Funding source.
    pub source: FundingSource,
    /// DIPA/DPA number.
    pub document_number: String,
    /// Activity code.
    pub activity_code: Option<String>,
    /// The balance now (committed = planned transfers' estimates).
    pub balance: Balance,
    /// Its share of proposed, unconfirmed costs.
    pub proposed: i64,
    /// Returnees waiting for a transfer whose return it pays for.
    pub waiting_returnees: i64,
    /// What it has paid per returnee so far.
    pub cost_per_returnee: Option<i64>,
    /// waiting × cost per returnee; absent without a history.
    pub waiting_cost: Option<i64>,
    /// available − proposed − waiting cost: what is left if all of it is paid.
    pub left_after: i64,
}

#[derive(QueryableByName)]
struct Waiting {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Paid {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    budget_id: Uuid,
    #[diesel(sql_type = BigInt)]
    returnees: i64,
}

/// Forecast the budgets.
///
/// For each budget of the year in the caller's scope: the balance, its share
/// of proposed costs, the returnees still waiting whose return it pays for,
/// what they will cost at the budget's own cost per returnee so far, and
/// what is left after all of it.
#[utoipa::path(
    tag = "budgets",
    operation_id = "forecast_budgets",
    params(ForecastQuery),
    responses((status = 200, description = "One forecast per budget", body = Vec<BudgetForecast>))
)]
#[get("/budgets/forecast")]
pub async fn forecast_budgets(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<ForecastQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ReadBudgets)?;
    let filter = BudgetFilter {
        fiscal_year: Some(query.fiscal_year),
        ..BudgetFilter::default()
    };
    let mut conn = state.pool.get().await?;
    let budgets = queries::list(&mut conn, &caller.budget_scope(), &filter).await?;
    let ids: Vec<Uuid> = budgets.iter().map(|b| b.id).collect();

    // Proposed costs, split as the rule will split them.
    let proposals: Vec<(TransferRow, crate::budgets::split::CostCategory, i64)> =
        transfer_cost_items::table
            .inner_join(transfers::table)
            .filter(transfers::fiscal_year.eq(query.fiscal_year))
            .filter(transfer_cost_items::confirmed_at.is_null())
            .filter(transfer_cost_items::cancelled_at.is_null())
            .select((
                TransferRow::as_select(),
                transfer_cost_items::category,
                transfer_cost_items::amount,
            ))
            .load(&mut conn)
            .await?;
    let mut proposed: HashMap<Uuid, i64> = HashMap::new();
    for (transfer, category, amount) in &proposals {
        // A proposal no budget could pay is refused when proposed; if the
        // budgets changed since, it counts nowhere.
        if let Ok(charges) =
            crate::transfers::costs::charges(&mut conn, transfer, *category, *amount).await
        {
            for (budget, share) in charges {
                *proposed.entry(budget).or_default() += share;
            }
        }
    }

    // Waiting returnees: by funding scope and handling province, and by origin regency.
    let waiting: Vec<Waiting> = diesel::sql_query(
        "SELECT key, count(*)::bigint AS n FROM ( \
           SELECT CASE WHEN funding_scope = 'apbn' THEN 'apbn' ELSE 'province:' || handling_province END AS key \
           FROM cases WHERE status IN ('registered', 'sheltered', 'assessed', 'ready_for_transfer') AND NOT IN_TRANSFER \
           UNION ALL \
           SELECT 'regency:' || origin_region FROM cases \
           WHERE funding_scope = 'apbd_shared' AND status IN ('registered', 'sheltered', 'assessed', 'ready_for_transfer') \
             AND NOT IN_TRANSFER \
         ) w GROUP BY key"
        .replace(
            "IN_TRANSFER",
            // A member of a planned transfer is paid for by its commitment already.
            "EXISTS (SELECT 1 FROM transfer_cases tc WHERE tc.case_id = cases.id AND tc.active)",
        ),
    )
    .load(&mut conn)
    .await?;
    let waiting: HashMap<String, i64> = waiting.into_iter().map(|w| (w.key, w.n)).collect();
    let regions: HashMap<Uuid, Option<String>> = agencies::table
        .filter(agencies::id.eq_any(budgets.iter().map(|b| b.owner_agency_id)))
        .select((agencies::id, agencies::region_code))
        .load::<(Uuid, Option<String>)>(&mut conn)
        .await?
        .into_iter()
        .collect();
    let paid: HashMap<Uuid, i64> = diesel::sql_query(
        "SELECT budget_id, coalesce(sum(cases), 0)::bigint AS returnees FROM ( \
           SELECT budget_id, transfer_id, max(case_count) AS cases, sum(amount) AS net FROM budget_ledger \
           WHERE kind = 'realisation' AND transfer_id IS NOT NULL AND budget_id = ANY($1) \
           GROUP BY budget_id, transfer_id) t WHERE net > 0 GROUP BY budget_id",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(&ids)
    .load::<Paid>(&mut conn)
    .await?
    .into_iter()
    .map(|p| (p.budget_id, p.returnees))
    .collect();

    let out: Vec<BudgetForecast> = budgets
        .into_iter()
        .map(|b| {
            let key = match b.source {
                FundingSource::Apbn => Some("apbn".to_owned()),
                FundingSource::ApbdProvince => {
                    b.province_code.as_ref().map(|p| format!("province:{p}"))
                }
                FundingSource::ApbdRegency => regions
                    .get(&b.owner_agency_id)
                    .cloned()
                    .flatten()
                    .map(|r| format!("regency:{r}")),
            };
            let waiting_returnees = key.and_then(|k| waiting.get(&k).copied()).unwrap_or(0);
            let cost_per_returnee =
                per_head(b.balance.realised, paid.get(&b.id).copied().unwrap_or(0));
            let waiting_cost = cost_per_returnee.map(|c| c * waiting_returnees);
            let proposed = proposed.get(&b.id).copied().unwrap_or(0);
            BudgetForecast {
                budget_id: b.id,
                left_after: b.balance.available - proposed - waiting_cost.unwrap_or(0),
                name: b.name,
                source: b.source,
                document_number: b.document_number,
                activity_code: b.activity_code,
                balance: b.balance,
                proposed,
                waiting_returnees,
                cost_per_returnee,
                waiting_cost,
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}
