//! `GET /api/v1/read-log`.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::Operation;
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::http::extract::Query;
use crate::http::pagination::{Page, decode_cursor};
use crate::schema::read_log;
use crate::state::AppState;

/// One recorded read of case or person records.
#[derive(Debug, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = read_log)]
#[schema(example = json!({
    "id": 7, "occurred_at": "2026-11-29T04:20:00Z", "principal_id": "0b6f2f9e-8f43-4f59-9a3e-5d1c2b7a9e10",
    "principal_kind": "user", "principal_name": "keuangan.kalbar", "agency_id": "5c1d2f9e-8f43-4f59-9a3e-5d1c2b7a9e11",
    "operation": "case.search", "case_ids": ["8e2f0a4b-1c3d-4e5f-8a9b-0c1d2e3f4a5b"], "person_id": null,
    "filter": {"q": "siti"}, "row_count": 1, "via_grant": false, "request_id": "trace-1"
}))]
pub struct ReadEntry {
    /// Position in the log; larger is later.
    pub id: i64,
    /// When the read happened.
    pub occurred_at: DateTime<Utc>,
    /// The user or machine client that read.
    pub principal_id: Uuid,
    /// `user` or `client`.
    pub principal_kind: String,
    /// Its username or client id.
    pub principal_name: String,
    /// Its agency.
    pub agency_id: Uuid,
    /// `case.read`, `case.list`, `case.search`, `case.export` (one entry per
    /// page of rows), `case.history`, `case.matches` or `person.read`.
    pub operation: String,
    /// The case records read.
    pub case_ids: Vec<Uuid>,
    /// The person record read, if any.
    pub person_id: Option<Uuid>,
    /// For lists, searches and exports: the query parameters given.
    pub filter: Option<serde_json::Value>,
    /// How many case records were read.
    pub row_count: i32,
    /// Whether the records were read through a break-the-glass grant.
    pub via_grant: bool,
    /// The request's id.
    pub request_id: Option<String>,
}

/// Filters of `GET /api/v1/read-log`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReadLogQuery {
    /// Only the reads of this user or client.
    pub principal_id: Option<Uuid>,
    /// Only the reads of this agency's users and clients.
    pub agency_id: Option<Uuid>,
    /// Only the reads that included this case.
    pub case_id: Option<Uuid>,
    /// Only the reads of this person record.
    pub person_id: Option<Uuid>,
    /// At or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Before this time.
    pub to: Option<DateTime<Utc>>,
    /// Page size, 1 to 500 (default 100).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The page size of `list_read_log`.
pub const READ_LOG_PAGE: crate::http::pagination::PageSize = crate::http::pagination::PageSize {
    default: 100,
    max: 500,
};

/// List recorded reads.
///
/// The append-only log of every read of a case or person record, newest first:
/// who read, when, through which operation, which records, and for lists,
/// searches and exports the filter and row count. Reads are written within a
/// second of happening. For system administrators only (`audit.read`).
#[utoipa::path(
    tag = "audit",
    operation_id = "list_read_log",
    params(ReadLogQuery),
    responses((status = 200, description = "A page of recorded reads, newest first", body = Page<ReadEntry>))
)]
#[get("/read-log")]
pub async fn list_read_log(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<ReadLogQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ReadAudit)?;
    let q = query.0;
    let limit = READ_LOG_PAGE.of(q.limit)?;
    let mut sql = read_log::table
        .select(ReadEntry::as_select())
        .order(read_log::id.desc())
        .limit(limit as i64 + 1)
        .into_boxed();
    if let Some(v) = q.principal_id {
        sql = sql.filter(read_log::principal_id.eq(v));
    }
    if let Some(v) = q.agency_id {
        sql = sql.filter(read_log::agency_id.eq(v));
    }
    if let Some(v) = q.case_id {
        sql = sql.filter(read_log::case_ids.contains(vec![v]));
    }
    if let Some(v) = q.person_id {
        sql = sql.filter(read_log::person_id.eq(v));
    }
    if let Some(v) = q.from {
        sql = sql.filter(read_log::occurred_at.ge(v));
    }
    if let Some(v) = q.to {
        sql = sql.filter(read_log::occurred_at.lt(v));
    }
    if let Some(cursor) = q.cursor {
        sql = sql.filter(read_log::id.lt(decode_cursor::<i64>(&cursor)?));
    }
    let rows = sql.load(&mut state.pool.get().await?).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, limit, |e| e.id)))
}
