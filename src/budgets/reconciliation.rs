//! `GET /api/v1/budgets/reconciliation`: the checks an auditor runs, for the
//! caller's budget scope, answered as the differences found. On a consistent
//! database the list is empty.
//!
//! 1. `cost_item_realised`: every confirmed cost item is realised exactly
//!    once in total (its amount; zero while only proposed, and once
//!    cancelled), summed over every paying budget.
//! 2. `cost_item_split`: each paying budget carries the share the split rule
//!    gives: APBN pays all of an out-of-province return; an approved
//!    agreement splits an in-province cost with largest-remainder rounding;
//!    without one the province pays all. A cancelled item leaves nothing on
//!    any budget.
//! 3. `realisation_without_cost_item`: no realisation names a transfer
//!    without naming one of its cost items.
//! 4. `closed_transfer_committed`: no handed-over or cancelled transfer still
//!    holds a commitment.
//! 5. `balance`: no budget's available amount or commitment is below zero.
//! 6. `report_by_source` and `report_by_transfer`: the money report
//!    (`GET /api/v1/stats/costs`) equals the ledgers, per funding source, and
//!    its destinations plus its not-handed-over transfers add up to the same.
//!
//! 7. `settlement_exceeds_share`: no regency has settled more under an
//!    agreement than its share of the confirmed costs (a cancellation after
//!    a settlement shows here, for the province to refund or net).
//!
//! Everything is read in one repeatable-read snapshot, so that a write
//! arriving meanwhile cannot show up as a difference.

use std::collections::{BTreeMap, HashMap};

use actix_web::{HttpResponse, get, web};
use diesel::QueryableByName;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Int4, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::payers::split_of;
use super::queries::{BudgetFilter, scope_condition, scope_value};
use super::split::{CostCategory, WHOLE, largest_remainder};
use crate::access::{BudgetScope, Operation};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::http::extract::Query;
use crate::schema::cost_sharing_agreements;
use crate::state::AppState;

/// An agreement's split and budgets: all-costs share, per-category shares,
/// province budget, regency budget.
type AgreementSplit = (Option<i32>, Option<serde_json::Value>, Uuid, Uuid);

/// Parameters of the reconciliation.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReconciliationQuery {
    /// Fiscal year.
    #[param(example = 2019)]
    pub fiscal_year: i32,
}

/// One difference between what should be and what the ledgers hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Difference {
    /// The check that found it (see the list in `checks`).
    #[schema(example = "cost_item_split")]
    pub check: String,
    /// The transfer concerned.
    pub transfer_id: Option<Uuid>,
    /// Its reference.
    pub transfer: Option<String>,
    /// The cost item concerned.
    pub cost_item_id: Option<Uuid>,
    /// The budget concerned.
    pub budget_id: Option<Uuid>,
    /// The funding source concerned.
    pub source: Option<String>,
    /// What it should be, whole rupiah.
    pub expected: i64,
    /// What it is.
    pub actual: i64,
    /// In words.
    pub detail: String,
}

/// The answer: empty `differences` means the money reconciles.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"fiscal_year": 2019, "checks": CHECKS, "differences": []}))]
pub struct Reconciliation {
    /// The fiscal year.
    pub fiscal_year: i32,
    /// The checks run.
    pub checks: Vec<&'static str>,
    /// What does not reconcile; empty when everything does.
    pub differences: Vec<Difference>,
}

/// The checks, in the order they run.
pub const CHECKS: [&str; 8] = [
    "cost_item_realised",
    "cost_item_split",
    "realisation_without_cost_item",
    "closed_transfer_committed",
    "balance",
    "report_by_source",
    "report_by_transfer",
    "settlement_exceeds_share",
];

#[derive(QueryableByName)]
struct ItemShare {
    #[diesel(sql_type = SqlUuid)]
    item_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    transfer_id: Uuid,
    #[diesel(sql_type = Text)]
    reference: String,
    #[diesel(sql_type = Text)]
    destination_region: String,
    #[diesel(sql_type = Text)]
    handling_province: String,
    #[diesel(sql_type = Text)]
    category: String,
    #[diesel(sql_type = BigInt)]
    amount: i64,
    #[diesel(sql_type = Bool)]
    inactive: bool,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    budget_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    source: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    agreement_id: Option<Uuid>,
    #[diesel(sql_type = BigInt)]
    realised: i64,
}

