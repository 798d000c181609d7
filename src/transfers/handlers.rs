//! `GET/POST /api/v1/transfers` and `GET/PATCH /api/v1/transfers/{id}`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{Datelike, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::costs;
use super::model::{Escort, EstimatedCost, Leg, TransferRow, TransferStatus};
use super::queries::{self, TransferFilter, TransferView};
use crate::access::{Operation, province_of};
use crate::agencies::AgencyKind;
use crate::audit::Actor;
use crate::auth::Caller;
use crate::changes::{self, Change};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::etag::{check_version, if_match_version};
use crate::http::extract::{Json, Query};
use crate::http::idempotency::{self, Created};
use crate::http::patch::double_option;
use crate::regions::{RegionCode, catalog};
use crate::schema::{agencies, transfer_cases, transfer_number_counters, transfers};
use crate::state::AppState;

/// A planned transfer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "destination_region": "61.72",
    "legs": [{"mode": "road", "carrier": "Dinsos Kalbar", "from": "RPTC Pontianak", "to": "Dinsos Kota Singkawang",
              "planned_departure": "2019-03-20T01:00:00Z", "planned_arrival": "2019-03-20T05:00:00Z"}],
    "escorts": [{"name": "Yusuf Hidayat", "position": "Pekerja Sosial"}],
    "estimated_costs": [{"category": "transport", "amount": 1_500_000}, {"category": "meals", "amount": 300_000}],
    "notes": "3 returnees"
}))]
pub struct NewTransfer {
    /// A regency (`61.72`), or a province for a group leaving the handling province.
    pub destination_region: String,
    /// The receiving social service; by default the one covering the destination.
    pub receiving_agency_id: Option<Uuid>,
    /// Legs of the journey, in order.
    #[serde(default)]
    pub legs: Vec<Leg>,
    /// Escorting officers.
    #[serde(default)]
    pub escorts: Vec<Escort>,
    /// Estimated costs, committed against the budgets the split rule names.
    #[serde(default)]
    pub estimated_costs: Vec<EstimatedCost>,
    /// The fiscal year whose budgets pay, 2000 to 2100; by default the year of the first departure (or this year).
    #[schema(minimum = 2000, maximum = 2100)]
    pub fiscal_year: Option<i32>,
    /// Notes; tabs and line breaks allowed.
    pub notes: Option<crate::text::Prose<4000>>,
}

/// Changes to a planned transfer; absent fields stay.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"estimated_costs": [{"category": "transport", "amount": 1_800_000}]}))]
pub struct TransferPatch {
    /// Legs (replaces them; actual times may be filled in at any status before handover).
    pub legs: Option<Vec<Leg>>,
    /// Escorts (replaces them).
    pub escorts: Option<Vec<Escort>>,
    /// Estimated costs (replaces them, only while planned: the old commitments are released and new ones made).
    pub estimated_costs: Option<Vec<EstimatedCost>>,
    /// The receiving agency.
    pub receiving_agency_id: Option<Uuid>,
    /// Notes (`null` clears).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<crate::text::Prose<4000>>>,
}

/// The answer for a transfer that does not exist or is outside the caller's scope.
pub fn not_found() -> ApiError {
    ApiError::not_found("there is no such transfer, or it is not yours to see")
}

/// The response for one transfer, with its `ETag`.
pub fn transfer_response(status: StatusCode, view: &TransferView) -> HttpResponse {
    let mut builder = HttpResponse::build(status);
    builder.insert_header(("ETag", view.etag()));
    if status == StatusCode::CREATED {
        builder.insert_header(("Location", format!("/api/v1/transfers/{}", view.id)));
    }
    builder.json(view)
}

