//! Liveness and readiness probes, open to everyone.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The answer of a health probe.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "ready", "database": "reachable", "schema_version": "20261129000001"}))]
pub struct Health {
    /// `live` or `ready`.
    pub status: &'static str,
    /// For readiness: `reachable` when the database answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<&'static str>,
    /// For readiness: the newest migration, applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<String>,
}

/// Liveness: the process is up.
///
/// Answers 200 whenever the process can serve HTTP at all; it does not touch
/// the database. Use it as a container liveness probe.
#[utoipa::path(
    tag = "health",
    operation_id = "check_live",
    security(()),
    responses((status = 200, description = "The process is alive", body = Health))
)]
#[get("/health/live")]
pub async fn check_live() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "live",
        database: None,
        schema_version: None,
    })
}

/// Readiness: the database is reachable and fully migrated.
///
/// Answers 200 when a query on the database succeeds and every migration
/// built into this binary has been applied; otherwise 503 with `Retry-After`.
/// Use it as a load balancer's or container's readiness probe.
#[utoipa::path(
    tag = "health",
    operation_id = "check_ready",
    security(()),
    responses(
        (status = 200, description = "Ready to serve", body = Health),
        (status = 503, description = "The database is unreachable or not migrated", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/health/ready")]
pub async fn check_ready(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    let migrated = crate::db::is_migrated(&mut conn)
        .await
        .map_err(ApiError::unavailable)?;
    if !migrated {
        return Err(ApiError::new(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            "the database schema is behind this version of Pulang; run `pulang migrate`",
        )
        .with_retry_after(30)
        .with_kind("not-migrated", "Database not migrated"));
    }
    Ok(HttpResponse::Ok().json(Health {
        status: "ready",
        database: Some("reachable"),
        schema_version: crate::db::latest_migration_version().map(str::to_owned),
    }))
}
