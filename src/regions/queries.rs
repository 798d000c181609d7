//! Reading regions.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;

use super::{RegionCode, RegionLevel};
use crate::schema::regions;

/// A province or kabupaten/kota.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = regions)]
#[schema(example = json!({"code": "61.71", "level": "regency", "parent_code": "61", "name": "Kota Pontianak"}))]
pub struct Region {
    /// The Kemendagri code, dotted.
    pub code: String,
    /// `province` or `regency` (a kabupaten or kota).
    pub level: RegionLevel,
    /// For a regency, its province's code.
    pub parent_code: Option<String>,
    /// The official name.
    pub name: String,
}

/// Filters of the region list.
#[derive(Debug, Default)]
pub struct RegionFilter {
    /// Only this level.
    pub level: Option<RegionLevel>,
    /// Only the regencies of this province.
    pub province: Option<RegionCode>,
    /// Names containing this text (case-insensitive).
    pub name_contains: Option<String>,
    /// Codes after this one (keyset).
    pub after: Option<String>,
}

/// Lists regions by code.
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: RegionFilter,
    limit: i64,
) -> QueryResult<Vec<Region>> {
    let mut query = regions::table
        .select(Region::as_select())
        .order(regions::code)
        .limit(limit)
        .into_boxed();
    if let Some(level) = filter.level {
        query = query.filter(regions::level.eq(level));
    }
    if let Some(province) = filter.province {
        query = query.filter(regions::parent_code.eq(province.province().as_str().to_owned()));
    }
    if let Some(text) = filter.name_contains {
        let pattern = format!(
            "%{}%",
            text.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        query = query.filter(regions::name.ilike(pattern));
    }
    if let Some(after) = filter.after {
        query = query.filter(regions::code.gt(after));
    }
    query.load(conn).await
}

/// One region.
pub async fn find(conn: &mut AsyncPgConnection, code: &RegionCode) -> QueryResult<Option<Region>> {
    regions::table
        .find(code.as_str())
        .select(Region::as_select())
        .first(conn)
        .await
        .optional()
}