/// Checks legs, escorts and estimates.
pub fn check_parts(
    legs: &[Leg],
    escorts: &[Escort],
    estimates: &[EstimatedCost],
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (i, leg) in legs.iter().enumerate() {
        if leg.from.trim().is_empty() || leg.to.trim().is_empty() {
            errors.push(FieldError::new(
                format!("legs[{i}]"),
                "needs a from and a to",
            ));
        }
        if leg
            .planned_arrival
            .is_some_and(|a| a < leg.planned_departure)
        {
            errors.push(FieldError::new(
                format!("legs[{i}].planned_arrival"),
                "is before the planned departure",
            ));
        }
        if i > 0 && leg.planned_departure < legs[i - 1].planned_departure {
            errors.push(FieldError::new(
                format!("legs[{i}].planned_departure"),
                "is before the previous leg's",
            ));
        }
    }
    for (i, escort) in escorts.iter().enumerate() {
        if escort.name.trim().is_empty() {
            errors.push(FieldError::new(
                format!("escorts[{i}].name"),
                "must not be empty",
            ));
        }
    }
    for (i, estimate) in estimates.iter().enumerate() {
        errors.extend(crate::money::check_amount(
            format!("estimated_costs[{i}].amount"),
            estimate.amount,
            1,
        ));
    }
    errors
}

/// The social service that covers a destination.
async fn default_receiver(
    conn: &mut AsyncPgConnection,
    destination: &RegionCode,
) -> QueryResult<Option<Uuid>> {
    let kind = if destination.is_province() {
        AgencyKind::ProvincialSocialService
    } else {
        AgencyKind::RegencySocialService
    };
    agencies::table
        .filter(agencies::kind.eq(kind))
        .filter(agencies::region_code.eq(destination.as_str()))
        .filter(agencies::active)
        .order(agencies::created_at)
        .select(agencies::id)
        .first(conn)
        .await
        .optional()
}

async fn next_reference(conn: &mut AsyncPgConnection, year: i32) -> QueryResult<String> {
    let last: i32 = diesel::insert_into(transfer_number_counters::table)
        .values((
            transfer_number_counters::year.eq(year),
            transfer_number_counters::last.eq(1),
        ))
        .on_conflict(transfer_number_counters::year)
        .do_update()
        .set(transfer_number_counters::last.eq(transfer_number_counters::last + 1))
        .returning(transfer_number_counters::last)
        .get_result(conn)
        .await?;
    Ok(format!("TRF-{year}-{last:05}"))
}

/// How many cases are in the transfer now.
pub async fn member_count(conn: &mut AsyncPgConnection, transfer: Uuid) -> QueryResult<i32> {
    let n: i64 = transfer_cases::table
        .filter(
            transfer_cases::transfer_id
                .eq(transfer)
                .and(transfer_cases::active),
        )
        .count()
        .get_result(conn)
        .await?;
    Ok(n as i32)
}