#[derive(QueryableByName)]
struct TransferBudgetSum {
    #[diesel(sql_type = SqlUuid)]
    transfer_id: Uuid,
    #[diesel(sql_type = Text)]
    reference: String,
    #[diesel(sql_type = SqlUuid)]
    budget_id: Uuid,
    #[diesel(sql_type = BigInt)]
    amount: i64,
}

#[derive(QueryableByName)]
struct SourceSum {
    #[diesel(sql_type = Text)]
    source: String,
    #[diesel(sql_type = BigInt)]
    amount: i64,
}

/// Cost items of the year's transfers that touch a budget in scope, with
/// what each budget realised for them (one row per item and budget).
const ITEM_SHARES: &str = "\
WITH seen AS (
  SELECT DISTINCT l.transfer_id FROM budget_ledger l JOIN budgets b ON b.id = l.budget_id
  WHERE l.transfer_id IS NOT NULL AND BUDGETS)
SELECT ci.id AS item_id, t.id AS transfer_id, t.reference, t.destination_region, t.handling_province,
       ci.category, ci.amount, (ci.cancelled_at IS NOT NULL OR ci.confirmed_at IS NULL) AS inactive,
       l.budget_id, b.source, max(l.agreement_id::text)::uuid AS agreement_id,
       coalesce(sum(l.amount), 0)::bigint AS realised
FROM transfer_cost_items ci
JOIN transfers t ON t.id = ci.transfer_id
LEFT JOIN budget_ledger l ON l.cost_item_id = ci.id AND l.kind = 'realisation'
LEFT JOIN budgets b ON b.id = l.budget_id
WHERE t.fiscal_year = $1 AND ($3 OR t.id IN (SELECT transfer_id FROM seen))
GROUP BY ci.id, t.id, l.budget_id, b.source
ORDER BY t.reference, ci.recorded_at, ci.id, l.budget_id";

const WITHOUT_ITEM: &str = "\
SELECT l.transfer_id, t.reference, l.budget_id, sum(l.amount)::bigint AS amount
FROM budget_ledger l
JOIN budgets b ON b.id = l.budget_id
JOIN transfers t ON t.id = l.transfer_id
LEFT JOIN transfer_cost_items ci ON ci.id = l.cost_item_id AND ci.transfer_id = l.transfer_id
WHERE l.kind = 'realisation' AND ci.id IS NULL AND t.fiscal_year = $1 AND BUDGETS AND $3 IS NOT NULL
GROUP BY l.transfer_id, t.reference, l.budget_id
HAVING sum(l.amount) <> 0
ORDER BY t.reference, l.budget_id";

const CLOSED_COMMITTED: &str = "\
SELECT t.id AS transfer_id, t.reference, l.budget_id,
       sum(CASE WHEN l.kind = 'commitment' THEN l.amount ELSE -l.amount END)::bigint AS amount
FROM budget_ledger l
JOIN budgets b ON b.id = l.budget_id
JOIN transfers t ON t.id = l.transfer_id
WHERE l.kind IN ('commitment', 'release') AND t.status IN ('handed_over', 'cancelled')
  AND t.fiscal_year = $1 AND BUDGETS AND $3 IS NOT NULL
GROUP BY t.id, t.reference, l.budget_id
HAVING sum(CASE WHEN l.kind = 'commitment' THEN l.amount ELSE -l.amount END) <> 0
ORDER BY t.reference, l.budget_id";

#[derive(QueryableByName)]
struct Settled {
    #[diesel(sql_type = SqlUuid)]
    agreement_id: Uuid,
    #[diesel(sql_type = Text)]
    regency_code: String,
    #[diesel(sql_type = SqlUuid)]
    budget_id: Uuid,
    #[diesel(sql_type = BigInt)]
    owed: i64,
    #[diesel(sql_type = BigInt)]
    settled: i64,
}

const OVER_SETTLED: &str = "\
SELECT a.id AS agreement_id, a.regency_code, a.regency_budget_id AS budget_id,
       coalesce(sum(l.amount) FILTER (WHERE l.kind = 'realisation'), 0)::bigint AS owed,
       coalesce(sum(l.amount) FILTER (WHERE l.kind = 'settlement'), 0)::bigint AS settled
