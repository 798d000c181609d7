//! The users of an agency: `/api/v1/agencies/{id}/users`.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::accounts::{check_user_roles, managed_agency};
use crate::audit::Actor;
use crate::auth::{Caller, Role, password};
use crate::changes::{self, Change};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::Json;
use crate::schema::users;
use crate::state::AppState;

/// A user (a person) of an agency. Password hashes are never shown.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = users)]
#[schema(example = json!({
    "id": "0b6f2f9e-8f43-4f59-9a3e-5d1c2b7a9e10", "agency_id": "5c1d2f9e-8f43-4f59-9a3e-5d1c2b7a9e11",
    "username": "ani.kalbar", "full_name": "Ani Rahmawati", "email": "ani@kalbarprov.go.id",
    "roles": ["case_worker"], "active": true, "password_changed_at": "2026-11-29T04:00:00Z",
    "created_at": "2026-11-29T04:00:00Z", "updated_at": "2026-11-29T04:00:00Z"
}))]
pub struct User {
    /// The user's id.
    pub id: Uuid,
    /// The agency the user acts for.
    pub agency_id: Uuid,
    /// Login name.
    pub username: String,
    /// Full name.
    pub full_name: String,
    /// E-mail address.
    pub email: Option<String>,
    /// Roles within the agency.
    pub roles: Vec<Role>,
    /// Deactivated users cannot sign in; their tokens stop working.
    pub active: bool,
    /// When the password was last set; tokens issued before it no longer work.
    pub password_changed_at: DateTime<Utc>,
    /// When the user was created.
    pub created_at: DateTime<Utc>,
    /// When the user last changed.
    pub updated_at: DateTime<Utc>,
}

/// A new user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "ani.kalbar", "full_name": "Ani Rahmawati", "roles": ["case_worker"]}))]
pub struct NewUser {
    /// Login name: 3 to 64 lower-case letters, digits, `.`, `_` or `-`.
    pub username: String,
    /// Full name.
    #[schema(max_length = 200)]
    pub full_name: String,
    /// E-mail address.
    #[schema(max_length = 254, format = Email)]
    pub email: Option<String>,
    /// Roles: agency_admin, case_worker, finance_officer, viewer (system_admin only in the system agency).
    pub roles: Vec<Role>,
    /// Initial password (12 characters or more). When absent one is generated and returned once.
    pub password: Option<String>,
}

/// A created user, with the generated initial password if none was given.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUser {
    /// The user.
    #[serde(flatten)]
    pub user: User,
    /// The generated initial password: shown this once, never again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_password: Option<String>,
}

/// Changes to a user; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"roles": ["viewer"], "active": false}))]
pub struct UserPatch {
    /// Full name.
    #[schema(max_length = 200)]
    pub full_name: Option<String>,
    /// E-mail address (`null` clears it).
    #[serde(default, deserialize_with = "crate::http::patch::double_option")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 254, format = Email)]
    pub email: Option<Option<String>>,
    /// Roles (replaces them all).
    pub roles: Option<Vec<Role>>,
    /// `false` deactivates the user (never deleted); `true` reactivates.
    pub active: Option<bool>,
}

/// List an agency's users.
///
/// For the agency's agency_admin and for system administrators.
#[utoipa::path(
    tag = "agencies",
    operation_id = "list_agency_users",
    params(("id" = Uuid, Path, description = "The agency's id")),
    responses((status = 200, description = "The agency's users, by username", body = Vec<User>))
)]
#[get("/agencies/{id}/users")]
pub async fn list_agency_users(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    let agency = managed_agency(&mut conn, &caller, *id).await?;
    let rows: Vec<User> = users::table
        .filter(users::agency_id.eq(agency.id))
        .order(users::username)
        .select(User::as_select())
        .load(&mut conn)
        .await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// Create a user of an agency.
///
/// For the agency's agency_admin and for system administrators. Without a
/// `password`, one is generated and returned once as `initial_password`.
#[utoipa::path(
    tag = "agencies",
    operation_id = "create_agency_user",
    params(("id" = Uuid, Path, description = "The agency's id")),
    request_body = NewUser,
    responses(
        (status = 201, description = "The new user", body = CreatedUser),
        (status = 409, description = "The username is taken", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/agencies/{id}/users")]
pub async fn create_agency_user(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<NewUser>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    let agency = managed_agency(&mut conn, &caller, *id).await?;
    let new = body.0;
    let username = new.username.trim().to_lowercase();
    let mut errors = Vec::new();
    if !valid_username(&username) {
        errors.push(FieldError::new(
            "username",
            "must be 3 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit",
        ));
    }
    let full_name = super::rules::check_name("full_name", &new.full_name)
        .map_err(|e| errors.push(e))
        .ok();
    let email = new
        .email
        .as_deref()
        .map(super::rules::check_email)
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    if let Err(e) = check_user_roles(&caller, &agency, &new.roles) {
        errors.push(e);
    }
    let (secret, generated) = match new.password {
        Some(p) => (p, false),
        None => (password::random_secret(20), true),
    };
    if let Err(why) = password::check_strength(&secret, &username) {
        errors.push(FieldError::new("password", why));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let hash = web::block(move || password::hash(&secret).map(|h| (h, secret)))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let actor = Actor::from(&caller);
    let user = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let user: User = diesel::insert_into(users::table)
                .values((
                    users::agency_id.eq(agency.id),
                    users::username.eq(&username),
                    users::full_name.eq(full_name.unwrap_or_default()),
                    users::email.eq(email),
                    users::password_hash.eq(&hash.0),
                    users::roles.eq(&new.roles),
                ))
                .returning(User::as_returning())
                .get_result(conn)
                .await
                .map_err(|e| match e {
                    diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::UniqueViolation,
                        _,
                    ) => ApiError::conflict(format!("the username {username} is taken")),
                    other => other.into(),
                })?;
            changes::record(
                conn,
                Change::of(&actor, "user.create", "user", user.id).after(&user),
            )
            .await?;
            Ok(user)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("/api/v1/agencies/{}/users/{}", agency.id, user.id),
        ))
        .json(CreatedUser {
            user,
            initial_password: generated.then_some(hash.1),
        }))
}

