//! `GET /api/v1/events`: the change feed.

use std::time::{Duration, Instant};

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::{BudgetScope, CaseScope, Operation, TransferScope};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Query;
use crate::http::pagination::{decode_cursor, encode_cursor};
use crate::schema::change_events as ev;
use crate::state::AppState;

/// One change.
#[derive(Debug, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = ev)]
#[schema(example = json!({
    "occurred_at": "2019-03-20T01:05:00Z", "entity_type": "case", "entity_id": "8e2f0a4b-1c3d-4e5f-8a9b-0c1d2e3f4a5b",
    "action": "status_changed", "data": {"status": "in_transfer", "version": 5, "case_number": "PLG-2019-000042"}
}))]
pub struct ChangeEvent {
    #[serde(skip)]
    txid: i64,
    #[serde(skip)]
    id: i64,
    /// When the change was made.
    pub occurred_at: DateTime<Utc>,
    /// `case`, `transfer` or `budget`.
    pub entity_type: String,
    /// The changed record; read it for the whole state.
    pub entity_id: Uuid,
    /// What happened: `created`, `updated`, `status_changed`, `members_changed`, `handed_over`, `ledger_entry`, …
    pub action: String,
    /// A few fields of the record after the change (status, version, number).
    #[schema(value_type = Object)]
    pub data: Option<serde_json::Value>,
}

/// A page of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    /// Events after the cursor, oldest first.
    pub events: Vec<ChangeEvent>,
    /// Pass as `after` next time; it only moves forward. Present even when no event came.
    pub next_cursor: String,
}

/// Parameters of the feed.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// The `next_cursor` of the previous page; from the beginning when absent.
    pub after: Option<String>,
    /// At most this many events (1 to 1000, default 100).
    pub limit: Option<u32>,
    /// Wait up to this many seconds (at most 30) for an event when there is none yet.
    pub wait: Option<u32>,
}

type Visible = Box<dyn BoxableExpression<ev::table, Pg, SqlType = Bool>>;

fn never() -> Visible {
    Box::new(sql::<Bool>("false"))
}

/// The events a caller may see: those of the records its scopes reach.
fn visible(caller: &Caller) -> Visible {
    let cases: Visible = if !caller.may(Operation::ReadCases) {
        never()
    } else {
        match caller.case_scope() {
            CaseScope::All => Box::new(sql::<Bool>("true")),
            CaseScope::HandledInProvince(p) => {
                Box::new(ev::handling_province.eq(p).assume_not_null())
            }
            CaseScope::OriginRegency(r) => Box::new(ev::origin_region.eq(r).assume_not_null()),
            // A source follows the cases it reported, also those its reports were attached to.
            CaseScope::PushedBy(a) => Box::new(
                ev::source_agency_id.eq(a).assume_not_null().or(sql::<Bool>(
                    "change_events.entity_id = ANY(ARRAY(SELECT r.case_id FROM case_reports r WHERE r.attached AND r.source_agency_id = ",
                )
                .bind::<diesel::sql_types::Uuid, _>(a)
                .sql("))")),
            ),
            // Only cases whose returnee consented now: a withdrawn consent hides
            // the case's earlier events too.
            CaseScope::ConsentedInProvince(p) => Box::new(
                ev::handling_province.eq(p).assume_not_null().and(sql::<Bool>(
                    "EXISTS (SELECT 1 FROM cases c WHERE c.id = change_events.entity_id AND c.consent = 'given')",
                )),
            ),
            CaseScope::Nothing => never(),
        }
    };
    let transfers: Visible = if !caller.may(Operation::ReadTransfers) {
        never()
    } else {
        match caller.transfer_scope() {
            TransferScope::All => Box::new(sql::<Bool>("true")),
            TransferScope::OutOfProvince => {
                Box::new(ev::out_of_province.eq(true).assume_not_null())
            }
            TransferScope::HandledInProvince(p) => {
                Box::new(ev::handling_province.eq(p).assume_not_null())
            }
            TransferScope::Destination { regency, agency } => Box::new(
                ev::destination_region
                    .eq(regency)
                    .assume_not_null()
                    .or(ev::receiving_agency_id.eq(agency).assume_not_null()),
            ),
            TransferScope::Nothing => never(),
        }
    };
    let budgets: Visible = if !caller.may(Operation::ReadBudgets) {
        never()
    } else {
        match caller.budget_scope() {
            BudgetScope::All => Box::new(sql::<Bool>("true")),
            BudgetScope::National => Box::new(ev::budget_source.eq("apbn").assume_not_null()),
            BudgetScope::Province(p) => Box::new(ev::budget_province.eq(p).assume_not_null()),
            BudgetScope::OwnAgency(a) => Box::new(ev::budget_owner_id.eq(a).assume_not_null()),
            BudgetScope::Nothing => never(),
        }
    };
    Box::new(
        ev::entity_type
            .eq("case")
            .and(cases)
            .or(ev::entity_type.eq("transfer").and(transfers))
            .or(ev::entity_type.eq("budget").and(budgets)),
    )
}

