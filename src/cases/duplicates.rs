//! Possible duplicate returns: records that may describe the same return but
//! cannot be linked with certainty, because one of them has neither NIK nor
//! passport. Such a record still makes its case; the pair waits in a queue
//! for a case worker of the handling province, who confirms it (the two
//! cases become one, with both reports and both histories, and the merged
//! case's number stays an alias that still finds it) or dismisses it.
//!
//! A pair is queued when two returns are handled in the same province, arrive
//! within the same-return window, come from the same regency, have names of
//! trigram similarity at least [`SIMILARITY`] (`pg_trgm`, which ignores
//! case), do not disagree on the birth date (both known and different), have
//! different identities, and at least one identity has no NIK and no passport.
//! Two different NIKs are two people; such pairs are never queued.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Float4, Interval, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::queries;
use super::view::{CaseView, ShownDate};
use crate::access::{CaseScope, Operation};
use crate::audit::Actor;
use crate::auth::Caller;
use crate::changes::{self, CaseEntry, Change, HistoryAction};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, decode_cursor};
use crate::state::AppState;

/// The least name similarity (0 to 1) for a pair to be queued.
pub const SIMILARITY: f32 = 0.5;

/// Queues the possible duplicates of newly created cases.
pub async fn queue(
    conn: &mut AsyncPgConnection,
    created: &[Uuid],
    window: chrono::Duration,
) -> QueryResult<()> {
    if created.is_empty() {
        return Ok(());
    }
    // Two branches, measured on 300,000 cases of one province (820 a day,
    // 14 regencies, 120 distinct names; docs/returns-and-reports.md):
    // - a new case without NIK or passport looks at every return of its
    //   regency in the window, through (handling_province, origin_region,
    //   arrived_at): about 2.5 ms per such case;
    // - a new case with a key looks only at returns without one, found from
    //   the identities without a key, so that a push of keyed records (the
    //   common case) pays for the keyless returns, not for every return:
    //   64 ms for 1,000 keyed records with 1,171 keyless returns stored.
    diesel::sql_query(
        "INSERT INTO possible_duplicates (id, case_id, duplicate_id, handling_province, similarity) \
         SELECT gen_random_uuid(), pair.old, pair.new, pair.province, pair.sim FROM ( \
           SELECT o.id AS old, n.id AS new, n.handling_province AS province, \
                  similarity(o.full_name, n.full_name) AS sim \
             FROM cases n JOIN persons np ON np.id = n.person_id AND np.nik IS NULL AND np.passport_number IS NULL \
             CROSS JOIN LATERAL ( \
               SELECT o.id, o.full_name FROM cases o \
                WHERE o.handling_province = n.handling_province AND o.origin_region = n.origin_region \
                  AND o.arrived_at BETWEEN n.arrived_at - $2 AND n.arrived_at + $2 \
                  AND o.person_id <> n.person_id AND (o.created_at, o.id) < (n.created_at, n.id) \
                  AND NOT (o.birth_date IS NOT NULL AND n.birth_date IS NOT NULL AND o.birth_date <> n.birth_date) \
                  AND similarity(o.full_name, n.full_name) >= $3) o \
            WHERE n.id = ANY($1) \
           UNION ALL \
           SELECT o.id, n.id, n.handling_province, similarity(o.full_name, n.full_name) \
             FROM cases n JOIN persons np ON np.id = n.person_id AND NOT (np.nik IS NULL AND np.passport_number IS NULL) \
             JOIN (SELECT o.* FROM persons op JOIN cases o ON o.person_id = op.id \
                    WHERE op.nik IS NULL AND op.passport_number IS NULL) o \
               ON o.handling_province = n.handling_province AND o.origin_region = n.origin_region \
              AND o.arrived_at BETWEEN n.arrived_at - $2 AND n.arrived_at + $2 \
              AND o.person_id <> n.person_id AND (o.created_at, o.id) < (n.created_at, n.id) \
              AND NOT (o.birth_date IS NOT NULL AND n.birth_date IS NOT NULL AND o.birth_date <> n.birth_date) \
            WHERE n.id = ANY($1) AND similarity(o.full_name, n.full_name) >= $3 \
         ) pair \
         ON CONFLICT (case_id, duplicate_id) DO NOTHING",
    )
    .bind::<Array<SqlUuid>, _>(created)
    .bind::<Interval, _>(diesel::data_types::PgInterval::from_microseconds(
        window.num_microseconds().unwrap_or(i64::MAX),
    ))
    .bind::<Float4, _>(SIMILARITY)
    .execute(conn)
    .await
    .map(drop)
}

