//! Moving a transfer: departure, arrival, cancellation, handover (BAST), and
//! its actual costs. Member cases move in the same transaction, each change in
//! the case's history; money moves in the budgets' ledgers.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::costs;
use super::handlers::{not_found, transfer_response};
use super::model::{HandoverOutcome, TransferRow, TransferStatus};
use super::queries::{self, CostItem};
use crate::access::{Operation, TransferScope};
use crate::audit::Actor;
use crate::auth::Caller;
use crate::budgets::booking::Booking;
use crate::budgets::split::CostCategory;
use crate::cases::status::Mover;
use crate::cases::{CaseStatus, CaseView, store};
use crate::changes::{self, Change};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::Json;
use crate::http::idempotency::{self, Created};
use crate::schema::{transfer_cases, transfer_cost_items, transfers};
use crate::state::AppState;

/// A requested status change of a transfer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to": "departed", "reason": "Left RPTC Pontianak 08:10"}))]
pub struct TransferTransitionRequest {
    /// departed, arrived or cancelled.
    pub to: TransferStatus,
    /// Why (kept in the members' case histories).
    pub reason: String,
}

/// The cases in the transfer now, locked, in the caller's case view.
async fn active_members(conn: &mut AsyncPgConnection, transfer: Uuid) -> ApiResult<Vec<CaseView>> {
    let ids: Vec<Uuid> = transfer_cases::table
        .filter(
            transfer_cases::transfer_id
                .eq(transfer)
                .and(transfer_cases::active),
        )
        .select(transfer_cases::case_id)
        .load(conn)
        .await?;
    let mut members =
        crate::cases::queries::find_all_for_update(conn, &crate::access::CaseScope::All, &ids)
            .await?;
    if members.len() != ids.len() {
        return Err(ApiError::internal_msg(format!(
            "{} member case(s) of transfer {transfer} vanished",
            ids.len() - members.len()
        )));
    }
    members.sort_by(|a, b| a.case_number.cmp(&b.case_number));
    Ok(members)
}

/// Moves member cases by the transfer, checking each move.
async fn move_cases(
    conn: &mut AsyncPgConnection,
    change: &mut Change<'_>,
    members: &[CaseView],
    to: CaseStatus,
    reason: &str,
) -> ApiResult<()> {
    let stuck: Vec<FieldError> = members
        .iter()
        .filter(|c| !c.status.can_move_to(to, Mover::Transfer))
        .map(|c| {
            FieldError::new(
                c.id.to_string(),
                format!(
                    "case {} is {}, and cannot become {to}",
                    c.case_number, c.status
                ),
            )
        })
        .collect();
    if !stuck.is_empty() {
        return Err(ApiError::conflict(format!(
            "{} member case(s) cannot move with the transfer",
            stuck.len()
        ))
        .with_kind("member-cases-blocked", "Member cases cannot move")
        .with_fields(stuck));
    }
    for case in members {
        let entry = store::set_status(conn, case, to, Some(reason)).await?;
        change.touch_case(entry);
    }
    Ok(())
}

async fn set_transfer_status(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    to: TransferStatus,
) -> QueryResult<TransferRow> {
    let closed = matches!(to, TransferStatus::Cancelled | TransferStatus::HandedOver);
    diesel::update(transfers::table.find(id))
        .set((
            transfers::closed_at.eq(closed.then(Utc::now)),
            transfers::status.eq(to),
            transfers::version.eq(transfers::version + 1),
            transfers::updated_at.eq(Utc::now()),
        ))
        .returning(TransferRow::as_returning())
        .get_result(conn)
        .await
}

