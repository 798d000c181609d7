//! `GET/POST /api/v1/budgets`, `GET/PATCH /api/v1/budgets/{id}` and the ledger.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::ledger::{self, NewEntry};
use super::model::{
    Budget, BudgetPatch, BudgetRow, BudgetStatus, FundingSource, LedgerEntry, LedgerKind, NewBudget,
};
use super::queries::{self, BudgetFilter};
use crate::access::{Operation, province_of};
use crate::agencies::queries as agencies;
use crate::audit::Actor;
use crate::auth::Caller;
use crate::changes::{self, Change};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::csv::Line;
use crate::http::extract::{Json, Query};
use crate::http::idempotency::{self, Created};
use crate::http::pagination::{Page, decode_cursor};
use crate::schema::{budget_ledger, budgets};
use crate::state::AppState;

/// The answer for a budget that does not exist or is outside the caller's scope.
pub fn not_found() -> ApiError {
    ApiError::not_found("there is no such budget, or it is not yours to see")
}

/// Refuses unless the caller may manage budgets and belongs to the owning agency.
pub fn require_owner(caller: &Caller, owner: Uuid) -> ApiResult<()> {
    caller.require(Operation::ManageBudgets)?;
    if caller.is_system_admin() || caller.agency_id == owner {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only the finance officers of the owning agency manage a budget",
        ))
    }
}

/// Filters of `GET /api/v1/budgets`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BudgetListQuery {
    /// Fiscal year.
    pub fiscal_year: Option<i32>,
    /// Funding source.
    pub source: Option<FundingSource>,
    /// Owning agency.
    pub owner_agency_id: Option<Uuid>,
    /// Status.
    pub status: Option<BudgetStatus>,
}

/// List budgets.
///
/// The budgets the caller may see, each with its derived balance, newest
/// fiscal year first. The ministry sees national (APBN) budgets; a provincial
/// service or secretariat the budgets of its province and its regencies; a
/// regency its own.
#[utoipa::path(
    tag = "budgets",
    operation_id = "list_budgets",
    params(BudgetListQuery),
    responses((status = 200, description = "Budgets with balances", body = Vec<Budget>))
)]
#[get("/budgets")]
pub async fn list_budgets(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<BudgetListQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ReadBudgets)?;
    let filter = BudgetFilter {
        fiscal_year: query.fiscal_year,
        source: query.source,
        owner_agency_id: query.owner_agency_id,
        status: query.status,
    };
    let list = queries::list(
        &mut *state.pool.get().await?,
        &caller.budget_scope(),
        &filter,
    )
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Get a budget.
///
/// One budget with its derived balance: allocated, committed, realised, available.
#[utoipa::path(
    tag = "budgets",
    operation_id = "get_budget",
    params(("id" = Uuid, Path, description = "The budget's id")),
    responses((status = 200, description = "The budget", body = Budget))
)]
#[get("/budgets/{id}")]
pub async fn get_budget(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ReadBudgets)?;
    let budget = queries::find(&mut *state.pool.get().await?, &caller.budget_scope(), *id)
        .await?
        .ok_or_else(not_found)?;
    Ok(HttpResponse::Ok().json(budget))
}