FROM cost_sharing_agreements a
JOIN budget_ledger l ON l.agreement_id = a.id AND l.budget_id = a.regency_budget_id
JOIN budgets b ON b.id = l.budget_id
WHERE a.fiscal_year = $1 AND BUDGETS AND $3 IS NOT NULL
GROUP BY a.id, a.regency_code, a.regency_budget_id
HAVING coalesce(sum(l.amount) FILTER (WHERE l.kind = 'settlement'), 0)
     > coalesce(sum(l.amount) FILTER (WHERE l.kind = 'realisation'), 0)
ORDER BY a.regency_code";

const LEDGER_BY_SOURCE: &str = "\
SELECT b.source, sum(l.amount)::bigint AS amount
FROM budget_ledger l
JOIN budgets b ON b.id = l.budget_id
JOIN transfers t ON t.id = l.transfer_id
WHERE l.kind = 'realisation' AND t.fiscal_year = $1 AND BUDGETS AND REPORT AND $3 IS NOT NULL
GROUP BY b.source
ORDER BY b.source";

async fn rows<T: QueryableByName<diesel::pg::Pg> + Send + 'static>(
    conn: &mut AsyncPgConnection,
    sql: &str,
    year: i32,
    scope: &BudgetScope,
) -> QueryResult<Vec<T>> {
    diesel::sql_query(sql.replace("BUDGETS", &scope_condition(scope, "b", "$2")))
        .bind::<Int4, _>(year)
        .bind::<Nullable<Text>, _>(scope_value(scope))
        .bind::<Bool, _>(matches!(scope, BudgetScope::All))
        .load(conn)
        .await
}

fn difference(check: &str, detail: String, expected: i64, actual: i64) -> Difference {
    Difference {
        check: check.to_owned(),
        transfer_id: None,
        transfer: None,
        cost_item_id: None,
        budget_id: None,
        source: None,
        expected,
        actual,
        detail,
    }
}

/// What each budget should carry of one cost item, by the split rule, given
/// the agreement its realisations name. `None` for a budget means "whatever
/// budget of this source": the national or provincial budget the rule chose.
fn expected_shares(
    item: &ItemShare,
    agreements: &HashMap<Uuid, AgreementSplit>,
) -> Result<Vec<(Uuid, i64)>, &'static str> {
    let out_of_province = !item
        .destination_region
        .replace('.', "")
        .starts_with(&item.handling_province.replace('.', ""));
    if out_of_province {
        return Err("apbn");
    }
    match item.agreement_id.and_then(|id| agreements.get(&id)) {
        Some((all, per, province_budget, regency_budget)) => {
            let split = split_of(*all, per.as_ref());
            let category = CostCategory::parse(&item.category).unwrap_or(CostCategory::Other);
            let province_bp = split.province_share(category).min(WHOLE);
            let parts = largest_remainder(item.amount, &[province_bp, WHOLE - province_bp]);
            Ok(vec![
                (*province_budget, parts[0]),
                (*regency_budget, parts[1]),
            ])
        }
        None => Err("apbd_province"),
    }
}

