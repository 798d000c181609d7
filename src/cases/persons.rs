//! `GET /api/v1/persons/{id}` (a person with all their returns) and
//! `GET /api/v1/cases/{id}/matches` (possible duplicates of a case's person).

use actix_web::{HttpResponse, get, web};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Date, Float4, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::handlers::not_found;
use super::queries::{self, CaseFilter, CaseSort};
use super::view::{CaseView, Person};
use crate::access::{CaseScope, Operation};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::schema::persons;
use crate::state::AppState;

/// A person with every return the caller may see.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonWithCases {
    /// The person.
    #[serde(flatten)]
    pub person: Person,
    /// Their returns, newest first.
    pub cases: Vec<CaseView>,
    /// How many times they have returned, in the caller's view.
    pub return_count: usize,
}

/// The cases of `person` within `scope`, newest first.
async fn cases_of(
    conn: &mut AsyncPgConnection,
    scope: &CaseScope,
    person: Uuid,
) -> QueryResult<Vec<CaseView>> {
    let filter = CaseFilter {
        person_id: Some(person),
        ..CaseFilter::default()
    };
    queries::list(conn, scope, &filter, CaseSort::ArrivedDesc, None, 500).await
}

/// Get a person and all their returns.
///
/// A person is visible when at least one of their cases is; only the cases the
/// caller may see are listed. More than one case means repeat returns, a
/// warning sign of re-trafficking.
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
    let cases = cases_of(&mut conn, &caller.case_scope(), *id).await?;
    let Some(first) = <[CaseView]>::first(&cases) else {
        return Err(ApiError::not_found(
            "there is no such person, or none of their cases is yours to see",
        ));
    };
    let person = first.person.clone();
    Ok(HttpResponse::Ok().json(PersonWithCases {
        person,
        return_count: cases.len(),
        cases,
    }))
}

/// Why a person may be the same as the case's person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchReason {
    /// The same NIK.
    SameNik,
    /// The same passport or SPLP number.
    SamePassport,
    /// A similar name and the same birth date.
    SimilarNameAndBirthDate,
}

/// A possible duplicate.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonMatch {
    /// The other person.
    pub person: Person,
    /// Why they match.
    pub reasons: Vec<MatchReason>,
    /// Trigram similarity of the names, 0 to 1.
    pub name_similarity: f32,
    /// Their cases the caller may see.
    pub case_ids: Vec<Uuid>,
}

#[derive(QueryableByName)]
struct Candidate {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Bool)]
    same_nik: bool,
    #[diesel(sql_type = Bool)]
    same_passport: bool,
    #[diesel(sql_type = Bool)]
    similar_and_same_birth: bool,
    #[diesel(sql_type = Float4)]
    similarity: f32,
}

/// Possible duplicates of a case's person.
///
/// Other persons with the same NIK or passport number, or with a similar name
/// (trigram similarity, tolerating spelling variants) and the same birth date,
/// who have at least one case the caller may see. Merging is a decision for a
/// person; this only points.
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
           coalesce(nik = $2, false) AS same_nik, \
           coalesce(passport_number = $3, false) AS same_passport, \
           coalesce(birth_date = $4 AND full_name % $5, false) AS similar_and_same_birth, \
           similarity(full_name, $5) AS similarity \
         FROM persons \
         WHERE id <> $1 AND (nik = $2 OR passport_number = $3 OR (birth_date = $4 AND full_name % $5)) \
         ORDER BY same_nik DESC, same_passport DESC, similarity DESC LIMIT 50",
    )
    .bind::<SqlUuid, _>(p.id)
    .bind::<Nullable<Text>, _>(&p.nik)
    .bind::<Nullable<Text>, _>(&p.passport_number)
    .bind::<Nullable<Date>, _>(p.birth_date)
    .bind::<Text, _>(&p.full_name)
    .load(&mut conn)
    .await?;
    let mut matches = Vec::new();
    for candidate in candidates {
        let visible = cases_of(&mut conn, &scope, candidate.id).await?;
        if visible.is_empty() {
            continue;
        }
        let mut reasons = Vec::new();
        if candidate.same_nik {
            reasons.push(MatchReason::SameNik);
        }
        if candidate.same_passport {
            reasons.push(MatchReason::SamePassport);
        }
        if candidate.similar_and_same_birth {
            reasons.push(MatchReason::SimilarNameAndBirthDate);
        }
        let person: Person = persons::table
            .find(candidate.id)
            .select(Person::as_select())
            .first(&mut conn)
            .await?;
        matches.push(PersonMatch {
            person,
            reasons,
            name_similarity: candidate.similarity,
            case_ids: visible.iter().map(|c| c.id).collect(),
        });
    }
    Ok(HttpResponse::Ok().json(matches))
}
