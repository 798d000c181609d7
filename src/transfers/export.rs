//! `GET /api/v1/transfers` with `Accept: text/csv`: every matching transfer,
//! streamed a thousand at a time.

use actix_web::HttpResponse;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::model::TransferRow;
use super::queries::{self, TransferFilter};
use crate::access::TransferScope;
use crate::db::DbPool;
use crate::error::ApiError;
use crate::http::csv::{self, Line, Page};
use crate::regions::catalog;
use crate::schema::transfers;

const CHUNK: i64 = 1000;

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

/// One page of transfers after `after` (by id), as CSV lines.
async fn page(
    pool: &DbPool,
    scope: &TransferScope,
    filter: &TransferFilter,
    after: Option<Uuid>,
) -> Result<Page<Uuid>, ApiError> {
    let mut conn = pool.get().await?;
    let mut q = queries::filtered(scope, filter);
    if let Some(after) = after {
        q = q.filter(transfers::id.gt(after));
    }
    let rows: Vec<TransferRow> = q.order(transfers::id).limit(CHUNK).load(&mut conn).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let tallies = queries::tallies(&mut conn, &ids).await?;
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
        next: if (rows.len() as i64) < CHUNK {
            None
        } else {
            rows.last().map(|r| r.id)
        },
    })
}

/// The streamed CSV answer: every matching transfer, a thousand at a time.
pub fn csv_response(pool: DbPool, scope: TransferScope, filter: TransferFilter) -> HttpResponse {
    csv::export("transfers.csv", COLUMNS, move |after| {
        let (pool, scope, filter) = (pool.clone(), scope.clone(), filter.clone());
        async move { page(&pool, &scope, &filter, after).await }
    })
}
