//! `Idempotency-Key` for creating POSTs: the first answer is stored in the
//! same transaction as the creation and replayed on every retry with the same
//! key, so a client that lost the answer can safely send again.

use actix_web::HttpRequest;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::schema::idempotency_keys;

/// The request header.
pub const HEADER: &str = "Idempotency-Key";

/// A stored answer to replay.
#[derive(Debug, Clone)]
pub struct Replay {
    /// Status code.
    pub status: u16,
    /// JSON body.
    pub body: serde_json::Value,
    /// `Location` header.
    pub location: Option<String>,
}

/// The key a request carries, checked for shape.
pub fn key_of(req: &HttpRequest) -> ApiResult<Option<String>> {
    match req.headers().get(HEADER) {
        None => Ok(None),
        Some(value) => {
            let key = value.to_str().unwrap_or_default().trim();
            if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_graphic()) {
                Err(ApiError::bad_parameter(
                    HEADER,
                    "must be 1 to 200 visible ASCII characters",
                ))
            } else {
                Ok(Some(key.to_owned()))
            }
        }
    }
}

/// A fingerprint of the request body, to refuse a key reused for another request.
pub fn fingerprint(body: &impl serde::Serialize) -> String {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    format!("{:x}", Sha256::digest(bytes))
}

/// Claims `key` for this request inside the current transaction. Returns the
/// stored answer when the key was used before (waiting for a concurrent first
/// use to commit), or `None` when this request is the first.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    principal: Uuid,
    key: &str,
    hash: &str,
) -> ApiResult<Option<Replay>> {
    let inserted = diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::principal_id.eq(principal),
            idempotency_keys::key.eq(key),
            idempotency_keys::request_hash.eq(hash),
            idempotency_keys::status.eq(0),
            idempotency_keys::response.eq(serde_json::Value::Null),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    if inserted == 1 {
        return Ok(None);
    }
    let (stored_hash, status, body, location): (String, i32, serde_json::Value, Option<String>) =
        idempotency_keys::table
            .find((principal, key))
            .select((
                idempotency_keys::request_hash,
                idempotency_keys::status,
                idempotency_keys::response,
                idempotency_keys::location,
            ))
            .first(conn)
            .await?;
    if stored_hash != hash {
        return Err(ApiError::new(
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            "this Idempotency-Key was already used with a different request body",
        )
        .with_kind("idempotency-key-reused", "Idempotency key reused"));
    }
    Ok(Some(Replay {
        status: status as u16,
        body,
        location,
    }))
}

/// Stores the answer for `key` (in the same transaction as the creation).
pub async fn store(
    conn: &mut AsyncPgConnection,
    principal: Uuid,
    key: &str,
    status: u16,
    body: &serde_json::Value,
    location: Option<&str>,
) -> ApiResult<()> {
    diesel::update(idempotency_keys::table.find((principal, key)))
        .set((
            idempotency_keys::status.eq(i32::from(status)),
            idempotency_keys::response.eq(body),
            idempotency_keys::location.eq(location),
        ))
        .execute(conn)
        .await?;
    Ok(())
}
