//! `GET /api/v1/persons/{id}` (a person with all their returns) and
//! `GET /api/v1/cases/{id}/matches` (possible duplicates of a case's person).

use actix_web::{HttpResponse, get, web};
use diesel::prelude::*;
use std::collections::HashMap;

use chrono::Datelike;
use diesel::sql_types::{Bool, Date, Float4, Nullable, Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::handlers::not_found;
use super::mask;
use super::model::Sex;
use super::queries::{self, CaseSort};
use super::view::{CaseView, Identity, ShownDate};
use crate::access::Operation;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::reads::{Read, ReadKind};
use crate::schema::{cases, persons};
use crate::state::AppState;

/// A person: the identity behind one or more returns, with the returns the
/// caller may see.
///
/// Of returns outside the caller's scope only their number is shown
/// (`return_count`): nothing recorded at them — no name, phone, place,
/// passport, case id, case number or agency.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "3f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9", "nik": "6171015505900002", "passport_number": null,
    "sex": "female", "birth_date": "1990-05-15", "masked": false, "return_count": 2, "cases": []
}))]
pub struct PersonWithCases {
    /// The identity's id, shared by all its returns.
    pub id: Uuid,
    /// The NIK that identifies the person (masked for callers who see personal data masked).
    pub nik: Option<String>,
    /// The passport number that identifies a person without a NIK (masked likewise).
    pub passport_number: Option<String>,
    /// Sex, as the NIK fixes it.
    pub sex: Option<Sex>,
    /// Birth date, as the NIK fixes it: `YYYY-MM-DD`, or `YYYY-**-**` masked.
    #[schema(value_type = Option<String>)]
    pub birth_date: Option<ShownDate>,
    /// Whether the identity's fields are masked for this caller.
    pub masked: bool,
    /// How many returns the person has made, across the country.
    pub return_count: i64,
    /// Their returns the caller may see, newest first.
    pub cases: Vec<CaseView>,
}

/// Get a person and their returns.
///
/// A person is visible when at least one of their cases is; only the cases the
/// caller may see are listed (and, masked, those a break-the-glass grant of the
/// caller opens), and of the others only their number (`return_count`). More
/// than one return is a warning sign of re-trafficking.
#[utoipa::path(
    tag = "cases",
    operation_id = "get_person",
    params(("id" = Uuid, Path, description = "The person's id")),
    responses((status = 200, description = "The person and their returns", body = PersonWithCases))
)]
#[get("/persons/{id}")]
pub async fn get_person(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ReadCases)?;
    let mut conn = state.pool.get().await?;
    let whole = caller.sees_personal_data();
    let mut cases: Vec<CaseView> = queries::of_person(
        &mut conn,
        &caller.case_scope(),
        *id,
        CaseSort::ArrivedDesc,
        500,
    )
    .await?
    .into_iter()
    .map(|c| c.shown(whole))
    .collect();
    // Returns outside the scope that a break-the-glass grant opens, masked.
    let granted: Vec<CaseView> = super::grants::granted_cases(&mut conn, &caller, *id)
        .await?
        .into_iter()
        .filter(|g| !cases.iter().any(|c| c.id == g.id))
        .collect();
    let via_grant = !granted.is_empty();
    cases.extend(granted);
    cases.sort_by_key(|c| std::cmp::Reverse((c.arrived_at, c.id)));
    if cases.is_empty() {
        return Err(ApiError::not_found(
            "there is no such person, or none of their cases is yours to see",
        ));
    }
    let identity: Identity = persons::table
        .find(*id)
        .select(Identity::as_select())
        .first(&mut conn)
        .await?;
    let return_count: i64 = cases::table
        .filter(cases::person_id.eq(*id))
        .count()
        .get_result(&mut conn)
        .await?;
    state.reads.record(
        &caller,
        ReadKind::Person,
        Read {
            case_ids: cases.iter().map(|c| c.id).collect(),
            person_id: Some(identity.id),
            via_grant,
            ..Read::default()
        },
    );
    let mut person = PersonWithCases {
        id: identity.id,
        nik: identity.nik,
        passport_number: identity.passport_number,
        sex: identity.sex,
        birth_date: identity.birth_date.map(ShownDate::Whole),
        masked: false,
        return_count,
        cases,
    };
    if !whole {
        person.nik = person.nik.as_deref().map(mask::nik);
        person.passport_number = person.passport_number.as_deref().map(mask::passport);
        person.birth_date = person.birth_date.map(|d| match d {
            ShownDate::Whole(d) => ShownDate::Masked(d.year()),
            masked => masked,
        });
        person.masked = true;
    }
    Ok(HttpResponse::Ok().json(person))
}