/// Checks 1 and 2 over the rows of one cost item.
fn check_item(
    rows: &[&ItemShare],
    agreements: &HashMap<Uuid, AgreementSplit>,
    out: &mut Vec<Difference>,
) {
    let first = rows[0];
    let about = |mut d: Difference| {
        d.transfer_id = Some(first.transfer_id);
        d.transfer = Some(first.reference.clone());
        d.cost_item_id = Some(first.item_id);
        d
    };
    let total: i64 = rows.iter().map(|r| r.realised).sum();
    let expected_total = if first.inactive { 0 } else { first.amount };
    if total != expected_total {
        out.push(about(difference(
            "cost_item_realised",
            format!(
                "{} {} cost item{} is realised {total} on its budgets in all, not {expected_total}",
                first.reference,
                first.category,
                if first.inactive {
                    " (cancelled or not confirmed)"
                } else {
                    ""
                }
            ),
            expected_total,
            total,
        )));
    }
    let mut actual: BTreeMap<Uuid, (i64, Option<String>)> = BTreeMap::new();
    for r in rows {
        if let Some(budget) = r.budget_id {
            let entry = actual.entry(budget).or_insert((0, r.source.clone()));
            entry.0 += r.realised;
        }
    }
    let expected: BTreeMap<Uuid, i64> = if first.inactive {
        BTreeMap::new()
    } else {
        match expected_shares(first, agreements) {
            Ok(shares) => shares.into_iter().filter(|(_, a)| *a != 0).collect(),
            Err(source) => {
                // A budget of `source` carries it all (check 1 counts the
                // total); a budget of any other source carries nothing.
                for (budget, (amount, s)) in &actual {
                    if s.as_deref() != Some(source) && *amount != 0 {
                        let mut d = about(difference(
                            "cost_item_split",
                            format!(
                                "{} {} cost: {amount} realised on a {} budget; the split rule charges {source}",
                                first.reference,
                                first.category,
                                s.as_deref().unwrap_or("?")
                            ),
                            0,
                            *amount,
                        ));
                        d.budget_id = Some(*budget);
                        d.source = s.clone();
                        out.push(d);
                    }
                }
                return;
            }
        }
    };
    let mut budgets: Vec<Uuid> = expected.keys().chain(actual.keys()).copied().collect();
    budgets.sort();
    budgets.dedup();
    for budget in budgets {
        let want = expected.get(&budget).copied().unwrap_or(0);
        let (have, source) = actual.get(&budget).cloned().unwrap_or((0, None));
        if want != have {
            let mut d = about(difference(
                "cost_item_split",
                format!(
                    "{} {} cost of {}: budget {budget} carries {have}, the agreed split gives it {want}",
                    first.reference, first.category, first.amount
                ),
                want,
                have,
            ));
            d.budget_id = Some(budget);
            d.source = source;
            out.push(d);
        }
    }
}

