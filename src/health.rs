//! Liveness and readiness probes, open to everyone.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use deadpool::managed::Manager;
use diesel::sql_types::{Bool, Nullable, Text};
use diesel_async::RunQueryDsl;
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

/// How long readiness may take: a probe that waits longer is itself an answer.
const READY_WITHIN: Duration = Duration::from_millis(900);

/// Readiness: the database is reachable, writable and fully migrated.
///
/// Answers within one second, without waiting for the pool: it opens a
/// connection of its own, so a pool busy with long reports does not make the
/// instance look down. 200 when the database answers, accepts writes and has
/// every migration built into this binary; otherwise 503 with `Retry-After`
/// and a `reason` of `unreachable`, `restarting`, `read_only`, `not_migrated`
/// or `timeout`. Use it as a load balancer's or container's readiness probe.
#[utoipa::path(
    tag = "health",
    operation_id = "check_ready",
    security(()),
    responses(
        (status = 200, description = "Ready to serve", body = Health),
        (status = 503, description = "The database is unreachable, read-only or not migrated; `reason` says which", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/health/ready")]
pub async fn check_ready(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let probe = async {
        let mut conn = state.pool.manager().create().await.map_err(|e| {
            let outage = crate::db::Outage::of_pool(&deadpool::managed::PoolError::Backend(e));
            ApiError::outage(outage, anyhow::anyhow!("readiness probe could not connect"))
        })?;
        let found: Probe = diesel::sql_query(
            "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on' \
                 AS read_only, \
             EXISTS (SELECT 1 FROM __diesel_schema_migrations WHERE version = $1) AS migrated",
        )
        .bind::<Nullable<Text>, _>(crate::db::latest_migration_version())
        .get_result(&mut conn)
        .await
        .map_err(|e| match crate::db::Outage::of_query(&e) {
            Some(outage) => ApiError::outage(outage, e),
            None => ApiError::unavailable(e),
        })?;
        Ok::<_, ApiError>(found)
    };
    let found = match tokio::time::timeout(READY_WITHIN, probe).await {
        Ok(found) => found?,
        Err(_) => {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the database did not answer the readiness probe within one second",
            )
            .with_retry_after(5)
            .with_extension(crate::error::ProblemMember::Reason, "timeout".into()));
        }
    };
    if found.read_only {
        return Err(ApiError::outage(
            crate::db::Outage::ReadOnly,
            anyhow::anyhow!("the database is read-only"),
        ));
    }
    if !found.migrated {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the database schema is behind this version of Pulang; run `pulang migrate`",
        )
        .with_retry_after(30)
        .with_kind("not-migrated", "Database not migrated")
        .with_extension(crate::error::ProblemMember::Reason, "not_migrated".into()));
    }
    Ok(HttpResponse::Ok().json(Health {
        status: "ready",
        database: Some("reachable"),
        schema_version: crate::db::latest_migration_version().map(str::to_owned),
    }))
}

#[derive(diesel::QueryableByName)]
struct Probe {
    #[diesel(sql_type = Bool)]
    read_only: bool,
    #[diesel(sql_type = Bool)]
    migrated: bool,
}
