//! A transfer's money after the plan: confirming a proposed cost item,
//! cancelling one, and a regency's dispute of its share.
//!
//! - **Separation of duties**: a case worker proposes a cost item (nothing
//!   moves); a finance officer of a budget the split rule charges for it —
//!   not the person who proposed it — confirms it, and the confirmation
//!   realises it on every paying budget.
//!
//! The ledger entries of a transfer (commitments, releases, realisations)
//! change only through the transfer's own operations, never through a manual
//! reversal on one budget: that is what keeps a cost item, its realisations on
//! every paying budget and the agreed split equal (issue 23).
//!
//! - **Cancelling a cost item** reverses its realisations on every paying
//!   budget in one transaction; the item stays, marked cancelled with the
//!   reason. A correction is a cancellation and a new item.
//! - **A dispute**: the finance officer of a budget charged for a cost item
//!   (a regency, usually) says why its share is wrong. Nothing moves while it
//!   is open; the item cannot be cancelled by anyone else meanwhile. The
//!   province (its case workers or finance officers) resolves it: upheld, the
//!   item is cancelled (and can be recorded again correctly); rejected,
//!   nothing changes.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::costs;
use super::handlers::not_found;
use super::queries::{self, CostItem};
use crate::access::{Operation, TransferScope};
use crate::audit::Actor;
use crate::auth::Caller;
use crate::budgets::model::LedgerEntry;
use crate::changes::{self, Change};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Query};
use crate::schema::{budget_ledger, budgets, cost_disputes, transfer_cost_items};
use crate::state::AppState;

/// Why a cost item is cancelled.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Kuitansi KW-2019-0317 dicatat dua kali"}))]
pub struct CancelCostRequest {
    /// Why (kept on the item and on every reversing ledger entry).
    pub reason: String,
}

fn reason_of(raw: &str) -> ApiResult<String> {
    let reason = raw.trim();
    if reason.is_empty() {
        return Err(ApiError::invalid_field("reason", "must not be empty"));
    }
    Ok(reason.to_owned())
}

/// Whether the caller speaks for the province running the transfer (or is a
/// system administrator): only they cancel items and resolve disputes.
fn runs_the_transfer(caller: &Caller) -> bool {
    matches!(
        caller.transfer_scope(),
        TransferScope::All | TransferScope::HandledInProvince(_)
    ) && (caller.may(Operation::PlanTransfers) || caller.may(Operation::ManageBudgets))
}

/// Locks a cost item of `transfer`.
async fn lock_item(
    conn: &mut AsyncPgConnection,
    transfer: Uuid,
    item: Uuid,
) -> ApiResult<CostItem> {
    transfer_cost_items::table
        .filter(transfer_cost_items::id.eq(item))
        .filter(transfer_cost_items::transfer_id.eq(transfer))
        .select(CostItem::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found("the transfer has no such cost item"))
}

