//! Correcting, merging and splitting identities, each with a reason, in the
//! cases' history and the change feed, and only ever on the caller's own cases.
//!
//! - `POST /api/v1/cases/{id}/identity` corrects a case's NIK or passport (a
//!   typo, a wrong card): the case is linked to the identity of the corrected
//!   key, and the returns of both identities are recounted.
//! - `POST /api/v1/persons/{id}/merge` joins another identity found to be the
//!   same person (from `/cases/{id}/matches`): the caller's cases of that
//!   identity move to this one. Cases of other scopes stay where they are; an
//!   agency decides about its own returns only.
//! - `POST /api/v1/cases/{id}/split` takes a wrongly linked return out of its
//!   identity into a new one of its own.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, post, web};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::handlers::{case_response, not_found};
use super::identity;
use super::nik::Nik;
use super::queries::{self, CaseSort};
use super::update::{CasePatch, PersonPatch, amend};
use super::view::{CaseView, Identity};
use crate::access::{CaseScope, Operation};
use crate::audit::Actor;
use crate::auth::Caller;
use crate::changes::{self, CaseEntry, Change, HistoryAction};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::Json;
use crate::schema::{cases, persons};
use crate::state::AppState;

/// The reason every identity change needs: one line of text (the shared
/// text rule: trimmed, no control characters, at most 1,000 characters),
/// not empty.
fn reason_of(reason: crate::text::Line<1000>) -> ApiResult<String> {
    reason
        .non_empty()
        .ok_or_else(|| ApiError::invalid_field("reason", "must not be empty"))
}

/// A corrected identity key for a case.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"nik": "6171015505900002", "reason": "NIK mistyped at the border post; checked against the KTP"}))]
pub struct IdentityCorrection {
    /// The correct NIK, or `null` when the case has none; absent leaves it.
    #[serde(default, deserialize_with = "crate::http::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub nik: Option<Option<String>>,
    /// The correct passport or SPLP number, or `null`; absent leaves it.
    #[serde(default, deserialize_with = "crate::http::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub passport_number: Option<Option<String>>,
    /// Why (kept in the case's history; 1 to 1,000 characters).
    pub reason: crate::text::Line<1000>,
}

/// Correct a case's identity.
///
/// Sets the case's NIK and/or passport number and links the case to the
/// identity they name — an existing one (another return of the same person,
/// possibly handled elsewhere: only the link and the repeat count show) or a
/// new one. The NIK is checked against the sex and birth date recorded on the
/// case (422 on disagreement). The returns of the old and the new identity are
/// recounted. Recorded as `identity_corrected` with the reason.
#[utoipa::path(
    tag = "cases",
    operation_id = "correct_case_identity",
    params(("id" = Uuid, Path, description = "The case's id")),
    request_body = IdentityCorrection,
    responses((status = 200, description = "The case, linked to the corrected identity", body = CaseView,
               headers(("ETag" = String, description = "The case's new version"))))
)]
#[post("/cases/{id}/identity")]
pub async fn correct_case_identity(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<IdentityCorrection>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::WriteCases)?;
    let request = body.0;
    let reason = reason_of(request.reason)?;
    if request.nik.is_none() && request.passport_number.is_none() {
        return Err(ApiError::invalid_field(
            "nik",
            "give the corrected nik, passport_number or both",
        ));
    }
    let scope = caller.case_scope();
    let actor = Actor::from(&caller);
    let mut conn = state.pool.get().await?;
    let case = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let before = queries::find_for_update(conn, &scope, *id)
                .await?
                .ok_or_else(not_found)?;
            let patch = CasePatch {
                person: Some(PersonPatch {
                    nik: request.nik,
                    passport_number: request.passport_number,
                    ..PersonPatch::default()
                }),
                ..CasePatch::default()
            };
            let (after, entry) = amend(
                conn,
                &before,
                patch,
                HistoryAction::IdentityCorrected,
                Some(&reason),
            )
            .await?;
            let change = Change::case(&actor, "case.correct_identity", entry)
                .before(&serde_json::json!({"person_id": before.person.id}))
                .after(&serde_json::json!({"person_id": after.person.id, "reason": reason}));
            changes::record(conn, change).await?;
            Ok(after)
        })
        .await?;
    Ok(case_response(StatusCode::OK, case, &caller))
}

/// Another identity to merge into this one.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"other_person_id": "5d2e1c3b-4a59-4867-9584-a3b2c1d0e9f8",
    "reason": "Same person: same mother's name and village, passport renewed in Kuching"}))]
