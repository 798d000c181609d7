//! `GET /api/v1/transfers` with `Accept: text/csv`: every matching transfer,
//! streamed a thousand at a time.

use actix_web::HttpResponse;
use actix_web::web::Bytes;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use futures_util::stream::{self, Stream};
use uuid::Uuid;

use super::model::TransferRow;
use super::queries::{self, TransferFilter};
use crate::access::TransferScope;
use crate::db::DbPool;
use crate::error::ApiError;
use crate::http::csv::{BOM, Line, TEXT_CSV, header};
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

struct Export {
    pool: DbPool,
    scope: TransferScope,
    filter: TransferFilter,
    after: Option<Uuid>,
    started: bool,
    done: bool,
}

/// One page: its CSV lines, how many rows, and the last row's id.
async fn page(st: &Export) -> Result<(String, i64, Option<Uuid>), ApiError> {
    let mut conn = st.pool.get().await?;
    let mut q = queries::filtered(&st.scope, &st.filter);
    if let Some(after) = st.after {
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
    Ok((out, rows.len() as i64, rows.last().map(|r| r.id)))
}

fn chunks(export: Export) -> impl Stream<Item = Result<Bytes, actix_web::Error>> {
    stream::unfold(export, |mut st| async move {
        if st.done {
            return None;
        }
        if !st.started {
            st.started = true;
            return Some((Ok(Bytes::from(format!("{BOM}{}", header(COLUMNS)))), st));
        }
        match page(&st).await {
            Err(e) => {
                log::error!("transfer export stopped: {e}");
                st.done = true;
                Some((Err(e.into()), st))
            }
            Ok((body, rows, last)) => {
                st.done = rows < CHUNK;
                st.after = last;
                Some((Ok(Bytes::from(body)), st))
            }
        }
    })
}

/// The streamed CSV answer.
pub fn csv_response(pool: DbPool, scope: TransferScope, filter: TransferFilter) -> HttpResponse {
    let export = Export {
        pool,
        scope,
        filter,
        after: None,
        started: false,
        done: false,
    };
    HttpResponse::Ok()
        .content_type(TEXT_CSV)
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"transfers.csv\"",
        ))
        .streaming(chunks(export))
}
