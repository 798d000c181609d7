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
            parse_json(&bytes).map(Json)
        })
    }
}

/// Parses a JSON document, naming the field of a shape error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
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
    fn a_bad_query_parameter_is_named() {
        let err = parse_query::<Page>("limit=lots").unwrap_err();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert_eq!(err.field_errors()[0].field, "limit");
    }
}