/// Plan a transfer.
///
/// For case workers of a provincial social service: a movement of returnees
/// from the province's shelter to a regency of the province, or to another
/// province. The estimated costs are committed at once on the budgets the
/// split rule names (APBN out of the province; the province's and regency's
/// APBD by their agreement inside it), with this transfer as the reference;
/// a budget that cannot cover them refuses the plan (409). Add the returnees
/// with `POST /api/v1/transfers/{id}/cases`. Send an `Idempotency-Key`
/// header so that a retry after a 503 or a lost answer plans nothing twice.
#[utoipa::path(
    tag = "transfers",
    operation_id = "create_transfer",
    request_body = NewTransfer,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry within 24 hours return the first answer instead of planning (and committing budget) again")),
    responses(
        (status = 201, description = "The planned transfer", body = TransferView,
         headers(("ETag" = String, description = "The transfer's version"))),
        (status = 409, description = "A budget cannot cover the estimate, or no budget exists to charge", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/transfers")]
pub async fn create_transfer(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: Json<NewTransfer>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::PlanTransfers)?;
    let key = idempotency::key_of(&req)?;
    let hash = idempotency::fingerprint(&body.0);
    let new = body.0;
    let Some(handling) = caller
        .agency_region
        .as_deref()
        .map(province_of)
        .map(str::to_owned)
    else {
        return Err(ApiError::forbidden(
            "transfers are planned by an agency that covers a province",
        ));
    };
    let mut errors = check_parts(&new.legs, &new.escorts, &new.estimated_costs);
    let destination = match RegionCode::parse(&new.destination_region) {
        Ok(d) if catalog::is_regency(&d) => Some(d),
        Ok(d) if catalog::is_province(&d) && d.as_str() != handling => Some(d),
        Ok(d) if catalog::is_province(&d) => {
            errors.push(FieldError::new(
                "destination_region",
                "inside the handling province, name the kabupaten/kota",
            ));
            None
        }
        Ok(d) => {
            errors.push(FieldError::new(
                "destination_region",
                format!("there is no region {d}"),
            ));
            None
        }
        Err(e) => {
            errors.push(FieldError::new("destination_region", e));
            None
        }
    };
    if new.fiscal_year.is_some_and(|y| !(2000..=2100).contains(&y)) {
        errors.push(FieldError::new(
            "fiscal_year",
            "must be between 2000 and 2100",
        ));
    }
    let (Some(destination), true) = (destination, errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let fiscal_year = new
        .fiscal_year
        .or_else(|| <[Leg]>::first(&new.legs).map(|l| l.planned_departure.year()))
        .unwrap_or_else(|| Utc::now().year());
    if !(2000..=2100).contains(&fiscal_year) {
        return Err(ApiError::invalid_field(
            "legs[0].planned_departure",
            "must lie in the years 2000 to 2100",
        ));
    }
    let actor = Actor::from(&caller);
    let mut conn = state.pool.get().await?;
    let location = |v: &TransferView| Some(format!("/api/v1/transfers/{}", v.id));
    let created = match crate::db::retry_once(async || {
        conn.transaction::<_, ApiError, _>(async |conn| {
            idempotency::create_once(
                conn,
                caller.principal_id,
                key.as_deref(),
                &hash,
                location,
                async |conn| {
                    let receiver = match new.receiving_agency_id {
                        Some(id) => Some(id),
                        None => default_receiver(conn, &destination).await?,
                    };
                    let reference = next_reference(conn, fiscal_year).await?;
                    let row: TransferRow = diesel::insert_into(transfers::table)
                        .values((
                            transfers::reference.eq(&reference),
                            transfers::fiscal_year.eq(fiscal_year),
                            transfers::handling_province.eq(&handling),
                            transfers::planning_agency_id.eq(caller.agency_id),
                            transfers::destination_region.eq(destination.as_str()),
                            transfers::destination_province
                                .eq(destination.province().as_str().to_owned()),
                            transfers::receiving_agency_id.eq(receiver),
                            transfers::legs
                                .eq(serde_json::to_value(&new.legs).map_err(ApiError::internal)?),
                            transfers::planned_departure
                                .eq(<[Leg]>::first(&new.legs).map(|l| l.planned_departure)),
                            transfers::escorts
                                .eq(serde_json::to_value(&new.escorts)
                                    .map_err(ApiError::internal)?),
                            transfers::estimated_costs
                                .eq(serde_json::to_value(&new.estimated_costs)
                                    .map_err(ApiError::internal)?),
                            transfers::notes.eq(new
                                .notes
                                .as_deref()
                                .map(str::trim)
                                .filter(|n| !n.is_empty())),
                        ))
                        .returning(TransferRow::as_returning())
                        .get_result(conn)
                        .await?;
                    let mut change = Change::transfer(&actor, "transfer.create", row.id, "created");
                    costs::commit_estimates(conn, &mut change, &row, &new.estimated_costs, 0)
                        .await?;
                    let view = queries::view(conn, row).await?;
                    changes::record(conn, change.after(&view)).await?;
                    Ok(view)
                },
            )
            .await
        })
        .await
    })
    .await
    {
        Ok(created) => created,
        // A budget outside the caller's scope is not named in a refusal.
        Err(error) => {
            return Err(crate::budgets::ledger::as_seen_by(
                &mut conn,
                &caller.budget_scope(),
                error,
            )
            .await);
        }
    };
    Ok(match created {
        Created::New(view) => transfer_response(StatusCode::CREATED, &view),
        Created::Replayed(replay) => replay.respond(),
    })
}

/// Get a transfer.
///
/// The transfer with its legs, escorts, members and their outcomes, cost
/// items and cost totals (estimated, still committed, realised, per returnee).
#[utoipa::path(
    tag = "transfers",
    operation_id = "get_transfer",
    params(("id" = Uuid, Path, description = "The transfer's id")),
    responses((status = 200, description = "The transfer", body = TransferView, headers(("ETag" = String, description = "The transfer's version"))))
)]
#[get("/transfers/{id}")]
pub async fn get_transfer(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ReadTransfers)?;
    let mut conn = state.pool.get().await?;
    let row = queries::find(&mut conn, &caller.transfer_scope(), *id)
        .await?
        .ok_or_else(not_found)?;
    let view = queries::view(&mut conn, row).await?;
    Ok(transfer_response(StatusCode::OK, &view))
}