/// Runs every check for `caller`'s budgets in `year`.
pub async fn reconcile(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    year: i32,
) -> ApiResult<Vec<Difference>> {
    let scope = caller.budget_scope();
    let mut out = Vec::new();

    // 1 and 2: cost items against their realisations.
    let shares: Vec<ItemShare> = rows(conn, ITEM_SHARES, year, &scope).await?;
    let agreement_ids: Vec<Uuid> = shares.iter().filter_map(|s| s.agreement_id).collect();
    let agreements: HashMap<Uuid, AgreementSplit> = cost_sharing_agreements::table
        .filter(cost_sharing_agreements::id.eq_any(&agreement_ids))
        .select((
            cost_sharing_agreements::id,
            cost_sharing_agreements::all_costs_bp,
            cost_sharing_agreements::category_bp,
            cost_sharing_agreements::province_budget_id,
            cost_sharing_agreements::regency_budget_id,
        ))
        .load::<(Uuid, Option<i32>, Option<serde_json::Value>, Uuid, Uuid)>(conn)
        .await?
        .into_iter()
        .map(|(id, all, per, p, r)| (id, (all, per, p, r)))
        .collect();
    let mut by_item: Vec<Vec<&ItemShare>> = Vec::new();
    for share in &shares {
        match by_item.last_mut() {
            Some(group) if group[0].item_id == share.item_id => group.push(share),
            _ => by_item.push(vec![share]),
        }
    }
    for group in &by_item {
        check_item(group, &agreements, &mut out);
    }

    // 3: realisations of a transfer that name none of its cost items.
    for row in rows::<TransferBudgetSum>(conn, WITHOUT_ITEM, year, &scope).await? {
        let mut d = difference(
            "realisation_without_cost_item",
            format!(
                "{}: {} realised on budget {} without a cost item of the transfer",
                row.reference, row.amount, row.budget_id
            ),
            0,
            row.amount,
        );
        d.transfer_id = Some(row.transfer_id);
        d.transfer = Some(row.reference);
        d.budget_id = Some(row.budget_id);
        out.push(d);
    }

    // 4: closed transfers holding a commitment.
    for row in rows::<TransferBudgetSum>(conn, CLOSED_COMMITTED, year, &scope).await? {
        let mut d = difference(
            "closed_transfer_committed",
            format!(
                "{} is closed but still holds {} committed on budget {}",
                row.reference, row.amount, row.budget_id
            ),
            0,
            row.amount,
        );
        d.transfer_id = Some(row.transfer_id);
        d.transfer = Some(row.reference);
        d.budget_id = Some(row.budget_id);
        out.push(d);
    }

    // 5: balances.
    let filter = BudgetFilter {
        fiscal_year: Some(year),
        ..BudgetFilter::default()
    };
    let budgets = super::queries::list(conn, &scope, &filter).await?;
    for budget in &budgets {
        let b = budget.balance;
        for (what, value) in [("available", b.available), ("committed", b.committed)] {
            if value < 0 {
                let mut d = difference(
                    "balance",
                    format!(
                        "budget {} ({}) has {value} {what}",
                        budget.name, budget.document_number
                    ),
                    0,
                    value,
                );
                d.budget_id = Some(budget.id);
                d.source = Some(budget.source.to_string());
                out.push(d);
            }
        }
    }

    // 6: the money report against the ledgers.
    let report = crate::stats::costs::report(conn, caller, year, None).await?;
    let report_scope = crate::stats::scope::ReportScope::of(caller);
    let sql = LEDGER_BY_SOURCE.replace(
        "REPORT",
        &report_scope
            .transfer_condition("$4")
            .replace("handling_province", "t.handling_province")
            .replace("destination_region", "t.destination_region"),
    );
    let ledger_sums: Vec<SourceSum> =
        diesel::sql_query(sql.replace("BUDGETS", &scope_condition(&scope, "b", "$2")))
            .bind::<Int4, _>(year)
            .bind::<Nullable<Text>, _>(scope_value(&scope))
            .bind::<Bool, _>(matches!(scope, BudgetScope::All))
            .bind::<Nullable<Text>, _>(report_scope.value())
            .load(conn)
            .await?;
    let mut sources: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for s in &ledger_sums {
        sources.entry(s.source.clone()).or_default().0 += s.amount;
    }
    for s in &report.by_funding_source {
        sources.entry(s.source.clone()).or_default().1 += s.realised;
    }
    for (source, (ledger_sum, reported)) in sources {
        if ledger_sum != reported {
            let mut d = difference(
                "report_by_source",
                format!(
                    "the money report shows {reported} for {source}; its ledgers hold {ledger_sum}"
                ),
                ledger_sum,
                reported,
            );
            d.source = Some(source);
            out.push(d);
        }
    }
    let by_source: i64 = report.by_funding_source.iter().map(|s| s.realised).sum();
    let by_transfer: i64 = report
        .by_destination
        .iter()
        .map(|d| d.realised)
        .chain(report.not_handed_over.iter().map(|t| t.realised))
        .sum();
    if by_source != by_transfer {
        out.push(difference(
            "report_by_transfer",
            format!(
                "the money report's destinations and not-handed-over transfers add up to {by_transfer}, its funding sources to {by_source}"
            ),
            by_source,
            by_transfer,
        ));
    }
    // 7: settlements above the share.
    for row in rows::<Settled>(conn, OVER_SETTLED, year, &scope).await? {
        let mut d = difference(
            "settlement_exceeds_share",
            format!(
                "{} has settled {} under agreement {} but its share is {}",
                row.regency_code, row.settled, row.agreement_id, row.owed
            ),
            row.owed,
            row.settled,
        );
        d.budget_id = Some(row.budget_id);
        out.push(d);
    }
    Ok(out)
}

/// Reconcile the budgets.
///
/// For the caller's budgets of a fiscal year (the ministry the APBN, a
/// regency its own, the province and the secretariat the province's and its
/// regencies'): checks that every cost item is realised exactly once and
/// split as its agreement says, that no realisation of a transfer lacks a
/// cost item, that no closed transfer holds a commitment, that no budget is
/// below zero, and that the money report equals the ledgers. Answers the
/// differences; an empty list means the money reconciles. `docs/money.md`
/// explains each check.
#[utoipa::path(
    tag = "budgets",
    operation_id = "reconcile_budgets",
    params(ReconciliationQuery),
    responses((status = 200, description = "The checks and the differences found", body = Reconciliation))
)]
#[get("/budgets/reconciliation")]
pub async fn reconcile_budgets(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<ReconciliationQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ReadBudgets)?;
    let year = query.fiscal_year;
    let limits = state.settings.db_limits;
    let mut conn = state.pool.get().await?;
    let differences = conn
        .transaction::<_, crate::error::ApiError, _>(async |conn| {
            diesel::sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(conn)
                .await?;
            crate::db::use_report_timeout(conn, &limits).await?;
            reconcile(conn, &caller, year).await
        })
        .await?;
    Ok(HttpResponse::Ok().json(Reconciliation {
        fiscal_year: year,
        checks: CHECKS.to_vec(),
        differences,
    }))
}