/// The events after `(txid, id)` of finished transactions: those older than
/// the oldest transaction still running when the statement took its snapshot
/// (the horizon), all of which that same snapshot sees.
async fn read(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    after: (i64, i64),
    limit: i64,
) -> QueryResult<Vec<ChangeEvent>> {
    ev::table
        .filter(
            sql::<Bool>("(change_events.txid, change_events.id) > (")
                .bind::<BigInt, _>(after.0)
                .sql(", ")
                .bind::<BigInt, _>(after.1)
                .sql(")"),
        )
        .filter(ev::txid.lt(sql::<BigInt>(
            "pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
        )))
        .filter(visible(caller))
        .order((ev::txid, ev::id))
        .limit(limit)
        .select(ChangeEvent::as_select())
        .load(conn)
        .await
}

/// The page size of `list_events`.
pub const EVENT_PAGE: crate::http::pagination::PageSize = crate::http::pagination::PageSize {
    default: 100,
    max: 1000,
};

/// Follow the change feed.
///
/// Every change to the cases, transfers and budgets the caller may see, in
/// the order of their transactions, after the cursor `after`. Each event is
/// written in the same transaction as its change and is listed only once its
/// transaction and every older one have finished, so a consumer that follows
/// `next_cursor` misses nothing and sees nothing twice, whatever runs at the
/// same time. An event is held back while any older transaction on the
/// database server is still running, so a long transaction delays the feed
/// (it never reorders or drops it). With `wait`, an empty answer waits up to
/// that many seconds for a new event (long poll).
#[utoipa::path(
    tag = "events",
    operation_id = "list_events",
    params(EventQuery),
    responses((status = 200, description = "Events after the cursor, and the next cursor", body = EventPage))
)]
#[get("/events")]
pub async fn list_events(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<EventQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ReadEvents)?;
    let limit = EVENT_PAGE.of(query.limit)? as i64;
    let after: (i64, i64) = match &query.after {
        Some(cursor) => decode_cursor(cursor)?,
        None => (0, 0),
    };
    let wait = Duration::from_secs(u64::from(query.wait.unwrap_or(0)));
    if wait > Duration::from_secs(30) {
        return Err(ApiError::bad_parameter(
            "wait",
            "must be at most 30 seconds",
        ));
    }
    let deadline = Instant::now() + wait;
    loop {
        let events = {
            let mut conn = state.pool.get().await?;
            read(&mut conn, &caller, after, limit).await?
        };
        if !events.is_empty() || Instant::now() >= deadline {
            let next = events.last().map_or(after, |e| (e.txid, e.id));
            return Ok(HttpResponse::Ok().json(EventPage {
                events,
                next_cursor: encode_cursor(&next),
            }));
        }
        actix_web::rt::time::sleep(Duration::from_millis(250)).await;
    }
}