pub struct MergeRequest {
    /// The identity found to be the same person.
    pub other_person_id: Uuid,
    /// Why they are the same person (kept in the history of every case that moves).
    pub reason: crate::text::Line<1000>,
}

/// What a merge did.
#[derive(Debug, Serialize, ToSchema)]
pub struct MergeOutcome {
    /// The identity the returns now belong to: the one with a NIK when only one
    /// of the two has one, else the one in the path.
    pub person_id: Uuid,
    /// The caller's cases that moved to it.
    pub moved_case_ids: Vec<Uuid>,
}

/// Merge two persons found to be the same.
///
/// The caller's cases of the other identity move to this one (a new version
/// each, `identity_merged` in their history with the reason, a change event),
/// and the returns of both are recounted. Cases handled outside the caller's
/// scope are not moved: their agencies decide about them. Two identities with
/// different NIKs are different people (422): correct the wrong NIK instead.
/// A case whose recorded sex or birth date disagrees with the NIK it would
/// take is a 422 naming it.
#[utoipa::path(
    tag = "cases",
    operation_id = "merge_persons",
    params(("id" = Uuid, Path, description = "The person's id")),
    request_body = MergeRequest,
    responses((status = 200, description = "The merged identity and the cases that moved", body = MergeOutcome))
)]
#[post("/persons/{id}/merge")]
pub async fn merge_persons(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<MergeRequest>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::WriteCases)?;
    let request = body.0;
    let reason = reason_of(request.reason)?;
    if request.other_person_id == *id {
        return Err(ApiError::invalid_field(
            "other_person_id",
            "is the same person as the one in the path",
        ));
    }
    let scope = caller.case_scope();
    let actor = Actor::from(&caller);
    let mut conn = state.pool.get().await?;
    let outcome = conn
        .transaction::<_, ApiError, _>(async |conn| {
            merge(conn, &scope, &actor, *id, request.other_person_id, &reason).await
        })
        .await?;
    Ok(HttpResponse::Ok().json(outcome))
}

fn no_person(field: &str) -> ApiError {
    ApiError::not_found(format!(
        "there is no such person ({field}), or none of their cases is yours to see"
    ))
}

