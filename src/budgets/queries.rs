//! Reading budgets within the caller's scope.

use diesel::dsl::sql;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::ledger;
use super::model::{Budget, BudgetRow, BudgetStatus, FundingSource};
use crate::access::BudgetScope;
use crate::schema::budgets;

type Boxed<'a> =
    budgets::BoxedQuery<'a, Pg, diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<BudgetRow, Pg>>>;

/// Budgets the scope lets a caller see.
pub fn scoped<'a>(scope: &BudgetScope) -> Boxed<'a> {
    let q = budgets::table.select(BudgetRow::as_select()).into_boxed();
    match scope.clone() {
        BudgetScope::All => q,
        BudgetScope::National => q.filter(budgets::source.eq(FundingSource::Apbn)),
        BudgetScope::Province(p) => q.filter(budgets::province_code.eq(p)),
        BudgetScope::OwnAgency(a) => q.filter(budgets::owner_agency_id.eq(a)),
        BudgetScope::Nothing => q.filter(sql::<Bool>("false")),
    }
}

/// Filters of the budget list.
#[derive(Debug, Default, Clone)]
pub struct BudgetFilter {
    /// Fiscal year.
    pub fiscal_year: Option<i32>,
    /// Source.
    pub source: Option<FundingSource>,
    /// Owner.
    pub owner_agency_id: Option<Uuid>,
    /// Status.
    pub status: Option<BudgetStatus>,
}

/// Budgets in scope matching the filter, with balances, by year and name.
pub async fn list(
    conn: &mut AsyncPgConnection,
    scope: &BudgetScope,
    f: &BudgetFilter,
) -> QueryResult<Vec<Budget>> {
    let mut q = scoped(scope);
    if let Some(v) = f.fiscal_year {
        q = q.filter(budgets::fiscal_year.eq(v));
    }
    if let Some(v) = f.source {
        q = q.filter(budgets::source.eq(v));
    }
    if let Some(v) = f.owner_agency_id {
        q = q.filter(budgets::owner_agency_id.eq(v));
    }
    if let Some(v) = f.status {
        q = q.filter(budgets::status.eq(v));
    }
    let rows: Vec<BudgetRow> = q
        .order((budgets::fiscal_year.desc(), budgets::name, budgets::id))
        .limit(1000)
        .load(conn)
        .await?;
    with_balances(conn, rows).await
}

/// Attaches the derived balances (one query for all).
pub async fn with_balances(
    conn: &mut AsyncPgConnection,
    rows: Vec<BudgetRow>,
) -> QueryResult<Vec<Budget>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut balances = ledger::balances(conn, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let balance = balances.remove(&r.id).unwrap_or_default();
            Budget::new(r, balance)
        })
        .collect())
}

/// One budget in scope, with its balance.
pub async fn find(
    conn: &mut AsyncPgConnection,
    scope: &BudgetScope,
    id: Uuid,
) -> QueryResult<Option<Budget>> {
    let row: Option<BudgetRow> = scoped(scope)
        .filter(budgets::id.eq(id))
        .first(conn)
        .await
        .optional()?;
    match row {
        Some(row) => Ok(with_balances(conn, vec![row]).await?.pop()),
        None => Ok(None),
    }
}

/// The scope as an SQL condition on a `budgets` row aliased `alias`, for the
/// reports that sum ledgers in SQL; `param` is the placeholder of
/// [`scope_value`]'s text.
pub fn scope_condition(scope: &BudgetScope, alias: &str, param: &str) -> String {
    match scope {
        BudgetScope::All => format!("({param}::text IS NULL)"),
        BudgetScope::National => format!("({alias}.source = 'apbn' AND {param}::text IS NULL)"),
        BudgetScope::Province(_) => format!("{alias}.province_code = {param}"),
        BudgetScope::OwnAgency(_) => format!("{alias}.owner_agency_id = {param}::uuid"),
        BudgetScope::Nothing => format!("({param}::text IS NULL AND false)"),
    }
}

/// The value [`scope_condition`] compares with.
pub fn scope_value(scope: &BudgetScope) -> Option<String> {
    match scope {
        BudgetScope::All | BudgetScope::National | BudgetScope::Nothing => None,
        BudgetScope::Province(p) => Some(p.clone()),
        BudgetScope::OwnAgency(a) => Some(a.to_string()),
    }
}
