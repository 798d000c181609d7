//! Reading and writing agencies.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::{Agency, AgencyKind};
use crate::regions::RegionLevel;
use crate::schema::{agencies, regions};

/// Filters of the agency list.
#[derive(Debug, Default)]
pub struct AgencyFilter {
    /// Only this kind.
    pub kind: Option<AgencyKind>,
    /// Only agencies covering this region or, for a province, any region in it.
    pub region: Option<String>,
    /// Only active (or only inactive) agencies.
    pub active: Option<bool>,
    /// Code or name containing this text.
    pub text: Option<String>,
    /// Codes after this one (keyset).
    pub after_code: Option<String>,
}

/// Lists agencies by code.
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: AgencyFilter,
    limit: i64,
) -> QueryResult<Vec<Agency>> {
    let mut query = agencies::table
        .select(Agency::as_select())
        .order(agencies::code)
        .limit(limit)
        .into_boxed();
    if let Some(kind) = filter.kind {
        query = query.filter(agencies::kind.eq(kind));
    }
    if let Some(region) = filter.region {
        if region.len() == 2 {
            let prefix = format!("{region}.%");
            query = query.filter(
                agencies::region_code
                    .eq(region.clone())
                    .or(agencies::region_code.like(prefix)),
            );
        } else {
            query = query.filter(agencies::region_code.eq(region));
        }
    }
    if let Some(active) = filter.active {
        query = query.filter(agencies::active.eq(active));
    }
    if let Some(text) = filter.text {
        let pattern = format!(
            "%{}%",
            text.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        query = query.filter(
            agencies::code
                .ilike(pattern.clone())
                .or(agencies::name.ilike(pattern)),
        );
    }
    if let Some(after) = filter.after_code {
        query = query.filter(agencies::code.gt(after));
    }
    query.load(conn).await
}

/// One agency by id.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Agency>> {
    agencies::table
        .find(id)
        .select(Agency::as_select())
        .first(conn)
        .await
        .optional()
}

/// One agency by id, locked for update.
pub async fn find_for_update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<Agency>> {
    agencies::table
        .find(id)
        .select(Agency::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// One agency by code.
pub async fn find_by_code(conn: &mut AsyncPgConnection, code: &str) -> QueryResult<Option<Agency>> {
    agencies::table
        .filter(agencies::code.eq(code))
        .select(Agency::as_select())
        .first(conn)
        .await
        .optional()
}

/// The level of a region, if it exists.
pub async fn region_level(
    conn: &mut AsyncPgConnection,
    code: &str,
) -> QueryResult<Option<RegionLevel>> {
    regions::table
        .find(code)
        .select(regions::level)
        .first::<RegionLevel>(conn)
        .await
        .optional()
}
