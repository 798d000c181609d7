//! Optimistic concurrency: `ETag` is `"<version>"`, updates send it back as `If-Match`.

use actix_web::HttpRequest;
use actix_web::http::StatusCode;

use crate::error::{ApiError, ApiResult};

/// The `ETag` of a record at `version`.
pub fn tag(version: i32) -> String {
    format!("\"{version}\"")
}

/// The version an `If-Match` header names: 428 without one, 400 when it is not ours.
pub fn if_match_version(req: &HttpRequest) -> ApiResult<i32> {
    let value = req
        .headers()
        .get("If-Match")
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::PRECONDITION_REQUIRED,
                "send If-Match with the ETag of the version you are changing",
            )
        })?
        .to_str()
        .unwrap_or_default();
    value
        .trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse::<i32>()
        .map_err(|_| ApiError::bad_parameter("If-Match", "is not an ETag this API gave out"))
}

/// 412 unless the record is still at the version the client read.
pub fn check_version(what: &str, current: i32, expected: i32) -> ApiResult<()> {
    if current == expected {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            format!("the {what} is at version {current}, not {expected}; read it again"),
        ))
    }
}
