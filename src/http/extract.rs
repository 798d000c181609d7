//! Request extractors whose failures name the offending field.
//!
//! actix's own `Json` and `Query` report serde's message without saying which
//! field is wrong; these read the same input through `serde_path_to_error`, so
//! a 422 or 400 always carries `errors[].field`.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldError};

/// A JSON request body of type `T`.
///
/// Refuses a missing or wrong `Content-Type` with 415, a body over the limit with
/// 413, malformed JSON with 400 and a well-formed body of the wrong shape with
/// 422 naming the field (`legs[0].mode`).
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_json(req, payload, parse_json::<T>);
        Box::pin(async move { body.await.map(Json) })
    }
}

/// A JSON body of records that are checked one by one (a bulk push): like
/// [`Json`], but a NUL inside the body is left to each record's own checks,
/// so that it rejects that record alone. Every string field of a record must
/// then refuse NUL itself (the text rule, codes and enumerations all do).
#[derive(Debug)]
pub struct RecordsJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for RecordsJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_json(req, payload, parse_json_allowing_nul::<T>);
        Box::pin(async move { body.await.map(RecordsJson) })
    }
}

/// Reads a JSON body (415 without a JSON content type, 413 over the limit)
/// and parses it with `parse`.
fn read_json<T: 'static>(
    req: &HttpRequest,
    payload: &mut Payload,
    parse: fn(&[u8]) -> Result<T, ApiError>,
) -> Pin<Box<dyn Future<Output = Result<T, ApiError>>>> {
    {
        let is_json = req
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<mime::Mime>().ok())
            .is_some_and(|m| m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON));
        let body = Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "the request body must be JSON, sent with Content-Type: application/json",
                ));
            }
            let bytes = body
                .await
                .map_err(|e| match e.as_response_error().status_code() {
                    StatusCode::PAYLOAD_TOO_LARGE => {
                        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, e.to_string())
                    }
                    _ => ApiError::bad_request(format!("the request body could not be read: {e}")),
                })?;
            parse(&bytes)
        })
    }
}

/// Parses a JSON document, naming the field of a shape error.
///
/// A NUL character (`\u0000`) in any string is refused first with a 422 naming
/// its path: PostgreSQL cannot store one, so it must never reach a statement.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if has_escaped_nul(bytes)
        && let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes)
        && let Some(path) = nul_path(&value, String::new())
    {
        let field = if path.is_empty() {
            "body".to_owned()
        } else {
            path
        };
        return Err(ApiError::invalid_field(
            field,
            "must not contain NUL characters",
        ));
    }
    parse_json_allowing_nul(bytes)
}

/// Parses a JSON document, naming the field of a shape error, and leaves NUL
/// characters to the checks of the fields that receive them.
pub fn parse_json_allowing_nul<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_data() {
            let field = if field == "." {
                "body".to_owned()
            } else {
                field
            };
            ApiError::validation(vec![FieldError::new(
                field,
                strip_position(&inner.to_string()),
            )])
        } else if inner.is_eof() && bytes.iter().all(u8::is_ascii_whitespace) {
            ApiError::bad_request("the request body is empty; a JSON document is expected")
        } else {
            ApiError::bad_request(format!("malformed JSON: {inner}"))
        }
    })
}

/// Whether `bytes` may hold a JSON string with a NUL: the escape `\u0000`
/// after an even number of backslashes. Cheap, and exact enough for a pre-check.
fn has_escaped_nul(bytes: &[u8]) -> bool {
    const NUL: &[u8] = b"u0000";
    bytes.windows(NUL.len()).enumerate().any(|(i, w)| {
        w == NUL && {
            let slashes = bytes[..i].iter().rev().take_while(|&&b| b == b'\\').count();
            slashes % 2 == 1
        }
    })
}

/// The path (as `serde_path_to_error` writes it) of the first string or key holding a NUL.
fn nul_path(value: &serde_json::Value, at: String) -> Option<String> {
    match value {
        serde_json::Value::String(s) => s.contains('\0').then_some(at),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_path(v, format!("{at}[{i}]"))),
        serde_json::Value::Object(members) => members.iter().find_map(|(k, v)| {
            let here = if at.is_empty() {
                k.clone()
            } else {
                format!("{at}.{k}")
            };
            if k.contains('\0') {
                Some(here)
            } else {
                nul_path(v, here)
            }
        }),
        _ => None,
    }
}

