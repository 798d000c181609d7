//! Breaking the glass: a case worker handling a repeat return may need the
//! person's earlier returns, handled elsewhere, to judge a re-trafficking risk.
//!
//! `POST /api/v1/cases/{id}/earlier-returns/access` grants the caller, at
//! once and with a reason, read access to every other return of the case's
//! person for a few hours (`PULANG_BREAK_GLASS_MINUTES`, default 240). The
//! grant is in the audit log; every read through it is in the read log with
//! `via_grant`; the records are shown with personal data masked; the owning
//! agencies' administrators see the grant (`GET /api/v1/access-grants`); and
//! it ends by itself. Only reads of single records and of the person go
//! through a grant — lists, searches, exports, reports and the change feed
//! stay within the caller's own scope.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::handlers::not_found;
use super::queries::{self, CaseSort};
use super::view::CaseView;
use crate::access::{CaseScope, Operation};
use crate::audit::Actor;
use crate::auth::{Caller, PrincipalKind};
use crate::changes::{self, Change};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, decode_cursor};
use crate::schema::{access_grants, cases};
use crate::state::AppState;

/// A request to read a repeat returnee's earlier returns.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Third return in a year through the same recruiter; assessing re-trafficking risk"}))]
pub struct GrantRequest {
    /// Why the earlier returns are needed (1 to 1,000 characters); shown to the
    /// owning agencies' administrators.
    pub reason: crate::text::Line<1000>,
}

/// A break-the-glass grant.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = access_grants)]
pub struct AccessGrant {
    /// The grant's id.
    pub id: Uuid,
    /// The user it was granted to.
    pub principal_id: Uuid,
    /// Their username.
    pub principal_name: String,
    /// Their agency.
    pub agency_id: Uuid,
    /// The case being handled, whose person's other returns it opens.
    pub case_id: Uuid,
    /// The person whose returns it opens.
    pub person_id: Uuid,
    /// Why.
    pub reason: String,
    /// When it was granted.
    pub granted_at: DateTime<Utc>,
    /// When it ends by itself.
    pub expires_at: DateTime<Utc>,
}

/// A grant and the returns it opened.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantOutcome {
    /// The grant.
    #[serde(flatten)]
    pub grant: AccessGrant,
    /// The other returns of the person now readable with `GET /api/v1/cases/{id}`
    /// and listed by `GET /api/v1/persons/{id}`.
    pub case_ids: Vec<Uuid>,
}

/// Break the glass: read a repeat returnee's earlier returns.
///
/// Grants the calling case worker read access, at once, to every other
/// return of the person of a case it handles, for a few hours. The reason is
/// required and shown to the administrators of the agencies whose cases it
/// opens; the grant is in the audit log and every read through it in the read
/// log. Those returns are shown with personal data masked. People only, not
/// machine clients. A person without other returns has nothing to open (409).
#[utoipa::path(
    tag = "cases",
    operation_id = "grant_earlier_returns_access",
    params(("id" = Uuid, Path, description = "The case being handled")),
    request_body = GrantRequest,
    responses(
        (status = 201, description = "The grant and the returns it opened", body = GrantOutcome),
        (status = 409, description = "The person has no other returns to open", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/cases/{id}/earlier-returns/access")]
pub async fn grant_earlier_returns_access(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<GrantRequest>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::BreakGlass)?;
    if caller.kind != PrincipalKind::User {
        return Err(ApiError::forbidden(
            "only people break the glass, not machine clients",
        ));
    }
    let reason = body
        .0
        .reason
        .non_empty()
        .ok_or_else(|| ApiError::invalid_field("reason", "must not be empty"))?;
    let ttl =
        chrono::Duration::from_std(state.settings.break_glass_ttl).map_err(ApiError::internal)?;
    let scope = caller.case_scope();
    let actor = Actor::from(&caller);
    let mut conn = state.pool.get().await?;
    let outcome = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let case = queries::find(conn, &scope, *id)
                .await?
                .ok_or_else(not_found)?;
            let others: Vec<Uuid> = cases::table
                .filter(cases::person_id.eq(case.person.id))
                .filter(cases::id.ne(case.id))
                .order((cases::arrived_at, cases::id))
                .select(cases::id)
                .load(conn)
                .await?;
            if others.is_empty() {
                return Err(ApiError::conflict(
                    "the person has no other returns to open",
                ));
            }
            let now = Utc::now();
            let grant: AccessGrant = diesel::insert_into(access_grants::table)
                .values((
                    access_grants::id.eq(super::new_id()),
                    access_grants::principal_id.eq(caller.principal_id),
                    access_grants::principal_name.eq(&caller.name),
                    access_grants::agency_id.eq(caller.agency_id),
                    access_grants::case_id.eq(case.id),
                    access_grants::person_id.eq(case.person.id),
                    access_grants::reason.eq(&reason),
                    access_grants::granted_at.eq(now),
                    access_grants::expires_at.eq(now + ttl),
                ))
                .returning(AccessGrant::as_returning())
                .get_result(conn)
                .await?;
            changes::record(
                conn,
                Change::of(&actor, "case.break_glass", "access_grant", grant.id).after(&grant),
            )
            .await?;
            Ok(GrantOutcome {
                grant,
                case_ids: others,
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("/api/v1/access-grants/{}", outcome.grant.id),
        ))
        .json(outcome))
}

