//! `GET /api/v1/regions` and `GET /api/v1/regions/{code}`.

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::queries::{self, Region, RegionFilter};
use super::{RegionCode, RegionLevel};
use crate::access::Operation;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Query;
use crate::http::pagination::{Page, decode_cursor};
use crate::state::AppState;

/// Filters of `GET /api/v1/regions`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegionListQuery {
    /// Only provinces or only regencies.
    pub level: Option<RegionLevel>,
    /// Only the regencies of this province (`61`; a regency code means its province).
    #[param(value_type = Option<crate::regions::RegionCode>, example = "61")]
    pub province: Option<String>,
    /// Names containing this text, case-insensitive.
    #[param(example = "pontianak")]
    pub q: Option<String>,
    /// Page size, 1 to 600 (default 100).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The page size of `list_regions`.
pub const REGION_PAGE: crate::http::pagination::PageSize = crate::http::pagination::PageSize {
    default: 100,
    max: 600,
};

/// List regions.
///
/// Provinces and kabupaten/kota with their Kemendagri codes, ordered by code.
/// Filter by level, by province, or by a part of the name.
#[utoipa::path(
    tag = "regions",
    operation_id = "list_regions",
    params(RegionListQuery),
    responses((status = 200, description = "A page of regions", body = Page<Region>))
)]
#[get("/regions")]
pub async fn list_regions(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<RegionListQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ReadRegions)?;
    let query = query.0;
    let limit = REGION_PAGE.of(query.limit)?;
    let province = query
        .province
        .as_deref()
        .map(RegionCode::parse)
        .transpose()
        .map_err(|e| ApiError::bad_parameter("province", e))?;
    let filter = RegionFilter {
        level: query.level,
        province,
        name_contains: query
            .q
            .filter(|q| !q.trim().is_empty())
            .map(|q| q.trim().to_owned()),
        after: query
            .cursor
            .as_deref()
            .map(decode_cursor::<String>)
            .transpose()?,
    };
    let mut conn = state.pool.get().await?;
    let rows = queries::list(&mut conn, filter, limit as i64 + 1).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, limit, |r| r.code.clone())))
}

/// Get a region.
///
/// One province or kabupaten/kota by its code, given dotted (`61.71`) or plain (`6171`).
#[utoipa::path(
    tag = "regions",
    operation_id = "get_region",
    params(("code" = String, Path, description = "Region code, dotted or plain", example = "6171")),
    responses((status = 200, description = "The region", body = Region))
)]
#[get("/regions/{code}")]
pub async fn get_region(
    state: web::Data<AppState>,
    caller: Caller,
    code: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ReadRegions)?;
    let code = RegionCode::parse(&code).map_err(|e| ApiError::bad_parameter("code", e))?;
    let mut conn = state.pool.get().await?;
    let region = queries::find(&mut conn, &code)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no region {code}")))?;
    Ok(HttpResponse::Ok().json(region))
}
