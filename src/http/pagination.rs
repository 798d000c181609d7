//! Keyset pagination: opaque cursors and the page envelope.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;

/// One page of a list.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    /// The items of this page, in the list's order.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// The number of items matching the filters, when `with_total=true` was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows: the extra row only tells that
    /// a next page exists, and `key` makes the cursor from the last item kept.
    pub fn from_rows<K: Serialize>(mut rows: Vec<T>, limit: usize, key: impl Fn(&T) -> K) -> Self {
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = if more {
            rows.last().map(|last| encode_cursor(&key(last)))
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
            total: None,
        }
    }
}

/// Encodes a cursor: URL-safe base64 of the key's JSON.
pub fn encode_cursor<K: Serialize>(key: &K) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}

/// Decodes a cursor given as the `cursor` query parameter.
pub fn decode_cursor<K: DeserializeOwned>(cursor: &str) -> Result<K, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| ApiError::bad_parameter("cursor", "is not a cursor this list gave out"))
}

/// The page size of one list: what `limit` is when absent and may be at most.
/// The handler checks `limit` with [`PageSize::of`] and the OpenAPI document
/// takes the parameter's bounds from the same value (`openapi::PAGE_SIZES`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize {
    /// The size of a page when `limit` is absent.
    pub default: u32,
    /// The largest `limit` the list takes.
    pub max: u32,
}

impl PageSize {
    /// The page size a request asks for, checked: 1 to `max`, `default` when absent.
    pub fn of(self, requested: Option<u32>) -> Result<usize, ApiError> {
        page_limit(requested, self.default, self.max)
    }
}

/// Checks a requested page size against the list's maximum.
pub fn page_limit(requested: Option<u32>, default: u32, max: u32) -> Result<usize, ApiError> {
    match requested {
        None => Ok(default as usize),
        Some(0) => Err(ApiError::bad_parameter("limit", "must be at least 1")),
        Some(n) if n > max => Err(ApiError::bad_parameter(
            "limit",
            format!("must be at most {max}"),
        )),
        Some(n) => Ok(n as usize),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips() {
        let c = encode_cursor(&("61.71", 5));
        assert_eq!(
            decode_cursor::<(String, i32)>(&c).unwrap(),
            ("61.71".to_owned(), 5)
        );
    }

    #[test]
    fn a_forged_cursor_is_a_bad_parameter() {
        assert_eq!(
            decode_cursor::<i64>("!!!").unwrap_err().field_errors()[0].field,
            "cursor"
        );
    }

    #[test]
    fn the_extra_row_makes_a_next_cursor() {
        let page = Page::from_rows(vec![1, 2, 3], 2, |n| *n);
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(
            decode_cursor::<i32>(page.next_cursor.as_deref().unwrap()).unwrap(),
            2
        );
        assert!(Page::from_rows(vec![1, 2], 2, |n| *n).next_cursor.is_none());
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(page_limit(None, 50, 500).unwrap(), 50);
        assert!(page_limit(Some(501), 50, 500).is_err());
        assert!(page_limit(Some(0), 50, 500).is_err());
    }
}
