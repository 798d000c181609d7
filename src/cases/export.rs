//! `GET /api/v1/cases` with `Accept: text/csv`: the same list, every page,
//! streamed a thousand rows at a time so that memory stays flat however many
//! cases match.

use actix_web::HttpResponse;
use actix_web::web::Bytes;
use futures_util::stream::{self, Stream};

use super::queries::{self, CaseCursor, CaseFilter, CaseSort};
use super::view::CaseView;
use crate::access::CaseScope;
use crate::db::DbPool;
use crate::http::csv::{BOM, Line, TEXT_CSV, header};
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

struct Export {
    pool: DbPool,
    scope: CaseScope,
    filter: CaseFilter,
    sort: CaseSort,
    cursor: Option<CaseCursor>,
    started: bool,
    done: bool,
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
        let page = async {
            let mut conn = st.pool.get().await.map_err(crate::error::ApiError::from)?;
            queries::list(
                &mut conn,
                &st.scope,
                &st.filter,
                st.sort,
                st.cursor.as_ref(),
                CHUNK,
            )
            .await
            .map_err(crate::error::ApiError::from)
        }
        .await;
        match page {
            Err(e) => {
                log::error!("case export stopped: {e}");
                st.done = true;
                Some((Err(e.into()), st))
            }
            Ok(rows) => {
                st.done = (rows.len() as i64) < CHUNK;
                st.cursor = rows.last().map(|c| queries::cursor_after(c, st.sort));
                let mut line = Line::new();
                let body: String = rows.iter().map(|c| row(c, &mut line)).collect();
                Some((Ok(Bytes::from(body)), st))
            }
        }
    })
}

/// The streamed CSV answer.
pub fn csv_response(
    pool: DbPool,
    scope: CaseScope,
    filter: CaseFilter,
    sort: CaseSort,
) -> HttpResponse {
    let export = Export {
        pool,
        scope,
        filter,
        sort,
        cursor: None,
        started: false,
        done: false,
    };
    HttpResponse::Ok()
        .content_type(TEXT_CSV)
        .insert_header(("Content-Disposition", "attachment; filename=\"cases.csv\""))
        .streaming(chunks(export))
}
