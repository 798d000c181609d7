//! Authentication: who is calling.
//!
//! Every `/api/v1` route but the token endpoint takes a [`Caller`], which
//! verifies the bearer token and, in one query, that it has not been revoked
//! and that its user or client and agency are still active. What a caller may
//! then see and do is the access policy's business.

pub mod handlers;
pub mod me;
pub mod password;
pub mod throttle;
pub mod tokens;

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use chrono::{DateTime, Utc};
use diesel::dsl::{exists, not};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::agencies::AgencyKind;
use crate::error::ApiError;
use crate::http::middleware::RequestId;
use crate::schema::{agencies, api_clients, revoked_tokens, users};
use crate::state::AppState;
pub use tokens::{Claims, PrincipalKind, TokenKeys};

crate::text_enum! {
    /// What a user or client may do within its agency.
    pub enum Role {
        /// Administers the whole installation: agencies, users, everything.
        SystemAdmin => "system_admin",
        /// Administers the users and clients of its own agency.
        AgencyAdmin => "agency_admin",
        /// Registers and handles cases and transfers (pekerja sosial).
        CaseWorker => "case_worker",
        /// Manages budgets and records costs.
        FinanceOfficer => "finance_officer",
        /// Reads what its agency may see.
        Viewer => "viewer",
        /// A machine client that pushes records (BP3TKI, Kemensos systems).
        Integration => "integration",
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user's or machine client's id.
    pub principal_id: Uuid,
    /// Whether the caller is a person or a machine client.
    pub kind: PrincipalKind,
    /// The agency the caller acts for.
    pub agency_id: Uuid,
    /// That agency's kind.
    pub agency_kind: AgencyKind,
    /// The region that agency covers (dotted code), if any.
    pub agency_region: Option<String>,
    /// The caller's current roles.
    pub roles: Vec<Role>,
    /// The token's id.
    pub token_id: Uuid,
    /// When the token expires.
    pub token_expires_at: DateTime<Utc>,
    /// The username or client id.
    pub name: String,
    /// The request's id (for the audit log).
    pub request_id: Option<String>,
    /// The caller's network address (for the audit log).
    pub client_addr: Option<String>,
}

impl Caller {
    /// Whether the caller holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether the caller is a system administrator.
    pub fn is_system_admin(&self) -> bool {
        self.has_role(Role::SystemAdmin)
    }
}

/// The token in an `Authorization: Bearer …` header.
fn bearer_token(req: &HttpRequest) -> Result<String, ApiError> {
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::unauthorized("a bearer token is required: send Authorization: Bearer <token>")
        })?;
    let value = header
        .to_str()
        .map_err(|_| ApiError::unauthorized("the Authorization header is not readable"))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_owned())
        }
        _ => Err(ApiError::unauthorized(
            "the Authorization header must use the Bearer scheme",
        )),
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer_token(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
        let client_addr = state.as_ref().and_then(|s| {
            crate::http::client::client_addr(req, &s.settings.trusted_proxies)
                .map(|a| a.to_string())
        });
        Box::pin(async move {
            let state =
                state.ok_or_else(|| ApiError::internal(anyhow::anyhow!("app state missing")))?;
            let claims = state
                .tokens
                .verify(&token?)
                .map_err(|e| ApiError::unauthorized(e.to_string()))?;
            let mut conn = state.pool.get().await?;
            // A password change ends every session opened before it.
            let issued_before =
                DateTime::from_timestamp(claims.iat + 1, 0).unwrap_or_else(Utc::now);
            let not_revoked = not(exists(
                revoked_tokens::table.filter(revoked_tokens::jti.eq(claims.jti)),
            ));
            let found: Option<(AgencyKind, Option<String>, Vec<Role>, String)> = match claims.kind {
                PrincipalKind::User => users::table
                    .inner_join(agencies::table)
                    .filter(users::id.eq(claims.sub))
                    .filter(users::agency_id.eq(claims.agency))
                    .filter(users::active.and(agencies::active))
                    .filter(users::password_changed_at.lt(issued_before))
                    .filter(users::token_version.eq(claims.ver))
                    .filter(not_revoked)
                    .select((
                        agencies::kind,
                        agencies::region_code,
                        users::roles,
                        users::username,
                    ))
                    .first(&mut conn)
                    .await
                    .optional()?,
                PrincipalKind::Client => api_clients::table
                    .inner_join(agencies::table)
                    .filter(api_clients::id.eq(claims.sub))
                    .filter(api_clients::agency_id.eq(claims.agency))
                    .filter(api_clients::active.and(agencies::active))
                    .filter(api_clients::token_version.eq(claims.ver))
                    .filter(not_revoked)
                    .select((
                        agencies::kind,
                        agencies::region_code,
                        api_clients::roles,
                        api_clients::client_id,
                    ))
                    .first(&mut conn)
                    .await
                    .optional()?,
            };
            let (agency_kind, agency_region, roles, name) = found.ok_or_else(|| {
                ApiError::unauthorized(
                    "the access token has been revoked, or its account or agency deactivated",
                )
            })?;
            Ok(Caller {
                principal_id: claims.sub,
                kind: claims.kind,
                agency_id: claims.agency,
                agency_kind,
                agency_region,
                roles,
                token_id: claims.jti,
                token_expires_at: claims.expires_at(),
                name,
                request_id,
                client_addr,
            })
        })
    }
}
