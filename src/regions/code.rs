//! Region codes as a domain type: accepted dotted or plain, always answered dotted.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A Kemendagri region code: `61` (a province) or `61.71` (a regency or city).
/// Parsing accepts `6171` and `61.71` alike; the value is always dotted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegionCode(String);

impl RegionCode {
    /// Parses a code given dotted (`61.71`) or plain (`6171`).
    pub fn parse(input: &str) -> Result<Self, String> {
        // Matched on bytes, never sliced by byte index: a multi-byte character
        // straddling byte 2 must be a refusal, not a panic.
        let s = input.trim();
        let d = |b: &u8| b.is_ascii_digit();
        let dotted = match s.as_bytes() {
            [a, b] if d(a) && d(b) => s.to_owned(),
            [a, b, c, e] if [a, b, c, e].into_iter().all(d) => {
                format!("{}{}.{}{}", *a as char, *b as char, *c as char, *e as char)
            }
            [a, b, b'.', c, e] if [a, b, c, e].into_iter().all(d) => s.to_owned(),
            _ => {
                return Err(format!(
                    "{input:?} is not a region code; expected 61, 61.71 or 6171"
                ));
            }
        };
        Ok(Self(dotted))
    }

    /// The dotted code.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this names a province (two digits).
    pub fn is_province(&self) -> bool {
        self.0.len() == 2
    }

    /// The province this code lies in.
    pub fn province(&self) -> RegionCode {
        Self(self.0.chars().take(2).collect())
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for RegionCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RegionCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for RegionCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(r"^[0-9]{2}(\.?[0-9]{2})?$"))
            .description(Some(
                "A Kemendagri region code: `61` for a province, `61.71` (or `6171`) for a regency or city. \
                 Accepted dotted or plain, always answered dotted.",
            ))
            .examples(["61.71"])
            .into()
    }
}

impl utoipa::ToSchema for RegionCode {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_dotted_codes_are_the_same_code() {
        assert_eq!(
            RegionCode::parse("6171").unwrap(),
            RegionCode::parse("61.71").unwrap()
        );
        assert_eq!(RegionCode::parse(" 6171 ").unwrap().as_str(), "61.71");
    }

    #[test]
    fn a_province_is_two_digits() {
        let p = RegionCode::parse("61").unwrap();
        assert!(p.is_province());
        assert_eq!(RegionCode::parse("61.71").unwrap().province(), p);
    }

    #[test]
    fn other_shapes_are_refused() {
        for bad in ["", "6", "617", "61.7", "61-71", "ab.cd", "61.710", "617101"] {
            assert!(RegionCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_multi_byte_character_anywhere_is_refused_without_a_panic() {
        for bad in [
            "€12", "6€1", "61€", "61.€", "€", "6\u{0}71", "６１", "61.7١",
        ] {
            assert!(RegionCode::parse(bad).is_err(), "{bad}");
        }
        // every prefix of a string cut at every byte that is still valid UTF-8
        let text = "6€1.7१2";
        for end in 0..=text.len() {
            if let Some(prefix) = text.get(..end) {
                let _ = RegionCode::parse(prefix);
            }
        }
    }
}

crate::text_enum! {
    /// Whether a region is a province or a regency (kabupaten) or city (kota).
    pub enum RegionLevel {
        /// A province (provinsi).
        Province => "province",
        /// A regency (kabupaten) or city (kota).
        Regency => "regency",
    }
}