async fn merge(
    conn: &mut AsyncPgConnection,
    scope: &CaseScope,
    actor: &Actor,
    id: Uuid,
    other: Uuid,
    reason: &str,
) -> ApiResult<MergeOutcome> {
    identity::lock(conn, &[id, other]).await?;
    if queries::of_person(conn, scope, id, CaseSort::ArrivedAsc, 500)
        .await?
        .is_empty()
    {
        return Err(no_person("the path's"));
    }
    if queries::of_person(conn, scope, other, CaseSort::ArrivedAsc, 500)
        .await?
        .is_empty()
    {
        return Err(no_person("other_person_id"));
    }
    let both: Vec<Identity> = persons::table
        .filter(persons::id.eq_any([id, other]))
        .select(Identity::as_select())
        .load(conn)
        .await?;
    let find = |pid: Uuid| both.iter().find(|p| p.id == pid).cloned();
    let (Some(this), Some(that)) = (find(id), find(other)) else {
        return Err(no_person("other_person_id"));
    };
    let (survivor, moving) = match (&this.nik, &that.nik) {
        (Some(a), Some(b)) if a != b => {
            return Err(ApiError::invalid_field(
                "other_person_id",
                "both persons have a NIK and they differ, so they are different people; \
                 correct the wrong case's NIK with POST /api/v1/cases/{id}/identity",
            ));
        }
        (None, Some(_)) => (that, this),
        _ => (this, that),
    };
    let moved = queries::of_person(conn, scope, moving.id, CaseSort::ArrivedAsc, 500).await?;
    let ids: Vec<Uuid> = moved.iter().map(|c| c.id).collect();
    queries::find_all_for_update(conn, scope, &ids).await?;
    if let Some(nik) = survivor.nik.as_deref().and_then(|n| Nik::parse(n).ok()) {
        let mut errors = Vec::new();
        for case in &moved {
            for e in nik.check_agreement(
                case.person.sex,
                case.person.birth_date.and_then(|d| d.whole()),
            ) {
                errors.push(FieldError::new(
                    "other_person_id",
                    format!(
                        "case {} records a {} that disagrees with the NIK of the merged person: {}",
                        case.case_number,
                        e.field.trim_start_matches("person."),
                        e.message
                    ),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
    }
    diesel::update(cases::table.filter(cases::id.eq_any(&ids)))
        .set((
            cases::person_id.eq(survivor.id),
            cases::version.eq(cases::version + 1),
            cases::updated_at.eq(chrono::Utc::now()),
        ))
        .execute(conn)
        .await?;
    identity::reconcile(conn, &[survivor.id, moving.id], &[], &ids).await?;
    let mut change = Change::of(actor, "person.merge", "person", survivor.id);
    for case in &moved {
        change.touch_case(
            CaseEntry::new(case.id, HistoryAction::IdentityMerged)
                .reason(reason)
                .before(&serde_json::json!({"person_id": moving.id}))
                .after(&serde_json::json!({"person_id": survivor.id})),
        );
    }
    identity::forget_if_unused(conn, moving.id).await?;
    let change = change
        .before(&serde_json::json!({"person_id": moving.id, "case_ids": ids}))
        .after(&serde_json::json!({"person_id": survivor.id, "reason": reason}));
    changes::record(conn, change).await?;
    Ok(MergeOutcome {
        person_id: survivor.id,
        moved_case_ids: ids,
    })
}

/// Why a return is split from its identity.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Linked by a shared passport number, but a different person: confirmed by photo"}))]
pub struct SplitRequest {
    /// Why (kept in the case's history; 1 to 1,000 characters).
    pub reason: crate::text::Line<1000>,
}

/// Split a wrongly linked return into an identity of its own.
///
/// The case gets a new identity with no key (its passport stays recorded on
/// the case); the returns of its former identity are recounted. A case linked
/// by its NIK is not split but corrected (`POST /api/v1/cases/{id}/identity`,
/// 422 here); the only return of an identity has nothing to split from (409).
/// Recorded as `identity_split` with the reason.
#[utoipa::path(
    tag = "cases",
    operation_id = "split_case_identity",
    params(("id" = Uuid, Path, description = "The case's id")),
    request_body = SplitRequest,
    responses((status = 200, description = "The case with its own identity", body = CaseView,
               headers(("ETag" = String, description = "The case's new version"))))
)]
#[post("/cases/{id}/split")]
pub async fn split_case_identity(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<SplitRequest>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::WriteCases)?;
    let reason = reason_of(body.0.reason)?;
    let scope = caller.case_scope();
    let actor = Actor::from(&caller);
    let mut conn = state.pool.get().await?;
    let case = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let before = queries::find_for_update(conn, &scope, *id)
                .await?
                .ok_or_else(not_found)?;
            let old = before.person.id;
            identity::lock(conn, &[old]).await?;
            if before.person.nik.is_some() {
                return Err(ApiError::invalid_field(
                    "person.nik",
                    "a case linked by its NIK is corrected, not split: POST /api/v1/cases/{id}/identity",
                ));
            }
            let returns: i64 = cases::table
                .filter(cases::person_id.eq(old))
                .count()
                .get_result(conn)
                .await?;
            if returns < 2 {
                return Err(ApiError::conflict(
                    "the case is the only return of its person; there is nothing to split it from",
                ));
            }
            let fresh = super::new_id();
            diesel::insert_into(persons::table)
                .values(persons::id.eq(fresh))
                .execute(conn)
                .await?;
            diesel::update(cases::table.find(before.id))
                .set((
                    cases::person_id.eq(fresh),
                    cases::version.eq(cases::version + 1),
                    cases::updated_at.eq(chrono::Utc::now()),
                ))
                .execute(conn)
                .await?;
            identity::reconcile(conn, &[old, fresh], &[], &[before.id]).await?;
            let after = queries::find(conn, &scope, before.id)
                .await?
                .ok_or_else(not_found)?;
            let entry = CaseEntry::new(before.id, HistoryAction::IdentitySplit)
                .reason(reason.as_str())
                .before(&serde_json::json!({"person_id": old,
                    "repeat_return": before.repeat_return, "earlier_returns": before.earlier_returns}))
                .after(&serde_json::json!({"person_id": fresh,
                    "repeat_return": after.repeat_return, "earlier_returns": after.earlier_returns}));
            let change = Change::case(&actor, "case.split_identity", entry)
                .before(&serde_json::json!({"person_id": old}))
                .after(&serde_json::json!({"person_id": fresh, "reason": reason}));
            changes::record(conn, change).await?;
            Ok(after)
        })
        .await?;
    Ok(case_response(StatusCode::OK, case, &caller))
}
