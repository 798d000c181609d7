//! `GET /api/v1/stats/returns`: returnees received and returned, broken down
//! the way the province reports them — and each figure the total of a case
//! list with the same filters.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, web};
use chrono::{NaiveDate, NaiveTime};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::figures::percent;
use super::scope::{ReportScope, handling_province};
use crate::access::Operation;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Query;
use crate::regions::catalog;
use crate::state::AppState;

/// Filters of the statistics; the same as the case list's `arrived_from`, `arrived_to` and `handling_province`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReturnStatsQuery {
    /// Arrived on or after this date (UTC).
    #[param(example = "2019-01-01")]
    pub from: NaiveDate,
    /// Arrived on or before this date (UTC).
    #[param(example = "2019-10-31")]
    pub to: NaiveDate,
    /// The province handling the returns (`61`); within the caller's scope when absent.
    #[param(value_type = Option<crate::regions::RegionCode>, example = "61")]
    pub handling_province: Option<String>,
}

/// Counts for one group.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Counts {
    /// The group's key (a code, a status, a month `YYYY-MM`, …).
    pub key: String,
    /// Its name, where the key is a region code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Returnees who arrived in the period.
    pub received: i64,
    /// Of those, returnees handed over to their region of origin.
    pub returned: i64,
    /// Share of all received, in percent (two decimals).
    pub percent_of_received: f64,
}

/// Return statistics.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "from": "2019-01-01", "to": "2019-10-31", "handling_province": "61",
    "received": 2480, "returned": 2480, "repeat_returns": 37, "possible_duplicates_open": 0,
    "by_origin_scope": [
        {"key": "out_of_province", "received": 1355, "returned": 1355, "percent_of_received": 54.64},
        {"key": "in_province", "received": 1125, "returned": 1125, "percent_of_received": 45.36}],
    "by_funding_source": [{"key": "apbn", "received": 1355, "returned": 1355, "percent_of_received": 54.64}],
    "by_origin_province": [{"key": "61", "name": "Kalimantan Barat", "received": 1125, "returned": 1125, "percent_of_received": 45.36}],
    "by_regency": [{"key": "61.71", "name": "Kota Pontianak", "received": 160, "returned": 160, "percent_of_received": 6.45}],
    "by_category": [], "by_entry_point": [], "by_month": [], "by_status": []
}))]
pub struct ReturnStats {
    /// First arrival date counted.
    pub from: NaiveDate,
    /// Last arrival date counted.
    pub to: NaiveDate,
    /// The handling province, if one was asked for.
    pub handling_province: Option<String>,
    /// Returnees who arrived in the period.
    pub received: i64,
    /// Of those, returnees handed over to their region of origin.
    pub returned: i64,
    /// Of those received, returnees who had returned before.
    pub repeat_returns: i64,
    /// Pairs of returns (the older one arrived in the period) that may be one
    /// return reported twice, waiting for a case worker to confirm or dismiss
    /// them (`GET /api/v1/possible-duplicates`). Until then both count in `received`.
    pub possible_duplicates_open: i64,
    /// `out_of_province` (paid by the APBN) and `in_province` (shared APBD).
    pub by_origin_scope: Vec<Counts>,
    /// `apbn` and `apbd_shared`.
    pub by_funding_source: Vec<Counts>,
    /// Per province of origin.
    pub by_origin_province: Vec<Counts>,
    /// Per regency of origin.
    pub by_regency: Vec<Counts>,
    /// Per category.
    pub by_category: Vec<Counts>,
    /// Per entry point.
    pub by_entry_point: Vec<Counts>,
    /// Per month of arrival (UTC), `YYYY-MM`.
    pub by_month: Vec<Counts>,
    /// Per current status.
    pub by_status: Vec<Counts>,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    dimension: String,
    #[diesel(sql_type = Nullable<Text>)]
    key: Option<String>,
    #[diesel(sql_type = BigInt)]
    received: i64,
    #[diesel(sql_type = BigInt)]
    returned: i64,
    #[diesel(sql_type = BigInt)]
    repeats: i64,
}

/// The statement: one pass over the cases in scope, grouped every way at once.
///
/// The cases are first counted per combination of all seven dimensions — a
/// few thousand groups, one parallel hash aggregate — and the grouping sets
/// then sum those groups. Handed over is a join with the received members of
/// transfers rather than a correlated `EXISTS`, which kept PostgreSQL from
/// scanning in parallel. Grouping a million cases eight ways directly made it
/// sort them once per set, on disk: 6.8 s for a year of a million cases.
const STATS_SQL: &str = "\
WITH g AS (
  SELECT funding_scope, origin_province, origin_region, category, entry_point,
         date_trunc('month', arrived_at AT TIME ZONE 'UTC') AS month, status,
         count(*) AS received,
         count(*) FILTER (WHERE status = 'returned' OR (status = 'closed' AND received.case_id IS NOT NULL)) AS returned,
         count(*) FILTER (WHERE repeat_return) AS repeats
  FROM cases
  LEFT JOIN (SELECT DISTINCT case_id FROM transfer_cases WHERE outcome = 'received') received
         ON received.case_id = cases.id
  WHERE arrived_at >= $1 AND arrived_at < $2 AND ($3::text IS NULL OR handling_province = $3) AND SCOPE
  GROUP BY funding_scope, origin_province, origin_region, category, entry_point, month, status)