/// Create a budget.
///
/// For finance officers of the owning agency. The owner must fit the source:
/// APBN a ministry, apbd_province a provincial social service, apbd_regency a
/// regency social service. The allocation (pagu) becomes the ledger's first
/// entry. Send an `Idempotency-Key` header so that a retry after a 503 or a
/// lost answer creates nothing twice.
#[utoipa::path(
    tag = "budgets",
    operation_id = "create_budget",
    request_body = NewBudget,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry within 24 hours return the first answer instead of creating again")),
    responses((status = 201, description = "The new budget", body = Budget))
)]
#[post("/budgets")]
pub async fn create_budget(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: Json<NewBudget>,
) -> ApiResult<HttpResponse> {
    let key = idempotency::key_of(&req)?;
    let hash = idempotency::fingerprint(&body.0);
    let new = body.0;
    let owner_id = new.owner_agency_id.unwrap_or(caller.agency_id);
    require_owner(&caller, owner_id)?;
    let mut conn = state.pool.get().await?;
    let owner = agencies::find(&mut conn, owner_id)
        .await?
        .ok_or_else(|| ApiError::invalid_field("owner_agency_id", "there is no such agency"))?;
    let mut errors = Vec::new();
    if owner.kind != new.source.owner_kind() {
        errors.push(FieldError::new(
            "source",
            format!(
                "{} budgets are owned by a {}, and this owner is a {}",
                new.source,
                new.source.owner_kind(),
                owner.kind
            ),
        ));
    }
    if !(2000..=2100).contains(&new.fiscal_year) {
        errors.push(FieldError::new(
            "fiscal_year",
            "must be between 2000 and 2100",
        ));
    }
    errors.extend(crate::money::check_amount("allocation", new.allocation, 0));
    let name = crate::agencies::rules::check_name("name", &new.name)
        .map_err(|e| errors.push(e))
        .ok();
    let document = crate::agencies::rules::check_name("document_number", &new.document_number)
        .map_err(|e| errors.push(e))
        .ok();
    let activity_code = crate::text::check_field(
        "activity_code",
        new.activity_code.clone(),
        200,
        false,
        &mut errors,
    );
    if new.status == Some(BudgetStatus::Closed) {
        errors.push(FieldError::new("status", "a new budget is draft or active"));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let province = match new.source {
        FundingSource::Apbn => None,
        _ => owner
            .region_code
            .as_deref()
            .map(|r| province_of(r).to_owned()),
    };
    let actor = Actor::from(&caller);
    let location = |b: &Budget| Some(format!("/api/v1/budgets/{}", b.id));
    let budget = conn
        .transaction::<_, ApiError, _>(async |conn| {
            idempotency::create_once(
                conn,
                caller.principal_id,
                key.as_deref(),
                &hash,
                location,
                async |conn| {
                    let row: BudgetRow = diesel::insert_into(budgets::table)
                        .values((
                            budgets::fiscal_year.eq(new.fiscal_year),
                            budgets::source.eq(new.source),
                            budgets::owner_agency_id.eq(owner.id),
                            budgets::province_code.eq(province),
                            budgets::document_number.eq(document.unwrap_or_default()),
                            budgets::activity_code.eq(&activity_code),
                            budgets::name.eq(name.unwrap_or_default()),
                            budgets::status.eq(BudgetStatus::Draft),
                        ))
                        .returning(BudgetRow::as_returning())
                        .get_result(conn)
                        .await?;
                    let mut change = Change::budget(&actor, "budget.create", row.id, "created");
                    ledger::append(
                        conn,
                        &mut change,
                        &row,
                        NewEntry::new(LedgerKind::Allocation, new.allocation, "allocation (pagu)"),
                    )
                    .await?;
                    let row = if new.status == Some(BudgetStatus::Active) {
                        set_status(conn, row.id, BudgetStatus::Active).await?
                    } else {
                        row
                    };
                    let budget = queries::with_balances(conn, vec![row]).await?.remove(0);
                    changes::record(conn, change.after(&budget)).await?;
                    Ok(budget)
                },
            )
            .await
        })
        .await?;
    Ok(match budget {
        Created::New(budget) => HttpResponse::Created()
            .insert_header(("Location", format!("/api/v1/budgets/{}", budget.id)))
            .json(budget),
        Created::Replayed(replay) => replay.respond(),
    })
}

async fn set_status(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    status: BudgetStatus,
) -> QueryResult<BudgetRow> {
    diesel::update(budgets::table.find(id))
        .set((
            budgets::status.eq(status),
            budgets::version.eq(budgets::version + 1),
            budgets::updated_at.eq(diesel::dsl::now),
        ))
        .returning(BudgetRow::as_returning())
        .get_result(conn)
        .await
}

/// Change a budget's description or status.
///
/// Status moves draft → active → closed and never back; money moves only
/// through ledger entries.
#[utoipa::path(
    tag = "budgets",
    operation_id = "update_budget",
    params(("id" = Uuid, Path, description = "The budget's id")),
    request_body = BudgetPatch,
    responses(
        (status = 200, description = "The changed budget", body = Budget),
        (status = 409, description = "A status change backwards", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/budgets/{id}")]
pub async fn update_budget(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<BudgetPatch>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ManageBudgets)?;
    let scope = caller.budget_scope();
    let patch = body.0;
    let actor = Actor::from(&caller);
    let mut conn = state.pool.get().await?;
    let budget = conn
        .transaction::<_, ApiError, _>(async |conn| {
            // Locked before it is read, so that the status checked below is the
            // one the update replaces: of two racing status changes, the second
            // sees the first's outcome.
            ledger::lock(conn, *id).await?;
            let before = queries::find(conn, &scope, *id)
                .await?
                .ok_or_else(not_found)?;
            require_owner(&caller, before.owner_agency_id)?;
            if let Some(to) = patch.status {
                let forward = matches!(
                    (before.status, to),
                    (BudgetStatus::Draft, BudgetStatus::Active)
                        | (BudgetStatus::Active, BudgetStatus::Closed)
                ) || before.status == to;
                if !forward {
                    return Err(ApiError::conflict(format!(
                        "a budget that is {} cannot become {to}",
                        before.status
                    )));
                }
            }
            let mut errors = Vec::new();
            let name = patch
                .name
                .as_deref()
                .map(|n| crate::agencies::rules::check_name("name", n))
                .transpose()
                .map_err(|e| errors.push(e))
                .ok()
                .flatten();
            let document_number = patch
                .document_number
                .as_deref()
                .map(|n| crate::agencies::rules::check_name("document_number", n))
                .transpose()
                .map_err(|e| errors.push(e))
                .ok()
                .flatten();
            let activity_code = crate::text::check_field(
                "activity_code",
                patch.activity_code.clone(),
                200,
                false,
                &mut errors,
            );
            if !errors.is_empty() {
                return Err(ApiError::validation(errors));
            }
            let row: BudgetRow = diesel::update(budgets::table.find(before.id))
                .set((
                    budgets::name.eq(name.unwrap_or_else(|| before.name.clone())),
                    budgets::document_number
                        .eq(document_number.unwrap_or_else(|| before.document_number.clone())),
                    budgets::activity_code
                        .eq(activity_code.or_else(|| before.activity_code.clone())),
                    budgets::status.eq(patch.status.unwrap_or(before.status)),
                    budgets::version.eq(budgets::version + 1),
                    budgets::updated_at.eq(diesel::dsl::now),
                ))
                .returning(BudgetRow::as_returning())
                .get_result(conn)
                .await?;
            let after = queries::with_balances(conn, vec![row]).await?.remove(0);
            let change = Change::budget(&actor, "budget.update", after.id, "updated");
            changes::record(conn, change.before(&before).after(&after)).await?;
            Ok(after)
        })
        .await?;
    Ok(HttpResponse::Ok().json(budget))
}

/// Filters of the ledger.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LedgerQuery {
    /// Entries booked on or after this date (date of spending, else the day recorded).
    #[param(example = "2019-01-01")]
    pub from: Option<chrono::NaiveDate>,
    /// Entries booked on or before this date.
    #[param(example = "2019-03-31")]
    pub to: Option<chrono::NaiveDate>,
    /// allocation, revision, commitment, release or realisation.
    pub kind: Option<LedgerKind>,
    /// Entries of this transfer.
    pub transfer_id: Option<Uuid>,
    /// Entries on this account code (kode rekening / akun).
    pub account_code: Option<String>,
    /// Page size, 1 to 1000 (default 500); the CSV export has every entry.
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The columns of the ledger's CSV export.
const LEDGER_COLUMNS: &[&str] = &[
    "id",
    "recorded_at",
    "spent_on",
    "kind",
    "amount",
    "reason",
    "transfer_id",
    "cost_item_id",
    "reverses_id",
    "account_code",
    "payee",
    "sp2d_number",
    "sp2d_date",
    "agreement_id",
    "missing_agreement",
    "actor_name",
];

fn ledger_csv(entries: &[LedgerEntry]) -> String {
    let mut out = String::from(crate::http::csv::BOM);
    let mut header = Line::new();
    for column in LEDGER_COLUMNS {
        header.text(column);
    }
    out.push_str(&header.finish());
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string());
    let id = |u: Option<Uuid>| u.map(|u| u.to_string());
    for e in entries {
        let mut line = Line::new();
        line.number(e.id)
            .time(Some(e.recorded_at))
            .opt(date(e.spent_on).as_deref())
            .text(e.kind.as_str())
            .number(e.amount)
            .text(&e.reason)
            .opt(id(e.transfer_id).as_deref())
            .opt(id(e.cost_item_id).as_deref())
            .opt(e.reverses_id.map(|r| r.to_string()).as_deref())
            .opt(e.account_code.as_deref())
            .opt(e.payee.as_deref())
            .opt(e.sp2d_number.as_deref())
            .opt(date(e.sp2d_date).as_deref())
            .opt(id(e.agreement_id).as_deref())
            .text(if e.missing_agreement { "true" } else { "false" })
            .opt(e.actor_name.as_deref());
        out.push_str(&line.finish());
    }
    out
}

/// Pages of a budget's ledger: 500 entries unless `limit` says otherwise, at most 1,000.
pub const LEDGER_PAGE: crate::http::pagination::PageSize = crate::http::pagination::PageSize {
    default: 500,
    max: 1000,
};

/// List a budget's ledger.
///
/// Every movement of the budget, oldest first: allocation, revisions,
/// commitments, releases and realisations, with who, when, why, what they
/// refer to and what was booked (date of spending, account code, payee,
/// payment order). Filter by booked date (`from`, `to`), `kind`,
/// `transfer_id` and `account_code`; with `Accept: text/csv` the same
/// entries come as a spreadsheet (all of them, unpaged). Pages of `limit`
/// entries follow `next_cursor` (keyset on the entry's position). Entries are never changed; corrections are
/// reversing entries.
#[utoipa::path(
    tag = "budgets",
    operation_id = "list_budget_ledger",
    params(("id" = Uuid, Path, description = "The budget's id"), LedgerQuery),
    responses((status = 200, description = "A page of the ledger, oldest first",
               content((Page<LedgerEntry> = "application/json"), (String = "text/csv"))))
)]
#[get("/budgets/{id}/ledger")]
pub async fn list_budget_ledger(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    query: Query<LedgerQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ReadBudgets)?;
    let csv = crate::http::csv::wants_csv(&req);
    let limit = LEDGER_PAGE.of(query.limit)?;
    let after: Option<i64> = query
        .cursor
        .as_deref()
        .map(decode_cursor::<i64>)
        .transpose()?;
    let mut conn = state.pool.get().await?;
    queries::find(&mut conn, &caller.budget_scope(), *id)
        .await?
        .ok_or_else(not_found)?;
    let booked = || diesel::dsl::sql::<diesel::sql_types::Date>(super::realisation::BOOKED_ON);
    let mut q = budget_ledger::table
        .filter(budget_ledger::budget_id.eq(*id))
        .into_boxed();
    if let Some(from) = query.from {
        q = q.filter(booked().ge(from));
    }
    if let Some(to) = query.to {
        q = q.filter(booked().le(to));
    }
    if let Some(kind) = query.kind {
        q = q.filter(budget_ledger::kind.eq(kind));
    }
    if let Some(transfer) = query.transfer_id {
        q = q.filter(budget_ledger::transfer_id.eq(transfer));
    }
    if let Some(code) = &query.account_code {
        q = q.filter(budget_ledger::account_code.eq(code.trim().to_owned()));
    }
    if !csv {
        if let Some(after) = after {
            q = q.filter(budget_ledger::id.gt(after));
        }
        q = q.limit(limit as i64 + 1);
    }
    let entries: Vec<LedgerEntry> = q
        .order(budget_ledger::id)
        .select(LedgerEntry::as_select())
        .load(&mut conn)
        .await?;
    if csv {
        return Ok(HttpResponse::Ok()
            .content_type(crate::http::csv::TEXT_CSV)
            .insert_header((
                "Content-Disposition",
                format!("attachment; filename=\"ledger-{id}.csv\""),
            ))
            .body(ledger_csv(&entries)));
    }
    Ok(HttpResponse::Ok().json(Page::from_rows(entries, limit, |e| e.id)))
}