/// Change a transfer's status.
///
/// planned → departed (every member must be ready for transfer; they become
/// in transfer), departed → arrived, and planned or departed → cancelled (in
/// transfer members go back to ready for transfer, everything still committed
/// is released). `handed_over` is reached through the handover. Each member
/// case's move is in its history, with the reason.
#[utoipa::path(
    tag = "transfers",
    operation_id = "transition_transfer",
    params(("id" = Uuid, Path, description = "The transfer's id")),
    request_body = TransferTransitionRequest,
    responses(
        (status = 200, description = "The transfer in its new status", body = queries::TransferView),
        (status = 409, description = "Not allowed from the current status (`allowed` lists what is), or a member cannot move", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/transfers/{id}/transitions")]
pub async fn transition_transfer(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<TransferTransitionRequest>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::PlanTransfers)?;
    let request = body.0;
    let reason = request.reason.trim().to_owned();
    if reason.is_empty() {
        return Err(ApiError::invalid_field("reason", "must not be empty"));
    }
    let scope = caller.transfer_scope();
    let actor = Actor::from(&caller);
    let mut conn = state.pool.get().await?;
    let view = crate::db::retry_once(async || {
        conn.transaction::<_, ApiError, _>(async |conn| {
            let transfer = queries::find_for_update(conn, &scope, *id)
                .await?
                .ok_or_else(not_found)?;
            if !transfer.status.next().contains(&request.to) {
                let detail = if request.to == TransferStatus::HandedOver {
                    "a transfer is handed over through POST /api/v1/transfers/{id}/handover"
                        .to_owned()
                } else {
                    format!(
                        "a transfer that is {} cannot become {}",
                        transfer.status, request.to
                    )
                };
                return Err(ApiError::conflict(detail)
                    .with_kind("illegal-transition", "Transition not allowed")
                    .with_extension(
                        crate::error::ProblemMember::Current,
                        serde_json::json!(transfer.status),
                    )
                    .with_extension(
                        crate::error::ProblemMember::Allowed,
                        serde_json::json!(transfer.status.next()),
                    ));
            }
            let members = active_members(conn, transfer.id).await?;
            let note = format!("{} {}: {reason}", transfer.reference, request.to);
            let mut change = Change::transfer(
                &actor,
                "transfer.transition",
                transfer.id,
                request.to.as_str(),
            );
            match request.to {
                TransferStatus::Departed => {
                    if members.is_empty() {
                        return Err(ApiError::conflict(
                            "a transfer without returnees cannot depart",
                        ));
                    }
                    move_cases(conn, &mut change, &members, CaseStatus::InTransfer, &note).await?;
                }
                TransferStatus::Cancelled => {
                    if transfer.status == TransferStatus::Departed {
                        move_cases(
                            conn,
                            &mut change,
                            &members,
                            CaseStatus::ReadyForTransfer,
                            &note,
                        )
                        .await?;
                    }
                    diesel::update(
                        transfer_cases::table.filter(
                            transfer_cases::transfer_id
                                .eq(transfer.id)
                                .and(transfer_cases::active),
                        ),
                    )
                    .set((
                        transfer_cases::active.eq(false),
                        transfer_cases::removed_at.eq(Utc::now()),
                    ))
                    .execute(conn)
                    .await?;
                    costs::release_all(
                        conn,
                        &mut change,
                        &transfer,
                        "cancelled",
                        members.len() as i32,
                    )
                    .await?;
                }
                _ => {}
            }
            let row = set_transfer_status(conn, transfer.id, request.to).await?;
            let view = queries::view(conn, row).await?;
            let change = change
                .before(&serde_json::json!({"status": transfer.status}))
                .after(&serde_json::json!({"status": request.to, "reason": reason}));
            changes::record(conn, change).await?;
            Ok(view)
        })
        .await
    })
    .await?;
    Ok(transfer_response(StatusCode::OK, &view))
}

/// A person at the handover.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Drs. H. Rudi Hartono", "position": "Kepala Dinas Sosial Kota Singkawang"}))]
pub struct Signatory {
    /// Name.
    pub name: crate::text::Line<200>,
    /// Position.
    pub position: Option<crate::text::Line<200>>,
}

/// What became of one returnee.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"case_id": "8e2f0a4b-1c3d-4e5f-8a9b-0c1d2e3f4a5b", "outcome": "received"}))]
pub struct CaseOutcome {
    /// The case.
    pub case_id: Uuid,
    /// received, absconded, or returned_to_shelter.
    pub outcome: HandoverOutcome,
    /// Why, when not received.
    pub reason: Option<String>,
}

/// The handover (berita acara serah terima, BAST).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "bast_number": "BAST/460/DINSOS-SKW/III/2019", "handed_over_at": "2019-03-20T06:00:00Z",
    "received_by": {"name": "Drs. H. Rudi Hartono", "position": "Kepala Dinas Sosial Kota Singkawang"},
    "witnesses": [{"name": "Yusuf Hidayat", "position": "Pekerja Sosial, Dinsos Provinsi"}],
    "outcomes": [{"case_id": "8e2f0a4b-1c3d-4e5f-8a9b-0c1d2e3f4a5b", "outcome": "received"}]
}))]
pub struct HandoverRequest {
    /// The BAST's number.
    pub bast_number: crate::text::Line<100>,
    /// When the returnees were handed over.
    pub handed_over_at: DateTime<Utc>,
    /// Who received them.
    pub received_by: Signatory,
    /// Witnesses.
    #[serde(default)]
    pub witnesses: Vec<Signatory>,
    /// One outcome per returnee in the transfer.
    pub outcomes: Vec<CaseOutcome>,
}

