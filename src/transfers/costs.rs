//! What a transfer costs, in the budgets' ledgers: estimates are committed
//! through the split rule when it is planned, cost items realise them, and
//! whatever stays committed is released at handover or cancellation. Every
//! entry names the transfer. Budgets are locked in id order, so that two
//! transfers charging the same budgets never deadlock.

use std::collections::BTreeMap;

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::model::{EstimatedCost, TransferRow};
use super::queries::{CostItem, outstanding_commitments};
use crate::budgets::ledger::{self, NewEntry};
use crate::budgets::model::LedgerKind;
use crate::budgets::payers::{self, PayerSet};
use crate::budgets::split::{Charge, Cost, CostCategory, SplitResult, split_cost};
use crate::changes::Change;
use crate::error::{ApiError, ApiResult};
use crate::regions::RegionCode;

/// The budgets the split rule may charge for `transfer`, loaded once per operation.
async fn payers_for(conn: &mut AsyncPgConnection, transfer: &TransferRow) -> ApiResult<PayerSet> {
    let handling =
        RegionCode::parse(&transfer.handling_province).map_err(ApiError::internal_msg)?;
    Ok(payers::load(conn, transfer.fiscal_year, &handling).await?)
}

/// Splits one cost of `transfer` by the split rule.
fn split(
    transfer: &TransferRow,
    set: &PayerSet,
    category: CostCategory,
    amount: i64,
) -> ApiResult<SplitResult> {
    let handling =
        RegionCode::parse(&transfer.handling_province).map_err(ApiError::internal_msg)?;
    let origin = RegionCode::parse(&transfer.destination_region).map_err(ApiError::internal_msg)?;
    let cost = Cost {
        category,
        amount,
        origin,
        handling_province: handling,
    };
    split_cost(&cost, &set.payers()).map_err(|e| {
        ApiError::conflict(e.to_string()).with_kind("no-budget", "No budget to charge")
    })
}

/// Locks every budget in `ids` (in id order) and returns their rows.
pub async fn lock_budgets(
    conn: &mut AsyncPgConnection,
    ids: impl IntoIterator<Item = Uuid>,
) -> ApiResult<BTreeMap<Uuid, crate::budgets::model::BudgetRow>> {
    lock_all(conn, ids).await
}

async fn lock_all(
    conn: &mut AsyncPgConnection,
    ids: impl IntoIterator<Item = Uuid>,
) -> ApiResult<BTreeMap<Uuid, crate::budgets::model::BudgetRow>> {
    let mut ids: Vec<Uuid> = ids.into_iter().collect();
    ids.sort();
    ids.dedup();
    let mut rows = BTreeMap::new();
    for id in ids {
        let row = ledger::lock(conn, id)
            .await?
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("budget {id} vanished")))?;
        rows.insert(id, row);
    }
    Ok(rows)
}

fn entry(
    kind: LedgerKind,
    amount: i64,
    reason: String,
    transfer: &TransferRow,
    members: i32,
    split: &SplitResult,
) -> NewEntry {
    NewEntry {
        transfer_id: Some(transfer.id),
        case_count: Some(members),
        missing_agreement: split.missing_agreement,
        agreement_id: split.agreement_id,
        ..NewEntry::new(kind, amount, reason)
    }
}

/// Commits the estimated costs of a planned transfer.
pub async fn commit_estimates(
    conn: &mut AsyncPgConnection,
    change: &mut Change<'_>,
    transfer: &TransferRow,
    estimates: &[EstimatedCost],
    members: i32,
) -> ApiResult<()> {
    let set = payers_for(conn, transfer).await?;
    let mut planned: Vec<(Charge, SplitResult, CostCategory)> = Vec::new();
    for estimate in estimates {
        let result = split(transfer, &set, estimate.category, estimate.amount)?;
        for charge in &result.charges {
            planned.push((charge.clone(), result.clone(), estimate.category));
        }
    }
    let budgets = lock_all(conn, planned.iter().map(|(c, _, _)| c.budget_id)).await?;
    for (charge, result, category) in planned {
        let reason = format!(
            "{} {}: estimated {category}",
            transfer.reference, transfer.destination_region
        );
        let new = entry(
            LedgerKind::Commitment,
            charge.amount,
            reason,
            transfer,
            members,
            &result,
        );
        ledger::append(conn, change, &budgets[&charge.budget_id], new).await?;
    }
    Ok(())
}