/// A ledger entry recorded by hand.
#[derive(Debug, serde::Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "revision", "amount": 50_000_000, "reason": "APBD-P 2019 (perubahan)"}))]
pub struct LedgerRequest {
    /// revision, commitment, release or realisation. Absent with `reverses_id`.
    pub kind: Option<LedgerKind>,
    /// Whole rupiah, at most 10^15 either way; positive, except a downward revision. Absent with `reverses_id`.
    #[schema(minimum = -1_000_000_000_000_000_i64, maximum = 1_000_000_000_000_000_i64)]
    pub amount: Option<i64>,
    /// Why.
    pub reason: crate::text::Line<1000>,
    /// Reverse this entry instead (same kind, opposite amount; once only).
    pub reverses_id: Option<i64>,
    /// The cost-sharing agreement a `settlement` pays under (only with that kind).
    pub agreement_id: Option<Uuid>,
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

/// Record a ledger entry.
///
/// For finance officers of the owning agency: a revision of the allocation,
/// a commitment, release or realisation outside a transfer, a `settlement`
/// of a regency's share under an agreement (naming `agreement_id`; it does
/// not change the balance and cannot exceed what is owed), or the reversal
/// of an earlier manual entry. Entries that belong to a transfer change only
/// through the transfer (409 `transfer-entry`). An entry that would take the available amount below zero
/// is refused with a 409 stating the `shortfall`, also when requests arrive at
/// once: entries of one budget are serialised by a row lock. Send an
/// `Idempotency-Key` header so that a retry after a 503 or a lost answer
/// records nothing twice.
#[utoipa::path(
    tag = "budgets",
    operation_id = "create_ledger_entry",
    params(
        ("id" = Uuid, Path, description = "The budget's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry within 24 hours return the first answer instead of recording the entry again"),
    ),
    request_body = LedgerRequest,
    responses(
        (status = 201, description = "The entry", body = LedgerEntry),
        (status = 409, description = "Not enough available (`shortfall`), more released than committed, or the budget is not open", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "/problems/insufficient-funds", "title": "Insufficient funds", "status": 409,
                          "detail": "budget Pemulangan WNI-M KPO 2019 (DPA-1.06.01-2019): the budget has 1000000 rupiah available; this entry is 500000 rupiah short",
                          "instance": "/api/v1/budgets/1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9/ledger", "request_id": "trace-1",
                          "budget_id": "1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9", "available": 1_000_000, "shortfall": 500_000})),
    )
)]
#[post("/budgets/{id}/ledger")]
pub async fn create_ledger_entry(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    req: HttpRequest,
    body: Json<LedgerRequest>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ManageBudgets)?;
    let key = idempotency::key_of(&req)?;
    let hash = idempotency::fingerprint(&(*id, &body.0));
    let request = body.0;
    let reason = request.reason.trim().to_owned();
    if reason.is_empty() {
        return Err(ApiError::invalid_field("reason", "must not be empty"));
    }
    let mut errors = Vec::new();
    let booking = crate::budgets::booking::Booking::parse(
        request.spent_on,
        request.account_code.as_deref(),
        request.payee.as_deref(),
        request.sp2d_number.as_deref(),
        request.sp2d_date,
        &mut errors,
    );
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let scope = caller.budget_scope();
    let actor = Actor::from(&caller);
    let mut conn = state.pool.get().await?;
    let entry = conn
        .transaction::<_, ApiError, _>(async |conn| {
            idempotency::create_once(
                conn,
                caller.principal_id,
                key.as_deref(),
                &hash,
                |_| None,
                async |conn| {
                    let visible = queries::find(conn, &scope, *id)
                        .await?
                        .ok_or_else(not_found)?;
                    require_owner(&caller, visible.owner_agency_id)?;
                    let budget = ledger::lock(conn, *id).await?.ok_or_else(not_found)?;
                    let new = match request.reverses_id {
                        Some(original_id) => reversal(conn, &budget, original_id, reason).await?,
                        None => {
                            let plain = manual_entry(request.kind, request.amount, reason)?;
                            let agreement_id = if plain.kind == LedgerKind::Settlement {
                                Some(
                                    super::settlements::check(
                                        conn,
                                        &budget,
                                        request.agreement_id,
                                        plain.amount,
                                    )
                                    .await?,
                                )
                            } else if request.agreement_id.is_some() {
                                return Err(ApiError::invalid_field(
                                    "agreement_id",
                                    "only a settlement names an agreement",
                                ));
                            } else {
                                None
                            };
                            NewEntry {
                                booking: booking.clone(),
                                agreement_id,
                                ..plain
                            }
                        }
                    };
                    // The entry's own feed event (`ledger_entry`) is the budget's.
                    let mut change = Change::of(&actor, "budget.ledger", "budget", budget.id);
                    let entry = ledger::append(conn, &mut change, &budget, new).await?;
                    changes::record(conn, change.after(&entry)).await?;
                    Ok(entry)
                },
            )
            .await
        })
        .await?;
    Ok(match entry {
        Created::New(entry) => HttpResponse::Created().json(entry),
        Created::Replayed(replay) => replay.respond(),
    })
}

