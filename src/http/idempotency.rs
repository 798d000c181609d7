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

/// What a creating POST under an optional `Idempotency-Key` did.
#[derive(Debug)]
pub enum Created<T> {
    /// This request created `T` (and stored the answer under its key, if it had one).
    New(T),
    /// The key was used before: the first answer, to send again.
    Replayed(Replay),
}

/// Runs `create` once per key, inside the caller's transaction: a request
/// whose key was used before gets the stored answer (and `create` does not
/// run); a first request runs `create` and stores its answer (a 201 with
/// `location`) in the same transaction, so the creation and the answer
/// commit together or not at all. Without a key, `create` just runs.
pub async fn create_once<T, F>(
    conn: &mut AsyncPgConnection,
    principal: Uuid,
    key: Option<&str>,
    hash: &str,
    location: impl FnOnce(&T) -> Option<String>,
    create: F,
) -> ApiResult<Created<T>>
where
    T: serde::Serialize,
    F: AsyncFnOnce(&mut AsyncPgConnection) -> ApiResult<T>,
{
    if let Some(key) = key
        && let Some(replay) = claim(conn, principal, key, hash).await?
    {
        return Ok(Created::Replayed(replay));
    }
    let created = create(conn).await?;
    if let Some(key) = key {
        let body = serde_json::to_value(&created).map_err(ApiError::internal)?;
        store(
            conn,
            principal,
            key,
            201,
            &body,
            location(&created).as_deref(),
        )
        .await?;
    }
    Ok(Created::New(created))
}

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

impl Replay {
    /// The stored answer as it was first sent, marked `Idempotent-Replayed: true`
    /// (with the `ETag` of a body that has a `version`).
    pub fn respond(self) -> actix_web::HttpResponse {
        let status = actix_web::http::StatusCode::from_u16(self.status)
            .unwrap_or(actix_web::http::StatusCode::OK);
        let mut builder = actix_web::HttpResponse::build(status);
        if let Some(location) = self.location {
            builder.insert_header(("Location", location));
        }
        if let Some(version) = self
            .body
            .get("version")
            .and_then(serde_json::Value::as_i64)
            .and_then(|v| i32::try_from(v).ok())
        {
            builder.insert_header(("ETag", crate::http::etag::tag(version)));
        }
        builder
            .insert_header(("Idempotent-Replayed", "true"))
            .json(self.body)
    }
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
