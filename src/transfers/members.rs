//! `POST /api/v1/transfers/{id}/cases` and `DELETE …/cases/{case_id}`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, post, web};
use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::handlers::{not_found, transfer_response};
use super::model::TransferStatus;
use super::queries;
use crate::access::Operation;
use crate::audit::{self, Actor, Entry};
use crate::auth::Caller;
use crate::cases::CaseStatus;
use crate::cases::queries as cases;
use crate::error::{ApiError, ApiResult, FieldError};
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
/// case's status or another transfer, 422 for an unknown case or a wrong origin.
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
            let others: Vec<(Uuid, Uuid, String, TransferStatus)> =
                queries::active_transfers_of(conn, &wanted).await?;
            let mut conflicts = Vec::new();
            let mut invalid = Vec::new();
            for (i, case_id) in wanted.iter().enumerate() {
                let field = format!("case_ids[{i}]");
                let Some(case) = cases::find_for_update(conn, &case_scope, *case_id).await? else {
                    invalid.push(FieldError::new(
                        field,
                        format!("there is no case {case_id} you may see"),
                    ));
                    continue;
                };
                if let Some((_, other, reference, _)) = others
                    .iter()
                    .find(|(c, t, _, _)| c == case_id && *t != transfer.id)
                {
                    conflicts.push(FieldError::new(
                        field,
                        format!(
                            "case {} is already in transfer {reference} ({other})",
                            case.case_number
                        ),
                    ));
                    continue;
                }
                if case.status != CaseStatus::ReadyForTransfer {
                    conflicts.push(FieldError::new(
                        field,
                        format!(
                            "case {} is {}, not ready_for_transfer",
                            case.case_number, case.status
                        ),
                    ));
                    continue;
                }
                let within = if transfer.destination_region.len() == 2 {
                    case.origin_province == transfer.destination_region
                } else {
                    case.origin_region == transfer.destination_region
                };
                if !within {
                    invalid.push(FieldError::new(
                        field,
                        format!(
                            "case {} comes from {}, outside the destination {}",
                            case.case_number, case.origin_region, transfer.destination_region
                        ),
                    ));
                }
            }
            if !conflicts.is_empty() {
                conflicts.extend(invalid);
                return Err(ApiError::conflict(format!(
                    "{} case(s) cannot join; nothing was added",
                    conflicts.len()
                ))
                .with_kind("transfer-membership-refused", "Cases cannot join")
                .with_fields(conflicts));
            }
            if !invalid.is_empty() {
                return Err(ApiError::validation(invalid));
            }
            for case_id in &wanted {
                diesel::insert_into(transfer_cases::table)
                    .values((
                        transfer_cases::transfer_id.eq(transfer.id),
                        transfer_cases::case_id.eq(case_id),
                    ))
                    .on_conflict((transfer_cases::transfer_id, transfer_cases::case_id))
                    .do_update()
                    .set((
                        transfer_cases::active.eq(true),
                        transfer_cases::removed_at.eq(None::<chrono::DateTime<Utc>>),
                    ))
                    .execute(conn)
                    .await?;
            }
            let view = queries::view(conn, transfer).await?;
            audit::record(
                conn,
                &actor,
                Entry::change(
                    "transfer.add_cases",
                    "transfer",
                    view.id,
                    None::<&()>,
                    Some(&wanted),
                ),
            )
            .await?;
            crate::events::transfer_changed(conn, view.id, "members_changed").await?;
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
            let view = queries::view(conn, transfer).await?;
            audit::record(
                conn,
                &actor,
                Entry::change(
                    "transfer.remove_case",
                    "transfer",
                    id,
                    Some(&case_id),
                    None::<&()>,
                ),
            )
            .await?;
            crate::events::transfer_changed(conn, view.id, "members_changed").await?;
            Ok(view)
        })
        .await?;
    Ok(transfer_response(StatusCode::OK, &view))
}
