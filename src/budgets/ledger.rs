//! The ledger: appending entries under the budget's row lock, so the
//! available amount never goes below zero, whatever runs at the same time.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::booking::Booking;
use super::model::{Balance, BudgetRow, BudgetStatus, LedgerEntry, LedgerKind, Refusal};
use crate::changes::Change;
use crate::error::ApiError;
use crate::schema::{budget_ledger, budgets};

/// An entry to append.
#[derive(Debug, Clone)]
pub struct NewEntry {
    /// What it does.
    pub kind: LedgerKind,
    /// Whole rupiah (signed).
    pub amount: i64,
    /// Why.
    pub reason: String,
    /// The transfer it refers to.
    pub transfer_id: Option<Uuid>,
    /// The cost item it refers to.
    pub cost_item_id: Option<Uuid>,
    /// Returnees covered.
    pub case_count: Option<i32>,
    /// The entry it reverses.
    pub reverses_id: Option<i64>,
    /// Charged without an approved agreement.
    pub missing_agreement: bool,
    /// The agreement applied.
    pub agreement_id: Option<Uuid>,
    /// Date of spending, account code, payee and payment order.
    pub booking: Booking,
}

impl NewEntry {
    /// A plain entry of `kind` for `amount`.
    pub fn new(kind: LedgerKind, amount: i64, reason: impl Into<String>) -> Self {
        Self {
            kind,
            amount,
            reason: reason.into(),
            transfer_id: None,
            cost_item_id: None,
            case_count: None,
            reverses_id: None,
            missing_agreement: false,
            agreement_id: None,
            booking: Booking::default(),
        }
    }
}

/// Locks a budget's row for the rest of the transaction.
pub async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<BudgetRow>> {
    budgets::table
        .find(id)
        .select(BudgetRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// The balances of several budgets, derived from their ledgers in one query.
pub async fn balances(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> QueryResult<HashMap<Uuid, Balance>> {
    // Commitments and releases are netted in `numeric` before the cast: their
    // separate sums grow with every commit/release cycle and could leave bigint,
    // while the net is bounded by the allocation (at most 10^15).
    let rows: Vec<(Uuid, i64, i64, i64)> = budget_ledger::table
        .filter(budget_ledger::budget_id.eq_any(ids))
        .group_by(budget_ledger::budget_id)
        .select((
            budget_ledger::budget_id,
            diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "coalesce(sum(budget_ledger.amount) FILTER (WHERE budget_ledger.kind IN ('allocation', 'revision')), 0)::bigint",
            ),
            diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "coalesce(sum(CASE budget_ledger.kind WHEN 'commitment' THEN budget_ledger.amount::numeric \
                 WHEN 'release' THEN -budget_ledger.amount::numeric END), 0)::bigint",
            ),
            diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "coalesce(sum(budget_ledger.amount) FILTER (WHERE budget_ledger.kind = 'realisation'), 0)::bigint",
            ),
        ))
        .load(conn)
        .await?;
    let mut out: HashMap<Uuid, Balance> = ids.iter().map(|id| (*id, Balance::default())).collect();
    for (id, allocated, committed, realised) in rows {
        let b = out.entry(id).or_default();
        *b = Balance::default()
            .with(LedgerKind::Allocation, allocated)
            .with(LedgerKind::Commitment, committed)
            .with(LedgerKind::Realisation, realised);
    }
    Ok(out)
}

