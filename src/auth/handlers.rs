//! `POST /api/v1/auth/token` and `POST /api/v1/auth/logout`.

use actix_web::{HttpMessage, HttpRequest, HttpResponse, post, web};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::throttle::{self, Key, Verdict};
use super::tokens::PrincipalKind;
use super::{Caller, Role, password};
use crate::audit::Actor;
use crate::changes::{self, Change};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::Json;
use crate::http::middleware::RequestId;
use crate::schema::{agencies, api_clients, revoked_tokens, users};
use crate::state::AppState;

/// How a caller signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    /// A person, with `username` and `password`.
    Password,
    /// A machine client (BP3TKI, Kemensos systems), with `client_id` and `client_secret`.
    ClientCredentials,
}

impl GrantType {
    /// Every grant.
    pub const ALL: [Self; 2] = [Self::Password, Self::ClientCredentials];

    /// The value of `grant_type`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::ClientCredentials => "client_credentials",
        }
    }

    /// The fields the grant needs: the account's name and its secret. The
    /// handler checks these and the `TokenRequest` schema requires them.
    pub fn fields(self) -> (&'static str, &'static str) {
        match self {
            Self::Password => ("username", "password"),
            Self::ClientCredentials => ("client_id", "client_secret"),
        }
    }

    /// The name of the request schema of this grant.
    fn schema_name(self) -> &'static str {
        match self {
            Self::Password => "PasswordGrant",
            Self::ClientCredentials => "ClientCredentialsGrant",
        }
    }

    fn schema(self) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        let (name, secret) = self.fields();
        let (title, name_doc, secret_doc, example) = match self {
            Self::Password => (
                "A person signs in with username and password",
                "The user's username",
                "The user's password",
                serde_json::json!({"grant_type": "password", "username": "dinsos.kalbar", "password": "a long passphrase"}),
            ),
            Self::ClientCredentials => (
                "A machine client signs in with its id and secret",
                "The client id shown when the client was created",
                "The client secret shown once when it was created or rotated",
                serde_json::json!({"grant_type": "client_credentials", "client_id": "bp3tki-ptk", "client_secret": "s3cr3t-shown-once"}),
            ),
        };
        let text = |doc: &str| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .description(Some(doc))
        };
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(title))
            .property(
                "grant_type",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some([self.name()])),
            )
            .required("grant_type")
            .property(name, text(name_doc))
            .required(name)
            .property(secret, text(secret_doc))
            .required(secret)
            .examples([example])
            .into()
    }
}

/// A sign-in: a person with username and password, or a machine client with its credentials.
/// Its schema is a `oneOf` by `grant_type`, built from [`GrantType::fields`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// `password` for people, `client_credentials` for machine clients.
    pub grant_type: GrantType,
    /// The user's username (grant `password`).
    pub username: Option<String>,
    /// The user's password (grant `password`).
    pub password: Option<String>,
    /// The client id shown when the client was created (grant `client_credentials`).
    pub client_id: Option<String>,
    /// The client secret shown once when it was created or rotated (grant `client_credentials`).
    pub client_secret: Option<String>,
}

impl utoipa::PartialSchema for TokenRequest {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{Discriminator, OneOfBuilder};
        let mut one_of = OneOfBuilder::new()
            .description(Some(
                "A sign-in: a person with username and password, or a machine client with its credentials.",
            ))
            .discriminator(Some(Discriminator::with_mapping(
                "grant_type",
                GrantType::ALL.map(|g| {
                    (
                        g.name(),
                        format!("#/components/schemas/{}", g.schema_name()),
                    )
                }),
            )))
            .examples([serde_json::json!({"grant_type": "password", "username": "dinsos.kalbar", "password": "a long passphrase"})]);
        for grant in GrantType::ALL {
            one_of = one_of.item(utoipa::openapi::Ref::from_schema_name(grant.schema_name()));
        }
        one_of.into()
    }
}

impl ToSchema for TokenRequest {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        for grant in GrantType::ALL {
            schemas.push((grant.schema_name().to_owned(), grant.schema()));
        }
    }
}

