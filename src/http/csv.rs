//! CSV for spreadsheet programs: UTF-8 with a byte-order mark, a header row,
//! times as `YYYY-MM-DD HH:MM:SS` (UTC) so that they open as dates, and text
//! cells that start with `=`, `+`, `-`, `@` (or a tab or carriage return)
//! neutralised with a leading `'` so that no cell runs as a formula. Rows are
//! written by the `csv` crate (quoting, CRLF line ends).
//!
//! An export is one moment of the data: [`export`] checks out one connection,
//! opens a read-only repeatable-read transaction ([`Snapshot`]) and reads the
//! first page before it answers, so a busy pool or a database that is away is
//! a 503 problem document, not a 200 that stops. The later pages come from the
//! same transaction as the client reads. If one fails, the body ends with an
//! error: the chunked transfer never gets its final chunk, so the client sees a
//! truncated download, and the access log records the failure.

use std::future::Future;
use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use futures_util::stream::{self, Stream, StreamExt};

use crate::db::DbPool;
use crate::db::snapshot::Snapshot;
use crate::error::ApiResult;

/// The media type of exports.
pub const TEXT_CSV: &str = "text/csv; charset=utf-8";

/// Whether the client prefers CSV to JSON, by the q-values of its `Accept`
/// header (RFC 9110 §12.5.1): each type takes the quality of the most specific
/// range that matches it; CSV wins when its quality is higher, or equal and
/// named more specifically or earlier. `text/csv;q=0` refuses CSV; `*/*` alone
/// keeps JSON.
pub fn wants_csv(req: &HttpRequest) -> bool {
    req.headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| prefers(accept, "text/csv", "application/json"))
}

/// How well `accept` takes `media`: (quality in thousandths, specificity, -position).
fn quality(accept: &str, media: &str) -> Option<(u16, u8, isize)> {
    let (kind, sub) = media.split_once('/')?;
    let mut best: Option<(u16, u8, isize)> = None;
    for (position, range) in accept.split(',').enumerate() {
        let mut parts = range.split(';');
        let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let specificity = match name.split_once('/') {
            Some((k, s)) if k == kind && s == sub => 2,
            Some((k, "*")) if k == kind => 1,
            Some(("*", "*")) => 0,
            _ => continue,
        };
        let q = parts
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
            .and_then(|(_, v)| v.trim().parse::<f32>().ok())
            .map_or(1000, |q| (q.clamp(0.0, 1.0) * 1000.0).round() as u16);
        let candidate = (q, specificity, -(position as isize));
        // The most specific range decides; among equally specific ones, the first.
        if best.is_none_or(|b| specificity > b.1) {
            best = Some(candidate);
        }
    }
    best
}