crate::text_enum! {
    /// Where a possible duplicate stands.
    pub enum PairStatus {
        /// Waiting for a case worker.
        Open => "open",
        /// The two cases were found to be one return, and merged.
        Confirmed => "confirmed",
        /// The two cases are two returns.
        Dismissed => "dismissed",
    }
}

/// One side of a pair, as much as a case worker needs to judge it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PairCase {
    /// The case's id (after a confirmation, the merged case's former id).
    pub id: Uuid,
    /// Its number.
    pub case_number: String,
    /// The name as recorded.
    pub full_name: String,
    /// The birth date as recorded (masked to its year for callers who see masked data).
    #[schema(value_type = Option<String>)]
    pub birth_date: Option<ShownDate>,
    /// Regency of origin.
    pub origin_region: String,
    /// Arrival.
    pub arrived_at: DateTime<Utc>,
    /// The agency that created it.
    pub source_agency_id: Uuid,
}

/// A pair of returns that may be one.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PossibleDuplicate {
    /// The pair's id.
    pub id: Uuid,
    /// `open`, `confirmed` or `dismissed`.
    pub status: PairStatus,
    /// Name similarity, 0 to 1.
    pub similarity: f32,
    /// The province handling both.
    pub handling_province: String,
    /// The older case; it is kept when the pair is confirmed.
    pub case: PairCase,
    /// The newer case; merged into `case` when confirmed (then absent).
    pub duplicate: Option<PairCase>,
    /// Why it was confirmed or dismissed.
    pub reason: Option<String>,
    /// When the pair was queued.
    pub created_at: DateTime<Utc>,
    /// When a case worker decided.
    pub decided_at: Option<DateTime<Utc>>,
}

#[derive(QueryableByName)]
struct PairRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Float4)]
    similarity: f32,
    #[diesel(sql_type = Text)]
    handling_province: String,
    #[diesel(sql_type = Nullable<Text>)]
    reason: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    decided_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = SqlUuid)]
    a_id: Uuid,
    #[diesel(sql_type = Text)]
    a_number: String,
    #[diesel(sql_type = Text)]
    a_name: String,
    #[diesel(sql_type = Nullable<diesel::sql_types::Date>)]
    a_birth: Option<NaiveDate>,
    #[diesel(sql_type = Text)]
    a_origin: String,
    #[diesel(sql_type = Timestamptz)]
    a_arrived: DateTime<Utc>,
    #[diesel(sql_type = SqlUuid)]
    a_source: Uuid,
    #[diesel(sql_type = SqlUuid)]
    b_id: Uuid,
    #[diesel(sql_type = Nullable<Text>)]
    b_number: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    b_name: Option<String>,
    #[diesel(sql_type = Nullable<diesel::sql_types::Date>)]
    b_birth: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Text>)]
    b_origin: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    b_arrived: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    b_source: Option<Uuid>,
}

const PAIR_SQL: &str = "SELECT d.id, d.status, d.similarity, d.handling_province, d.reason, d.created_at, d.decided_at, \
    a.id AS a_id, a.case_number AS a_number, a.full_name AS a_name, a.birth_date AS a_birth, \
    a.origin_region AS a_origin, a.arrived_at AS a_arrived, a.source_agency_id AS a_source, \
    d.duplicate_id AS b_id, b.case_number AS b_number, b.full_name AS b_name, b.birth_date AS b_birth, \
    b.origin_region AS b_origin, b.arrived_at AS b_arrived, b.source_agency_id AS b_source \
    FROM possible_duplicates d JOIN cases a ON a.id = d.case_id LEFT JOIN cases b ON b.id = d.duplicate_id";

