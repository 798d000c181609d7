//! `GET /api/v1/stats/costs`: what the returns of a fiscal year cost, who
//! paid, and where no agreement said who should.

use actix_web::{HttpResponse, get, web};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Bool, Int4, Nullable, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::figures::{per_head, percent};
use super::scope::{ReportScope, handling_province};
use crate::access::{BudgetScope, Operation};
use crate::auth::Caller;
use crate::budgets::queries::{scope_condition, scope_value};
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
    /// Handed-over transfers (with money in the caller's scope).
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
    /// The DIPA/DPA numbers and activity codes of the budgets it was realised on.
    pub budgets: Vec<BudgetDocument>,
}

/// A budget's execution document, as reports name it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BudgetDocument {
    /// DIPA (APBN) or DPA (APBD) number.
    pub document_number: String,
    /// Activity (kegiatan) code.
    pub activity_code: Option<String>,
}

#[derive(QueryableByName)]
struct DocumentRow {
    #[diesel(sql_type = Text)]
    source: String,
    #[diesel(sql_type = Text)]
    document_number: String,
    #[diesel(sql_type = Nullable<Text>)]
    activity_code: Option<String>,
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
    /// Money realised on transfers that were not handed over: cancelled ones
    /// (a ticket already paid) and those still under way. Counted in
    /// `by_funding_source`, not in `by_destination`.
    pub not_handed_over: Vec<TransferCost>,
}

/// What was realised on one transfer that was not handed over.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransferCost {
    /// The transfer's reference.
    pub transfer: String,
    /// Its status: cancelled, or planned, departed, arrived.
    pub status: String,
    /// Its destination.
    pub destination_region: String,
    /// Whole rupiah realised on it.
    pub realised: i64,
}

#[derive(QueryableByName)]
struct OtherRow {
    #[diesel(sql_type = Text)]
    reference: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Text)]
    destination_region: String,
    #[diesel(sql_type = BigInt)]
    amount: i64,
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

/// The transfers of the year in the caller's report scope, with their
/// returnees, and the realisations on them that the caller's budget scope
/// covers (`paid`): every report is scoped like the budgets it draws from, so
/// the ministry sees APBN money, a regency its own, the province its own and
/// its regencies'. Cancelled and running transfers count too: money spent on
/// them was spent.
const TRANSFERS: &str = "\
WITH t AS (
  SELECT id, reference, destination_region, handling_province, status,
         (SELECT count(*) FROM transfer_cases tc WHERE tc.transfer_id = transfers.id AND tc.outcome = 'received') AS returnees
  FROM transfers
  WHERE fiscal_year = $1 AND ($2::text IS NULL OR handling_province = $2) AND SCOPE),
paid AS (
  SELECT l.transfer_id, b.source, l.missing_agreement, l.amount
  FROM budget_ledger l JOIN budgets b ON b.id = l.budget_id JOIN t ON t.id = l.transfer_id
  WHERE l.kind = 'realisation' AND BUDGETS)";

/// The caller's agreements as a condition on `cost_sharing_agreements a`, so
/// that a regency sees the province's part of the costs it shares.
fn agreement_condition(scope: &BudgetScope) -> String {
    match scope {
        BudgetScope::All => "true".to_owned(),
        BudgetScope::Province(_) => "a.regency_code LIKE $4 || '.%'".to_owned(),
        BudgetScope::OwnAgency(_) => "a.regency_agency_id = $4::uuid".to_owned(),
        BudgetScope::National | BudgetScope::Nothing => "false".to_owned(),
    }
}

async fn load<T: QueryableByName<diesel::pg::Pg> + Send + 'static>(
    conn: &mut AsyncPgConnection,
    select: &str,
    year: i32,
    province: Option<&str>,
    scope: &ReportScope,
    budgets: &BudgetScope,
) -> diesel::QueryResult<Vec<T>> {
    let sql = format!(
        "{} {}",
        TRANSFERS
            .replace("SCOPE", &scope.transfer_condition("$3"))
            .replace("BUDGETS", &scope_condition(budgets, "b", "$4")),
        select.replace("AGREEMENTS", &agreement_condition(budgets))
    );
    diesel::sql_query(sql)
        .bind::<Int4, _>(year)
        .bind::<Nullable<Text>, _>(province)
        .bind::<Nullable<Text>, _>(scope.value())
        .bind::<Nullable<Text>, _>(scope_value(budgets))
        .bind::<Bool, _>(matches!(budgets, BudgetScope::All))
        .load(conn)
        .await
}