/// Whether `accept` prefers `wanted` to `other`.
fn prefers(accept: &str, wanted: &str, other: &str) -> bool {
    match (quality(accept, wanted), quality(accept, other)) {
        (Some((0, ..)), _) => false,
        (Some(w), Some(o)) => w > o,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// The byte-order mark that tells spreadsheet programs the file is UTF-8.
pub const BOM: &str = "\u{feff}";

/// One CSV line being built.
#[derive(Debug, Default)]
pub struct Line {
    cells: Vec<String>,
}

impl Line {
    /// A new, empty line.
    pub fn new() -> Self {
        Self { cells: Vec::new() }
    }

    /// A text cell, neutralised against formulas (the writer quotes it as needed).
    pub fn text(&mut self, value: &str) -> &mut Self {
        let risky = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
        self.cells.push(if risky {
            format!("'{value}")
        } else {
            value.to_owned()
        });
        self
    }

    /// An optional text cell.
    pub fn opt(&mut self, value: Option<&str>) -> &mut Self {
        self.text(value.unwrap_or(""))
    }

    /// A number cell.
    pub fn number(&mut self, value: i64) -> &mut Self {
        self.cells.push(value.to_string());
        self
    }

    /// A time cell, in UTC, as spreadsheets read dates.
    pub fn time(&mut self, value: Option<DateTime<Utc>>) -> &mut Self {
        self.cells.push(
            value
                .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_default(),
        );
        self
    }

    /// The finished line, with its CRLF ending.
    pub fn finish(&mut self) -> String {
        let cells = std::mem::take(&mut self.cells);
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .buffer_capacity(cells.iter().map(|c| c.len() + 3).sum::<usize>() + 2)
            .from_writer(Vec::new());
        // Writing to memory cannot fail, and every cell is valid UTF-8.
        let _ = writer.write_record(&cells);
        let bytes = writer.into_inner().unwrap_or_default();
        String::from_utf8(bytes).unwrap_or_default()
    }
}

/// A header row.
pub fn header(names: &[&str]) -> String {
    let mut line = Line::new();
    for name in names {
        line.text(name);
    }
    line.finish()
}

/// One page of an export: its CSV lines and, unless it was the last, the
/// cursor of the next.
pub struct Page<C> {
    /// The rows, as CSV lines.
    pub body: String,
    /// Where the next page starts; `None` after the last.
    pub next: Option<C>,
}

/// The limits of an export: the statement timeout of its snapshot (also how
/// long it may sit idle while the client reads) and the rows of a page.
#[derive(Debug, Clone, Copy)]
pub struct ExportLimits {
    /// `PULANG_REPORT_STATEMENT_TIMEOUT_MS`.
    pub statement: Duration,
    /// `PULANG_EXPORT_PAGE_ROWS`.
    pub page_rows: i64,
}

impl ExportLimits {
    /// The limits of the running service.
    pub fn of(settings: &crate::config::Settings) -> Self {
        Self {
            statement: settings.db_limits.report_statement,
            page_rows: settings.export_page_rows,
        }
    }
}

/// What an export holds while it streams: a connection in a snapshot.
pub trait Held {
    /// What a page is read through.
    type Conn;
    /// The connection.
    fn conn(&mut self) -> &mut Self::Conn;
    /// Ends the read after the last page.
    fn finish(self) -> impl Future<Output = ApiResult<()>>;
}

impl Held for Snapshot {
    type Conn = AsyncPgConnection;
    fn conn(&mut self) -> &mut AsyncPgConnection {
        Snapshot::conn(self)
    }
    fn finish(self) -> impl Future<Output = ApiResult<()>> {
        Snapshot::finish(self)
    }
}

/// Streams an export as a `text/csv` attachment named `filename`: the
/// byte-order mark and the header row, then each page `fetch` returns for
/// the cursor of the one before (`None` for the first), until a page has no
/// next, all read in one snapshot on one connection. The first page is read
/// before answering, so a failure there is an ordinary problem document.
pub async fn export<C, F>(
    pool: &DbPool,
    limits: ExportLimits,
    filename: &str,
    columns: &'static [&'static str],
    mut fetch: F,
) -> ApiResult<HttpResponse>
where
    C: 'static,
    F: AsyncFnMut(&mut AsyncPgConnection, Option<C>) -> ApiResult<Page<C>> + 'static,
{
    let mut snapshot = Snapshot::begin(pool, limits.statement).await?;
    let first = fetch(snapshot.conn(), None).await?;
    let head = Bytes::from(format!("{BOM}{}{}", header(columns), first.body));
    Ok(HttpResponse::Ok()
        .content_type(TEXT_CSV)
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{filename}\""),
        ))
        .streaming(
            stream::once(async move { Ok::<_, actix_web::Error>(head) }).chain(pages(
                filename.to_owned(),
                snapshot,
                first.next,
                fetch,
            )),
        ))
}

/// Where a streamed export is.
enum Progress<C> {
    Page(C),
    Finish,
    Done,
}