/// Cancels a cost item: reverses each of its realisations that is not yet
/// reversed, on every paying budget, and marks the item cancelled. The caller
/// holds the transfer's row lock.
pub async fn cancel_item(
    conn: &mut AsyncPgConnection,
    change: &mut Change<'_>,
    item: &CostItem,
    reason: &str,
) -> ApiResult<CostItem> {
    if item.cancelled_at.is_some() {
        return Err(ApiError::conflict("the cost item is already cancelled")
            .with_kind("cost-item-cancelled", "Cost item already cancelled"));
    }
    let realisations: Vec<LedgerEntry> = budget_ledger::table
        .filter(budget_ledger::cost_item_id.eq(item.id))
        .filter(budget_ledger::kind.eq("realisation"))
        .filter(budget_ledger::reverses_id.is_null())
        .order(budget_ledger::id)
        .select(LedgerEntry::as_select())
        .load(conn)
        .await?;
    let reversed: Vec<Option<i64>> = budget_ledger::table
        .filter(budget_ledger::cost_item_id.eq(item.id))
        .filter(budget_ledger::reverses_id.is_not_null())
        .select(budget_ledger::reverses_id)
        .load(conn)
        .await?;
    let open: Vec<LedgerEntry> = realisations
        .into_iter()
        .filter(|e| !reversed.contains(&Some(e.id)))
        .collect();
    let locked = costs::lock_budgets(conn, open.iter().map(|e| e.budget_id)).await?;
    // A regency that has already paid its share to the province must not be
    // left having settled more than it owes: it reverses (refunds) its
    // settlement first. The regency's budget row is locked above, so no
    // settlement can slip in meanwhile.
    for original in &open {
        let Some(agreement_id) = original.agreement_id else {
            continue;
        };
        let agreement: crate::budgets::agreements::Agreement =
            crate::schema::cost_sharing_agreements::table
                .find(agreement_id)
                .select(crate::budgets::agreements::Agreement::as_select())
                .first(conn)
                .await?;
        if agreement.regency_budget_id != original.budget_id {
            continue;
        }
        let (_, owed, settled) = crate::budgets::settlements::sums(conn, &agreement).await?;
        if settled > owed - original.amount {
            return Err(ApiError::conflict(format!(
                "the regency has settled {settled} under its agreement; without this cost it owes {}: \
                 it reverses its settlement first",
                owed - original.amount
            ))
            .with_kind("share-settled", "Share already settled")
            .with_extension(crate::error::ProblemMember::AgreementId, serde_json::json!(agreement_id)));
        }
    }
    for original in &open {
        let new = crate::budgets::ledger::NewEntry {
            reverses_id: Some(original.id),
            transfer_id: original.transfer_id,
            cost_item_id: original.cost_item_id,
            case_count: original.case_count.map(|c| -c),
            agreement_id: original.agreement_id,
            missing_agreement: original.missing_agreement,
            booking: original.booking(),
            ..crate::budgets::ledger::NewEntry::new(
                original.kind,
                -original.amount,
                format!("cost item cancelled: {reason}"),
            )
        };
        crate::budgets::ledger::append(conn, change, &locked[&original.budget_id], new).await?;
    }
    let saved: CostItem = diesel::update(transfer_cost_items::table.find(item.id))
        .set((
            transfer_cost_items::cancelled_at.eq(Utc::now()),
            transfer_cost_items::cancelled_reason.eq(reason),
        ))
        .returning(CostItem::as_returning())
        .get_result(conn)
        .await?;
    Ok(saved)
}

async fn open_dispute_of(conn: &mut AsyncPgConnection, item: Uuid) -> QueryResult<Option<Uuid>> {
    cost_disputes::table
        .filter(cost_disputes::cost_item_id.eq(item))
        .filter(cost_disputes::status.eq("open"))
        .select(cost_disputes::id)
        .first(conn)
        .await
        .optional()
}

/// Cancel a cost item.
///
/// By the province running the transfer (its case workers or finance
/// officers). Reverses the item's realisations on every budget that paid
/// for it, in one transaction, and keeps the item marked cancelled with the
/// reason; the transfer's realised total no longer counts it. To correct an
/// amount, cancel the item and record the right one. Refused (409) while a
/// dispute about the item is open: the dispute's resolution decides.
#[utoipa::path(
    tag = "transfers",
    operation_id = "cancel_transfer_cost",
    params(
        ("id" = Uuid, Path, description = "The transfer's id"),
        ("item_id" = Uuid, Path, description = "The cost item's id"),
    ),
    request_body = CancelCostRequest,
    responses(
        (status = 200, description = "The cancelled cost item", body = CostItem),
        (status = 403, description = "Not the province running the transfer", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already cancelled, or a dispute about it is open", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/transfers/{id}/costs/{item_id}/cancellation")]
pub async fn cancel_transfer_cost(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    body: Json<CancelCostRequest>,
) -> ApiResult<HttpResponse> {
    let (id, item_id) = path.into_inner();
    let reason = reason_of(&body.reason)?;
    let scope = caller.transfer_scope();
    let actor = Actor::from(&caller);
    let mut conn = state.pool.get().await?;
    let saved = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let transfer = queries::find_for_update(conn, &scope, id)
                .await?
                .ok_or_else(not_found)?;
            if !runs_the_transfer(&caller) {
                return Err(ApiError::forbidden(
                    "the province running the transfer cancels its cost items; a paying regency raises a dispute",
                ));
            }
            let item = lock_item(conn, transfer.id, item_id).await?;
            if let Some(dispute) = open_dispute_of(conn, item.id).await? {
                return Err(ApiError::conflict(format!(
                    "dispute {dispute} about this cost item is open: its resolution decides"
                ))
                .with_kind("cost-disputed", "Cost item under dispute")
                .with_extension(crate::error::ProblemMember::DisputeId, serde_json::json!(dispute)));
            }
            let mut change =
                Change::transfer(&actor, "transfer.cost_cancelled", transfer.id, "cost_cancelled");
            let saved = cancel_item(conn, &mut change, &item, &reason).await?;
            queries::touch(conn, transfer.id).await?;
            changes::record(conn, change.before(&item).after(&saved)).await?;
            Ok(saved)
        })
        .await?;
    Ok(HttpResponse::Ok().json(saved))
}