/// The balance of one budget.
pub async fn balance(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Balance> {
    Ok(balances(conn, &[id]).await?.remove(&id).unwrap_or_default())
}

/// A refusal ([`refused`]) as a caller may see it: when the refusing budget is
/// outside the caller's budget scope (a province's planner charging the
/// ministry's APBN budget), its name, id and balance are left out, and the
/// answer says only which kind of budget cannot pay.
pub async fn as_seen_by(
    conn: &mut AsyncPgConnection,
    scope: &crate::access::BudgetScope,
    error: ApiError,
) -> ApiError {
    let Some(id) = error
        .extension(crate::error::ProblemMember::BudgetId)
        .and_then(|v| v.as_str())
        .and_then(|v| v.parse::<Uuid>().ok())
    else {
        return error;
    };
    let readable = match super::queries::find(conn, scope, id).await {
        Ok(found) => found.is_some(),
        Err(e) => return e.into(),
    };
    if readable {
        return error;
    }
    let source: Option<super::model::FundingSource> = budgets::table
        .find(id)
        .select(budgets::source)
        .first(conn)
        .await
        .optional()
        .ok()
        .flatten();
    let (kind, title) = match error.kind() {
        Some("insufficient-funds") => ("insufficient-funds", "Insufficient funds"),
        Some("budget-not-open") => ("budget-not-open", "Budget not open for this entry"),
        _ => ("conflict", "Conflict"),
    };
    let what = source.map_or_else(|| "a budget".to_owned(), |s| format!("the {s} budget"));
    ApiError::conflict(format!(
        "{what} that pays for this cannot cover it; its owner can tell you more"
    ))
    .with_kind(kind, title)
}

/// The 409 for a refused entry, with the numbers a client needs.
pub fn refused(budget: &BudgetRow, refusal: Refusal) -> ApiError {
    let error = ApiError::conflict(format!(
        "budget {} ({}): {refusal}",
        budget.name, budget.document_number
    ))
    .with_extension(
        crate::error::ProblemMember::BudgetId,
        serde_json::json!(budget.id),
    );
    match refusal {
        Refusal::Shortfall {
            available,
            shortfall,
        } => error
            .with_kind("insufficient-funds", "Insufficient funds")
            .with_extension(
                crate::error::ProblemMember::Available,
                serde_json::json!(available),
            )
            .with_extension(
                crate::error::ProblemMember::Shortfall,
                serde_json::json!(shortfall),
            ),
        Refusal::OverRelease { committed } => error
            .with_kind("over-release", "Release exceeds commitment")
            .with_extension(
                crate::error::ProblemMember::Committed,
                serde_json::json!(committed),
            ),
        Refusal::NegativeAllocation => {
            error.with_kind("negative-allocation", "Allocation below zero")
        }
        Refusal::AllocationTooLarge => {
            error.with_kind("allocation-too-large", "Allocation above 10^15 rupiah")
        }
    }
}

/// Appends an entry to a budget whose row the caller has locked with [`lock`].
pub async fn append(
    conn: &mut AsyncPgConnection,
    change: &mut Change<'_>,
    budget: &BudgetRow,
    entry: NewEntry,
) -> Result<LedgerEntry, ApiError> {
    let allowed = match budget.status {
        BudgetStatus::Closed => false,
        BudgetStatus::Draft => matches!(entry.kind, LedgerKind::Allocation | LedgerKind::Revision),
        BudgetStatus::Active => true,
    };
    if !allowed {
        return Err(ApiError::conflict(format!(
            "budget {} is {}: it takes no {} entries",
            budget.name, budget.status, entry.kind
        ))
        .with_kind("budget-not-open", "Budget not open for this entry"));
    }
    let current = balance(conn, budget.id).await?;
    current
        .after(entry.kind, entry.amount)
        .map_err(|r| refused(budget, r))?;
    let actor = change.actor();
    let row = diesel::insert_into(budget_ledger::table)
        .values((
            budget_ledger::budget_id.eq(budget.id),
            budget_ledger::kind.eq(entry.kind),
            budget_ledger::amount.eq(entry.amount),
            budget_ledger::reason.eq(&entry.reason),
            budget_ledger::transfer_id.eq(entry.transfer_id),
            budget_ledger::cost_item_id.eq(entry.cost_item_id),
            budget_ledger::case_count.eq(entry.case_count),
            budget_ledger::reverses_id.eq(entry.reverses_id),
            budget_ledger::missing_agreement.eq(entry.missing_agreement),
            budget_ledger::agreement_id.eq(entry.agreement_id),
            budget_ledger::actor_id.eq(actor.id),
            budget_ledger::actor_name.eq(&actor.name),
            budget_ledger::agency_id.eq(actor.agency_id),
            budget_ledger::spent_on.eq(entry.booking.spent_on),
            budget_ledger::account_code.eq(entry.booking.account_code.as_deref()),
            budget_ledger::payee.eq(entry.booking.payee.as_deref()),
            budget_ledger::sp2d_number.eq(entry.booking.sp2d_number.as_deref()),
            budget_ledger::sp2d_date.eq(entry.booking.sp2d_date),
        ))
        .returning(LedgerEntry::as_returning())
        .get_result(conn)
        .await?;
    change.touch_budget(budget.id, "ledger_entry");
    Ok(row)
}