/// Record the handover.
///
/// By the receiving agency (or the province running the transfer), once the
/// transfer has arrived: the BAST number, time, who received and witnesses,
/// and for every returnee an outcome. Received cases become returned;
/// absconded ones absconded; the others go back to ready for transfer. What
/// is still committed for the transfer is released.
#[utoipa::path(
    tag = "transfers",
    operation_id = "hand_over_transfer",
    params(("id" = Uuid, Path, description = "The transfer's id")),
    request_body = HandoverRequest,
    responses(
        (status = 200, description = "The handed-over transfer", body = queries::TransferView),
        (status = 409, description = "The transfer has not arrived", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/transfers/{id}/handover")]
pub async fn hand_over_transfer(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<HandoverRequest>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ConfirmHandover)?;
    let request = body.0;
    let mut errors = Vec::new();
    if request.bast_number.trim().is_empty() {
        errors.push(FieldError::new("bast_number", "must not be empty"));
    }
    if request.received_by.name.trim().is_empty() {
        errors.push(FieldError::new("received_by.name", "must not be empty"));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let scope = caller.transfer_scope();
    let actor = Actor::from(&caller);
    let mut conn = state.pool.get().await?;
    let view = crate::db::retry_once(async || {
        conn
            .transaction::<_, ApiError, _>(async |conn| {
                let transfer = queries::find_for_update(conn, &scope, *id).await?.ok_or_else(not_found)?;
                let runs_it = matches!(scope, TransferScope::All | TransferScope::HandledInProvince(_)) && caller.may(Operation::PlanTransfers);
                if !caller.is_system_admin() && !runs_it && transfer.receiving_agency_id != Some(caller.agency_id) {
                    return Err(ApiError::forbidden("the receiving agency, or the province running the transfer, confirms its handover"));
                }
                if transfer.status != TransferStatus::Arrived {
                    return Err(ApiError::conflict(format!("a transfer is handed over once it has arrived; this one is {}", transfer.status)));
                }
                let members = active_members(conn, transfer.id).await?;
                let mut errors = Vec::new();
                for (i, outcome) in request.outcomes.iter().enumerate() {
                    if !members.iter().any(|m| m.id == outcome.case_id) {
                        errors.push(FieldError::new(format!("outcomes[{i}].case_id"), "is not in this transfer"));
                    }
                }
                for member in &members {
                    if !request.outcomes.iter().any(|o| o.case_id == member.id) {
                        errors.push(FieldError::new("outcomes", format!("case {} has no outcome", member.case_number)));
                    }
                }
                if !errors.is_empty() {
                    return Err(ApiError::validation(errors));
                }
                let mut change = Change::transfer(&actor, "transfer.handover", transfer.id, "handed_over");
                for member in &members {
                    let outcome = request.outcomes.iter().find(|o| o.case_id == member.id).expect("checked above");
                    let to = match outcome.outcome {
                        HandoverOutcome::Received => CaseStatus::Returned,
                        HandoverOutcome::Absconded => CaseStatus::Absconded,
                        HandoverOutcome::ReturnedToShelter => CaseStatus::ReadyForTransfer,
                    };
                    let why = match &outcome.reason {
                        Some(r) => format!("{} handover {}: {} ({r})", transfer.reference, request.bast_number, outcome.outcome),
                        None => format!("{} handover {}: {}", transfer.reference, request.bast_number, outcome.outcome),
                    };
                    move_cases(conn, &mut change, std::slice::from_ref(member), to, &why).await?;
                    diesel::update(transfer_cases::table.find((transfer.id, member.id)))
                        .set((
                            transfer_cases::active.eq(false),
                            transfer_cases::removed_at.eq(Utc::now()),
                            transfer_cases::outcome.eq(outcome.outcome.as_str()),
                            transfer_cases::outcome_reason.eq(outcome.reason.as_deref()),
                        ))
                        .execute(conn)
                        .await?;
                }
                let received = request.outcomes.iter().filter(|o| o.outcome == HandoverOutcome::Received).count() as i32;
                costs::release_all(conn, &mut change, &transfer, "handed over; unspent commitment released", received).await?;
                let row: TransferRow = diesel::update(transfers::table.find(transfer.id))
                    .set((
                        transfers::status.eq(TransferStatus::HandedOver),
                        transfers::closed_at.eq(Utc::now()),
                        transfers::bast_number.eq(request.bast_number.trim()),
                        transfers::handed_over_at.eq(request.handed_over_at),
                        transfers::received_by_name.eq(request.received_by.name.trim()),
                        transfers::received_by_position.eq(request.received_by.position.as_deref()),
                        transfers::witnesses.eq(serde_json::to_value(&request.witnesses).map_err(ApiError::internal)?),
                        transfers::version.eq(transfers::version + 1),
                        transfers::updated_at.eq(Utc::now()),
                    ))
                    .returning(TransferRow::as_returning())
                    .get_result(conn)
                    .await?;
                let view = queries::view(conn, row).await?;
                changes::record(conn, change.after(&view)).await?;
                Ok(view)
            })
            .await
        })
        .await?;
    Ok(transfer_response(StatusCode::OK, &view))
}

/// An actual cost of a transfer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"category": "transport", "amount": 1_350_000, "receipt_number": "KW-2019-0317", "description": "Sewa minibus Pontianak–Singkawang",
                          "spent_on": "2019-03-20", "account_code": "5.1.02.04.01.0001", "payee": "CV Khatulistiwa Trans",
                          "sp2d_number": "SP2D-0317/LS/2019", "sp2d_date": "2019-03-27"}))]
