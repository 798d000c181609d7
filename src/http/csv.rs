//! CSV for spreadsheet programs: UTF-8 with a byte-order mark, a header row,
//! times as `YYYY-MM-DD HH:MM:SS` (UTC) so that they open as dates, and text
//! cells that start with `=`, `+`, `-`, `@` (or a tab or carriage return)
//! neutralised with a leading `'` so that no cell runs as a formula.

use std::future::Future;

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use futures_util::stream::{self, Stream};

use crate::error::ApiError;

/// The media type of exports.
pub const TEXT_CSV: &str = "text/csv; charset=utf-8";

/// Whether the client asked for CSV (`Accept: text/csv`).
pub fn wants_csv(req: &HttpRequest) -> bool {
    req.headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| {
            accept
                .split(',')
                .any(|part| part.trim().starts_with("text/csv"))
        })
}

/// The byte-order mark that tells spreadsheet programs the file is UTF-8.
pub const BOM: &str = "\u{feff}";

/// One CSV line being built.
#[derive(Debug, Default)]
pub struct Line {
    out: String,
    first: bool,
}

impl Line {
    /// A new, empty line.
    pub fn new() -> Self {
        Self {
            out: String::new(),
            first: true,
        }
    }

    fn sep(&mut self) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
    }

    /// A text cell, quoted as needed and neutralised against formulas.
    pub fn text(&mut self, value: &str) -> &mut Self {
        self.sep();
        let risky = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
        let cell = if risky {
            format!("'{value}")
        } else {
            value.to_owned()
        };
        if cell.contains([',', '"', '\n', '\r']) || cell.starts_with(' ') || cell.ends_with(' ') {
            self.out.push('"');
            self.out.push_str(&cell.replace('"', "\"\""));
            self.out.push('"');
        } else {
            self.out.push_str(&cell);
        }
        self
    }

    /// An optional text cell.
    pub fn opt(&mut self, value: Option<&str>) -> &mut Self {
        self.text(value.unwrap_or(""))
    }

    /// A number cell.
    pub fn number(&mut self, value: i64) -> &mut Self {
        self.sep();
        self.out.push_str(&value.to_string());
        self
    }

    /// A time cell, in UTC, as spreadsheets read dates.
    pub fn time(&mut self, value: Option<DateTime<Utc>>) -> &mut Self {
        self.sep();
        if let Some(t) = value {
            self.out
                .push_str(&t.format("%Y-%m-%d %H:%M:%S").to_string());
        }
        self
    }

    /// The finished line, with its CRLF ending.
    pub fn finish(&mut self) -> String {
        let mut line = std::mem::take(&mut self.out);
        line.push_str("\r\n");
        self.first = true;
        line
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

/// Where a streamed export is.
enum Progress<C> {
    Header,
    Page(Option<C>),
    Done,
}

/// Streams an export as a `text/csv` attachment named `filename`: the
/// byte-order mark and the header row, then each page `fetch` returns for
/// the cursor of the one before (`None` for the first), until a page has no
/// next. Pages are fetched only as the client reads, so memory stays flat
/// however many rows match. An error ends the body early (and is logged):
/// the status line has long been sent.
pub fn export<C, F, Fut>(filename: &str, columns: &'static [&'static str], fetch: F) -> HttpResponse
where
    C: 'static,
    F: FnMut(Option<C>) -> Fut + 'static,
    Fut: Future<Output = Result<Page<C>, ApiError>> + 'static,
{
    HttpResponse::Ok()
        .content_type(TEXT_CSV)
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{filename}\""),
        ))
        .streaming(pages(filename.to_owned(), columns, fetch))
}

fn pages<C, F, Fut>(
    name: String,
    columns: &'static [&'static str],
    fetch: F,
) -> impl Stream<Item = Result<Bytes, actix_web::Error>>
where
    F: FnMut(Option<C>) -> Fut,
    Fut: Future<Output = Result<Page<C>, ApiError>>,
{
    stream::unfold((Progress::Header, fetch), move |(progress, mut fetch)| {
        let name = name.clone();
        async move {
            match progress {
                Progress::Done => None,
                Progress::Header => {
                    let head = Bytes::from(format!("{BOM}{}", header(columns)));
                    Some((Ok(head), (Progress::Page(None), fetch)))
                }
                Progress::Page(cursor) => match fetch(cursor).await {
                    Err(e) => {
                        log::error!("export {name} stopped: {e}");
                        Some((Err(e.into()), (Progress::Done, fetch)))
                    }
                    Ok(page) => {
                        let next = match page.next {
                            Some(cursor) => Progress::Page(Some(cursor)),
                            None => Progress::Done,
                        };
                        Some((Ok(Bytes::from(page.body)), (next, fetch)))
                    }
                },
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// Collects what `pages` streams, an error as `!ERR`.
    async fn collect(
        fetch: impl FnMut(Option<usize>) -> std::future::Ready<Result<Page<usize>, ApiError>>,
    ) -> Vec<String> {
        use futures_util::StreamExt;
        pages("test".into(), &["n"], fetch)
            .map(|chunk| match chunk {
                Ok(bytes) => String::from_utf8(bytes.to_vec()).unwrap(),
                Err(_) => "!ERR".into(),
            })
            .collect()
            .await
    }

    #[tokio::test]
    async fn pages_follow_the_cursor_until_the_last() {
        let mut asked = Vec::new();
        let chunks = collect(|cursor| {
            asked.push(cursor);
            let at = cursor.unwrap_or(0);
            std::future::ready(Ok(Page {
                body: format!("{at}\r\n"),
                next: (at < 2).then_some(at + 1),
            }))
        })
        .await;
        assert_eq!(chunks, ["\u{feff}n\r\n", "0\r\n", "1\r\n", "2\r\n"]);
        assert_eq!(asked, [None, Some(1), Some(2)]);
    }

    #[tokio::test]
    async fn an_error_ends_the_stream() {
        let chunks = collect(|cursor| {
            std::future::ready(match cursor {
                None => Ok(Page {
                    body: "0\r\n".into(),
                    next: Some(1),
                }),
                Some(_) => Err(ApiError::internal_msg("gone")),
            })
        })
        .await;
        assert_eq!(chunks, ["\u{feff}n\r\n", "0\r\n", "!ERR"]);
    }

    #[test]
    fn numbers_and_times_are_plain() {
        let mut line = Line::new();
        let t: DateTime<Utc> = "2019-03-14T09:30:00Z".parse().unwrap();
        line.number(-250_000).time(Some(t)).time(None);
        assert_eq!(line.finish(), "-250000,2019-03-14 09:30:00,\r\n");
    }
}
