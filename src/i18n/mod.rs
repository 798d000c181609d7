//! Problem documents in Bahasa Indonesia or English, by `Accept-Language`.
//!
//! The messages live in one catalogue file per language (`en.json`,
//! `id.json`), with the same keys: `title.<problem kind>` for every title and
//! `message.<name>` for details and field messages. A message may hold
//! `{placeholders}`; the English text a handler wrote is matched against the
//! English templates and the captured values are put into the other
//! language's template. A text no template matches stays English.
//!
//! English is the default: a request without `Accept-Language`, or one that
//! names neither language, is answered in English.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use crate::error::Problem;

/// A language problem documents are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// English (the default).
    #[default]
    En,
    /// Bahasa Indonesia.
    Id,
}

impl Lang {
    /// The language tag, as in `Content-Language`.
    pub fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Id => "id",
        }
    }

    /// The language an `Accept-Language` header asks for: the one of `id` and
    /// `en` with the higher q-value (a regional tag such as `id-ID` counts for
    /// its language; on a tie the one named first); English when it names neither.
    pub fn negotiate(accept_language: Option<&str>) -> Self {
        let Some(header) = accept_language else {
            return Self::default();
        };
        let mut best: Option<(u16, Self)> = None;
        for range in header.split(',') {
            let mut parts = range.split(';');
            let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let primary = tag.split('-').next().unwrap_or("");
            let lang = match primary {
                "id" | "in" => Self::Id,
                "en" => Self::En,
                _ => continue,
            };
            let quality = parts
                .find_map(|p| p.trim().strip_prefix("q=").map(str::to_owned))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .map_or(1000, |q| (q.clamp(0.0, 1.0) * 1000.0) as u16);
            if quality > 0 && best.is_none_or(|(q, _)| quality > q) {
                best = Some((quality, lang));
            }
        }
        best.map_or(Self::default(), |(_, lang)| lang)
    }
}

type Catalogue = BTreeMap<String, String>;

fn parse(name: &str, text: &str) -> Catalogue {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("src/i18n/{name} is not valid: {e}"))
}

/// The English catalogue.
pub static EN: LazyLock<Catalogue> = LazyLock::new(|| parse("en.json", include_str!("en.json")));
/// The Indonesian catalogue.
pub static ID: LazyLock<Catalogue> = LazyLock::new(|| parse("id.json", include_str!("id.json")));

fn catalogue(lang: Lang) -> &'static Catalogue {
    match lang {
        Lang::En => &EN,
        Lang::Id => &ID,
    }
}

/// Splits a template into literal text and `{placeholder}` names.
fn pieces(template: &str) -> Vec<(bool, &str)> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        out.push((false, &rest[..open]));
        out.push((true, &rest[open + 1..open + close]));
        rest = &rest[open + close + 1..];
    }
    out.push((false, rest));
    out
}

/// The values of the placeholders when `text` is an instance of `template`.
fn captures<'t>(template: &str, text: &'t str) -> Option<Vec<(String, &'t str)>> {
    let pieces = pieces(template);
    let mut rest = text;
    let mut found = Vec::new();
    let mut pending: Option<&str> = None;
    for (is_name, piece) in pieces {
        if is_name {
            pending = Some(piece);
            continue;
        }
        match pending.take() {
            None => rest = rest.strip_prefix(piece)?,
            Some(name) if piece.is_empty() => {
                if rest.is_empty() {
                    return None;
                }
                found.push((name.to_owned(), rest));
                rest = "";
            }
            Some(name) => {
                let at = rest.find(piece).filter(|&at| at > 0)?;
                found.push((name.to_owned(), &rest[..at]));
                rest = &rest[at + piece.len()..];
            }
        }
    }
    rest.is_empty().then_some(found)
}