impl PairRow {
    fn view(self, whole: bool) -> PossibleDuplicate {
        let date = |d: Option<NaiveDate>| {
            d.map(|d| {
                if whole {
                    ShownDate::Whole(d)
                } else {
                    ShownDate::Masked(chrono::Datelike::year(&d))
                }
            })
        };
        let duplicate = match (
            self.b_number,
            self.b_name,
            self.b_origin,
            self.b_arrived,
            self.b_source,
        ) {
            (
                Some(case_number),
                Some(full_name),
                Some(origin_region),
                Some(arrived_at),
                Some(source),
            ) => Some(PairCase {
                id: self.b_id,
                case_number,
                full_name,
                birth_date: date(self.b_birth),
                origin_region,
                arrived_at,
                source_agency_id: source,
            }),
            _ => None,
        };
        PossibleDuplicate {
            id: self.id,
            status: self.status.parse().unwrap_or(PairStatus::Open),
            similarity: self.similarity,
            handling_province: self.handling_province,
            case: PairCase {
                id: self.a_id,
                case_number: self.a_number,
                full_name: self.a_name,
                birth_date: date(self.a_birth),
                origin_region: self.a_origin,
                arrived_at: self.a_arrived,
                source_agency_id: self.a_source,
            },
            duplicate,
            reason: self.reason,
            created_at: self.created_at,
            decided_at: self.decided_at,
        }
    }
}

/// The province whose queue a caller works: the handling agency's, or every one (`None`).
fn queue_scope(caller: &Caller) -> ApiResult<Option<String>> {
    caller.require(Operation::WriteCases)?;
    match caller.case_scope() {
        CaseScope::All => Ok(None),
        CaseScope::HandledInProvince(p) => Ok(Some(p)),
        _ => Err(ApiError::forbidden(
            "only the agency handling the returns works their possible duplicates",
        )),
    }
}

/// Filters and paging of the queue.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PairQuery {
    /// `open` (default), `confirmed` or `dismissed`.
    pub status: Option<PairStatus>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct PairCursor {
    created_at: DateTime<Utc>,
    id: Uuid,
}

/// Pages of the queue of possible duplicates: 50 pairs unless `limit` says otherwise, at most 500.
pub const DUPLICATE_PAGE: crate::http::pagination::PageSize = crate::http::pagination::PageSize {
    default: 50,
    max: 500,
};

/// List possible duplicate returns.
///
/// Pairs of returns that may be one, queued because one of them has neither
/// NIK nor passport and their names, birth dates, origins and arrivals are
/// close. Oldest first. Case workers of the handling province (and system
/// administrators) work this queue.
#[utoipa::path(
    tag = "cases",
    operation_id = "list_possible_duplicates",
    params(PairQuery),
    responses((status = 200, description = "A page of pairs", body = Page<PossibleDuplicate>))
)]
#[get("/possible-duplicates")]
pub async fn list_possible_duplicates(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<PairQuery>,
) -> ApiResult<HttpResponse> {
    let province = queue_scope(&caller)?;
    let limit = DUPLICATE_PAGE.of(query.limit)?;
    let cursor = query
        .cursor
        .as_deref()
        .map(decode_cursor::<PairCursor>)
        .transpose()?;
    let status = query.status.unwrap_or(PairStatus::Open);
    let rows: Vec<PairRow> = diesel::sql_query(format!(
        "{PAIR_SQL} WHERE d.status = $1 AND ($2::text IS NULL OR d.handling_province = $2) \
         AND ($3::timestamptz IS NULL OR (d.created_at, d.id) > ($3, $4)) \
         ORDER BY d.created_at, d.id LIMIT {}",
        limit + 1
    ))
    .bind::<Text, _>(status.as_str())
    .bind::<Nullable<Text>, _>(province)
    .bind::<Nullable<Timestamptz>, _>(cursor.as_ref().map(|c| c.created_at))
    .bind::<SqlUuid, _>(cursor.as_ref().map(|c| c.id).unwrap_or_default())
    .load(&mut *state.pool.get().await?)
    .await?;
    let whole = caller.sees_personal_data();
    let items: Vec<PossibleDuplicate> = rows.into_iter().map(|r| r.view(whole)).collect();
    Ok(
        HttpResponse::Ok().json(Page::from_rows(items, limit, |p| PairCursor {
            created_at: p.created_at,
            id: p.id,
        })),
    )
}