SELECT CASE WHEN GROUPING(funding_scope) = 0 THEN 'funding'
            WHEN GROUPING(origin_province) = 0 THEN 'province'
            WHEN GROUPING(origin_region) = 0 THEN 'regency'
            WHEN GROUPING(category) = 0 THEN 'category'
            WHEN GROUPING(entry_point) = 0 THEN 'entry_point'
            WHEN GROUPING(month) = 0 THEN 'month'
            WHEN GROUPING(status) = 0 THEN 'status'
            ELSE 'total' END AS dimension,
       COALESCE(funding_scope, origin_province, origin_region, category, entry_point,
                to_char(month, 'YYYY-MM'), status) AS key,
       coalesce(sum(received), 0)::bigint AS received,
       coalesce(sum(returned), 0)::bigint AS returned,
       coalesce(sum(repeats), 0)::bigint AS repeats
FROM g
GROUP BY GROUPING SETS ((), (funding_scope), (origin_province), (origin_region), (category), (entry_point), (month), (status))";

/// Settings for the statement's transaction only: memory enough to hash the
/// groups (PostgreSQL over-estimates them a hundredfold and would otherwise
/// sort on disk), and no JIT compilation, which cost 100 ms of a 1 s report.
const STATS_SETTINGS: &str =
    "SELECT set_config('work_mem', '64MB', true), set_config('jit', 'off', true)";

/// Return statistics.
///
/// Returnees who arrived between `from` and `to` (inclusive, UTC dates) in the
/// caller's report scope — optionally in one handling province — and how many
/// of them were handed over home, by origin scope (out of the province, paid
/// by the APBN; inside it, shared APBD), province and regency of origin,
/// category, entry point, month and status, with the number of repeat
/// returns. Every figure equals the `total` of `GET /api/v1/cases` with the
/// same filters (`arrived_from`, `arrived_to`, `handling_province`, and the
/// group's own filter). Ministries see all provinces; a province's social
/// service and secretariat their province; a regency its own returnees.
#[utoipa::path(
    tag = "stats",
    operation_id = "get_return_stats",
    params(ReturnStatsQuery),
    responses((status = 200, description = "The statistics", body = ReturnStats))
)]
#[get("/stats/returns")]
pub async fn get_return_stats(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<ReturnStatsQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ReadReports)?;
    if query.from > query.to {
        return Err(ApiError::bad_parameter("from", "is after to"));
    }
    let province = handling_province(query.handling_province.as_deref())?;
    let scope = ReportScope::of(&caller);
    let sql = STATS_SQL.replace("SCOPE", &scope.condition("$4"));
    let until = query.to.succ_opt().unwrap_or(query.to);
    let statement = diesel::sql_query(sql)
        .into_boxed()
        .bind::<Timestamptz, _>(query.from.and_time(NaiveTime::MIN).and_utc())
        .bind::<Timestamptz, _>(until.and_time(NaiveTime::MIN).and_utc())
        .bind::<Nullable<Text>, _>(province.clone())
        .bind::<Nullable<Text>, _>(scope.value());
    let (start, end) = (
        query.from.and_time(NaiveTime::MIN).and_utc(),
        until.and_time(NaiveTime::MIN).and_utc(),
    );
    let condition = scope.condition("$4");
    let mut conn = state.pool.get().await?;
    let (rows, open): (Vec<Row>, i64) = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            diesel::sql_query(STATS_SETTINGS).execute(conn).await?;
            crate::db::use_report_timeout(conn, &state.settings.db_limits).await?;
            let rows = statement.load(conn).await?;
            let open = crate::cases::duplicates::open_count(
                conn,
                &condition,
                scope.value(),
                start,
                end,
                province.clone(),
            )
            .await?;
            Ok((rows, open))
        })
        .await?;
    let mut stats = assemble(query.from, query.to, province, rows);
    stats.possible_duplicates_open = open;
    Ok(HttpResponse::Ok().json(stats))
}

fn assemble(
    from: NaiveDate,
    to: NaiveDate,
    province: Option<String>,
    rows: Vec<Row>,
) -> ReturnStats {
    let total = rows.iter().find(|r| r.dimension == "total");
    let (received, returned, repeats) =
        total.map_or((0, 0, 0), |t| (t.received, t.returned, t.repeats));
    let mut groups: BTreeMap<&str, Vec<Counts>> = BTreeMap::new();
    for row in &rows {
        if row.dimension == "total" {
            continue;
        }
        let key = row.key.clone().unwrap_or_default();
        let name = match row.dimension.as_str() {
            "province" | "regency" => catalog::name_of(&key).map(str::to_owned),
            _ => None,
        };
        groups
            .entry(row.dimension.as_str())
            .or_default()
            .push(Counts {
                key,
                name,
                received: row.received,
                returned: row.returned,
                percent_of_received: percent(row.received, received),
            });
    }
    let mut take = |d: &str| {
        let mut list = groups.remove(d).unwrap_or_default();
        list.sort_by(|a, b| b.received.cmp(&a.received).then(a.key.cmp(&b.key)));
        list
    };
    let by_funding_source = take("funding");
    let by_origin_scope = by_funding_source
        .iter()
        .map(|c| Counts {
            key: if c.key == "apbn" {
                "out_of_province".into()
            } else {
                "in_province".into()
            },
            ..c.clone()
        })
        .collect();
    let mut by_month = take("month");
    by_month.sort_by(|a, b| a.key.cmp(&b.key));
    ReturnStats {
        from,
        to,
        handling_province: province,
        received,
        returned,
        repeat_returns: repeats,
        possible_duplicates_open: 0,
        by_origin_scope,
        by_funding_source,
        by_origin_province: take("province"),
        by_regency: take("regency"),
        by_category: take("category"),
        by_entry_point: take("entry_point"),
        by_month,
        by_status: take("status"),
    }
}
