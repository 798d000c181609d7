//! Reading transfers within the caller's scope, and the answer's shape.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::dsl::sql;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::admission::Membership;
use super::model::{Escort, EstimatedCost, HandoverOutcome, Leg, TransferRow, TransferStatus};
use crate::access::TransferScope;
use crate::budgets::split::CostCategory;
use crate::cases::CaseStatus;
use crate::schema::{budget_ledger, cases, transfer_cases, transfer_cost_items, transfers};

type Boxed<'a> =
    transfers::BoxedQuery<'a, Pg, diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<TransferRow, Pg>>>;

/// Transfers the scope lets a caller see.
pub fn scoped<'a>(scope: &TransferScope) -> Boxed<'a> {
    let q = transfers::table
        .select(TransferRow::as_select())
        .into_boxed();
    match scope.clone() {
        TransferScope::All => q,
        TransferScope::OutOfProvince => q.filter(sql::<Bool>(
            "transfers.destination_province <> transfers.handling_province",
        )),
        TransferScope::HandledInProvince(p) => q.filter(transfers::handling_province.eq(p)),
        TransferScope::Destination { regency, agency } => q.filter(
            transfers::destination_region
                .eq(regency)
                .or(transfers::receiving_agency_id.eq(agency)),
        ),
        TransferScope::Nothing => q.filter(sql::<Bool>("false")),
    }
}

/// A member of a transfer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Member {
    /// The case.
    pub case_id: Uuid,
    /// Its number.
    pub case_number: String,
    /// The returnee's name.
    pub full_name: String,
    /// The case's status now.
    pub case_status: CaseStatus,
    /// Whether the case is still in this transfer.
    pub active: bool,
    /// What happened at handover.
    pub outcome: Option<HandoverOutcome>,
    /// Why, for returnees not received.
    pub outcome_reason: Option<String>,
}

/// A cost item: what was actually spent.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = transfer_cost_items)]
pub struct CostItem {
    /// Id.
    pub id: Uuid,
    /// The transfer.
    pub transfer_id: Uuid,
    /// What it paid for.
    pub category: CostCategory,
    /// Whole rupiah.
    pub amount: i64,
    /// Receipt (kuitansi) number.
    pub receipt_number: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Who recorded it.
    pub recorded_by: Option<Uuid>,
    /// When.
    pub recorded_at: DateTime<Utc>,
    /// When it was cancelled (its realisations reversed); absent while it counts.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Why it was cancelled.
    pub cancelled_reason: Option<String>,
    /// Why it was recorded after the transfer closed.
    pub late_reason: Option<String>,
    /// When a finance officer of a paying budget confirmed it (and it was
    /// realised); absent while it is only proposed.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Who confirmed it.
    pub confirmed_by: Option<Uuid>,
    /// When the money was spent (the date reports count it on; else the day it was recorded).
    pub spent_on: Option<chrono::NaiveDate>,
    /// Kode rekening (APBD, `5.1.02.04.01.0001`) or akun (APBN, `524111`).
    pub account_code: Option<String>,
    /// Who was paid.
    pub payee: Option<String>,
    /// The payment order (SP2D) number, once paid.
    pub sp2d_number: Option<String>,
    /// The payment order's date.
    pub sp2d_date: Option<chrono::NaiveDate>,
}

/// The handover record (BAST).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HandoverRecord {
    /// BAST number.
    pub bast_number: String,
    /// When the returnees were handed over.
    pub handed_over_at: DateTime<Utc>,
    /// Who received them.
    pub received_by_name: String,
    /// Their position.
    pub received_by_position: Option<String>,
    /// Witnesses.
    #[schema(value_type = Vec<Object>)]
    pub witnesses: serde_json::Value,
}

/// What a transfer costs, derived from its ledger entries and cost items.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct TransferCosts {
    /// Sum of the estimates.
    pub estimated: i64,
    /// Committed on budgets and not yet released or spent.
    pub committed: i64,
    /// Spent: the confirmed cost items that are not cancelled.
    pub realised: i64,
    /// Proposed by a case worker, waiting for a finance officer's confirmation.
    pub proposed: i64,
    /// Realised ÷ returnees received (or members, before handover), whole rupiah.
    pub per_returnee: Option<i64>,
}