/// Filters of `GET /api/v1/transfers`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TransferListQuery {
    /// Status.
    pub status: Option<TransferStatus>,
    /// Destination: a regency, or a province for it and its regencies' transfers.
    #[param(value_type = Option<crate::regions::RegionCode>, example = "61.72")]
    pub destination: Option<String>,
    /// Planned departure on or after this date.
    pub departure_from: Option<NaiveDate>,
    /// Planned departure on or before this date.
    pub departure_to: Option<NaiveDate>,
    /// Only transfers on the way now (departed).
    pub in_transit: Option<bool>,
    /// Only planned transfers whose departure time has passed.
    pub overdue: Option<bool>,
    /// At most this many (1 to 500, default 100).
    pub limit: Option<u32>,
}

/// The page size of `list_transfers`.
pub const TRANSFER_PAGE: crate::http::pagination::PageSize = crate::http::pagination::PageSize {
    default: 100,
    max: 500,
};

/// List transfers.
///
/// The transfers the caller may see, latest planned departure first: the
/// province's own, those heading to a regency for its social service, and
/// those leaving their province for the ministry. `in_transit=true` and
/// `overdue=true` give the views a dashboard needs. With `Accept: text/csv`
/// every matching transfer comes as CSV (members, returnees, estimated and
/// realised cost, cost per returnee, handover), streamed.
#[utoipa::path(
    tag = "transfers",
    operation_id = "list_transfers",
    params(TransferListQuery),
    responses((status = 200, description = "Transfers, or all of them as CSV", body = Vec<TransferView>,
               content((Vec<TransferView> = "application/json"), (String = "text/csv"))))
)]
#[get("/transfers")]
pub async fn list_transfers(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: Query<TransferListQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ReadTransfers)?;
    let limit = TRANSFER_PAGE.of(query.limit)?;
    let destination = query
        .destination
        .as_deref()
        .map(RegionCode::parse)
        .transpose()
        .map_err(|e| ApiError::bad_parameter("destination", e))?;
    let filter = TransferFilter {
        status: query.status,
        destination: destination.map(|d| d.to_string()),
        departure_from: query.departure_from,
        departure_to: query.departure_to,
        in_transit: query.in_transit.unwrap_or(false),
        overdue: query.overdue.unwrap_or(false),
    };
    if crate::http::csv::wants_csv(&req) {
        return super::export::csv_response(
            &state.pool,
            crate::http::csv::ExportLimits::of(&state.settings),
            caller.transfer_scope(),
            filter,
        )
        .await;
    }
    let mut conn = state.pool.get().await?;
    let rows = queries::list(&mut conn, &caller.transfer_scope(), &filter, limit as i64).await?;
    Ok(HttpResponse::Ok().json(queries::views(&mut conn, rows).await?))
}