/// serde_json appends " at line 1 column 17"; the field name says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Query parameters of type `T`; a bad one is a 400 naming it.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> std::ops::Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(Query))
    }
}

/// Parses a query string, naming the parameter of an error.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    // No parameter is free text that may hold control characters (a NUL could
    // not even be passed to PostgreSQL): refuse them by name before anything else.
    if let Some((name, _)) = form_urlencoded::parse(query.as_bytes())
        .find(|(k, v)| k.chars().chain(v.chars()).any(char::is_control))
    {
        let name = if name.chars().any(char::is_control) {
            "query".to_owned()
        } else {
            name.into_owned()
        };
        return Err(ApiError::bad_parameter(
            name,
            "must not contain control characters",
        ));
    }
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let message = e.into_inner().to_string();
        if field == "." {
            // serde_urlencoded reports a missing or unknown parameter at the top level
            let named = message.split('`').nth(1).unwrap_or("query").to_owned();
            ApiError::bad_parameter(named, message)
        } else {
            ApiError::bad_parameter(field, message)
        }
    })
}

/// The `PathConfig` for the app: a malformed path parameter is a 400 naming it.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, req| {
        let names: Vec<&str> = req.match_info().iter().map(|(name, _)| name).collect();
        let field = names.last().copied().unwrap_or("path").to_owned();
        ApiError::bad_parameter(field, err.to_string()).into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[expect(dead_code, reason = "the fields are only deserialized")]
    struct Leg {
        mode: String,
        seats: u32,
    }

    #[derive(Debug, serde::Deserialize)]
    #[expect(dead_code, reason = "the fields are only deserialized")]
    struct Plan {
        legs: Vec<Leg>,
    }

    #[test]
    fn a_wrong_type_deep_in_the_body_names_its_path() {
        let err = parse_json::<Plan>(br#"{"legs":[{"mode":"road","seats":"two"}]}"#).unwrap_err();
        assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(err.field_errors()[0].field, "legs[0].seats");
        assert!(!err.field_errors()[0].message.contains("line"));
    }

    #[test]
    fn a_missing_field_is_named() {
        let err = parse_json::<Plan>(br#"{"legs":[{"mode":"road"}]}"#).unwrap_err();
        assert_eq!(err.field_errors()[0].field, "legs[0]");
        assert!(err.field_errors()[0].message.contains("seats"));
    }

    #[test]
    fn broken_json_is_a_bad_request() {
        let err = parse_json::<Plan>(br#"{"legs": ["#).unwrap_err();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
    }

    #[derive(Debug, serde::Deserialize)]
    #[expect(dead_code, reason = "the fields are only deserialized")]
    struct Page {
        limit: Option<u32>,
    }

    #[test]
    fn a_nul_anywhere_in_a_body_is_a_422_naming_its_path() {
        let err =
            parse_json::<serde_json::Value>(br#"{"legs":[{"mode":"ro\u0000ad"}]}"#).unwrap_err();
        assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(err.field_errors()[0].field, "legs[0].mode");
        // an escaped backslash followed by "u0000" is text, not a NUL
        assert!(parse_json::<serde_json::Value>(br#"{"a":"\\u0000"}"#).is_ok());
        let err = parse_json::<serde_json::Value>(br#""\u0000""#).unwrap_err();
        assert_eq!(err.field_errors()[0].field, "body");
    }

    #[test]
    fn a_nul_in_a_query_parameter_is_a_400_naming_it() {
        let err = parse_query::<Page>("limit=1&q=a%00b").unwrap_err();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert_eq!(err.field_errors()[0].field, "q");
    }

    #[test]
    fn a_bad_query_parameter_is_named() {
        let err = parse_query::<Page>("limit=lots").unwrap_err();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert_eq!(err.field_errors()[0].field, "limit");
    }
}
