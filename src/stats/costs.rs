//! `GET /api/v1/stats/costs`: what the returns of a fiscal year cost, who
//! paid, and where no agreement said who should.

use actix_web::{HttpResponse, get, web};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Int4, Nullable, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::figures::{per_head, percent};
use super::scope::{ReportScope, handling_province};
use crate::access::Operation;
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::http::extract::Query;
use crate::regions::catalog;
use crate::state::AppState;

/// Parameters of the money report.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CostStatsQuery {
    /// Fiscal year of the transfers.
    #[param(example = 2019)]
    pub fiscal_year: i32,
    /// Only transfers run by this province (`61`).
    #[param(value_type = Option<crate::regions::RegionCode>, example = "61")]
    pub handling_province: Option<String>,
}

/// Cost of the returns to one destination.
#[derive(Debug, Serialize, ToSchema)]
pub struct DestinationCost {
    /// The destination region.
    pub destination_region: String,
    /// Its name.
    pub name: Option<String>,
    /// Handed-over transfers.
    pub transfers: i64,
    /// Returnees received there.
    pub returnees: i64,
    /// Whole rupiah spent.
    pub realised: i64,
    /// Realised ÷ returnees.
    pub per_returnee: Option<i64>,
}

/// What one funding source paid.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceCost {
    /// apbn, apbd_province or apbd_regency.
    pub source: String,
    /// Whole rupiah realised on budgets of this source.
    pub realised: i64,
    /// Returnees of the transfers it paid for.
    pub returnees: i64,
    /// Realised ÷ returnees.
    pub per_returnee: Option<i64>,
}

/// How the cost of returns to one regency of the province was shared.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegencyShare {
    /// The regency.
    pub regency: String,
    /// Its name.
    pub name: Option<String>,
    /// Paid from the province's APBD.
    pub province_paid: i64,
    /// Paid from the regency's own APBD.
    pub regency_paid: i64,
    /// The regency's share of the total, in percent.
    pub regency_share_percent: f64,
}

/// A return whose cost had no approved agreement, so the province paid all.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnagreedCost {
    /// The transfer's reference.
    pub transfer: String,
    /// Its destination regency.
    pub destination_region: String,
    /// Whole rupiah the province paid without an agreement.
    pub amount: i64,
}

/// The money report.
#[derive(Debug, Serialize, ToSchema)]
pub struct CostStats {
    /// The fiscal year.
    pub fiscal_year: i32,
    /// Cost per returnee, by destination.
    pub by_destination: Vec<DestinationCost>,
    /// Cost per returnee, by funding source.
    pub by_funding_source: Vec<SourceCost>,
    /// Each regency's share under its agreement (in-province returns).
    pub regency_shares: Vec<RegencyShare>,
    /// Returns whose cost had no agreement.
    pub without_agreement: Vec<UnagreedCost>,
}

#[derive(QueryableByName)]
struct DestinationRow {
    #[diesel(sql_type = Text)]
    destination_region: String,
    #[diesel(sql_type = BigInt)]
    transfers: i64,
    #[diesel(sql_type = BigInt)]
    returnees: i64,
    #[diesel(sql_type = BigInt)]
    realised: i64,
}

#[derive(QueryableByName)]
struct SourceRow {
    #[diesel(sql_type = Text)]
    source: String,
    #[diesel(sql_type = Nullable<Text>)]
    destination_region: Option<String>,
    #[diesel(sql_type = BigInt)]
    realised: i64,
    #[diesel(sql_type = BigInt)]
    returnees: i64,
}

#[derive(QueryableByName)]
struct UnagreedRow {
    #[diesel(sql_type = Text)]
    reference: String,
    #[diesel(sql_type = Text)]
    destination_region: String,
    #[diesel(sql_type = BigInt)]
    amount: i64,
}

/// The handed-over transfers of the year in scope, with their returnees and spending.
const TRANSFERS: &str = "\
WITH t AS (
  SELECT id, reference, destination_region, handling_province,
         (SELECT count(*) FROM transfer_cases tc WHERE tc.transfer_id = transfers.id AND tc.outcome = 'received') AS returnees
  FROM transfers
  WHERE status = 'handed_over' AND fiscal_year = $1 AND ($2::text IS NULL OR handling_province = $2) AND SCOPE)";

async fn load<T: QueryableByName<diesel::pg::Pg> + Send + 'static>(
    conn: &mut AsyncPgConnection,
    select: &str,
    year: i32,
    province: Option<&str>,
    scope: &ReportScope,
) -> diesel::QueryResult<Vec<T>> {
    let sql = format!(
        "{} {select}",
        TRANSFERS.replace("SCOPE", &scope.transfer_condition("$3"))
    );
    diesel::sql_query(sql)
        .bind::<Int4, _>(year)
        .bind::<Nullable<Text>, _>(province)
        .bind::<Nullable<Text>, _>(scope.value())
        .load(conn)
        .await
}

