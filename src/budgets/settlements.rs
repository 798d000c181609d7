//! What a regency owes the province under a cost-sharing agreement, and what
//! it has settled.
//!
//! When an in-province cost is confirmed, the regency's share is realised on
//! the regency's own budget: that is what it owes. It pays the province
//! (transfer to the province's treasury) and its finance officer records a
//! `settlement` entry on the regency's budget naming the agreement, through
//! `POST /api/v1/budgets/{id}/ledger` like any entry. A settlement does not
//! change the balance (the share was realised already); it cannot take the
//! settled total above what is owed. A wrong settlement is reversed like any
//! manual entry.

use actix_web::{HttpResponse, get, web};
use diesel::QueryableByName;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::agreements::{Agreement, AgreementStatus, scoped};
use super::model::{BudgetRow, LedgerEntry, LedgerKind};
use crate::access::Operation;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::schema::{budget_ledger, budgets, cost_sharing_agreements as csa};
use crate::state::AppState;

#[derive(QueryableByName)]
struct Sums {
    #[diesel(sql_type = BigInt)]
    province_paid: i64,
    #[diesel(sql_type = BigInt)]
    owed: i64,
    #[diesel(sql_type = BigInt)]
    settled: i64,
}

/// (province paid, regency owes, regency settled) under `agreement`.
pub async fn sums(
    conn: &mut AsyncPgConnection,
    agreement: &Agreement,
) -> QueryResult<(i64, i64, i64)> {
    let s: Sums = diesel::sql_query(
        "SELECT \
           coalesce(sum(amount) FILTER (WHERE kind = 'realisation' AND budget_id = $2), 0)::bigint AS province_paid, \
           coalesce(sum(amount) FILTER (WHERE kind = 'realisation' AND budget_id = $3), 0)::bigint AS owed, \
           coalesce(sum(amount) FILTER (WHERE kind = 'settlement' AND budget_id = $3), 0)::bigint AS settled \
         FROM budget_ledger WHERE agreement_id = $1",
    )
    .bind::<SqlUuid, _>(agreement.id)
    .bind::<SqlUuid, _>(agreement.province_budget_id)
    .bind::<SqlUuid, _>(agreement.regency_budget_id)
    .get_result(conn)
    .await?;
    Ok((s.province_paid, s.owed, s.settled))
}

/// Checks a settlement of `amount` on `budget` (locked by the caller) under
/// `agreement_id`: an approved agreement whose regency budget this is, and
/// no more than is still owed.
pub async fn check(
    conn: &mut AsyncPgConnection,
    budget: &BudgetRow,
    agreement_id: Option<Uuid>,
    amount: i64,
) -> ApiResult<Uuid> {
    let id = agreement_id.ok_or_else(|| {
        ApiError::invalid_field("agreement_id", "a settlement names its agreement")
    })?;
    let agreement: Agreement = csa::table
        .find(id)
        .select(Agreement::as_select())
        .first(conn)
        .await
        .optional()?
        .filter(|a| a.regency_budget_id == budget.id && a.status == AgreementStatus::Approved)
        .ok_or_else(|| {
            ApiError::invalid_field(
                "agreement_id",
                "must be an approved agreement whose regency budget this is",
            )
        })?;
    let (_, owed, settled) = sums(conn, &agreement).await?;
    if settled + amount > owed {
        return Err(ApiError::conflict(format!(
            "the regency owes {} under this agreement; this settlement would pay {} more",
            owed - settled,
            settled + amount - owed
        ))
        .with_kind("over-settlement", "Settlement exceeds what is owed")
        .with_extension(
            crate::error::ProblemMember::Outstanding,
            serde_json::json!(owed - settled),
        ));
    }
    Ok(id)
}

/// What a regency owes the province under one agreement.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "agreement_id": "3d4e5f60-7182-4930-a4b5-c6d7e8f90123", "fiscal_year": 2019, "regency_code": "61.72",
    "province_document_number": "DPA-1.06.01-2019", "regency_document_number": "DPA-DINSOS-6172-2019",
    "province_paid": 21_000_000, "regency_owes": 14_000_000, "settled": 10_000_000, "outstanding": 4_000_000,
    "settlements": []
}))]
pub struct AgreementStatement {
    /// The agreement.
    pub agreement_id: Uuid,
    /// Its fiscal year.
    pub fiscal_year: i32,
    /// The regency.
    pub regency_code: String,
    /// The province's DPA number.
    pub province_document_number: String,
    /// The regency's DPA number.
    pub regency_document_number: String,
    /// The province's share of the costs, whole rupiah.
    pub province_paid: i64,
    /// The regency's share (realised on its budget): what it owes the province.
    pub regency_owes: i64,
    /// Settled so far.
    pub settled: i64,
    /// Still owed.
    pub outstanding: i64,
    /// The settlement entries (and their reversals), oldest first.
    pub settlements: Vec<LedgerEntry>,
}

/// Statement of a cost-sharing agreement.
///
/// What the regency owes the province under the agreement (its share of the
/// confirmed costs, realised on its budget), what it has settled (the
/// `settlement` entries on its budget) and what is still outstanding, with
/// both DPA numbers. For both parties, and for the province's secretariat.
#[utoipa::path(
    tag = "budgets",
    operation_id = "get_agreement_statement",
    params(("id" = Uuid, Path, description = "The agreement's id")),
    responses((status = 200, description = "The statement", body = AgreementStatement))
)]
#[get("/cost-sharing-agreements/{id}/statement")]
pub async fn get_agreement_statement(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ReadBudgets)?;
    let mut conn = state.pool.get().await?;
    let agreement: Agreement = scoped(&caller.budget_scope(), caller.agency_id)
        .filter(csa::id.eq(*id))
        .first(&mut conn)
        .await
        .optional()?
        .ok_or_else(|| {
            ApiError::not_found("there is no such agreement, or it is not yours to see")
        })?;
    let (province_paid, owed, settled) = sums(&mut conn, &agreement).await?;
    let number = async |conn: &mut AsyncPgConnection, budget: Uuid| -> QueryResult<String> {
        budgets::table
            .find(budget)
            .select(budgets::document_number)
            .first(conn)
            .await
    };
    let province_document_number = number(&mut conn, agreement.province_budget_id).await?;
    let regency_document_number = number(&mut conn, agreement.regency_budget_id).await?;
    let settlements: Vec<LedgerEntry> = budget_ledger::table
        .filter(budget_ledger::agreement_id.eq(agreement.id))
        .filter(budget_ledger::kind.eq(LedgerKind::Settlement))
        .order(budget_ledger::id)
        .select(LedgerEntry::as_select())
        .load(&mut conn)
        .await?;
    Ok(HttpResponse::Ok().json(AgreementStatement {
        agreement_id: agreement.id,
        fiscal_year: agreement.fiscal_year,
        regency_code: agreement.regency_code,
        province_document_number,
        regency_document_number,
        province_paid,
        regency_owes: owed,
        settled,
        outstanding: owed - settled,
        settlements,
    }))
}