/// Whether a username has the allowed shape.
pub fn valid_username(username: &str) -> bool {
    (3..=64).contains(&username.len())
        && username
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && username.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
}

/// Change or deactivate a user of an agency.
///
/// For the agency's agency_admin and for system administrators. Deactivating a
/// user ends their sessions at once. An administrator cannot deactivate
/// themself or remove their own admin role (ask another administrator).
#[utoipa::path(
    tag = "agencies",
    operation_id = "update_agency_user",
    params(
        ("id" = Uuid, Path, description = "The agency's id"),
        ("user_id" = Uuid, Path, description = "The user's id"),
    ),
    request_body = UserPatch,
    responses((status = 200, description = "The changed user", body = User))
)]
#[patch("/agencies/{id}/users/{user_id}")]
pub async fn update_agency_user(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    body: Json<UserPatch>,
) -> ApiResult<HttpResponse> {
    let (agency_id, user_id) = path.into_inner();
    let mut conn = state.pool.get().await?;
    let agency = managed_agency(&mut conn, &caller, agency_id).await?;
    let patch = body.0;
    let mut errors = Vec::new();
    if let Some(roles) = &patch.roles
        && let Err(e) = check_user_roles(&caller, &agency, roles)
    {
        errors.push(e);
    }
    if user_id == caller.principal_id {
        if patch.active == Some(false) {
            errors.push(FieldError::new("active", "you cannot deactivate yourself"));
        }
        if patch.roles.as_ref().is_some_and(|r| {
            caller
                .roles
                .iter()
                .any(|own| matches!(own, Role::SystemAdmin | Role::AgencyAdmin) && !r.contains(own))
        }) {
            errors.push(FieldError::new(
                "roles",
                "you cannot remove your own administrator role",
            ));
        }
    }
    let full_name = patch
        .full_name
        .as_deref()
        .map(|n| super::rules::check_name("full_name", n))
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let email = super::rules::check_email_patch(&patch.email, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let actor = Actor::from(&caller);
    let user = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let before: User = users::table
                .filter(users::id.eq(user_id).and(users::agency_id.eq(agency.id)))
                .select(User::as_select())
                .for_update()
                .first(conn)
                .await
                .optional()?
                .ok_or_else(|| ApiError::not_found("this agency has no such user"))?;
            let after: User = diesel::update(users::table.find(user_id))
                .set((
                    users::full_name.eq(full_name.unwrap_or_else(|| before.full_name.clone())),
                    users::email.eq(email.unwrap_or_else(|| before.email.clone())),
                    users::roles.eq(patch.roles.clone().unwrap_or_else(|| before.roles.clone())),
                    users::active.eq(patch.active.unwrap_or(before.active)),
                    users::updated_at.eq(diesel::dsl::now),
                ))
                .returning(User::as_returning())
                .get_result(conn)
                .await?;
            changes::record(
                conn,
                Change::of(&actor, "user.update", "user", user_id)
                    .before(&before)
                    .after(&after),
            )
            .await?;
            Ok(after)
        })
        .await?;
    Ok(HttpResponse::Ok().json(user))
}

#[cfg(test)]
mod tests {
    use super::valid_username;

    #[test]
    fn usernames_are_lower_case_words() {
        assert!(valid_username("ani.kalbar"));
        assert!(valid_username("dinsos-6171_01"));
        assert!(!valid_username("an"));
        assert!(!valid_username("Ani"));
        assert!(!valid_username(".ani"));
        assert!(!valid_username("ani kalbar"));
    }
}