/// A transfer as answered.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TransferView {
    /// Id.
    pub id: Uuid,
    /// Human-readable reference: `TRF-<year>-<serial>`.
    pub reference: String,
    /// Fiscal year whose budgets pay.
    pub fiscal_year: i32,
    /// The province running the transfer.
    pub handling_province: String,
    /// The agency that planned it.
    pub planning_agency_id: Uuid,
    /// Where the returnees go: a regency, or a province for a group leaving the handling province.
    pub destination_region: String,
    /// The destination's province.
    pub destination_province: String,
    /// The social service receiving them.
    pub receiving_agency_id: Option<Uuid>,
    /// Status.
    pub status: TransferStatus,
    /// Legs of the journey.
    pub legs: Vec<Leg>,
    /// The first planned departure.
    pub planned_departure: Option<DateTime<Utc>>,
    /// Escorting officers.
    pub escorts: Vec<Escort>,
    /// Estimated costs per category.
    pub estimated_costs: Vec<EstimatedCost>,
    /// Notes.
    pub notes: Option<String>,
    /// The handover, once done.
    pub handover: Option<HandoverRecord>,
    /// Members, current and removed.
    pub members: Vec<Member>,
    /// Actual cost items.
    pub cost_items: Vec<CostItem>,
    /// Cost totals.
    pub costs: TransferCosts,
    /// Version; the `ETag` is `"<version>"`.
    pub version: i32,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Changed.
    pub updated_at: DateTime<Utc>,
}

impl TransferView {
    /// The entity tag.
    pub fn etag(&self) -> String {
        crate::http::etag::tag(self.version)
    }
}

/// case id, case number, name, case status, active, outcome, outcome reason.
type MemberColumns = (
    Uuid,
    String,
    String,
    CaseStatus,
    bool,
    Option<String>,
    Option<String>,
);

/// Assembles the full view of a transfer.
pub async fn view(conn: &mut AsyncPgConnection, row: TransferRow) -> QueryResult<TransferView> {
    let mut views = views(conn, vec![row]).await?;
    Ok(views.pop().expect("one view per row"))
}

/// Assembles the full views of several transfers with three queries in all
/// (members, cost items, open commitments), whatever their number.
pub async fn views(
    conn: &mut AsyncPgConnection,
    rows: Vec<TransferRow>,
) -> QueryResult<Vec<TransferView>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let member_rows: Vec<(Uuid, MemberColumns)> = transfer_cases::table
        .inner_join(cases::table)
        .filter(transfer_cases::transfer_id.eq_any(&ids))
        .order((transfer_cases::added_at, cases::case_number))
        .select((
            transfer_cases::transfer_id,
            (
                cases::id,
                cases::case_number,
                cases::full_name,
                cases::status,
                transfer_cases::active,
                transfer_cases::outcome,
                transfer_cases::outcome_reason,
            ),
        ))
        .load(conn)
        .await?;
    let mut members: HashMap<Uuid, Vec<Member>> = HashMap::new();
    for (
        transfer,
        (case_id, case_number, full_name, case_status, active, outcome, outcome_reason),
    ) in member_rows
    {
        members.entry(transfer).or_default().push(Member {
            case_id,
            case_number,
            full_name,
            case_status,
            active,
            outcome: outcome.as_deref().and_then(HandoverOutcome::parse),
            outcome_reason,
        });
    }
    let item_rows: Vec<(Uuid, CostItem)> = transfer_cost_items::table
        .filter(transfer_cost_items::transfer_id.eq_any(&ids))
        .order(transfer_cost_items::recorded_at)
        .select((transfer_cost_items::transfer_id, CostItem::as_select()))
        .load(conn)
        .await?;
    let mut items: HashMap<Uuid, Vec<CostItem>> = HashMap::new();
    for (transfer, item) in item_rows {
        items.entry(transfer).or_default().push(item);
    }
    let mut committed: HashMap<Uuid, i64> = HashMap::new();
    for (transfer, _, amount) in open_commitments(conn, &ids).await? {
        *committed.entry(transfer).or_default() += amount;
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let id = row.id;
            assemble(
                row,
                members.remove(&id).unwrap_or_default(),
                items.remove(&id).unwrap_or_default(),
                committed.get(&id).copied().unwrap_or_default(),
            )
        })
        .collect())
}

