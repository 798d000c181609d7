//! CSV for spreadsheet programs: UTF-8 with a byte-order mark, a header row,
//! times as `YYYY-MM-DD HH:MM:SS` (UTC) so that they open as dates, and text
//! cells that start with `=`, `+`, `-`, `@` (or a tab or carriage return)
//! neutralised with a leading `'` so that no cell runs as a formula.

use actix_web::HttpRequest;
use chrono::{DateTime, Utc};

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

    #[test]
    fn numbers_and_times_are_plain() {
        let mut line = Line::new();
        let t: DateTime<Utc> = "2019-03-14T09:30:00Z".parse().unwrap();
        line.number(-250_000).time(Some(t)).time(None);
        assert_eq!(line.finish(), "-250000,2019-03-14 09:30:00,\r\n");
    }
}