/// Whether `caller` holds a grant, in force now, to the returns of `person`.
pub async fn holds_grant(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    person: Uuid,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        access_grants::table
            .filter(access_grants::principal_id.eq(caller.principal_id))
            .filter(access_grants::person_id.eq(person))
            .filter(access_grants::expires_at.gt(diesel::dsl::now)),
    ))
    .get_result(conn)
    .await
}

/// A case outside the caller's scope that a grant in force opens to it,
/// masked. `None` when there is no such case or no such grant.
pub async fn granted_case(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
) -> QueryResult<Option<CaseView>> {
    if !caller.may(Operation::BreakGlass) {
        return Ok(None);
    }
    let Some(case) = queries::find(conn, &CaseScope::All, id).await? else {
        return Ok(None);
    };
    Ok(holds_grant(conn, caller, case.person.id)
        .await?
        .then(|| case.masked()))
}

/// The returns of `person` a grant in force opens to the caller, masked,
/// newest first (empty without a grant).
pub async fn granted_cases(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    person: Uuid,
) -> QueryResult<Vec<CaseView>> {
    if !caller.may(Operation::BreakGlass) || !holds_grant(conn, caller, person).await? {
        return Ok(Vec::new());
    }
    Ok(
        queries::of_person(conn, &CaseScope::All, person, CaseSort::ArrivedDesc, 500)
            .await?
            .into_iter()
            .map(CaseView::masked)
            .collect(),
    )
}

/// Filters of `GET /api/v1/access-grants`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GrantQuery {
    /// Only grants still in force.
    pub active: Option<bool>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The page size of `list_access_grants`.
pub const GRANT_PAGE: crate::http::pagination::PageSize = crate::http::pagination::PageSize {
    default: 50,
    max: 200,
};

/// List the grants that opened your agency's cases.
///
/// Break-the-glass grants, newest first, that opened at least one case in the
/// caller's scope to someone: who, from which agency, for which of your cases'
/// persons, why, and until when. For agency administrators (and system
/// administrators, who see all).
#[utoipa::path(
    tag = "cases",
    operation_id = "list_access_grants",
    params(GrantQuery),
    responses((status = 200, description = "A page of grants, newest first", body = Page<AccessGrant>))
)]
#[get("/access-grants")]
pub async fn list_access_grants(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<GrantQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ReviewAccessGrants)?;
    let q = query.0;
    let limit = GRANT_PAGE.of(q.limit)?;
    let scope = caller.case_scope();
    let mut conn = state.pool.get().await?;
    let mut cursor: Option<(DateTime<Utc>, Uuid)> = q
        .cursor
        .as_deref()
        .map(decode_cursor::<(DateTime<Utc>, Uuid)>)
        .transpose()?;
    let mut found: Vec<AccessGrant> = Vec::new();
    // Grants are few; each batch is checked against the scope until the page is full.
    loop {
        let mut sql = access_grants::table
            .select(AccessGrant::as_select())
            .order((access_grants::granted_at.desc(), access_grants::id.desc()))
            .limit(200)
            .into_boxed();
        if q.active == Some(true) {
            sql = sql.filter(access_grants::expires_at.gt(diesel::dsl::now));
        }
        if let Some((at, id)) = cursor {
            sql = sql.filter(
                access_grants::granted_at
                    .lt(at)
                    .or(access_grants::granted_at
                        .eq(at)
                        .and(access_grants::id.lt(id))),
            );
        }
        let batch: Vec<AccessGrant> = sql.load(&mut conn).await?;
        let done = batch.len() < 200;
        for grant in batch {
            cursor = Some((grant.granted_at, grant.id));
            // Two returns suffice: if one is the grant's own case, the other is not.
            let mine =
                queries::of_person(&mut conn, &scope, grant.person_id, CaseSort::ArrivedDesc, 2)
                    .await?
                    .iter()
                    .any(|c| c.id != grant.case_id);
            if mine {
                found.push(grant);
                if found.len() > limit {
                    break;
                }
            }
        }
        if done || found.len() > limit {
            break;
        }
    }
    Ok(HttpResponse::Ok().json(Page::from_rows(found, limit, |g| (g.granted_at, g.id))))
}