/// A transfer's view from its row, members, cost items and open commitments.
fn assemble(
    row: TransferRow,
    members: Vec<Member>,
    cost_items: Vec<CostItem>,
    committed: i64,
) -> TransferView {
    let estimates = row.estimates();
    let realised: i64 = cost_items
        .iter()
        .filter(|c| c.cancelled_at.is_none() && c.confirmed_at.is_some())
        .map(|c| c.amount)
        .sum();
    let proposed: i64 = cost_items
        .iter()
        .filter(|c| c.cancelled_at.is_none() && c.confirmed_at.is_none())
        .map(|c| c.amount)
        .sum();
    let received = members
        .iter()
        .filter(|m| m.outcome == Some(HandoverOutcome::Received))
        .count() as i64;
    let heads = if row.status == TransferStatus::HandedOver {
        received
    } else {
        members.iter().filter(|m| m.active).count() as i64
    };
    let handover = match (&row.bast_number, row.handed_over_at, &row.received_by_name) {
        (Some(bast), Some(at), Some(name)) => Some(HandoverRecord {
            bast_number: bast.clone(),
            handed_over_at: at,
            received_by_name: name.clone(),
            received_by_position: row.received_by_position.clone(),
            witnesses: row.witnesses.clone().unwrap_or_default(),
        }),
        _ => None,
    };
    TransferView {
        id: row.id,
        reference: row.reference.clone(),
        fiscal_year: row.fiscal_year,
        handling_province: row.handling_province.clone(),
        planning_agency_id: row.planning_agency_id,
        destination_region: row.destination_region.clone(),
        destination_province: row.destination_province.clone(),
        receiving_agency_id: row.receiving_agency_id,
        status: row.status,
        legs: serde_json::from_value(row.legs.clone()).unwrap_or_default(),
        planned_departure: row.planned_departure,
        escorts: serde_json::from_value(row.escorts.clone()).unwrap_or_default(),
        costs: TransferCosts {
            estimated: estimates.iter().map(|e| e.amount).sum(),
            committed,
            realised,
            proposed,
            per_returnee: (heads > 0 && realised > 0).then(|| realised / heads),
        },
        estimated_costs: estimates,
        notes: row.notes.clone(),
        handover,
        members,
        cost_items,
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

/// What a transfer still has committed, per budget.
pub async fn outstanding_commitments(
    conn: &mut AsyncPgConnection,
    transfer: Uuid,
) -> QueryResult<Vec<(Uuid, i64)>> {
    Ok(open_commitments(conn, &[transfer])
        .await?
        .into_iter()
        .map(|(_, budget, amount)| (budget, amount))
        .collect())
}

/// What these transfers still have committed: (transfer, budget, amount),
/// only where something is left.
async fn open_commitments(
    conn: &mut AsyncPgConnection,
    transfers: &[Uuid],
) -> QueryResult<Vec<(Uuid, Uuid, i64)>> {
    let rows: Vec<(Option<Uuid>, Uuid, i64)> = budget_ledger::table
        .filter(budget_ledger::transfer_id.eq_any(transfers))
        .filter(budget_ledger::kind.eq_any(["commitment", "release"]))
        .group_by((budget_ledger::transfer_id, budget_ledger::budget_id))
        .select((
            budget_ledger::transfer_id,
            budget_ledger::budget_id,
            sql::<diesel::sql_types::BigInt>(
                "coalesce(sum(CASE WHEN budget_ledger.kind = 'commitment' THEN budget_ledger.amount ELSE -budget_ledger.amount END), 0)::bigint",
            ),
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(transfer, budget, amount)| Some((transfer?, budget, amount)))
        .filter(|(_, _, amount)| *amount > 0)
        .collect())
}

/// A transfer in scope.
pub async fn find(
    conn: &mut AsyncPgConnection,
    scope: &TransferScope,
    id: Uuid,
) -> QueryResult<Option<TransferRow>> {
    scoped(scope)
        .filter(transfers::id.eq(id))
        .first(conn)
        .await
        .optional()
}

/// A transfer in scope, locked for the transaction.
pub async fn find_for_update(
    conn: &mut AsyncPgConnection,
    scope: &TransferScope,
    id: Uuid,
) -> QueryResult<Option<TransferRow>> {
    let locked: Option<Uuid> = transfers::table
        .find(id)
        .select(transfers::id)
        .for_update()
        .first(conn)
        .await
        .optional()?;
    match locked {
        Some(_) => find(conn, scope, id).await,
        None => Ok(None),
    }
}

/// Filters of the transfer list.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct TransferFilter {
    /// Status.
    pub status: Option<TransferStatus>,
    /// Destination region (a province includes its regencies).
    pub destination: Option<String>,
    /// Planned departure on or after.
    pub departure_from: Option<NaiveDate>,
    /// Planned departure on or before.
    pub departure_to: Option<NaiveDate>,
    /// Only transfers on the way now.
    pub in_transit: bool,
    /// Only planned transfers whose departure has passed.
    pub overdue: bool,
}

/// Transfers in scope matching the filter.
pub fn filtered<'a>(scope: &TransferScope, f: &TransferFilter) -> Boxed<'a> {
    let mut q = scoped(scope);
    if let Some(v) = f.status {
        q = q.filter(transfers::status.eq(v));
    }
    if let Some(d) = &f.destination {
        q = if d.len() == 2 {
            q.filter(transfers::destination_province.eq(d.clone()))
        } else {
            q.filter(transfers::destination_region.eq(d.clone()))
        };
    }
    if let Some(d) = f.departure_from {
        q = q.filter(
            transfers::planned_departure.ge(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc()),
        );
    }
    if let Some(d) = f.departure_to {
        let next = d
            .succ_opt()
            .unwrap_or(d)
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc();
        q = q.filter(transfers::planned_departure.lt(next));
    }
    if f.in_transit {
        q = q.filter(transfers::status.eq(TransferStatus::Departed));
    }
    if f.overdue {
        q = q
            .filter(transfers::status.eq(TransferStatus::Planned))
            .filter(transfers::planned_departure.lt(Utc::now()));
    }
    q
}

/// Transfers in scope matching the filter, by planned departure (latest first).
pub async fn list(
    conn: &mut AsyncPgConnection,
    scope: &TransferScope,
    f: &TransferFilter,
    limit: i64,
) -> QueryResult<Vec<TransferRow>> {
    let query = filtered(scope, f).order((
        transfers::planned_departure.desc().nulls_last(),
        transfers::id.desc(),
    ));
    crate::db::limit::literal_limit(query, limit)
        .load(conn)
        .await
}

/// Per transfer: active members, returnees received, and whole rupiah spent.
pub async fn tallies(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> QueryResult<std::collections::HashMap<Uuid, (i64, i64, i64)>> {
    let members: Vec<(Uuid, i64, i64)> = transfer_cases::table
        .filter(transfer_cases::transfer_id.eq_any(ids))
        .group_by(transfer_cases::transfer_id)
        .select((
            transfer_cases::transfer_id,
            sql::<diesel::sql_types::BigInt>("count(*) FILTER (WHERE transfer_cases.active)"),
            sql::<diesel::sql_types::BigInt>(
                "count(*) FILTER (WHERE transfer_cases.outcome = 'received')",
            ),
        ))
        .load(conn)
        .await?;
    // Spent: confirmed cost items that are not cancelled, as in the transfer's view.
    let spent: Vec<(Uuid, i64)> = transfer_cost_items::table
        .filter(transfer_cost_items::transfer_id.eq_any(ids))
        .filter(transfer_cost_items::confirmed_at.is_not_null())
        .filter(transfer_cost_items::cancelled_at.is_null())
        .group_by(transfer_cost_items::transfer_id)
        .select((
            transfer_cost_items::transfer_id,
            sql::<diesel::sql_types::BigInt>("sum(transfer_cost_items.amount)::bigint"),
        ))
        .load(conn)
        .await?;
    let mut out: std::collections::HashMap<Uuid, (i64, i64, i64)> =
        ids.iter().map(|id| (*id, (0, 0, 0))).collect();
    for (id, active, received) in members {
        if let Some(t) = out.get_mut(&id) {
            t.0 = active;
            t.1 = received;
        }
    }
    for (id, amount) in spent {
        if let Some(t) = out.get_mut(&id) {
            t.2 = amount;
        }
    }
    Ok(out)
}

/// The active transfer of each of these cases that is in one.
pub async fn active_transfers_of(
    conn: &mut AsyncPgConnection,
    case_ids: &[Uuid],
) -> QueryResult<Vec<Membership>> {
    let rows: Vec<(Uuid, Uuid, String)> = transfer_cases::table
        .inner_join(transfers::table)
        .filter(transfer_cases::case_id.eq_any(case_ids))
        .filter(transfer_cases::active)
        .select((transfer_cases::case_id, transfers::id, transfers::reference))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(case_id, transfer_id, reference)| Membership {
            case_id,
            transfer_id,
            reference,
        })
        .collect())
}

/// Raises a transfer's version after a change to what its view shows besides
/// its own row (members, cost items), so that its `ETag` and change events
/// tell the new state from the old.
pub async fn touch(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<TransferRow> {
    diesel::update(transfers::table.find(id))
        .set((
            transfers::version.eq(transfers::version + 1),
            transfers::updated_at.eq(Utc::now()),
        ))
        .returning(TransferRow::as_returning())
        .get_result(conn)
        .await
}