/// A decision on a pair.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Same woman: BP3TKI and the ministry spelled her name differently"}))]
pub struct PairDecision {
    /// Why (required).
    pub reason: String,
}

fn reason_of(decision: &PairDecision) -> ApiResult<String> {
    let reason = decision.reason.trim();
    if reason.is_empty() {
        return Err(ApiError::invalid_field("reason", "is required"));
    }
    Ok(reason.to_owned())
}

/// The open pair, locked, within the caller's province.
async fn open_pair(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    province: &Option<String>,
) -> ApiResult<(Uuid, Uuid)> {
    use crate::schema::possible_duplicates as d;
    let row: Option<(Uuid, Uuid, String, String)> = d::table
        .filter(d::id.eq(id))
        .select((d::case_id, d::duplicate_id, d::handling_province, d::status))
        .for_update()
        .first(conn)
        .await
        .optional()?;
    match row {
        Some((_, _, p, _)) if province.as_ref().is_some_and(|mine| *mine != p) => Err(not_found()),
        None => Err(not_found()),
        Some((_, _, _, status)) if status != "open" => {
            Err(ApiError::conflict(format!("this pair is already {status}")))
        }
        Some((keep, gone, _, _)) => Ok((keep, gone)),
    }
}

fn not_found() -> ApiError {
    ApiError::not_found("there is no such pair, or it is not yours to decide")
}

