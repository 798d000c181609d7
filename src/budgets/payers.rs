//! The budgets the split rule may charge in a fiscal year and province.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{BudgetStatus, FundingSource};
use super::split::{ApprovedAgreement, CostCategory, Payers, Split};
use crate::regions::RegionCode;
use crate::schema::{budgets, cost_sharing_agreements};

/// id, regency, all-costs share, per-category shares, province budget, regency budget.
type AgreementColumns = (
    Uuid,
    String,
    Option<i32>,
    Option<serde_json::Value>,
    Uuid,
    Uuid,
);

/// The payers of one fiscal year and handling province, loaded once.
#[derive(Debug, Clone, Default)]
pub struct PayerSet {
    /// The active national budget (the oldest, if several).
    pub national: Option<Uuid>,
    /// The province's active APBD budget (the oldest, if several).
    pub province: Option<Uuid>,
    /// The approved agreements of the province's regencies.
    pub agreements: Vec<ApprovedAgreement>,
}

impl PayerSet {
    /// The view the split rule takes.
    pub fn payers(&self) -> Payers<'_> {
        Payers {
            national: self.national,
            province: self.province,
            agreements: &self.agreements,
        }
    }
}

/// Parses an agreement's split from its columns.
pub fn split_of(all_costs_bp: Option<i32>, category_bp: Option<&serde_json::Value>) -> Split {
    match (all_costs_bp, category_bp) {
        (Some(bp), _) => Split::AllCosts(bp.clamp(0, 10_000) as u32),
        (None, Some(map)) => Split::PerCategory(
            map.as_object()
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| {
                            Some((CostCategory::parse(k)?, v.as_u64()?.min(10_000) as u32))
                        })
                        .collect()
                })
                .unwrap_or_default(),
        ),
        (None, None) => Split::AllCosts(10_000),
    }
}

/// Loads the payers for `fiscal_year` in `province`.
pub async fn load(
    conn: &mut AsyncPgConnection,
    fiscal_year: i32,
    province: &RegionCode,
) -> QueryResult<PayerSet> {
    let national: Option<Uuid> = budgets::table
        .filter(budgets::fiscal_year.eq(fiscal_year))
        .filter(budgets::source.eq(FundingSource::Apbn))
        .filter(budgets::status.eq(BudgetStatus::Active))
        .order((budgets::created_at, budgets::id))
        .select(budgets::id)
        .first(conn)
        .await
        .optional()?;
    let provincial: Option<Uuid> = budgets::table
        .filter(budgets::fiscal_year.eq(fiscal_year))
        .filter(budgets::source.eq(FundingSource::ApbdProvince))
        .filter(budgets::province_code.eq(province.province().as_str().to_owned()))
        .filter(budgets::status.eq(BudgetStatus::Active))
        .order((budgets::created_at, budgets::id))
        .select(budgets::id)
        .first(conn)
        .await
        .optional()?;
    let prefix = format!("{}.%", province.province());
    let rows: Vec<AgreementColumns> = cost_sharing_agreements::table
        .filter(cost_sharing_agreements::fiscal_year.eq(fiscal_year))
        .filter(cost_sharing_agreements::status.eq("approved"))
        .filter(cost_sharing_agreements::regency_code.like(prefix))
        .select((
            cost_sharing_agreements::id,
            cost_sharing_agreements::regency_code,
            cost_sharing_agreements::all_costs_bp,
            cost_sharing_agreements::category_bp,
            cost_sharing_agreements::province_budget_id,
            cost_sharing_agreements::regency_budget_id,
        ))
        .load(conn)
        .await?;
    let agreements = rows
        .into_iter()
        .filter_map(|(id, regency, all, per, province_budget, regency_budget)| {
            Some(ApprovedAgreement {
                id,
                regency: RegionCode::parse(&regency).ok()?,
                split: split_of(all, per.as_ref()),
                province_budget,
                regency_budget,
            })
        })
        .collect();
    Ok(PayerSet {
        national,
        province: provincial,
        agreements,
    })
}
