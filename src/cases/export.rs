//! `GET /api/v1/cases` with `Accept: text/csv`: the same list, every page,
//! streamed a page (`PULANG_EXPORT_PAGE_ROWS`, a thousand) at a time so that
//! memory stays flat however many cases match, all from one snapshot.

use actix_web::HttpResponse;
use diesel_async::AsyncPgConnection;

use super::queries::{self, CaseCursor, CaseFilter, CaseSort};
use super::view::CaseView;
use crate::auth::Caller;
use crate::db::DbPool;
use crate::error::ApiResult;
use crate::http::csv::{self, ExportLimits, Line, Page};
use crate::reads::{Read, ReadKind, ReadLog};
use crate::regions::catalog;

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

/// The streamed CSV answer: every case of the list, a page at a time, in
/// the list's order, all read in one snapshot; personal data masked unless
/// the caller sees it whole; each page recorded in the read log as it is read.
pub async fn csv_response(
    pool: &DbPool,
    limits: ExportLimits,
    reads: ReadLog,
    caller: Caller,
    filter: CaseFilter,
    sort: CaseSort,
    recorded: Option<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    let chunk = limits.page_rows;
    let scope = caller.case_scope();
    let fetch = async move |conn: &mut AsyncPgConnection, cursor: Option<CaseCursor>| {
        let rows = queries::list(conn, &scope, &filter, sort, cursor.as_ref(), chunk).await?;
        reads.record(
            &caller,
            ReadKind::CaseExport,
            Read {
                case_ids: rows.iter().map(|c| c.id).collect(),
                filter: recorded.clone(),
                ..Read::default()
            },
        );
        let next = if (rows.len() as i64) < chunk {
            None
        } else {
            rows.last().map(|c| queries::cursor_after(c, sort))
        };
        let mut line = Line::new();
        Ok(Page {
            body: rows
                .into_iter()
                .map(|c| row(&super::handlers::for_caller(c, &caller), &mut line))
                .collect(),
            next,
        })
    };
    csv::export(pool, limits, "cases.csv", COLUMNS, fetch).await
}
