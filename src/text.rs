//! Free text as a domain type: what a caller may write into a name, a
//! reference, a reason or a note.
//!
//! [`Text`] is trimmed, at most `MAX` characters (Unicode scalar values, not
//! bytes) and free of control characters; prose ([`Prose`]) may also hold tabs
//! and line breaks (`\r\n` is stored as `\n`). A value that breaks a rule
//! fails deserialization, so the JSON extractor answers 422 naming the field,
//! and a batch record fails alone. The schema publishes `maxLength`.
//!
//! NUL is refused everywhere, also in fields that are not yet of this type:
//! `http::extract` turns a NUL in any JSON string or query parameter into a 4xx
//! naming it, because PostgreSQL cannot store one.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Text of at most `MAX` characters; `PROSE` allows tabs and line breaks.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Text<const MAX: usize, const PROSE: bool = false>(String);

/// One line of text (names, references, codes, reasons): no control characters.
pub type Line<const MAX: usize> = Text<MAX, false>;

/// Prose (notes, descriptions): tabs and line breaks allowed, no other control characters.
pub type Prose<const MAX: usize> = Text<MAX, true>;

/// Why a text was refused (the message of the field error).
pub fn check(input: &str, max: usize, prose: bool) -> Result<String, String> {
    let normalised;
    let mut text = input.trim();
    if prose && text.contains('\r') {
        normalised = text.replace("\r\n", "\n");
        text = &normalised;
    }
    if let Some(c) = text
        .chars()
        .find(|&c| c.is_control() && !(prose && (c == '\n' || c == '\t')))
    {
        return Err(if c == '\0' {
            "must not contain NUL characters".to_owned()
        } else if prose {
            format!(
                "must not contain control characters other than tab and line break (found U+{:04X})",
                c as u32
            )
        } else {
            format!(
                "must be one line without control characters (found U+{:04X})",
                c as u32
            )
        });
    }
    let chars = text.chars().count();
    if chars > max {
        return Err(format!("must be at most {max} characters (is {chars})"));
    }
    Ok(text.to_owned())
}

/// Checks an optional text field of a form whose shape is kept as plain
/// strings: pushes a field error and answers `None` when it breaks the rule,
/// otherwise answers the trimmed text (`None` when empty).
pub fn check_field(
    field: &str,
    value: Option<String>,
    max: usize,
    prose: bool,
    errors: &mut Vec<crate::error::FieldError>,
) -> Option<String> {
    match check(value.as_deref()?, max, prose) {
        Ok(text) => Some(text).filter(|t| !t.is_empty()),
        Err(message) => {
            errors.push(crate::error::FieldError::new(field, message));
            None
        }
    }
}

impl<const MAX: usize, const PROSE: bool> Text<MAX, PROSE> {
    /// Checks `input` against the rules of this text kind.
    pub fn parse(input: &str) -> Result<Self, String> {
        check(input, MAX, PROSE).map(Self)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text, owned.
    pub fn into_inner(self) -> String {
        self.0
    }

    /// The text, or `None` when it is empty.
    pub fn non_empty(self) -> Option<String> {
        (!self.0.is_empty()).then_some(self.0)
    }
}

impl<const MAX: usize, const PROSE: bool> std::ops::Deref for Text<MAX, PROSE> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize, const PROSE: bool> fmt::Display for Text<MAX, PROSE> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<const MAX: usize, const PROSE: bool> Serialize for Text<MAX, PROSE> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de, const MAX: usize, const PROSE: bool> Deserialize<'de> for Text<MAX, PROSE> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl<const MAX: usize, const PROSE: bool> utoipa::PartialSchema for Text<MAX, PROSE> {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let description = if PROSE {
            format!(
                "Text of at most {MAX} characters; tabs and line breaks allowed, no other control characters. Trimmed."
            )
        } else {
            format!("One line of at most {MAX} characters, without control characters. Trimmed.")
        };
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .max_length(Some(MAX))
            .description(Some(description))
            .into()
    }
}

impl<const MAX: usize, const PROSE: bool> utoipa::ToSchema for Text<MAX, PROSE> {
    fn name() -> std::borrow::Cow<'static, str> {
        if PROSE {
            format!("Prose{MAX}").into()
        } else {
            format!("Line{MAX}").into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_kept_otherwise() {
        assert_eq!(Line::<10>::parse("  Siti N. ").unwrap().as_str(), "Siti N.");
        assert_eq!(Line::<10>::parse("   ").unwrap().non_empty(), None);
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert!(Line::<3>::parse("ééé").is_ok());
        assert!(Line::<3>::parse("éééé").unwrap_err().contains("at most 3"));
    }

    #[test]
    fn nul_and_control_characters_are_refused() {
        assert!(Line::<10>::parse("a\0b").unwrap_err().contains("NUL"));
        assert!(Prose::<10>::parse("a\0b").unwrap_err().contains("NUL"));
        assert!(Line::<10>::parse("a\nb").is_err());
        assert!(Line::<10>::parse("a\u{1b}b").is_err());
        assert!(Prose::<10>::parse("a\u{7}b").is_err());
    }

    #[test]
    fn prose_keeps_tabs_and_line_breaks() {
        assert_eq!(Prose::<10>::parse("a\r\n\tb").unwrap().as_str(), "a\n\tb");
    }

    #[test]
    fn a_field_of_this_type_refuses_bad_json_by_name() {
        #[derive(Debug, Deserialize)]
        struct Form {
            #[expect(dead_code, reason = "only deserialized")]
            note: Prose<5>,
        }
        let err = crate::http::extract::parse_json::<Form>(br#"{"note": "123456"}"#).unwrap_err();
        assert_eq!(err.status().as_u16(), 422);
        assert_eq!(err.field_errors()[0].field, "note");
    }
}