/// Money report.
///
/// For the transfers of a fiscal year that were handed over, in the caller's
/// report scope: the cost per returnee by destination and by funding source,
/// the share each regency paid under its cost-sharing agreement, and the
/// returns whose cost had no approved agreement (the province paid all).
/// Amounts in whole rupiah, from the cost items and the budgets' ledgers.
#[utoipa::path(
    tag = "stats",
    operation_id = "get_cost_stats",
    params(CostStatsQuery),
    responses((status = 200, description = "The money report", body = CostStats))
)]
#[get("/stats/costs")]
pub async fn get_cost_stats(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<CostStatsQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::ReadReports)?;
    let province = handling_province(query.handling_province.as_deref())?;
    let scope = ReportScope::of(&caller);
    let year = query.fiscal_year;
    let mut conn = state.pool.get().await?;
    let limits = state.settings.db_limits;
    let (destinations, sources, unagreed) = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            crate::db::use_report_timeout(conn, &limits).await?;
        let destinations: Vec<DestinationRow> = load(
            conn,
            "SELECT destination_region, count(*) AS transfers, coalesce(sum(returnees), 0)::bigint AS returnees, \
               coalesce(sum((SELECT coalesce(sum(amount), 0) FROM transfer_cost_items ci WHERE ci.transfer_id = t.id)), 0)::bigint AS realised \
             FROM t GROUP BY destination_region ORDER BY destination_region",
            year,
            province.as_deref(),
            &scope,
        )
        .await?;
        // Realisations per source and destination, with the returnees of the transfers they paid for.
        let sources: Vec<SourceRow> = load(
            conn,
            ", paid AS (SELECT b.source, t.id, t.destination_region, t.returnees, sum(l.amount) AS amount \
               FROM budget_ledger l JOIN budgets b ON b.id = l.budget_id JOIN t ON t.id = l.transfer_id \
               WHERE l.kind = 'realisation' GROUP BY b.source, t.id, t.destination_region, t.returnees) \
             SELECT source, destination_region, sum(amount)::bigint AS realised, sum(returnees)::bigint AS returnees \
             FROM paid GROUP BY source, destination_region ORDER BY source, destination_region",
            year,
            province.as_deref(),
            &scope,
        )
        .await?;
        let unagreed: Vec<UnagreedRow> = load(
            conn,
            "SELECT t.reference, t.destination_region, sum(l.amount)::bigint AS amount \
             FROM budget_ledger l JOIN t ON t.id = l.transfer_id \
             WHERE l.kind = 'realisation' AND l.missing_agreement GROUP BY t.reference, t.destination_region \
             HAVING sum(l.amount) <> 0 ORDER BY t.reference",
            year,
            province.as_deref(),
            &scope,
        )
        .await?;
            Ok((destinations, sources, unagreed))
        })
        .await?;
    Ok(HttpResponse::Ok().json(assemble(year, destinations, sources, unagreed)))
}

fn assemble(
    year: i32,
    destinations: Vec<DestinationRow>,
    sources: Vec<SourceRow>,
    unagreed: Vec<UnagreedRow>,
) -> CostStats {
    let by_destination = destinations
        .into_iter()
        .map(|d| DestinationCost {
            name: catalog::name_of(&d.destination_region).map(str::to_owned),
            per_returnee: per_head(d.realised, d.returnees),
            destination_region: d.destination_region,
            transfers: d.transfers,
            returnees: d.returnees,
            realised: d.realised,
        })
        .collect();
    let mut by_source: Vec<SourceCost> = Vec::new();
    let mut shares: std::collections::BTreeMap<String, (i64, i64)> =
        std::collections::BTreeMap::new();
    for row in &sources {
        match by_source.iter_mut().find(|s| s.source == row.source) {
            Some(s) => {
                s.realised += row.realised;
                s.returnees += row.returnees;
            }
            None => by_source.push(SourceCost {
                source: row.source.clone(),
                realised: row.realised,
                returnees: row.returnees,
                per_returnee: None,
            }),
        }
        if let Some(region) = &row.destination_region
            && region.len() > 2
        {
            let entry = shares.entry(region.clone()).or_default();
            match row.source.as_str() {
                "apbd_province" => entry.0 += row.realised,
                "apbd_regency" => entry.1 += row.realised,
                _ => {}
            }
        }
    }
    for s in &mut by_source {
        s.per_returnee = per_head(s.realised, s.returnees);
    }
    let regency_shares = shares
        .into_iter()
        .filter(|(_, (p, r))| p + r > 0)
        .map(|(regency, (province_paid, regency_paid))| RegencyShare {
            name: catalog::name_of(&regency).map(str::to_owned),
            regency,
            province_paid,
            regency_paid,
            regency_share_percent: percent(regency_paid, province_paid + regency_paid),
        })
        .collect();
    CostStats {
        fiscal_year: year,
        by_destination,
        by_funding_source: by_source,
        regency_shares,
        without_agreement: unagreed
            .into_iter()
            .map(|u| UnagreedCost {
                transfer: u.reference,
                destination_region: u.destination_region,
                amount: u.amount,
            })
            .collect(),
    }
}
