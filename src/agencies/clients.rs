//! The machine clients of an agency: `/api/v1/agencies/{id}/clients`.
//!
//! A machine client is another system (BP3TKI's, Kemensos's) that signs in
//! with a client id and secret. The secret is shown once, when the client is
//! created or its secret rotated; only its hash is kept.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::accounts::{check_client_roles, managed_agency};
use crate::audit::Actor;
use crate::auth::{Caller, Role, password};
use crate::changes::{self, Change};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Json;
use crate::schema::api_clients;
use crate::state::AppState;

/// A machine client of an agency. Its secret is never shown again after creation or rotation.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = api_clients)]
#[schema(example = json!({
    "id": "9a6f2f9e-8f43-4f59-9a3e-5d1c2b7a9e10", "agency_id": "5c1d2f9e-8f43-4f59-9a3e-5d1c2b7a9e11",
    "client_id": "bp3tki-pontianak-7f3a", "name": "BP3TKI Pontianak case push", "roles": ["integration"],
    "active": true, "secret_rotated_at": "2026-11-29T04:00:00Z",
    "created_at": "2026-11-29T04:00:00Z", "updated_at": "2026-11-29T04:00:00Z"
}))]
pub struct Client {
    /// The client's record id.
    pub id: Uuid,
    /// The agency it acts for.
    pub agency_id: Uuid,
    /// The id it signs in with.
    pub client_id: String,
    /// What the client is.
    pub name: String,
    /// Roles: integration (push), viewer (read).
    pub roles: Vec<Role>,
    /// Deactivated clients cannot sign in; their tokens stop working.
    pub active: bool,
    /// When the secret was last set.
    pub secret_rotated_at: DateTime<Utc>,
    /// When the client was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A new machine client.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "BP3TKI Pontianak case push", "roles": ["integration"]}))]
pub struct NewClient {
    /// What the client is.
    #[schema(max_length = 200)]
    pub name: String,
    /// Roles (default `["integration"]`).
    pub roles: Option<Vec<Role>>,
}

/// A client with its secret: returned once, on creation and on rotation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientWithSecret {
    /// The client.
    #[serde(flatten)]
    pub client: Client,
    /// The secret to sign in with. Shown this once; store it now.
    pub client_secret: String,
}

/// Changes to a client.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"active": false}))]
pub struct ClientPatch {
    /// What the client is.
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// Roles (replaces them).
    pub roles: Option<Vec<Role>>,
    /// `false` deactivates the client; `true` reactivates it.
    pub active: Option<bool>,
}

/// List an agency's machine clients.
///
/// For the agency's agency_admin and for system administrators. Secrets are never listed.
#[utoipa::path(
    tag = "agencies",
    operation_id = "list_agency_clients",
    params(("id" = Uuid, Path, description = "The agency's id")),
    responses((status = 200, description = "The agency's clients", body = Vec<Client>))
)]
#[get("/agencies/{id}/clients")]
pub async fn list_agency_clients(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    let agency = managed_agency(&mut conn, &caller, *id).await?;
    let rows: Vec<Client> = api_clients::table
        .filter(api_clients::agency_id.eq(agency.id))
        .order(api_clients::client_id)
        .select(Client::as_select())
        .load(&mut conn)
        .await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// Create a machine client.
///
/// Returns the client id and a generated secret, shown this once.
#[utoipa::path(
    tag = "agencies",
    operation_id = "create_agency_client",
    params(("id" = Uuid, Path, description = "The agency's id")),
    request_body = NewClient,
    responses((status = 201, description = "The new client and its secret", body = ClientWithSecret))
)]
#[post("/agencies/{id}/clients")]
pub async fn create_agency_client(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<NewClient>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    let agency = managed_agency(&mut conn, &caller, *id).await?;
    let new = body.0;
    let mut errors = Vec::new();
    let name = super::rules::check_name("name", &new.name)
        .map_err(|e| errors.push(e))
        .ok();
    let roles = new.roles.unwrap_or_else(|| vec![Role::Integration]);
    if let Err(e) = check_client_roles(&roles) {
        errors.push(e);
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let client_id = format!(
        "{}-{}",
        agency.code.to_lowercase(),
        &Uuid::new_v4().simple().to_string()[..8]
    );
    let (secret, hash) = new_secret().await?;
    let actor = Actor::from(&caller);
    let client = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let client: Client = diesel::insert_into(api_clients::table)
                .values((
                    api_clients::agency_id.eq(agency.id),
                    api_clients::client_id.eq(&client_id),
                    api_clients::name.eq(name.unwrap_or_default()),
                    api_clients::secret_hash.eq(&hash),
                    api_clients::roles.eq(&roles),
                ))
                .returning(Client::as_returning())
                .get_result(conn)
                .await?;
            changes::record(
                conn,
                Change::of(&actor, "client.create", "client", client.id).after(&client),
            )
            .await?;
            Ok(client)
        })
        .await?;
    Ok(HttpResponse::Created().json(ClientWithSecret {
        client,
        client_secret: secret,
    }))
}