/// Releases everything the transfer still has committed.
pub async fn release_all(
    conn: &mut AsyncPgConnection,
    change: &mut Change<'_>,
    transfer: &TransferRow,
    why: &str,
    members: i32,
) -> ApiResult<()> {
    let outstanding = outstanding_commitments(conn, transfer.id).await?;
    let budgets = lock_all(conn, outstanding.iter().map(|(id, _)| *id)).await?;
    for (budget_id, amount) in outstanding {
        let new = NewEntry {
            transfer_id: Some(transfer.id),
            case_count: Some(members),
            ..NewEntry::new(
                LedgerKind::Release,
                amount,
                format!("{}: {why}", transfer.reference),
            )
        };
        ledger::append(conn, change, &budgets[&budget_id], new).await?;
    }
    Ok(())
}

/// The budgets the split rule would charge for a cost of `transfer`.
pub async fn paying_budgets(
    conn: &mut AsyncPgConnection,
    transfer: &TransferRow,
    category: CostCategory,
    amount: i64,
) -> ApiResult<Vec<Uuid>> {
    Ok(charges(conn, transfer, category, amount)
        .await?
        .into_iter()
        .map(|(budget, _)| budget)
        .collect())
}

/// What the split rule would charge each budget for a cost of `transfer`.
pub async fn charges(
    conn: &mut AsyncPgConnection,
    transfer: &TransferRow,
    category: CostCategory,
    amount: i64,
) -> ApiResult<Vec<(Uuid, i64)>> {
    let set = payers_for(conn, transfer).await?;
    let result = split(transfer, &set, category, amount)?;
    Ok(result
        .charges
        .iter()
        .map(|c| (c.budget_id, c.amount))
        .collect())
}

/// Realises a confirmed cost item: splits it, releases what was committed
/// for it on each budget (up to the charge), then records the realisation,
/// with the item's date of spending, account code, payee and payment order.
pub async fn realise(
    conn: &mut AsyncPgConnection,
    change: &mut Change<'_>,
    transfer: &TransferRow,
    item: &CostItem,
    members: i32,
) -> ApiResult<SplitResult> {
    let (item_id, category, amount) = (item.id, item.category, item.amount);
    let booking = crate::budgets::booking::Booking {
        spent_on: item.spent_on,
        account_code: item.account_code.clone(),
        payee: item.payee.clone(),
        sp2d_number: item.sp2d_number.clone(),
        sp2d_date: item.sp2d_date,
    };
    let set = payers_for(conn, transfer).await?;
    let result = split(transfer, &set, category, amount)?;
    let budgets = lock_all(conn, result.charges.iter().map(|c| c.budget_id)).await?;
    let outstanding: BTreeMap<Uuid, i64> = outstanding_commitments(conn, transfer.id)
        .await?
        .into_iter()
        .collect();
    for charge in &result.charges {
        let budget = &budgets[&charge.budget_id];
        let release = outstanding
            .get(&charge.budget_id)
            .copied()
            .unwrap_or(0)
            .min(charge.amount);
        if release > 0 {
            let reason = format!(
                "{}: commitment consumed by {category} cost",
                transfer.reference
            );
            ledger::append(
                conn,
                change,
                budget,
                entry(
                    LedgerKind::Release,
                    release,
                    reason,
                    transfer,
                    members,
                    &result,
                ),
            )
            .await?;
        }
        let reason = format!("{}: {category} cost", transfer.reference);
        let new = NewEntry {
            cost_item_id: Some(item_id),
            booking: booking.clone(),
            ..entry(
                LedgerKind::Realisation,
                charge.amount,
                reason,
                transfer,
                members,
                &result,
            )
        };
        ledger::append(conn, change, budget, new).await?;
    }
    Ok(result)
}