/// `text` (English, as a handler wrote it) in `lang`, when a catalogue
/// message matches it; otherwise `text` unchanged.
pub fn translate(lang: Lang, text: &str) -> String {
    if lang == Lang::En {
        return text.to_owned();
    }
    let target = catalogue(lang);
    // The most specific template first: "must be at most {max} characters (is
    // {length})" before "must be at most {max}".
    let mut templates: Vec<(&String, &String)> = EN
        .iter()
        .filter(|(k, _)| k.starts_with("message."))
        .collect();
    templates.sort_by_key(|(_, t)| {
        std::cmp::Reverse(
            pieces(t)
                .iter()
                .filter(|(is_name, _)| !is_name)
                .map(|(_, p)| p.len())
                .sum::<usize>(),
        )
    });
    for (key, template) in templates {
        if let (Some(found), Some(translated)) = (captures(template, text), target.get(key)) {
            let mut out = translated.clone();
            for (name, value) in found {
                out = out.replace(&format!("{{{name}}}"), value);
            }
            return out;
        }
    }
    // "field: message", as the detail of a single invalid field.
    if let Some((field, message)) = text.split_once(": ") {
        let translated = translate(lang, message);
        if translated != message {
            return format!("{field}: {translated}");
        }
    }
    text.to_owned()
}

/// Writes a problem's title, detail and field messages in `lang`.
pub fn localise(problem: &mut Problem, lang: Lang) {
    let kind = problem.kind.trim_start_matches("/problems/");
    if let Some(title) = catalogue(lang).get(&format!("title.{kind}")) {
        problem.title = title.clone();
    }
    if let Some(detail) = &problem.detail {
        problem.detail = Some(translate(lang, detail));
    }
    for error in &mut problem.errors {
        error.message = translate(lang, &error.message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_message_exists_in_one_language_only() {
        let en: Vec<&String> = EN.keys().collect();
        let id: Vec<&String> = ID.keys().collect();
        assert_eq!(en, id, "en.json and id.json must have the same keys");
        for (key, english) in EN.iter() {
            let names = |t: &str| {
                let mut n: Vec<String> = pieces(t)
                    .into_iter()
                    .filter(|(is_name, _)| *is_name)
                    .map(|(_, n)| n.to_owned())
                    .collect();
                n.sort();
                n
            };
            assert_eq!(names(english), names(&ID[key]), "placeholders of {key}");
            assert!(!ID[key].trim().is_empty(), "{key} is empty in id.json");
        }
    }

    #[test]
    fn every_problem_kind_of_docs_errors_has_a_title_in_each_language() {
        let doc = include_str!("../../docs/errors.md");
        let kinds: Vec<&str> = doc
            .split("`/problems/")
            .skip(1)
            .filter_map(|s| s.split('`').next())
            .collect();
        assert!(kinds.len() > 25);
        for kind in kinds {
            assert!(
                EN.contains_key(&format!("title.{kind}")),
                "en.json: title.{kind}"
            );
        }
    }

    #[test]
    fn accept_language_picks_the_preferred_of_indonesian_and_english() {
        assert_eq!(Lang::negotiate(None), Lang::En);
        assert_eq!(Lang::negotiate(Some("id")), Lang::Id);
        assert_eq!(Lang::negotiate(Some("id-ID,id;q=0.9,en;q=0.8")), Lang::Id);
        assert_eq!(Lang::negotiate(Some("en-US,en;q=0.9,id;q=0.5")), Lang::En);
        assert_eq!(Lang::negotiate(Some("fr, id;q=0.3")), Lang::Id);
        assert_eq!(Lang::negotiate(Some("fr, de")), Lang::En);
        assert_eq!(Lang::negotiate(Some("id;q=0, en;q=0.1")), Lang::En);
    }

    #[test]
    fn a_message_with_values_is_translated_with_the_same_values() {
        assert_eq!(
            translate(Lang::Id, "must be at most 200 characters (is 250)"),
            "paling banyak 200 karakter (sekarang 250)"
        );
        assert_eq!(
            translate(Lang::Id, "person.full_name: must not be empty"),
            "person.full_name: tidak boleh kosong"
        );
        assert_eq!(translate(Lang::Id, "something new"), "something new");
        assert_eq!(
            translate(Lang::En, "must not be empty"),
            "must not be empty"
        );
    }
}