/// A finance officer's confirmation of a proposed cost.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"note": "Kuitansi dan SPJ diperiksa"}))]
pub struct ConfirmCostRequest {
    /// What was checked (kept in the audit log).
    pub note: Option<String>,
}

/// Confirm a proposed cost.
///
/// By a finance officer of an agency whose budget the split rule charges for
/// the item (the ministry for an out-of-province return, the province or the
/// regency for an in-province one), who is not the person that proposed it.
/// Realises the item through the split rule: what was committed for the
/// transfer is consumed first on each budget, and a budget that cannot cover
/// its share refuses the whole confirmation (409 with the shortfall).
#[utoipa::path(
    tag = "transfers",
    operation_id = "confirm_transfer_cost",
    params(
        ("id" = Uuid, Path, description = "The transfer's id"),
        ("item_id" = Uuid, Path, description = "The cost item's id"),
    ),
    request_body = ConfirmCostRequest,
    responses(
        (status = 200, description = "The confirmed (realised) cost item", body = CostItem),
        (status = 403, description = "Not a finance officer of a paying budget, or the one who proposed it", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already confirmed or cancelled, or a budget cannot cover its share", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/transfers/{id}/costs/{item_id}/confirmation")]
pub async fn confirm_transfer_cost(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    body: Json<ConfirmCostRequest>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ManageBudgets)?;
    let (id, item_id) = path.into_inner();
    let note = body.0.note;
    let scope = caller.transfer_scope();
    let actor = Actor::from(&caller);
    let mut conn = state.pool.get().await?;
    let saved = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let transfer = queries::find_for_update(conn, &scope, id)
                .await?
                .ok_or_else(not_found)?;
            let item = lock_item(conn, transfer.id, item_id).await?;
            if item.cancelled_at.is_some() || item.confirmed_at.is_some() {
                return Err(ApiError::conflict(format!(
                    "the cost item is already {}",
                    if item.cancelled_at.is_some() {
                        "cancelled"
                    } else {
                        "confirmed"
                    }
                ))
                .with_kind(
                    "cost-item-settled",
                    "Cost item already confirmed or cancelled",
                ));
            }
            let payers = costs::paying_budgets(conn, &transfer, item.category, item.amount).await?;
            let owners: Vec<Uuid> = budgets::table
                .filter(budgets::id.eq_any(&payers))
                .select(budgets::owner_agency_id)
                .load(conn)
                .await?;
            if !caller.is_system_admin() && !owners.contains(&caller.agency_id) {
                return Err(ApiError::forbidden(
                    "a finance officer of a budget that pays this cost confirms it",
                ));
            }
            if item.recorded_by == Some(caller.principal_id) {
                return Err(ApiError::forbidden(
                    "who proposed a cost does not confirm it (separation of duties)",
                ));
            }
            let members = super::handlers::member_count(conn, transfer.id).await?;
            let heads = if members > 0 {
                members
            } else {
                super::lifecycle::handed_over_count(conn, transfer.id).await?
            };
            let mut change = Change::transfer(
                &actor,
                "transfer.cost_confirmed",
                transfer.id,
                "cost_confirmed",
            );
            costs::realise(conn, &mut change, &transfer, &item, heads).await?;
            let saved: CostItem = diesel::update(transfer_cost_items::table.find(item.id))
                .set((
                    transfer_cost_items::confirmed_at.eq(Utc::now()),
                    transfer_cost_items::confirmed_by.eq(caller.principal_id),
                ))
                .returning(CostItem::as_returning())
                .get_result(conn)
                .await?;
            queries::touch(conn, transfer.id).await?;
            let after = serde_json::json!({"item": saved, "note": note});
            changes::record(conn, change.before(&item).after(&after)).await?;
            Ok(saved)
        })
        .await?;
    Ok(HttpResponse::Ok().json(saved))
}

/// A dispute about a budget's share of a cost item.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = cost_disputes)]
pub struct CostDispute {
    /// Id.
    pub id: Uuid,
    /// The transfer.
    pub transfer_id: Uuid,
    /// The disputed cost item.
    pub cost_item_id: Uuid,
    /// The budget whose share is disputed.
    pub budget_id: Uuid,
    /// The agency that raised it.
    pub raised_by_agency: Uuid,
    /// The user who raised it.
    pub raised_by: Option<Uuid>,
    /// Why the share is wrong.
    pub reason: String,
    /// open, upheld (the item was cancelled) or rejected (nothing moved).
    pub status: String,
    /// The province's answer.
    pub resolution: Option<String>,
    /// Who resolved it.
    pub resolved_by: Option<Uuid>,
    /// When.
    pub resolved_at: Option<DateTime<Utc>>,
    /// When it was raised.
    pub created_at: DateTime<Utc>,
}

