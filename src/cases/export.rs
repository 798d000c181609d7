//! `GET /api/v1/cases` with `Accept: text/csv`: the same list, every page,
//! streamed a thousand rows at a time so that memory stays flat however many
//! cases match.

use actix_web::HttpResponse;

use super::queries::{self, CaseCursor, CaseFilter, CaseSort};
use super::view::CaseView;
use crate::auth::Caller;
use crate::db::DbPool;
use crate::http::csv::{self, Line, Page};
use crate::reads::{Read, ReadKind, ReadLog};
use crate::regions::catalog;

/// Rows fetched per round trip.
const CHUNK: i64 = 1000;

const COLUMNS: &[&str] = &[
    "case_number",
    "full_name",
    "nik",
    "passport_number",
    "sex",
    "birth_date",
    "category",
    "trafficking_indicated",
    "arrived_at_utc",
    "entry_point",
    "country_left",
    "origin_region",
    "origin_region_name",
    "origin_province",
    "status",
    "funding_scope",
    "handling_province",
    "shelter",
    "repeat_return",
    "external_reference",
    "created_at_utc",
];

fn row(case: &CaseView, line: &mut Line) -> String {
    let p = &case.person;
    let region_name = catalog::name_of(&case.origin_region);
    line.text(&case.case_number)
        .text(&p.full_name)
        .opt(p.nik.as_deref())
        .opt(p.passport_number.as_deref())
        .opt(p.sex.map(|s| s.as_str()))
        .text(&p.birth_date.map(|d| d.to_string()).unwrap_or_default())
        .text(case.category.as_str())
        .text(if case.trafficking_indicated {
            "yes"
        } else {
            "no"
        })
        .time(Some(case.arrived_at))
        .text(case.entry_point.as_str())
        .text(&case.country_left)
        .text(&case.origin_region)
        .opt(region_name)
        .text(&case.origin_province)
        .text(case.status.as_str())
        .text(case.funding_scope.as_str())
        .text(&case.handling_province)
        .opt(case.shelter.as_deref())
        .text(if case.repeat_return { "yes" } else { "no" })
        .opt(case.external_reference.as_deref())
        .time(Some(case.created_at));
    line.finish()
}

/// The streamed CSV answer: every case of the list, a page of a thousand
/// at a time, in the list's order; personal data masked unless the caller
/// sees it whole; each page recorded in the read log.
pub fn csv_response(
    pool: DbPool,
    reads: ReadLog,
    caller: Caller,
    filter: CaseFilter,
    sort: CaseSort,
    recorded: Option<serde_json::Value>,
) -> HttpResponse {
    let scope = caller.case_scope();
    let whole = caller.sees_personal_data();
    csv::export("cases.csv", COLUMNS, move |cursor: Option<CaseCursor>| {
        let (pool, scope, filter) = (pool.clone(), scope.clone(), filter.clone());
        let (reads, caller, recorded) = (reads.clone(), caller.clone(), recorded.clone());
        async move {
            let mut conn = pool.get().await?;
            let rows =
                queries::list(&mut conn, &scope, &filter, sort, cursor.as_ref(), CHUNK).await?;
            // Every page of rows read is recorded as it is read.
            reads.record(
                &caller,
                ReadKind::CaseExport,
                Read {
                    case_ids: rows.iter().map(|c| c.id).collect(),
                    filter: recorded,
                    ..Read::default()
                },
            );
            let mut line = Line::new();
            Ok(Page {
                body: rows
                    .iter()
                    .map(|c| row(&c.clone().shown(whole), &mut line))
                    .collect(),
                next: if (rows.len() as i64) < CHUNK {
                    None
                } else {
                    rows.last().map(|c| queries::cursor_after(c, sort))
                },
            })
        }
    })
}