/// Why another identity may be the same person as the case's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchReason {
    /// One of its returns held the same passport or SPLP number.
    SamePassport,
    /// One of its returns has a similar name and the same birth date.
    SimilarNameAndBirthDate,
}

/// Another identity that may be the same person, seen through the returns the
/// caller may see.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonMatch {
    /// The other identity: merge it with `POST /api/v1/persons/{id}/merge` when
    /// it is the same person.
    pub person_id: Uuid,
    /// Why it matches, judged on the returns the caller may see.
    pub reasons: Vec<MatchReason>,
    /// The best trigram similarity of a name, 0 to 1.
    pub name_similarity: f32,
    /// Its returns the caller may see that match.
    pub case_ids: Vec<Uuid>,
}

#[derive(QueryableByName)]
struct Candidate {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Bool)]
    same_passport: bool,
    #[diesel(sql_type = Bool)]
    similar_and_same_birth: bool,
    #[diesel(sql_type = Float4)]
    similarity: f32,
}

/// Possible duplicates of a case's person.
///
/// Other identities with a return the caller may see that held the same
/// passport number, or that has a similar name (trigram similarity, tolerating
/// spelling variants) and the same birth date. Only returns in the caller's
/// scope are compared, so a match never tells anything about a return outside
/// it. Merging is a decision for a person; this only points.
#[utoipa::path(
    tag = "cases",
    operation_id = "list_case_matches",
    params(("id" = Uuid, Path, description = "The case's id")),
    responses((status = 200, description = "Possible duplicates, best first", body = Vec<PersonMatch>))
)]
#[get("/cases/{id}/matches")]
pub async fn list_case_matches(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ReadCases)?;
    let scope = caller.case_scope();
    let mut conn = state.pool.get().await?;
    let case = queries::find(&mut conn, &scope, *id)
        .await?
        .ok_or_else(not_found)?;
    let p = &case.person;
    let candidates: Vec<Candidate> = diesel::sql_query(
        "SELECT id, \
           coalesce(passport_number = $2, false) AS same_passport, \
           coalesce(birth_date = $3 AND full_name % $4, false) AS similar_and_same_birth, \
           similarity(full_name, $4) AS similarity \
         FROM cases \
         WHERE person_id <> $1 AND (passport_number = $2 OR (birth_date = $3 AND full_name % $4)) \
         ORDER BY same_passport DESC, similarity DESC LIMIT 500",
    )
    .bind::<SqlUuid, _>(p.id)
    .bind::<Nullable<Text>, _>(&p.passport_number)
    .bind::<Nullable<Date>, _>(p.birth_date.and_then(|d| d.whole()))
    .bind::<Text, _>(&p.full_name)
    .load(&mut conn)
    .await?;
    // Only the candidates the caller may see count; the others are dropped
    // before anything about them is judged.
    let ids: Vec<Uuid> = candidates.iter().map(|c| c.id).collect();
    let visible: HashMap<Uuid, Uuid> = queries::find_many(&mut conn, &scope, &ids)
        .await?
        .into_iter()
        .map(|c| (c.id, c.person.id))
        .collect();
    let mut matches: Vec<PersonMatch> = Vec::new();
    for candidate in candidates {
        let Some(person_id) = visible.get(&candidate.id).copied() else {
            continue;
        };
        let at = match matches.iter().position(|m| m.person_id == person_id) {
            Some(at) => at,
            None => {
                matches.push(PersonMatch {
                    person_id,
                    reasons: Vec::new(),
                    name_similarity: 0.0,
                    case_ids: Vec::new(),
                });
                matches.len() - 1
            }
        };
        let m = &mut matches[at];
        if candidate.same_passport && !m.reasons.contains(&MatchReason::SamePassport) {
            m.reasons.push(MatchReason::SamePassport);
        }
        if candidate.similar_and_same_birth
            && !m.reasons.contains(&MatchReason::SimilarNameAndBirthDate)
        {
            m.reasons.push(MatchReason::SimilarNameAndBirthDate);
        }
        m.name_similarity = m.name_similarity.max(candidate.similarity);
        m.case_ids.push(candidate.id);
    }
    for m in &mut matches {
        m.reasons.sort_by_key(|r| *r as u8);
    }
    state.reads.record(
        &caller,
        ReadKind::CaseMatches,
        Read {
            case_ids: std::iter::once(case.id)
                .chain(matches.iter().flat_map(|m| m.case_ids.iter().copied()))
                .collect(),
            ..Read::default()
        },
    );
    Ok(HttpResponse::Ok().json(matches))
}