/// A regency's dispute of its share.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"budget_id": "1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9", "reason": "Biaya makan ini untuk pendamping provinsi, bukan tanggungan kabupaten"}))]
pub struct NewDispute {
    /// The disputing agency's budget that was charged for the item.
    pub budget_id: Uuid,
    /// Why its share is wrong.
    pub reason: String,
}

/// Dispute a share of a cost item.
///
/// By a finance officer of the agency owning a budget that was charged for
/// the item — usually a regency under its cost-sharing agreement. Nothing
/// moves in any ledger: the province resolves the dispute. One open dispute
/// per cost item.
#[utoipa::path(
    tag = "transfers",
    operation_id = "create_cost_dispute",
    params(
        ("id" = Uuid, Path, description = "The transfer's id"),
        ("item_id" = Uuid, Path, description = "The cost item's id"),
    ),
    request_body = NewDispute,
    responses(
        (status = 201, description = "The open dispute", body = CostDispute),
        (status = 403, description = "Not a finance officer of the charged budget's owner", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The budget was not charged for this item, the item is cancelled, or a dispute is already open", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/transfers/{id}/costs/{item_id}/disputes")]
pub async fn create_cost_dispute(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    body: Json<NewDispute>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ManageBudgets)?;
    let (id, item_id) = path.into_inner();
    let reason = reason_of(&body.reason)?;
    let scope = caller.transfer_scope();
    let actor = Actor::from(&caller);
    let mut conn = state.pool.get().await?;
    let dispute = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let transfer = queries::find_for_update(conn, &scope, id)
                .await?
                .ok_or_else(not_found)?;
            let item = lock_item(conn, transfer.id, item_id).await?;
            let owner: Option<Uuid> = budgets::table
                .find(body.budget_id)
                .select(budgets::owner_agency_id)
                .first(conn)
                .await
                .optional()?;
            if owner != Some(caller.agency_id) && !caller.is_system_admin() {
                return Err(ApiError::forbidden(
                    "a share is disputed by a finance officer of the budget's owner",
                ));
            }
            let charged: i64 = budget_ledger::table
                .filter(budget_ledger::cost_item_id.eq(item.id))
                .filter(budget_ledger::budget_id.eq(body.budget_id))
                .filter(budget_ledger::kind.eq("realisation"))
                .select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                    "coalesce(sum(amount), 0)::bigint",
                ))
                .first(conn)
                .await?;
            if item.cancelled_at.is_some() || charged == 0 {
                return Err(ApiError::conflict(
                    "this budget carries no share of the cost item (or the item is cancelled)",
                )
                .with_kind("nothing-to-dispute", "Nothing to dispute"));
            }
            if let Some(open) = open_dispute_of(conn, item.id).await? {
                return Err(ApiError::conflict(format!(
                    "dispute {open} about this cost item is already open"
                ))
                .with_kind("cost-disputed", "Cost item under dispute")
                .with_extension(
                    crate::error::ProblemMember::DisputeId,
                    serde_json::json!(open),
                ));
            }
            let dispute: CostDispute = diesel::insert_into(cost_disputes::table)
                .values((
                    cost_disputes::transfer_id.eq(transfer.id),
                    cost_disputes::cost_item_id.eq(item.id),
                    cost_disputes::budget_id.eq(body.budget_id),
                    cost_disputes::raised_by_agency.eq(caller.agency_id),
                    cost_disputes::raised_by.eq(caller.principal_id),
                    cost_disputes::reason.eq(&reason),
                ))
                .returning(CostDispute::as_returning())
                .get_result(conn)
                .await?;
            changes::record(
                conn,
                Change::transfer(
                    &actor,
                    "transfer.cost_disputed",
                    transfer.id,
                    "cost_disputed",
                )
                .after(&dispute),
            )
            .await?;
            Ok(dispute)
        })
        .await?;
    Ok(HttpResponse::Created().json(dispute))
}

/// The province's decision on a dispute.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"decision": "upheld", "reason": "Benar, biaya pendamping provinsi; dicatat ulang sebagai biaya provinsi"}))]
pub struct DisputeResolution {
    /// upheld (the cost item is cancelled; record it again correctly) or rejected (nothing moves).
    pub decision: DisputeDecision,
    /// Why.
    pub reason: String,
}

/// The decision on a dispute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DisputeDecision {
    /// The regency is right: the item is cancelled.
    Upheld,
    /// The share stands.
    Rejected,
}