/// The pages after the first, then the end of the snapshot.
fn pages<H, C, F>(
    name: String,
    held: H,
    next: Option<C>,
    fetch: F,
) -> impl Stream<Item = Result<Bytes, actix_web::Error>>
where
    H: Held,
    F: AsyncFnMut(&mut H::Conn, Option<C>) -> ApiResult<Page<C>>,
{
    let progress = next.map_or(Progress::Finish, Progress::Page);
    stream::unfold(
        (progress, Some(held), fetch),
        move |(progress, mut held, mut fetch)| {
            let name = name.clone();
            async move {
                match progress {
                    Progress::Done => None,
                    Progress::Finish => match held.take()?.finish().await {
                        Ok(()) => None,
                        Err(e) => {
                            log::error!("export {name} could not end its snapshot: {e}");
                            Some((Err(e.into()), (Progress::Done, None, fetch)))
                        }
                    },
                    Progress::Page(cursor) => {
                        let conn = held.as_mut()?.conn();
                        match fetch(conn, Some(cursor)).await {
                            Err(e) => {
                                log::error!("export {name} stopped part-way: {e}");
                                // Dropping the snapshot inside its transaction makes the
                                // pool close the connection; the server rolls back.
                                Some((Err(e.into()), (Progress::Done, None, fetch)))
                            }
                            Ok(page) => {
                                let next = page.next.map_or(Progress::Finish, Progress::Page);
                                Some((Ok(Bytes::from(page.body)), (next, held, fetch)))
                            }
                        }
                    }
                }
            }
        },
    )
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;

    #[test]
    fn formulas_are_neutralised() {
        let mut line = Line::new();
        line.text("=HYPERLINK(\"http://x\")")
            .text("+62 812")
            .text("-1")
            .text("@SUM(A1)")
            .text("Siti");
        assert_eq!(
            line.finish(),
            "\"'=HYPERLINK(\"\"http://x\"\")\",'+62 812,'-1,'@SUM(A1),Siti\r\n"
        );
    }

    #[test]
    fn separators_and_quotes_are_quoted() {
        let mut line = Line::new();
        line.text("Jl. Tanjungpura, Pontianak")
            .text("say \"hi\"")
            .text("two\nlines");
        assert_eq!(
            line.finish(),
            "\"Jl. Tanjungpura, Pontianak\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n"
        );
    }

    /// A held "connection" for tests without a database: counts finishes.
    struct NoDb(u32);

    impl Held for NoDb {
        type Conn = u32;
        fn conn(&mut self) -> &mut u32 {
            &mut self.0
        }
        async fn finish(self) -> ApiResult<()> {
            Ok(())
        }
    }

    /// Collects what `pages` streams after a first page that pointed at 1, an error as `!ERR`.
    async fn collect(
        fetch: impl AsyncFnMut(&mut u32, Option<usize>) -> ApiResult<Page<usize>>,
    ) -> Vec<String> {
        pages("test".into(), NoDb(0), Some(1), fetch)
            .map(|chunk| match chunk {
                Ok(bytes) => String::from_utf8(bytes.to_vec()).unwrap(),
                Err(_) => "!ERR".into(),
            })
            .collect()
            .await
    }

    #[tokio::test]
    async fn pages_follow_the_cursor_until_the_last_on_one_connection() {
        let mut asked = Vec::new();
        let chunks = collect(async |calls: &mut u32, cursor| {
            *calls += 1;
            asked.push((cursor, *calls));
            let at = cursor.unwrap_or(0);
            Ok(Page {
                body: format!("{at}\r\n"),
                next: (at < 3).then_some(at + 1),
            })
        })
        .await;
        assert_eq!(chunks, ["1\r\n", "2\r\n", "3\r\n"]);
        assert_eq!(asked, [(Some(1), 1), (Some(2), 2), (Some(3), 3)]);
    }

    #[tokio::test]
    async fn an_error_ends_the_stream() {
        let chunks = collect(async |_: &mut u32, cursor| match cursor {
            Some(1) => Ok(Page {
                body: "1\r\n".into(),
                next: Some(2),
            }),
            _ => Err(ApiError::internal_msg("gone")),
        })
        .await;
        assert_eq!(chunks, ["1\r\n", "!ERR"]);
    }

    #[test]
    fn accept_is_negotiated_by_quality_not_by_prefix() {
        let csv = |accept: &str| prefers(accept, "text/csv", "application/json");
        assert!(csv("text/csv"));
        assert!(csv("text/csv; charset=utf-8"));
        assert!(csv("application/json;q=0.5, text/csv"));
        assert!(csv("text/csv, application/json"));
        assert!(!csv("application/json, text/csv"));
        assert!(!csv("text/csv;q=0.2, application/json"));
        assert!(!csv("text/csv;q=0"));
        assert!(!csv("text/csvx"));
        assert!(!csv("*/*"));
        assert!(!csv("application/json"));
        assert!(csv("text/*, application/json;q=0.9"));
        assert!(!csv("text/csv;q=0.5, */*"));
    }

    #[test]
    fn numbers_and_times_are_plain() {
        let mut line = Line::new();
        let t: DateTime<Utc> = "2019-03-14T09:30:00Z".parse().unwrap();
        line.number(-250_000).time(Some(t)).time(None);
        assert_eq!(line.finish(), "-250000,2019-03-14 09:30:00,\r\n");
    }
}