impl TokenRequest {
    /// The account name and secret the grant needs, or the fields that are missing.
    fn credentials(self) -> Result<(String, String), ApiError> {
        let (name_field, secret_field) = self.grant_type.fields();
        let (name, secret) = match self.grant_type {
            GrantType::Password => (self.username, self.password),
            GrantType::ClientCredentials => (self.client_id, self.client_secret),
        };
        let mut missing = Vec::new();
        if name.as_deref().is_none_or(|n| n.trim().is_empty()) {
            missing.push(FieldError::new(
                name_field,
                "is required for this grant_type",
            ));
        }
        if secret.as_deref().is_none_or(str::is_empty) {
            missing.push(FieldError::new(
                secret_field,
                "is required for this grant_type",
            ));
        }
        match (name, secret) {
            (Some(name), Some(secret)) if missing.is_empty() => {
                Ok((name.trim().to_owned(), secret))
            }
            _ => Err(ApiError::validation(missing)),
        }
    }
}

/// An issued access token.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…",
    "token_type": "Bearer",
    "expires_in": 900,
    "expires_at": "2026-11-29T04:15:00Z",
    "agency_id": "0b6f2f9e-8f43-4f59-9a3e-5d1c2b7a9e10",
    "roles": ["case_worker"]
}))]
pub struct TokenResponse {
    /// The JWT to send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: u64,
    /// When the token expires (RFC 3339, UTC).
    pub expires_at: chrono::DateTime<chrono::Utc>,
    /// The agency the token acts for.
    pub agency_id: Uuid,
    /// The roles the token carries.
    pub roles: Vec<Role>,
}

/// id, agency, secret hash, roles, active, agency active, token version.
type AccountRow = (Uuid, Uuid, String, Vec<Role>, bool, bool, i32);

/// What a sign-in found for the account it names.
struct Account {
    id: Uuid,
    agency_id: Uuid,
    secret_hash: String,
    roles: Vec<Role>,
    usable: bool,
    token_version: i32,
}

/// Issue an access token.
///
/// Exchanges a username and password, or a machine client's id and secret,
/// for a short-lived JWT access token. Wrong credentials, unknown accounts and
/// deactivated accounts all get the same 401, so the answer does not reveal
/// which accounts exist. Attempts are counted before the secret is checked:
/// past 5 for one account name from one address within 15 minutes (known or
/// not), or 20 unsuccessful ones from one address, sign-in is refused with 429
/// and `Retry-After` until the window ends. Past 5 failures of a person's
/// account from anywhere, each attempt is slowed down (1 s doubling to 30 s),
/// never locked; machine clients are limited per address only. Every attempt
/// is in the audit log.
#[utoipa::path(
    tag = "auth",
    operation_id = "create_token",
    request_body = TokenRequest,
    security(()),
    responses(
        (status = 200, description = "The access token", body = TokenResponse),
        (status = 401, description = "The credentials are wrong", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed sign-ins for this account or from this address; retry after `Retry-After` seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/token")]
pub async fn create_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<TokenRequest>,
) -> ApiResult<HttpResponse> {
    let grant = body.grant_type;
    let (name, presented) = body.0.credentials()?;
    let address = crate::http::client::client_addr(&req, &state.settings.trusted_proxies)
        .map(|a| a.to_string())
        .unwrap_or_else(|| "unknown".into());
    let grant_name = match grant {
        GrantType::Password => "password",
        GrantType::ClientCredentials => "client",
    };
    let keys = Key::for_attempt(grant_name, &name, &address);
    let mut actor = Actor {
        kind: Some(if grant == GrantType::Password {
            "user"
        } else {
            "client"
        }),
        name: Some(name.clone()),
        client_addr: Some(address.clone()),
        request_id: req.extensions().get::<RequestId>().map(|r| r.0.clone()),
        ..Actor::default()
    };
    let mut conn = state.pool.get().await?;
    match throttle::attempt(&mut conn, &keys).await? {
        Verdict::Refused { account, until } => {
            changes::record(&mut conn, sign_in(&actor, "locked").failed()).await?;
            return Err(refused(account, until));
        }
        Verdict::Proceed(wait) if !wait.is_zero() => tokio::time::sleep(wait).await,
        Verdict::Proceed(_) => {}
    }
    let account = match grant {
        GrantType::Password => find_user(&mut conn, &name.to_lowercase()).await?,
        GrantType::ClientCredentials => find_client(&mut conn, &name).await?,
    };
    // Verify against a throwaway hash when the account is unknown, so that the
    // answer takes as long either way.
    let hash = account
        .as_ref()
        .map_or_else(|| state.decoy_hash.clone(), |a| a.secret_hash.clone());
    let matches = web::block(move || password::verify(&presented, &hash))
        .await
        .map_err(ApiError::internal)?;
    let account = match account {
        Some(account) if matches && account.usable => account,
        _ => {
            // Already counted, before the check.
            changes::record(&mut conn, sign_in(&actor, "invalid credentials").failed()).await?;
            return Err(ApiError::unauthorized("the credentials are not valid")
                .with_kind("invalid-credentials", "Sign-in failed"));
        }
    };
    throttle::succeeded(&mut conn, &keys).await?;
    let kind = match grant {
        GrantType::Password => PrincipalKind::User,
        GrantType::ClientCredentials => PrincipalKind::Client,
    };
    let (token, claims) = state
        .tokens
        .issue_versioned(
            account.id,
            kind,
            account.agency_id,
            account.roles.clone(),
            account.token_version,
        )
        .map_err(ApiError::internal)?;
    actor.id = Some(account.id);
    actor.agency_id = Some(account.agency_id);
    changes::record(&mut conn, sign_in(&actor, "signed in")).await?;
    Ok(HttpResponse::Ok().json(TokenResponse {
        access_token: token,
        token_type: "Bearer",
        expires_in: state.tokens.ttl().as_secs(),
        expires_at: claims.expires_at(),
        agency_id: account.agency_id,
        roles: account.roles,
    }))
}

/// The 429 for an attempt past a limit.
pub(super) fn refused(account: bool, until: chrono::DateTime<chrono::Utc>) -> ApiError {
    let wait = (until - chrono::Utc::now()).num_seconds().max(1) as u64;
    let detail = if account {
        "this account is locked after too many failed sign-ins; try again later"
    } else {
        "too many failed sign-ins from your address; try again later"
    };
    ApiError::too_many_requests(detail, wait).with_kind("sign-in-locked", "Sign-in locked")
}

/// The audit entry of a sign-in attempt (refused ones are marked failed).
fn sign_in<'a>(actor: &'a Actor, result: &str) -> Change<'a> {
    Change::of_set(actor, "auth.sign_in", "session").after(&serde_json::json!({ "result": result }))
}