pub struct NewCostItem {
    /// What it paid for.
    pub category: CostCategory,
    /// Whole rupiah, 1 to 10^15.
    #[schema(minimum = 1, maximum = 1_000_000_000_000_000_i64)]
    pub amount: i64,
    /// Receipt (kuitansi) number.
    #[schema(max_length = 100)]
    pub receipt_number: Option<String>,
    /// Description; tabs and line breaks allowed.
    #[schema(max_length = 1000)]
    pub description: Option<String>,
    /// Why the cost comes after the transfer was handed over or cancelled
    /// (required then, and accepted for 30 days after closing).
    pub late_reason: Option<String>,
    /// When the money was spent (date).
    pub spent_on: Option<chrono::NaiveDate>,
    /// Kode rekening (APBD, `5.1.02.04.01.0001`) or akun (APBN, `524111`); see docs/money.md.
    pub account_code: Option<String>,
    /// Who was paid.
    pub payee: Option<String>,
    /// The payment order (SP2D) number, once paid (with its date).
    pub sp2d_number: Option<String>,
    /// The payment order's date.
    pub sp2d_date: Option<chrono::NaiveDate>,
}

/// How many days after a transfer is handed over or cancelled its late costs
/// (a receipt that arrives after the BAST, a ticket already paid for a
/// cancelled trip) may still be recorded, each with a reason. After that the
/// transfer's money is closed and a cost is refused: the budget's finance
/// officer records it by hand, outside the transfer.
pub const LATE_COST_DAYS: i64 = 30;

