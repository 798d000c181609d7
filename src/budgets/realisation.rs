//! `GET /api/v1/budgets/{id}/realisation`: a budget's balance as of a date,
//! and its realisation by month, by quarter and by account code, headed by
//! its DIPA/DPA number and activity code — the report a finance officer
//! files (laporan realisasi anggaran).
//!
//! Each entry counts on its *booked date*: the date of spending when it has
//! one, else the day it was recorded (UTC); the allocation counts from
//! 1 January of the budget's fiscal year. A reversal carries the date of the
//! entry it reverses, so a cancelled cost leaves its month as it was before.

use actix_web::{HttpResponse, get, web};
use chrono::NaiveDate;
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Date, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::handlers::not_found;
use super::model::{Balance, FundingSource, LedgerKind};
use super::queries;
use crate::access::Operation;
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::http::extract::Query;
use crate::state::AppState;

/// The booked date of a `budget_ledger` row, as SQL.
pub const BOOKED_ON: &str = "CASE WHEN budget_ledger.kind = 'allocation' \
    THEN (SELECT make_date(b.fiscal_year, 1, 1) FROM budgets b WHERE b.id = budget_ledger.budget_id) \
    ELSE coalesce(budget_ledger.spent_on, (budget_ledger.recorded_at AT TIME ZONE 'UTC')::date) END";

/// Parameters of the realisation report.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RealisationQuery {
    /// Count only entries booked on or before this date (ISO 8601); all when absent.
    #[param(example = "2019-06-30")]
    pub as_of: Option<NaiveDate>,
}

/// Realised in one period or on one account.
#[derive(Debug, Serialize, ToSchema)]
pub struct Realised {
    /// `2019-03` (month), `2019-Q1` (quarter), or the account code (`unspecified` without one).
    pub key: String,
    /// Whole rupiah realised.
    pub realised: i64,
}

/// The realisation report of one budget.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "budget_id": "1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9", "name": "DPA Dinsos Kalbar 2019: pemulangan ke daerah asal",
    "source": "apbd_province", "fiscal_year": 2019, "document_number": "DPA-1.06.01-2019", "activity_code": "1.06.01.2.04",
    "as_of": "2019-06-30",
    "balance": {"allocated": 2_000_000_000_i64, "committed": 0, "realised": 87_250_000, "available": 1_912_750_000_i64},
    "by_month": [{"key": "2019-03", "realised": 40_150_000}, {"key": "2019-06", "realised": 47_100_000}],
    "by_quarter": [{"key": "2019-Q1", "realised": 40_150_000}, {"key": "2019-Q2", "realised": 47_100_000}],
    "by_account_code": [{"key": "5.1.02.04.01.0001", "realised": 87_250_000}]
}))]
pub struct RealisationReport {
    /// The budget.
    pub budget_id: Uuid,
    /// Its name.
    pub name: String,
    /// Its funding source.
    pub source: FundingSource,
    /// Its fiscal year.
    pub fiscal_year: i32,
    /// The DIPA (APBN) or DPA (APBD) number.
    pub document_number: String,
    /// The activity (kegiatan) code.
    pub activity_code: Option<String>,
    /// The date the report runs to; absent for everything.
    pub as_of: Option<NaiveDate>,
    /// The balance as of that date.
    pub balance: Balance,
    /// Realisation by month of the booked date.
    pub by_month: Vec<Realised>,
    /// Realisation by quarter.
    pub by_quarter: Vec<Realised>,
    /// Realisation by account code (kode rekening / akun).
    pub by_account_code: Vec<Realised>,
}

#[derive(QueryableByName)]
struct KindSum {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = BigInt)]
    amount: i64,
}

#[derive(QueryableByName)]
struct KeySum {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = BigInt)]
    amount: i64,
}

fn grouped(key: &str) -> String {
    format!(
        "SELECT {key} AS key, sum(amount)::bigint AS amount FROM budget_ledger \
         WHERE budget_id = $1 AND kind = 'realisation' AND ($2::date IS NULL OR {BOOKED_ON} <= $2) \
         GROUP BY 1 HAVING sum(amount) <> 0 ORDER BY 1"
    )
}

/// Realisation report of a budget.
///
/// The budget's balance as of a date and its realisation by month, quarter
/// and account code, with its DIPA/DPA number and activity code. An entry
/// counts on its date of spending (else the day it was recorded); the
/// allocation from 1 January of the fiscal year. For whoever may see the
/// budget.
#[utoipa::path(
    tag = "budgets",
    operation_id = "get_budget_realisation",
    params(("id" = Uuid, Path, description = "The budget's id"), RealisationQuery),
    responses((status = 200, description = "The realisation report", body = RealisationReport))
)]
#[get("/budgets/{id}/realisation")]
pub async fn get_budget_realisation(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: Query<RealisationQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ReadBudgets)?;
    let as_of = query.as_of;
    let limits = state.settings.db_limits;
    let mut conn = state.pool.get().await?;
    let budget = queries::find(&mut conn, &caller.budget_scope(), *id)
        .await?
        .ok_or_else(not_found)?;
    let (kinds, months, quarters, accounts) = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            crate::db::use_report_timeout(conn, &limits).await?;
            let run = async |conn: &mut diesel_async::AsyncPgConnection, sql: String| {
                diesel::sql_query(sql)
                    .bind::<SqlUuid, _>(budget.id)
                    .bind::<Nullable<Date>, _>(as_of)
                    .load::<KeySum>(conn)
                    .await
            };
            let kinds: Vec<KindSum> = diesel::sql_query(format!(
                "SELECT kind, sum(amount)::bigint AS amount FROM budget_ledger \
                 WHERE budget_id = $1 AND ($2::date IS NULL OR {BOOKED_ON} <= $2) GROUP BY kind"
            ))
            .bind::<SqlUuid, _>(budget.id)
            .bind::<Nullable<Date>, _>(as_of)
            .load(conn)
            .await?;
            let months = run(conn, grouped(&format!("to_char({BOOKED_ON}, 'YYYY-MM')"))).await?;
            let quarters = run(
                conn,
                grouped(&format!("to_char({BOOKED_ON}, 'YYYY-\"Q\"Q')")),
            )
            .await?;
            let accounts = run(conn, grouped("coalesce(account_code, 'unspecified')")).await?;
            Ok((kinds, months, quarters, accounts))
        })
        .await?;
    let mut balance = Balance::default();
    for k in kinds {
        if let Some(kind) = LedgerKind::parse(&k.kind) {
            balance = balance.with(kind, k.amount);
        }
    }
    let list = |rows: Vec<KeySum>| {
        rows.into_iter()
            .map(|r| Realised {
                key: r.key,
                realised: r.amount,
            })
            .collect()
    };
    Ok(HttpResponse::Ok().json(RealisationReport {
        budget_id: budget.id,
        name: budget.name,
        source: budget.source,
        fiscal_year: budget.fiscal_year,
        document_number: budget.document_number,
        activity_code: budget.activity_code,
        as_of,
        balance,
        by_month: list(months),
        by_quarter: list(quarters),
        by_account_code: list(accounts),
    }))
}