async fn find_user(conn: &mut AsyncPgConnection, username: &str) -> ApiResult<Option<Account>> {
    let row: Option<AccountRow> = users::table
        .inner_join(agencies::table)
        .filter(users::username.eq(username))
        .select((
            users::id,
            users::agency_id,
            users::password_hash,
            users::roles,
            users::active,
            agencies::active,
            users::token_version,
        ))
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(
        |(id, agency_id, secret_hash, roles, active, agency_active, token_version)| Account {
            id,
            agency_id,
            secret_hash,
            roles,
            usable: active && agency_active,
            token_version,
        },
    ))
}

async fn find_client(conn: &mut AsyncPgConnection, client_id: &str) -> ApiResult<Option<Account>> {
    let row: Option<AccountRow> = api_clients::table
        .inner_join(agencies::table)
        .filter(api_clients::client_id.eq(client_id))
        .select((
            api_clients::id,
            api_clients::agency_id,
            api_clients::secret_hash,
            api_clients::roles,
            api_clients::active,
            agencies::active,
            api_clients::token_version,
        ))
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(
        |(id, agency_id, secret_hash, roles, active, agency_active, token_version)| Account {
            id,
            agency_id,
            secret_hash,
            roles,
            usable: active && agency_active,
            token_version,
        },
    ))
}

/// Revoke the presented token.
///
/// Signs out: the token used for this call stops working at once, on every
/// instance of the API. Other tokens of the same account are not affected.
#[utoipa::path(
    tag = "auth",
    operation_id = "revoke_token",
    responses((status = 204, description = "The token is revoked"))
)]
#[post("/auth/logout")]
pub async fn revoke_token(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    diesel::insert_into(revoked_tokens::table)
        .values((
            revoked_tokens::jti.eq(caller.token_id),
            revoked_tokens::expires_at.eq(caller.token_expires_at),
        ))
        .on_conflict_do_nothing()
        .execute(&mut conn)
        .await?;
    let actor = Actor::from(&caller);
    changes::record(
        &mut conn,
        Change::of(&actor, "auth.sign_out", "session", caller.token_id),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
