//! `POST /api/v1/transfers/{id}/cases` and `DELETE …/cases/{case_id}`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, post, web};
use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::admission::{self, Candidate};
use super::handlers::{not_found, transfer_response};
use super::model::TransferStatus;
use super::queries;
use crate::access::Operation;
use crate::audit::Actor;
use crate::auth::Caller;
use crate::cases::queries as cases;
use crate::changes::{self, Change};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Json;
use crate::schema::transfer_cases;
use crate::state::AppState;

/// Cases to add to a transfer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"case_ids": ["8e2f0a4b-1c3d-4e5f-8a9b-0c1d2e3f4a5b"]}))]
pub struct AddMembers {
    /// The cases; each must be ready for transfer, in no other active
    /// transfer, and from a region within the destination.
    pub case_ids: Vec<Uuid>,
}

/// Add returnees to a transfer.
///
/// Only while the transfer is planned. Every case must be visible to the
/// caller, `ready_for_transfer`, in no other active transfer, and come from a
/// region within the destination; otherwise nothing is added and the answer
/// names each refused case (`errors[].field` is `case_ids[i]`): 409 for a
/// case's status or another transfer, 422 for an unknown case, a wrong
/// origin, or a case listed twice. The cases are locked in id order, so
/// concurrent requests adding the same cases cannot deadlock. Adding or
/// removing members raises the transfer's version (its `ETag`).
#[utoipa::path(
    tag = "transfers",
    operation_id = "add_transfer_cases",
    params(("id" = Uuid, Path, description = "The transfer's id")),
    request_body = AddMembers,
    responses(
        (status = 200, description = "The transfer with its members", body = super::queries::TransferView),
        (status = 409, description = "A case is not ready, is in another transfer, or the transfer is not planned", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/transfers/{id}/cases")]
pub async fn add_transfer_cases(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<AddMembers>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::PlanTransfers)?;
    let wanted = body.0.case_ids;
    if wanted.is_empty() || wanted.len() > 500 {
        return Err(ApiError::invalid_field("case_ids", "give 1 to 500 cases"));
    }
    let repeats = admission::repeated(&wanted);
    if !repeats.is_empty() {
        return Err(ApiError::validation(repeats));
    }
    let (transfer_scope, case_scope) = (caller.transfer_scope(), caller.case_scope());
    let actor = Actor::from(&caller);
    let mut conn = state.pool.get().await?;
    let view = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let transfer = queries::find_for_update(conn, &transfer_scope, *id)
                .await?
                .ok_or_else(not_found)?;
            if transfer.status != TransferStatus::Planned {
                return Err(ApiError::conflict(format!(
                    "returnees join a planned transfer; this one is {}",
                    transfer.status
                )));
            }
            let found = cases::find_all_for_update(conn, &case_scope, &wanted).await?;
            let others = queries::active_transfers_of(conn, &wanted).await?;
            let found: Vec<Candidate> = found.iter().map(Candidate::from).collect();
            let refusals = admission::refusals(
                transfer.id,
                &transfer.destination_region,
                &wanted,
                &found,
                &others,
            );
            if !refusals.conflicts.is_empty() {
                let mut fields = refusals.conflicts;
                fields.extend(refusals.invalid);
                return Err(ApiError::conflict(format!(
                    "{} case(s) cannot join; nothing was added",
                    fields.len()
                ))
                .with_kind("transfer-membership-refused", "Cases cannot join")
                .with_fields(fields));
            }
            if !refusals.invalid.is_empty() {
                return Err(ApiError::validation(refusals.invalid));
            }
            let rows: Vec<_> = wanted
                .iter()
                .map(|case_id| {
                    (
                        transfer_cases::transfer_id.eq(transfer.id),
                        transfer_cases::case_id.eq(*case_id),
                    )
                })
                .collect();
            diesel::insert_into(transfer_cases::table)
                .values(rows)
                .on_conflict((transfer_cases::transfer_id, transfer_cases::case_id))
                .do_update()
                .set((
                    transfer_cases::active.eq(true),
                    transfer_cases::removed_at.eq(None::<chrono::DateTime<Utc>>),
                ))
                .execute(conn)
                .await?;
            let transfer = queries::touch(conn, transfer.id).await?;
            let view = queries::view(conn, transfer).await?;
            changes::record(
                conn,
                Change::transfer(&actor, "transfer.add_cases", view.id, "members_changed")
                    .after(&wanted),
            )
            .await?;
            Ok(view)
        })
        .await?;
    Ok(transfer_response(StatusCode::OK, &view))
}

/// Remove a returnee from a planned transfer.
///
/// The case stays `ready_for_transfer` and may join another transfer.
#[utoipa::path(
    tag = "transfers",
    operation_id = "remove_transfer_case",
    params(
        ("id" = Uuid, Path, description = "The transfer's id"),
        ("case_id" = Uuid, Path, description = "The case's id"),
    ),
    responses(
        (status = 200, description = "The transfer without the case", body = super::queries::TransferView),
        (status = 409, description = "The transfer is no longer planned", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/transfers/{id}/cases/{case_id}")]
pub async fn remove_transfer_case(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::PlanTransfers)?;
    let (id, case_id) = path.into_inner();
    let scope = caller.transfer_scope();
    let actor = Actor::from(&caller);
    let mut conn = state.pool.get().await?;
    let view = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let transfer = queries::find_for_update(conn, &scope, id)
                .await?
                .ok_or_else(not_found)?;
            if transfer.status != TransferStatus::Planned {
                return Err(ApiError::conflict(format!(
                    "returnees leave a planned transfer only; this one is {}",
                    transfer.status
                )));
            }
            let removed = diesel::update(
                transfer_cases::table.filter(
                    transfer_cases::transfer_id
                        .eq(id)
                        .and(transfer_cases::case_id.eq(case_id))
                        .and(transfer_cases::active),
                ),
            )
            .set((
                transfer_cases::active.eq(false),
                transfer_cases::removed_at.eq(Utc::now()),
            ))
            .execute(conn)
            .await?;
            if removed == 0 {
                return Err(ApiError::not_found("this case is not in the transfer"));
            }
            let transfer = queries::touch(conn, transfer.id).await?;
            let view = queries::view(conn, transfer).await?;
            changes::record(
                conn,
                Change::transfer(&actor, "transfer.remove_case", id, "members_changed")
                    .before(&case_id),
            )
            .await?;
            Ok(view)
        })
        .await?;
    Ok(transfer_response(StatusCode::OK, &view))
}