async fn decide(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    status: PairStatus,
    actor: &Actor,
    reason: &str,
) -> QueryResult<()> {
    use crate::schema::possible_duplicates as d;
    diesel::update(d::table.find(id))
        .set((
            d::status.eq(status.as_str()),
            d::reason.eq(reason),
            d::decided_at.eq(Utc::now()),
            d::decided_by.eq(actor.id),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// Confirm a possible duplicate.
///
/// The two cases are one return: the newer is merged into the older, which
/// keeps its number, status and values and gains the newer one's reports and
/// history; the merged case's number becomes an alias (a search by it, or a
/// read of its former id, finds the kept case). When the kept case's identity
/// has neither NIK nor passport and the merged one's has, the kept case takes
/// that identity. A merged case in a transfer cannot be merged (409): remove
/// it from the transfer first, so that no transfer carries a return twice.
#[utoipa::path(
    tag = "cases",
    operation_id = "confirm_possible_duplicate",
    params(("id" = Uuid, Path, description = "The pair's id")),
    request_body = PairDecision,
    responses(
        (status = 200, description = "The kept case", body = CaseView),
        (status = 409, description = "The pair is decided already, or the newer case is in a transfer", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/possible-duplicates/{id}/confirm")]
pub async fn confirm_possible_duplicate(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<PairDecision>,
) -> ApiResult<HttpResponse> {
    let province = queue_scope(&caller)?;
    let reason = reason_of(&body)?;
    let actor = Actor::from(&caller);
    let scope = caller.case_scope();
    let mut conn = state.pool.get().await?;
    let kept = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let (keep, gone) = open_pair(conn, *id, &province).await?;
            let locked = queries::find_all_for_update(conn, &scope, &[keep, gone]).await?;
            let (Some(kept), Some(merged)) = (
                locked.iter().find(|c| c.id == keep).cloned(),
                locked.iter().find(|c| c.id == gone).cloned(),
            ) else {
                return Err(not_found());
            };
            let entry = merge(conn, &kept, &merged, &reason).await?;
            decide(conn, *id, PairStatus::Confirmed, &actor, &reason).await?;
            let after = queries::find(conn, &CaseScope::All, keep)
                .await?
                .ok_or_else(not_found)?;
            let change = Change::case(&actor, "case.merge", entry)
                .before(&merged)
                .after(&after);
            changes::record(conn, change).await?;
            Ok(after)
        })
        .await?;
    Ok(super::handlers::case_response(
        actix_web::http::StatusCode::OK,
        kept,
        &caller,
    ))
}

/// Merges `merged` into `kept` (both locked): reports, history and aliases
/// move, the merged case's number becomes an alias, the identities' returns
/// are recounted, and the merged case is deleted.
async fn merge(
    conn: &mut AsyncPgConnection,
    kept: &CaseView,
    merged: &CaseView,
    reason: &str,
) -> ApiResult<CaseEntry> {
    use crate::schema::{
        access_grants, case_aliases, case_consents, case_history, case_reports, cases, persons,
        transfer_cases,
    };
    let in_transfer: i64 = transfer_cases::table
        .filter(transfer_cases::case_id.eq(merged.id))
        .count()
        .get_result(conn)
        .await?;
    if in_transfer > 0 {
        return Err(ApiError::conflict(format!(
            "{} has been in a transfer; remove it from the transfer before merging it",
            merged.case_number
        )));
    }
    let keyless = |p: &super::Person| p.nik.is_none() && p.passport_number.is_none();
    let (old_identity, merged_identity) = (kept.person.id, merged.person.id);
    let identity_keyless: bool = persons::table
        .find(old_identity)
        .select(
            persons::nik
                .is_null()
                .and(persons::passport_number.is_null()),
        )
        .first(conn)
        .await?;
    let take_identity = identity_keyless && !keyless(&merged.person);
    super::identity::lock(conn, &[old_identity, merged_identity]).await?;
    // Followers learn that the merged case is gone, and where it went.
    changes::bulk::case_merged_away(conn, merged.id, kept.id).await?;
    diesel::update(case_reports::table.filter(case_reports::case_id.eq(merged.id)))
        .set((
            case_reports::case_id.eq(kept.id),
            case_reports::attached.eq(true),
        ))
        .execute(conn)
        .await?;
    diesel::update(case_history::table.filter(case_history::case_id.eq(merged.id)))
        .set(case_history::case_id.eq(kept.id))
        .execute(conn)
        .await?;
    diesel::update(case_aliases::table.filter(case_aliases::case_id.eq(merged.id)))
        .set(case_aliases::case_id.eq(kept.id))
        .execute(conn)
        .await?;
    // The returnee's consent decisions and the break-the-glass grants that
    // named the merged case follow it; the read log names cases without a
    // key and keeps what was read as it was.
    diesel::update(case_consents::table.filter(case_consents::case_id.eq(merged.id)))
        .set(case_consents::case_id.eq(kept.id))
        .execute(conn)
        .await?;
    diesel::update(access_grants::table.filter(access_grants::case_id.eq(merged.id)))
        .set(access_grants::case_id.eq(kept.id))
        .execute(conn)
        .await?;
    // The one return's consent is the latest decision recorded on either case.
    diesel::sql_query(
        "UPDATE cases c SET consent = d.decision FROM (SELECT decision FROM case_consents WHERE case_id = $1 \
           ORDER BY decided_at DESC, id DESC LIMIT 1) d WHERE c.id = $1",
    )
    .bind::<SqlUuid, _>(kept.id)
    .execute(conn)
    .await?;
    diesel::sql_query(
        "DELETE FROM possible_duplicates WHERE status = 'open' AND (case_id = $1 OR duplicate_id = $1) \
           AND NOT (case_id = $2 AND duplicate_id = $1)",
    )
    .bind::<SqlUuid, _>(merged.id)
    .bind::<SqlUuid, _>(kept.id)
    .execute(conn)
    .await?;
    // Decided pairs naming the merged case as the older one now name the kept case.
    diesel::sql_query("DELETE FROM possible_duplicates WHERE case_id = $1 AND duplicate_id = $2")
        .bind::<SqlUuid, _>(merged.id)
        .bind::<SqlUuid, _>(kept.id)
        .execute(conn)
        .await?;
    diesel::sql_query(
        "UPDATE possible_duplicates d SET case_id = $2 WHERE d.case_id = $1 \
           AND NOT EXISTS (SELECT 1 FROM possible_duplicates e WHERE e.case_id = $2 AND e.duplicate_id = d.duplicate_id)",
    )
    .bind::<SqlUuid, _>(merged.id)
    .bind::<SqlUuid, _>(kept.id)
    .execute(conn)
    .await?;
    diesel::sql_query("DELETE FROM possible_duplicates WHERE case_id = $1")
        .bind::<SqlUuid, _>(merged.id)
        .execute(conn)
        .await?;
    diesel::insert_into(case_aliases::table)
        .values((
            case_aliases::case_number.eq(&merged.case_number),
            case_aliases::former_id.eq(merged.id),
            case_aliases::case_id.eq(kept.id),
        ))
        .execute(conn)
        .await?;
    diesel::delete(cases::table.find(merged.id))
        .execute(conn)
        .await?;
    let identity = if take_identity {
        merged_identity
    } else {
        old_identity
    };
    diesel::update(cases::table.find(kept.id))
        .set((
            cases::person_id.eq(identity),
            cases::version.eq(cases::version + 1),
            cases::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await?;
    super::identity::reconcile(conn, &[old_identity, merged_identity], &[], &[kept.id]).await?;
    for old in [old_identity, merged_identity] {
        if old != identity {
            super::identity::forget_if_unused(conn, old).await?;
        }
    }
    Ok(CaseEntry::new(kept.id, HistoryAction::DuplicateMerged)
        .reason(reason)
        .before(merged)
        .after(&serde_json::json!({"merged_case_number": merged.case_number, "merged_case_id": merged.id})))
}

/// Dismiss a possible duplicate.
///
/// The two cases are two returns; the pair is never queued again. Recorded,
/// with the reason, in both cases' history.
#[utoipa::path(
    tag = "cases",
    operation_id = "dismiss_possible_duplicate",
    params(("id" = Uuid, Path, description = "The pair's id")),
    request_body = PairDecision,
    responses(
        (status = 200, description = "The decided pair", body = PossibleDuplicate),
        (status = 409, description = "The pair is decided already", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/possible-duplicates/{id}/dismiss")]
pub async fn dismiss_possible_duplicate(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<PairDecision>,
) -> ApiResult<HttpResponse> {
    let province = queue_scope(&caller)?;
    let reason = reason_of(&body)?;
    let actor = Actor::from(&caller);
    let mut conn = state.pool.get().await?;
    let pair = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let (a, b) = open_pair(conn, *id, &province).await?;
            decide(conn, *id, PairStatus::Dismissed, &actor, &reason).await?;
            let mut change =
                Change::of(&actor, "case.duplicate_dismiss", "possible_duplicate", *id)
                    .after(&serde_json::json!({"reason": reason, "cases": [a, b]}));
            for case in [a, b] {
                change.touch_case(
                    CaseEntry::new(case, HistoryAction::DuplicateDismissed)
                        .reason(reason.as_str())
                        .after(&serde_json::json!({"pair_id": *id, "cases": [a, b]})),
                );
            }
            changes::record(conn, change).await?;
            let row: PairRow = diesel::sql_query(format!("{PAIR_SQL} WHERE d.id = $1"))
                .bind::<SqlUuid, _>(*id)
                .get_result(conn)
                .await?;
            Ok(row)
        })
        .await?;
    Ok(HttpResponse::Ok().json(pair.view(caller.sees_personal_data())))
}

/// How many pairs in a report scope are still open, among returns that
/// arrived in `[from, until)` (the older case's arrival).
pub async fn open_count(
    conn: &mut AsyncPgConnection,
    condition: &str,
    scope_value: Option<String>,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    province: Option<String>,
) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let n: N = diesel::sql_query(format!(
        "SELECT count(*) AS n FROM possible_duplicates d WHERE d.status = 'open' AND d.case_id IN \
           (SELECT cases.id FROM cases WHERE cases.arrived_at >= $1 AND cases.arrived_at < $2 \
              AND ($3::text IS NULL OR cases.handling_province = $3) AND {condition})"
    ))
    .bind::<Timestamptz, _>(from)
    .bind::<Timestamptz, _>(until)
    .bind::<Nullable<Text>, _>(province)
    .bind::<Nullable<Text>, _>(scope_value)
    .get_result(conn)
    .await?;
    Ok(n.n)
}