async fn new_secret() -> ApiResult<(String, String)> {
    web::block(|| {
        let secret = password::random_secret(40);
        password::hash(&secret).map(|hash| (secret, hash))
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)
}

/// Rotate a machine client's secret.
///
/// Sets a new generated secret, returned this once. The old secret stops
/// working at once; tokens already issued with it run out within their lifetime.
#[utoipa::path(
    tag = "agencies",
    operation_id = "rotate_agency_client_secret",
    params(
        ("id" = Uuid, Path, description = "The agency's id"),
        ("client_id" = Uuid, Path, description = "The client's record id"),
    ),
    responses((status = 200, description = "The client and its new secret", body = ClientWithSecret))
)]
#[post("/agencies/{id}/clients/{client_id}/secret")]
pub async fn rotate_agency_client_secret(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (agency_id, client_id) = path.into_inner();
    let mut conn = state.pool.get().await?;
    let agency = managed_agency(&mut conn, &caller, agency_id).await?;
    let (secret, hash) = new_secret().await?;
    let actor = Actor::from(&caller);
    let client = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let client: Client = diesel::update(
                api_clients::table.filter(
                    api_clients::id
                        .eq(client_id)
                        .and(api_clients::agency_id.eq(agency.id)),
                ),
            )
            .set((
                api_clients::secret_hash.eq(&hash),
                api_clients::secret_rotated_at.eq(diesel::dsl::now),
                api_clients::updated_at.eq(diesel::dsl::now),
            ))
            .returning(Client::as_returning())
            .get_result(conn)
            .await
            .optional()?
            .ok_or_else(|| ApiError::not_found("this agency has no such client"))?;
            changes::record(
                conn,
                Change::of(&actor, "client.rotate_secret", "client", client.id).after(&client),
            )
            .await?;
            Ok(client)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ClientWithSecret {
        client,
        client_secret: secret,
    }))
}

/// Change or deactivate a machine client.
///
/// Absent fields stay as they are. `"active": false` stops the client from signing in
/// and ends its sessions at once.
#[utoipa::path(
    tag = "agencies",
    operation_id = "update_agency_client",
    params(
        ("id" = Uuid, Path, description = "The agency's id"),
        ("client_id" = Uuid, Path, description = "The client's record id"),
    ),
    request_body = ClientPatch,
    responses((status = 200, description = "The changed client", body = Client))
)]
#[patch("/agencies/{id}/clients/{client_id}")]
pub async fn update_agency_client(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    body: Json<ClientPatch>,
) -> ApiResult<HttpResponse> {
    let (agency_id, client_id) = path.into_inner();
    let mut conn = state.pool.get().await?;
    let agency = managed_agency(&mut conn, &caller, agency_id).await?;
    let patch = body.0;
    let mut errors = Vec::new();
    if let Some(roles) = &patch.roles
        && let Err(e) = check_client_roles(roles)
    {
        errors.push(e);
    }
    let name = patch
        .name
        .as_deref()
        .map(|n| super::rules::check_name("name", n))
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let actor = Actor::from(&caller);
    let client = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let before: Client = api_clients::table
                .filter(
                    api_clients::id
                        .eq(client_id)
                        .and(api_clients::agency_id.eq(agency.id)),
                )
                .select(Client::as_select())
                .for_update()
                .first(conn)
                .await
                .optional()?
                .ok_or_else(|| ApiError::not_found("this agency has no such client"))?;
            let after: Client = diesel::update(api_clients::table.find(client_id))
                .set((
                    api_clients::name.eq(name.unwrap_or_else(|| before.name.clone())),
                    api_clients::roles
                        .eq(patch.roles.clone().unwrap_or_else(|| before.roles.clone())),
                    api_clients::active.eq(patch.active.unwrap_or(before.active)),
                    api_clients::updated_at.eq(diesel::dsl::now),
                ))
                .returning(Client::as_returning())
                .get_result(conn)
                .await?;
            changes::record(
                conn,
                Change::of(&actor, "client.update", "client", client_id)
                    .before(&before)
                    .after(&after),
            )
            .await?;
            Ok(after)
        })
        .await?;
    Ok(HttpResponse::Ok().json(client))
}