/// The money report of `year` as `caller` may see it.
pub async fn report(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    year: i32,
    province: Option<&str>,
) -> diesel::QueryResult<CostStats> {
    let scope = ReportScope::of(caller);
    let budgets = caller.budget_scope();
    // Handed-over transfers with money in scope (with none, only for a reader of every budget).
    let destinations: Vec<DestinationRow> = load(
        conn,
        ", per AS (SELECT transfer_id, sum(amount) AS realised FROM paid GROUP BY transfer_id) \
         SELECT t.destination_region, count(*) AS transfers, coalesce(sum(t.returnees), 0)::bigint AS returnees, \
           coalesce(sum(per.realised), 0)::bigint AS realised \
         FROM t LEFT JOIN per ON per.transfer_id = t.id \
         WHERE t.status = 'handed_over' AND (per.transfer_id IS NOT NULL OR $5) \
         GROUP BY t.destination_region ORDER BY t.destination_region",
        year,
        province,
        &scope,
        &budgets,
    )
    .await?;
    // Realisations per source and destination, with the returnees of the transfers they paid for.
    let sources: Vec<SourceRow> = load(
        conn,
        ", per AS (SELECT p.source, t.id, t.destination_region, t.returnees, sum(p.amount) AS amount \
           FROM paid p JOIN t ON t.id = p.transfer_id GROUP BY p.source, t.id, t.destination_region, t.returnees) \
         SELECT source, destination_region, sum(amount)::bigint AS realised, sum(returnees)::bigint AS returnees \
         FROM per GROUP BY source, destination_region ORDER BY source, destination_region",
        year,
        province,
        &scope,
        &budgets,
    )
    .await?;
    // Each regency's share: the APBD realisations in scope, and the province's
    // part of costs shared under the caller's own agreements.
    let shares: Vec<SourceRow> = load(
        conn,
        "SELECT b.source, t.destination_region, sum(l.amount)::bigint AS realised, 0::bigint AS returnees \
         FROM budget_ledger l JOIN budgets b ON b.id = l.budget_id JOIN t ON t.id = l.transfer_id \
         WHERE l.kind = 'realisation' AND b.source IN ('apbd_province', 'apbd_regency') \
           AND (BUDGETS_AGAIN OR l.agreement_id IN (SELECT a.id FROM cost_sharing_agreements a WHERE AGREEMENTS)) \
         GROUP BY b.source, t.destination_region ORDER BY t.destination_region"
            .replace("BUDGETS_AGAIN", &scope_condition(&budgets, "b", "$4"))
            .as_str(),
        year,
        province,
        &scope,
        &budgets,
    )
    .await?;
    let unagreed: Vec<UnagreedRow> = load(
        conn,
        "SELECT t.reference, t.destination_region, sum(p.amount)::bigint AS amount \
         FROM paid p JOIN t ON t.id = p.transfer_id \
         WHERE p.missing_agreement GROUP BY t.reference, t.destination_region \
         HAVING sum(p.amount) <> 0 ORDER BY t.reference",
        year,
        province,
        &scope,
        &budgets,
    )
    .await?;
    let documents: Vec<DocumentRow> = load(
        conn,
        "SELECT DISTINCT b.source, b.document_number, b.activity_code \
         FROM budget_ledger l JOIN budgets b ON b.id = l.budget_id JOIN t ON t.id = l.transfer_id \
         WHERE l.kind = 'realisation' AND BUDGETS_AGAIN ORDER BY b.source, b.document_number"
            .replace("BUDGETS_AGAIN", &scope_condition(&budgets, "b", "$4"))
            .as_str(),
        year,
        province,
        &scope,
        &budgets,
    )
    .await?;
    let others: Vec<OtherRow> = load(
        conn,
        "SELECT t.reference, t.status, t.destination_region, sum(p.amount)::bigint AS amount \
         FROM paid p JOIN t ON t.id = p.transfer_id \
         WHERE t.status <> 'handed_over' GROUP BY t.reference, t.status, t.destination_region \
         HAVING sum(p.amount) <> 0 ORDER BY t.reference",
        year,
        province,
        &scope,
        &budgets,
    )
    .await?;
    let mut stats = assemble(year, destinations, sources, shares, unagreed, others);
    for source in &mut stats.by_funding_source {
        source.budgets = documents
            .iter()
            .filter(|d| d.source == source.source)
            .map(|d| BudgetDocument {
                document_number: d.document_number.clone(),
                activity_code: d.activity_code.clone(),
            })
            .collect();
    }
    Ok(stats)
}

/// Money report.
///
/// For the transfers of a fiscal year in the caller's report scope, counted
/// from the budgets' ledgers the caller may see (the ministry the APBN, a
/// regency its own budget, the province and the secretariat the province's
/// and its regencies'): the cost per returnee by destination (handed-over
/// transfers) and by funding source (every realisation, also on transfers
/// that were cancelled or are still under way, listed under
/// `not_handed_over`), the share each regency paid under its cost-sharing
/// agreement, and the returns whose cost had no approved agreement (the
/// province paid all). Amounts in whole rupiah.
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
    let year = query.fiscal_year;
    let mut conn = state.pool.get().await?;
    let limits = state.settings.db_limits;
    let stats = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            crate::db::use_report_timeout(conn, &limits).await?;
            report(conn, &caller, year, province.as_deref()).await
        })
        .await?;
    Ok(HttpResponse::Ok().json(stats))
}

fn assemble(
    year: i32,
    destinations: Vec<DestinationRow>,
    sources: Vec<SourceRow>,
    shares_rows: Vec<SourceRow>,
    unagreed: Vec<UnagreedRow>,
    others: Vec<OtherRow>,
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
                budgets: Vec::new(),
            }),
        }
    }
    for row in &shares_rows {
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
        not_handed_over: others
            .into_iter()
            .map(|o| TransferCost {
                transfer: o.reference,
                status: o.status,
                destination_region: o.destination_region,
                realised: o.amount,
            })
            .collect(),
    }
}