/// Resolve a dispute.
///
/// By the province running the transfer. Upheld, the disputed cost item is
/// cancelled — its realisations reversed on every paying budget in the same
/// transaction — so that the province can record it again as it should have
/// been; rejected, nothing moves. A dispute is resolved once.
#[utoipa::path(
    tag = "transfers",
    operation_id = "resolve_cost_dispute",
    params(("id" = Uuid, Path, description = "The dispute's id")),
    request_body = DisputeResolution,
    responses(
        (status = 200, description = "The resolved dispute", body = CostDispute),
        (status = 403, description = "Not the province running the transfer", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already resolved", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/cost-disputes/{id}/resolution")]
pub async fn resolve_cost_dispute(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<DisputeResolution>,
) -> ApiResult<HttpResponse> {
    let reason = reason_of(&body.reason)?;
    let decision = body.decision;
    let scope = caller.transfer_scope();
    let actor = Actor::from(&caller);
    let mut conn = state.pool.get().await?;
    let resolved = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let transfer_id: Uuid = cost_disputes::table
                .find(*id)
                .select(cost_disputes::transfer_id)
                .first(conn)
                .await
                .optional()?
                .ok_or_else(|| ApiError::not_found("there is no such dispute"))?;
            // The transfer's lock first, as every money operation of a transfer takes it.
            let transfer = queries::find_for_update(conn, &scope, transfer_id)
                .await?
                .ok_or_else(|| ApiError::not_found("there is no such dispute"))?;
            if !runs_the_transfer(&caller) {
                return Err(ApiError::forbidden(
                    "the province running the transfer resolves disputes about its costs",
                ));
            }
            let before: CostDispute = cost_disputes::table
                .find(*id)
                .select(CostDispute::as_select())
                .for_update()
                .first(conn)
                .await?;
            if before.status != "open" {
                return Err(ApiError::conflict(format!(
                    "the dispute was already {}",
                    before.status
                ))
                .with_kind("dispute-resolved", "Dispute already resolved"));
            }
            let mut change = Change::transfer(
                &actor,
                "transfer.cost_dispute_resolved",
                transfer.id,
                "cost_dispute_resolved",
            );
            if decision == DisputeDecision::Upheld {
                let item = lock_item(conn, transfer.id, before.cost_item_id).await?;
                let why = format!("dispute upheld: {reason}");
                cancel_item(conn, &mut change, &item, &why).await?;
            }
            let status = match decision {
                DisputeDecision::Upheld => "upheld",
                DisputeDecision::Rejected => "rejected",
            };
            let after: CostDispute = diesel::update(cost_disputes::table.find(before.id))
                .set((
                    cost_disputes::status.eq(status),
                    cost_disputes::resolution.eq(&reason),
                    cost_disputes::resolved_by.eq(caller.principal_id),
                    cost_disputes::resolved_at.eq(Utc::now()),
                ))
                .returning(CostDispute::as_returning())
                .get_result(conn)
                .await?;
            queries::touch(conn, transfer.id).await?;
            changes::record(conn, change.before(&before).after(&after)).await?;
            Ok(after)
        })
        .await?;
    Ok(HttpResponse::Ok().json(resolved))
}

/// Filters of the dispute list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DisputeQuery {
    /// open, upheld or rejected.
    pub status: Option<String>,
}

/// List disputes.
///
/// The disputes about the budgets the caller may see (a regency its own, the
/// province its own and its regencies', the ministry the APBN's), newest
/// first.
#[utoipa::path(
    tag = "transfers",
    operation_id = "list_cost_disputes",
    params(DisputeQuery),
    responses((status = 200, description = "The disputes", body = Vec<CostDispute>))
)]
#[get("/cost-disputes")]
pub async fn list_cost_disputes(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<DisputeQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ReadBudgets)?;
    let mut conn = state.pool.get().await?;
    let visible: Vec<Uuid> = crate::budgets::queries::scoped(&caller.budget_scope())
        .load::<crate::budgets::model::BudgetRow>(&mut conn)
        .await?
        .into_iter()
        .map(|b| b.id)
        .collect();
    let mut q = cost_disputes::table
        .filter(cost_disputes::budget_id.eq_any(visible))
        .into_boxed();
    if let Some(status) = &query.status {
        q = q.filter(cost_disputes::status.eq(status.clone()));
    }
    let rows: Vec<CostDispute> = q
        .order((cost_disputes::created_at.desc(), cost_disputes::id))
        .limit(500)
        .select(CostDispute::as_select())
        .load(&mut conn)
        .await?;
    Ok(HttpResponse::Ok().json(rows))
}