/// Whether a cost may still be recorded on `transfer` at `now`: always while
/// it runs; after it closed, with a reason and within [`LATE_COST_DAYS`].
pub fn late_cost_rule(
    transfer: &TransferRow,
    late_reason: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<Option<String>> {
    if !matches!(
        transfer.status,
        TransferStatus::HandedOver | TransferStatus::Cancelled
    ) {
        return Ok(None);
    }
    let closed_at = transfer.closed_at.unwrap_or(transfer.updated_at);
    if now - closed_at > chrono::Duration::days(LATE_COST_DAYS) {
        return Err(ApiError::conflict(format!(
            "transfer {} was {} on {}; costs are accepted for {LATE_COST_DAYS} days after that",
            transfer.reference,
            transfer.status,
            closed_at.date_naive()
        ))
        .with_kind("transfer-costs-closed", "Transfer's costs are closed")
        .with_extension(
            crate::error::ProblemMember::ClosedAt,
            serde_json::json!(closed_at),
        ));
    }
    match late_reason.map(str::trim).filter(|r| !r.is_empty()) {
        Some(reason) => Ok(Some(reason.to_owned())),
        None => Err(ApiError::invalid_field(
            "late_reason",
            format!(
                "is required: the transfer is {}, so the cost comes late",
                transfer.status
            ),
        )),
    }
}

/// Propose an actual cost.
///
/// A case worker of the province running the transfer records what was spent
/// (with its receipt, date of spending, account code, payee and payment
/// order); nothing moves in the budgets yet. A finance officer of a budget
/// that pays it confirms it with
/// `POST /api/v1/transfers/{id}/costs/{item_id}/confirmation`, and only then
/// is it realised through the split rule (separation of duties). A cost no
/// budget could pay is refused at once (409). After the transfer is handed
/// over or cancelled, a cost needs a `late_reason` and is accepted for 30
/// days after closing, then refused (409 `transfer-costs-closed`). Send an
/// `Idempotency-Key` header so that a retry after a 503 or a lost answer
/// records nothing twice.
#[utoipa::path(
    tag = "transfers",
    operation_id = "create_transfer_cost",
    params(
        ("id" = Uuid, Path, description = "The transfer's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry within 24 hours return the first answer instead of recording the cost again"),
    ),
    request_body = NewCostItem,
    responses(
        (status = 201, description = "The proposed cost item", body = CostItem),
        (status = 409, description = "No budget to charge, or the transfer's costs are closed", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/transfers/{id}/costs")]
pub async fn create_transfer_cost(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    req: HttpRequest,
    body: Json<NewCostItem>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::PlanTransfers)?;
    let key = idempotency::key_of(&req)?;
    let hash = idempotency::fingerprint(&(*id, &body.0));
    let item = body.0;
    let mut errors: Vec<crate::error::FieldError> =
        crate::money::check_amount("amount", item.amount, 1)
            .into_iter()
            .collect();
    let receipt_number = crate::text::check_field(
        "receipt_number",
        item.receipt_number.clone(),
        100,
        false,
        &mut errors,
    );
    let description = crate::text::check_field(
        "description",
        item.description.clone(),
        1000,
        true,
        &mut errors,
    );
    let booking = Booking::parse(
        item.spent_on,
        item.account_code.as_deref(),
        item.payee.as_deref(),
        item.sp2d_number.as_deref(),
        item.sp2d_date,
        &mut errors,
    );
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let scope = caller.transfer_scope();
    let actor = Actor::from(&caller);
    let mut conn = state.pool.get().await?;
    // Realising a cost locks several budgets: a deadlock is run once more.
    let saved = match crate::db::retry_once(async || {
        conn.transaction::<_, ApiError, _>(async |conn| {
            idempotency::create_once(
                conn,
                caller.principal_id,
                key.as_deref(),
                &hash,
                |_| None,
                async |conn| {
                    let transfer = queries::find_for_update(conn, &scope, *id)
                        .await?
                        .ok_or_else(not_found)?;
                    let late = late_cost_rule(&transfer, item.late_reason.as_deref(), Utc::now())?;
                    let saved: CostItem = diesel::insert_into(transfer_cost_items::table)
                        .values((
                            transfer_cost_items::transfer_id.eq(transfer.id),
                            transfer_cost_items::category.eq(item.category),
                            transfer_cost_items::amount.eq(item.amount),
                            transfer_cost_items::receipt_number.eq(receipt_number.as_deref()),
                            transfer_cost_items::description.eq(description.as_deref()),
                            transfer_cost_items::recorded_by.eq(caller.principal_id),
                            transfer_cost_items::late_reason.eq(late.as_deref()),
                            transfer_cost_items::spent_on.eq(booking.spent_on),
                            transfer_cost_items::account_code.eq(booking.account_code.as_deref()),
                            transfer_cost_items::payee.eq(booking.payee.as_deref()),
                            transfer_cost_items::sp2d_number.eq(booking.sp2d_number.as_deref()),
                            transfer_cost_items::sp2d_date.eq(booking.sp2d_date),
                        ))
                        .returning(CostItem::as_returning())
                        .get_result(conn)
                        .await?;
                    // Nothing moves yet: a finance officer of a paying budget
                    // confirms the proposal (separation of duties). The split is
                    // tried now so that a cost no budget could pay is refused at once.
                    costs::paying_budgets(conn, &transfer, item.category, item.amount).await?;
                    queries::touch(conn, transfer.id).await?;
                    changes::record(
                        conn,
                        Change::transfer(
                            &actor,
                            "transfer.cost_proposed",
                            transfer.id,
                            "cost_proposed",
                        )
                        .after(&saved),
                    )
                    .await?;
                    Ok(saved)
                },
            )
            .await
        })
        .await
    })
    .await
    {
        Ok(saved) => saved,
        // A budget outside the caller's scope is not named in a refusal.
        Err(error) => {
            return Err(crate::budgets::ledger::as_seen_by(
                &mut conn,
                &caller.budget_scope(),
                error,
            )
            .await);
        }
    };
    Ok(match saved {
        Created::New(saved) => HttpResponse::Created().json(saved),
        Created::Replayed(replay) => replay.respond(),
    })
}

pub(super) async fn handed_over_count(
    conn: &mut AsyncPgConnection,
    transfer: Uuid,
) -> QueryResult<i32> {
    let n: i64 = transfer_cases::table
        .filter(transfer_cases::transfer_id.eq(transfer))
        .filter(transfer_cases::outcome.eq("received"))
        .count()
        .get_result(conn)
        .await?;
    Ok(n as i32)
}
