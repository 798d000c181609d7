//! `GET /api/v1/me` and `PUT /api/v1/me/password`: the caller's own account.

use actix_web::{HttpResponse, get, put, web};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Caller, PrincipalKind, Role, password, throttle};
use crate::access::Operation;
use crate::agencies::{Agency, queries};
use crate::audit::Actor;
use crate::changes::{self, Change};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::Json;
use crate::schema::users;
use crate::state::AppState;

/// Who the caller is, for which agency, and what it may do.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// The user's or client's id.
    pub id: Uuid,
    /// `user` or `client`.
    #[schema(example = "user")]
    pub kind: &'static str,
    /// The username or client id.
    pub name: String,
    /// The agency the caller acts for.
    pub agency: Agency,
    /// The caller's roles.
    pub roles: Vec<Role>,
    /// Every operation the caller's agency and roles allow (see docs/access-policy.md).
    pub permissions: Vec<Operation>,
    /// When the token in use expires.
    pub token_expires_at: chrono::DateTime<chrono::Utc>,
}

/// Who am I.
///
/// The signed-in user or machine client, its agency, roles and the operations
/// it may perform. Frontends use `permissions` to show only what will work.
#[utoipa::path(
    tag = "auth",
    operation_id = "get_me",
    responses((status = 200, description = "The caller", body = Me))
)]
#[get("/me")]
pub async fn get_me(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let agency = queries::find(&mut *state.pool.get().await?, caller.agency_id)
        .await?
        .ok_or_else(|| ApiError::not_found("your agency no longer exists"))?;
    Ok(HttpResponse::Ok().json(Me {
        id: caller.principal_id,
        kind: match caller.kind {
            PrincipalKind::User => "user",
            PrincipalKind::Client => "client",
        },
        name: caller.name.clone(),
        agency,
        permissions: Operation::ALL
            .iter()
            .copied()
            .filter(|op| caller.may(*op))
            .collect(),
        roles: caller.roles.clone(),
        token_expires_at: caller.token_expires_at,
    }))
}

/// A password change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"current_password": "the old passphrase", "new_password": "a new long passphrase"}))]
pub struct PasswordChange {
    /// The current password.
    pub current_password: String,
    /// The new password: 12 to 256 characters, not containing the username.
    pub new_password: String,
}

/// Change my password.
///
/// For users (not machine clients). Every token issued before the change,
/// including the one used for this call, stops working: sign in again. A
/// wrong `current_password` counts like a failed sign-in (429 past the limit).
#[utoipa::path(
    tag = "auth",
    operation_id = "change_my_password",
    request_body = PasswordChange,
    responses((status = 204, description = "The password is changed"))
)]
#[put("/me/password")]
pub async fn change_my_password(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<PasswordChange>,
) -> ApiResult<HttpResponse> {
    if caller.kind != PrincipalKind::User {
        return Err(ApiError::forbidden(
            "machine clients have secrets, not passwords; ask an administrator to rotate it",
        ));
    }
    let change = body.0;
    if let Err(why) = password::check_strength(&change.new_password, &caller.name) {
        return Err(ApiError::validation(vec![FieldError::new(
            "new_password",
            why,
        )]));
    }
    let mut conn = state.pool.get().await?;
    // A wrong current password is a guess like a wrong sign-in: counted, before
    // the check, against the same limits.
    let address = caller.client_addr.as_deref().unwrap_or("unknown");
    let keys = throttle::Key::for_attempt("password", &caller.name, address);
    match throttle::attempt(&mut conn, &keys).await? {
        throttle::Verdict::Refused { account, until } => {
            return Err(super::handlers::refused(account, until));
        }
        throttle::Verdict::Proceed(wait) if !wait.is_zero() => tokio::time::sleep(wait).await,
        throttle::Verdict::Proceed(_) => {}
    }
    let current_hash: String = users::table
        .find(caller.principal_id)
        .select(users::password_hash)
        .first(&mut conn)
        .await?;
    let new_password = change.new_password;
    let current = change.current_password;
    let new_hash = web::block(move || {
        if password::verify(&current, &current_hash) {
            password::hash(&new_password).map(Some)
        } else {
            Ok(None)
        }
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?
    .ok_or_else(|| {
        ApiError::validation(vec![FieldError::new(
            "current_password",
            "is not your current password",
        )])
    })?;
    throttle::succeeded(&mut conn, &keys).await?;
    let actor = Actor::from(&caller);
    conn.transaction::<_, ApiError, _>(async |conn| {
        diesel::update(users::table.find(caller.principal_id))
            .set((
                users::password_hash.eq(&new_hash),
                users::password_changed_at.eq(diesel::dsl::now),
                users::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        let change = Change::of(&actor, "user.change_password", "user", caller.principal_id);
        changes::record(conn, change).await?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
