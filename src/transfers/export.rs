//! `GET /api/v1/transfers` with `Accept: text/csv`: every matching transfer,
//! streamed a page at a time, all from one snapshot.

use actix_web::HttpResponse;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::TransferRow;
use super::queries::{self, TransferFilter};
use crate::access::TransferScope;
use crate::db::DbPool;
use crate::error::{ApiError, ApiResult};
use crate::http::csv::{self, ExportLimits, Line, Page};
use crate::regions::catalog;
use crate::schema::transfers;

const COLUMNS: &[&str] = &[
    "reference",
    "fiscal_year",
    "status",
    "handling_province",
    "destination_region",
    "destination_name",
    "planned_departure_utc",
    "members",
    "returnees_received",
    "estimated",
    "realised",
    "per_returnee",
    "bast_number",
    "handed_over_at_utc",
    "received_by",
    "created_at_utc",
];

/// One page of at most `chunk` transfers after `after` (by id), as CSV lines.
async fn page(
    conn: &mut AsyncPgConnection,
    scope: &TransferScope,
    filter: &TransferFilter,
    after: Option<Uuid>,
    chunk: i64,
) -> Result<Page<Uuid>, ApiError> {
    let mut q = queries::filtered(scope, filter);
    if let Some(after) = after {
        q = q.filter(transfers::id.gt(after));
    }
    let rows: Vec<TransferRow> = q.order(transfers::id).limit(chunk).load(conn).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let tallies = queries::tallies(conn, &ids).await?;
    let mut line = Line::new();
    let mut out = String::new();
    for row in &rows {
        let (members, received, realised) = tallies.get(&row.id).copied().unwrap_or_default();
        let estimated: i64 = row.estimates().iter().map(|e| e.amount).sum();
        let heads = if received > 0 { received } else { members };
        let name = catalog::name_of(&row.destination_region);
        line.text(&row.reference)
            .number(i64::from(row.fiscal_year))
            .text(row.status.as_str())
            .text(&row.handling_province)
            .text(&row.destination_region)
            .opt(name)
            .time(row.planned_departure)
            .number(members)
            .number(received)
            .number(estimated)
            .number(realised)
            .text(&if heads > 0 && realised > 0 {
                (realised / heads).to_string()
            } else {
                String::new()
            })
            .opt(row.bast_number.as_deref())
            .time(row.handed_over_at)
            .opt(row.received_by_name.as_deref())
            .time(Some(row.created_at));
        out.push_str(&line.finish());
    }
    Ok(Page {
        body: out,
        next: if (rows.len() as i64) < chunk {
            None
        } else {
            rows.last().map(|r| r.id)
        },
    })
}

/// The streamed CSV answer: every matching transfer, a page at a time, all
/// read in one snapshot.
pub async fn csv_response(
    pool: &DbPool,
    limits: ExportLimits,
    scope: TransferScope,
    filter: TransferFilter,
) -> ApiResult<HttpResponse> {
    let chunk = limits.page_rows;
    let fetch = async move |conn: &mut AsyncPgConnection, after: Option<Uuid>| {
        page(conn, &scope, &filter, after, chunk).await
    };
    csv::export(pool, limits, "transfers.csv", COLUMNS, fetch).await
}