fn manual_entry(
    kind: Option<LedgerKind>,
    amount: Option<i64>,
    reason: String,
) -> ApiResult<NewEntry> {
    let mut errors = Vec::new();
    match kind {
        None => errors.push(FieldError::new("kind", "is required (or give reverses_id)")),
        Some(LedgerKind::Allocation) => errors.push(FieldError::new(
            "kind",
            "the allocation is set when the budget is created; change it with a revision",
        )),
        Some(_) => {}
    }
    match (kind, amount) {
        (_, None) => errors.push(FieldError::new(
            "amount",
            "is required (or give reverses_id)",
        )),
        (Some(LedgerKind::Revision), Some(0)) => {
            errors.push(FieldError::new("amount", "must not be 0"))
        }
        (Some(k), Some(a)) if k != LedgerKind::Revision && a <= 0 => {
            errors.push(FieldError::new("amount", "must be at least 1 rupiah"))
        }
        (_, Some(a)) if a.checked_abs().is_none_or(|a| a > crate::money::MAX_RUPIAH) => errors
            .push(FieldError::new(
                "amount",
                "must be at most 1000000000000000 rupiah (10^15) either way",
            )),
        _ => {}
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(NewEntry::new(
        kind.unwrap_or(LedgerKind::Revision),
        amount.unwrap_or_default(),
        reason,
    ))
}

async fn reversal(
    conn: &mut AsyncPgConnection,
    budget: &BudgetRow,
    original_id: i64,
    reason: String,
) -> ApiResult<NewEntry> {
    let original: LedgerEntry = budget_ledger::table
        .filter(
            budget_ledger::id
                .eq(original_id)
                .and(budget_ledger::budget_id.eq(budget.id)),
        )
        .select(LedgerEntry::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::invalid_field("reverses_id", "this budget has no such entry"))?;
    if original.reverses_id.is_some() {
        return Err(ApiError::invalid_field(
            "reverses_id",
            "a reversal cannot itself be reversed",
        ));
    }
    if let Some(transfer) = original.transfer_id {
        // Commitments, releases and realisations of a transfer move only with
        // the transfer (its plan, cost items, handover or cancellation), so
        // that its cost items, its ledger entries on every paying budget and
        // the agreed split always agree (issue 23).
        return Err(ApiError::conflict(format!(
            "entry {original_id} belongs to transfer {transfer}: it changes only through the \
             transfer (cancel the cost item, raise a dispute about a share, or change the plan)"
        ))
        .with_kind("transfer-entry", "Entry belongs to a transfer")
        .with_extension(
            crate::error::ProblemMember::TransferId,
            serde_json::json!(transfer),
        ));
    }
    let already: bool = diesel::select(diesel::dsl::exists(
        budget_ledger::table.filter(budget_ledger::reverses_id.eq(original_id)),
    ))
    .get_result(conn)
    .await?;
    if already {
        return Err(ApiError::conflict(format!(
            "entry {original_id} has already been reversed"
        )));
    }
    Ok(NewEntry {
        reverses_id: Some(original_id),
        transfer_id: original.transfer_id,
        cost_item_id: original.cost_item_id,
        case_count: original.case_count.map(|c| -c),
        agreement_id: original.agreement_id,
        missing_agreement: original.missing_agreement,
        booking: original.booking(),
        ..NewEntry::new(original.kind, -original.amount, reason)
    })
}