/// Update a transfer.
///
/// Legs (with actual times), escorts, notes and the receiving agency may
/// change until handover; estimated costs only while planned, and then the
/// old commitments are released and new ones made. Needs `If-Match`.
#[utoipa::path(
    tag = "transfers",
    operation_id = "update_transfer",
    params(
        ("id" = Uuid, Path, description = "The transfer's id"),
        ("If-Match" = String, Header, description = "The ETag of the version being changed"),
    ),
    request_body = TransferPatch,
    responses(
        (status = 200, description = "The changed transfer", body = TransferView,
         headers(("ETag" = String, description = "The transfer's new version"))),
        (status = 409, description = "Not changeable in its status, or the budgets cannot cover the new estimate", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match is missing", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/transfers/{id}")]
pub async fn update_transfer(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<TransferPatch>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::PlanTransfers)?;
    let expected = if_match_version(&req)?;
    let patch = body.0;
    let errors = check_parts(
        patch.legs.as_deref().unwrap_or_default(),
        patch.escorts.as_deref().unwrap_or_default(),
        patch.estimated_costs.as_deref().unwrap_or_default(),
    );
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let scope = caller.transfer_scope();
    let actor = Actor::from(&caller);
    let mut conn = state.pool.get().await?;
    let result = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let before = queries::find_for_update(conn, &scope, *id)
                .await?
                .ok_or_else(not_found)?;
            check_version("transfer", before.version, expected)?;
            if matches!(
                before.status,
                TransferStatus::HandedOver | TransferStatus::Cancelled
            ) {
                return Err(ApiError::conflict(format!(
                    "a transfer that is {} no longer changes",
                    before.status
                )));
            }
            if patch.estimated_costs.is_some() && before.status != TransferStatus::Planned {
                return Err(ApiError::conflict(
                    "estimated costs change only while the transfer is planned",
                ));
            }
            let legs = patch
                .legs
                .clone()
                .unwrap_or_else(|| serde_json::from_value(before.legs.clone()).unwrap_or_default());
            let row: TransferRow = diesel::update(transfers::table.find(before.id))
                .set((
                    transfers::legs.eq(serde_json::to_value(&legs).map_err(ApiError::internal)?),
                    transfers::planned_departure
                        .eq(<[Leg]>::first(&legs).map(|l| l.planned_departure)),
                    transfers::escorts.eq(match &patch.escorts {
                        Some(e) => serde_json::to_value(e).map_err(ApiError::internal)?,
                        None => before.escorts.clone(),
                    }),
                    transfers::estimated_costs.eq(match &patch.estimated_costs {
                        Some(e) => serde_json::to_value(e).map_err(ApiError::internal)?,
                        None => before.estimated_costs.clone(),
                    }),
                    transfers::receiving_agency_id
                        .eq(patch.receiving_agency_id.or(before.receiving_agency_id)),
                    transfers::notes.eq(patch.notes.clone().map_or_else(
                        || before.notes.clone(),
                        |n| n.and_then(crate::text::Text::non_empty),
                    )),
                    transfers::version.eq(transfers::version + 1),
                    transfers::updated_at.eq(Utc::now()),
                ))
                .returning(TransferRow::as_returning())
                .get_result(conn)
                .await?;
            let mut change = Change::transfer(&actor, "transfer.update", row.id, "updated");
            if let Some(estimates) = &patch.estimated_costs {
                let members = member_count(conn, row.id).await?;
                costs::release_all(conn, &mut change, &row, "estimate replaced", members).await?;
                costs::commit_estimates(conn, &mut change, &row, estimates, members).await?;
            }
            let view = queries::view(conn, row).await?;
            changes::record(conn, change.before(&before).after(&view)).await?;
            Ok(view)
        })
        .await;
    let view = match result {
        Ok(view) => view,
        // A budget outside the caller's scope is not named in a refusal.
        Err(error) => {
            return Err(crate::budgets::ledger::as_seen_by(
                &mut conn,
                &caller.budget_scope(),
                error,
            )
            .await);
        }
    };
    Ok(transfer_response(StatusCode::OK, &view))
}
