//! The split rule: who pays for one cost of a return. Plain Rust, no database.
//!
//! - The returnee's origin lies outside the handling province: all of it on
//!   the national budget (APBN, the Kemensos directorate's DIPA).
//! - Inside: the approved cost-sharing agreement between the province and the
//!   origin regency splits it, in basis points, for all costs or per category.
//! - Inside, without an approved agreement: the province pays all, and the
//!   charge is flagged so that reports show the missing agreement.
//!
//! The parts always sum exactly to the amount (largest-remainder rounding).

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::regions::RegionCode;

/// Basis points in a whole (100 %).
pub const WHOLE: u32 = 10_000;

crate::text_enum! {
    /// What a cost item pays for.
    pub enum CostCategory {
        /// Tickets, fuel, vehicle hire.
        Transport => "transport",
        /// Meals on the way and in the shelter.
        Meals => "meals",
        /// Allowance of the escorting officers (uang harian pendamping).
        EscortAllowance => "escort_allowance",
        /// Lodging on the way.
        Accommodation => "accommodation",
        /// Anything else.
        Other => "other",
    }
}

/// How an agreement splits costs: the province's share in basis points, the
/// regency paying the rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Split {
    /// One share for every category.
    AllCosts(u32),
    /// A share per category; a category not listed is paid by the province alone.
    PerCategory(Vec<(CostCategory, u32)>),
}

impl Split {
    /// The province's share of a category, in basis points.
    pub fn province_share(&self, category: CostCategory) -> u32 {
        match self {
            Split::AllCosts(bp) => *bp,
            Split::PerCategory(shares) => shares
                .iter()
                .find(|(c, _)| *c == category)
                .map_or(WHOLE, |(_, bp)| *bp),
        }
    }
}

/// An approved agreement as the split rule needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovedAgreement {
    /// The agreement's id.
    pub id: Uuid,
    /// The regency it covers.
    pub regency: RegionCode,
    /// How it splits.
    pub split: Split,
    /// The province's budget.
    pub province_budget: Uuid,
    /// The regency's budget.
    pub regency_budget: Uuid,
}

/// One cost to split.
#[derive(Debug, Clone)]
pub struct Cost {
    /// What it pays for.
    pub category: CostCategory,
    /// Whole rupiah, at least 1.
    pub amount: i64,
    /// The returnee's regency of origin.
    pub origin: RegionCode,
    /// The province handling the return.
    pub handling_province: RegionCode,
}

/// The budgets that may be charged.
#[derive(Debug, Clone)]
pub struct Payers<'a> {
    /// The national (APBN) budget for returns out of the province.
    pub national: Option<Uuid>,
    /// The province's own (APBD) budget.
    pub province: Option<Uuid>,
    /// Approved agreements of the fiscal year.
    pub agreements: &'a [ApprovedAgreement],
}

/// One budget's part of a cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Charge {
    /// The budget charged.
    pub budget_id: Uuid,
    /// Whole rupiah.
    pub amount: i64,
}

/// The outcome of the split rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SplitResult {
    /// The parts, summing exactly to the cost.
    pub charges: Vec<Charge>,
    /// `apbn` or `apbd_shared`.
    #[schema(example = "apbd_shared")]
    pub funding: &'static str,
    /// The agreement applied, if any.
    pub agreement_id: Option<Uuid>,
    /// True when an in-province cost had no approved agreement and the province paid all.
    pub missing_agreement: bool,
}

/// Why a cost cannot be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    /// No national budget to charge an out-of-province cost to.
    #[error("no active APBN budget for this fiscal year to charge a return out of the province to")]
    NoNationalBudget,
    /// No provincial budget to charge an in-province cost to.
    #[error(
        "no active provincial APBD budget for this fiscal year to charge a return inside the province to"
    )]
    NoProvinceBudget,
    /// The amount is not positive.
    #[error("a cost must be at least 1 rupiah")]
    NotPositive,
}

/// Splits `amount` into parts proportional to `weights` (basis points summing
/// to [`WHOLE`]) that add up exactly to `amount`: every part is rounded down,
/// and the rupiah left over go one each to the largest remainders (ties to the
/// earlier part).
pub fn largest_remainder(amount: i64, weights: &[u32]) -> Vec<i64> {
    let total: i128 = weights.iter().map(|w| i128::from(*w)).sum();
    if total == 0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<(i64, i128)> = weights
        .iter()
        .map(|w| {
            let product = i128::from(amount) * i128::from(*w);
            ((product / total) as i64, product % total)
        })
        .collect();
    let mut parts: Vec<i64> = exact.iter().map(|(floor, _)| *floor).collect();
    let left = amount - parts.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|a, b| exact[*b].1.cmp(&exact[*a].1).then(a.cmp(b)));
    for i in order.into_iter().take(left as usize) {
        parts[i] += 1;
    }
    parts
}

/// Applies the split rule to one cost.
pub fn split_cost(cost: &Cost, payers: &Payers<'_>) -> Result<SplitResult, SplitError> {
    if cost.amount < 1 {
        return Err(SplitError::NotPositive);
    }
    if cost.origin.province() != cost.handling_province.province() {
        let budget = payers.national.ok_or(SplitError::NoNationalBudget)?;
        return Ok(SplitResult {
            charges: vec![Charge {
                budget_id: budget,
                amount: cost.amount,
            }],
            funding: "apbn",
            agreement_id: None,
            missing_agreement: false,
        });
    }
    let agreement = payers.agreements.iter().find(|a| a.regency == cost.origin);
    let Some(agreement) = agreement else {
        let budget = payers.province.ok_or(SplitError::NoProvinceBudget)?;
        return Ok(SplitResult {
            charges: vec![Charge {
                budget_id: budget,
                amount: cost.amount,
            }],
            funding: "apbd_shared",
            agreement_id: None,
            missing_agreement: true,
        });
    };
    let province_bp = agreement.split.province_share(cost.category).min(WHOLE);
    let parts = largest_remainder(cost.amount, &[province_bp, WHOLE - province_bp]);
    let charges = [
        (agreement.province_budget, parts[0]),
        (agreement.regency_budget, parts[1]),
    ]
    .into_iter()
    .filter(|(_, amount)| *amount > 0)
    .map(|(budget_id, amount)| Charge { budget_id, amount })
    .collect();
    Ok(SplitResult {
        charges,
        funding: "apbd_shared",
        agreement_id: Some(agreement.id),
        missing_agreement: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn code(c: &str) -> RegionCode {
        RegionCode::parse(c).unwrap()
    }

    fn ids() -> (Uuid, Uuid, Uuid, Uuid) {
        (
            Uuid::from_u128(1),
            Uuid::from_u128(2),
            Uuid::from_u128(3),
            Uuid::from_u128(4),
        )
    }

    fn agreement(split: Split) -> ApprovedAgreement {
        let (_, province, regency, id) = ids();
        ApprovedAgreement {
            id,
            regency: code("61.71"),
            split,
            province_budget: province,
            regency_budget: regency,
        }
    }

    fn cost(origin: &str, amount: i64, category: CostCategory) -> Cost {
        Cost {
            category,
            amount,
            origin: code(origin),
            handling_province: code("61"),
        }
    }

    #[test]
    fn a_return_out_of_the_province_is_all_apbn() {
        let (national, province, ..) = ids();
        let payers = Payers {
            national: Some(national),
            province: Some(province),
            agreements: &[agreement(Split::AllCosts(6000))],
        };
        let result =
            split_cost(&cost("35.07", 1_500_000, CostCategory::Transport), &payers).unwrap();
        assert_eq!(
            result.charges,
            vec![Charge {
                budget_id: national,
                amount: 1_500_000
            }]
        );
        assert_eq!(result.funding, "apbn");
    }

    #[test]
    fn a_return_inside_follows_the_agreement() {
        let (national, province, regency, id) = ids();
        let agreements = [agreement(Split::AllCosts(6000))];
        let payers = Payers {
            national: Some(national),
            province: Some(province),
            agreements: &agreements,
        };
        let result = split_cost(&cost("61.71", 1_000_001, CostCategory::Meals), &payers).unwrap();
        assert_eq!(
            result.charges,
            vec![
                Charge {
                    budget_id: province,
                    amount: 600_001
                },
                Charge {
                    budget_id: regency,
                    amount: 400_000
                }
            ]
        );
        assert_eq!(result.agreement_id, Some(id));
        assert!(!result.missing_agreement);
    }

    #[test]
    fn a_per_category_split_uses_the_category_and_the_province_pays_unlisted_ones() {
        let (national, province, regency, _) = ids();
        let agreements = [agreement(Split::PerCategory(vec![(
            CostCategory::Transport,
            5000,
        )]))];
        let payers = Payers {
            national: Some(national),
            province: Some(province),
            agreements: &agreements,
        };
        let transport = split_cost(&cost("61.71", 300, CostCategory::Transport), &payers).unwrap();
        assert_eq!(
            transport.charges,
            vec![
                Charge {
                    budget_id: province,
                    amount: 150
                },
                Charge {
                    budget_id: regency,
                    amount: 150
                }
            ]
        );
        let meals = split_cost(&cost("61.71", 300, CostCategory::Meals), &payers).unwrap();
        assert_eq!(
            meals.charges,
            vec![Charge {
                budget_id: province,
                amount: 300
            }]
        );
    }

    #[test]
    fn without_an_agreement_the_province_pays_and_it_is_flagged() {
        let (national, province, ..) = ids();
        let payers = Payers {
            national: Some(national),
            province: Some(province),
            agreements: &[agreement(Split::AllCosts(5000))],
        };
        let result = split_cost(&cost("61.01", 700, CostCategory::Transport), &payers).unwrap();
        assert_eq!(
            result.charges,
            vec![Charge {
                budget_id: province,
                amount: 700
            }]
        );
        assert!(result.missing_agreement);
    }

    #[test]
    fn missing_budgets_are_named() {
        let payers = Payers {
            national: None,
            province: None,
            agreements: &[],
        };
        assert_eq!(
            split_cost(&cost("35.07", 1, CostCategory::Other), &payers),
            Err(SplitError::NoNationalBudget)
        );
        assert_eq!(
            split_cost(&cost("61.01", 1, CostCategory::Other), &payers),
            Err(SplitError::NoProvinceBudget)
        );
        assert_eq!(
            split_cost(&cost("61.01", 0, CostCategory::Other), &payers),
            Err(SplitError::NotPositive)
        );
    }

    #[test]
    fn largest_remainder_gives_the_odd_rupiah_to_the_biggest_fraction() {
        assert_eq!(largest_remainder(10, &[3333, 3333, 3334]), vec![3, 3, 4]);
        assert_eq!(
            largest_remainder(1, &[5000, 5000]),
            vec![1, 0],
            "a tie goes to the first"
        );
        assert_eq!(largest_remainder(100, &[10_000, 0]), vec![100, 0]);
    }

    proptest! {
        #[test]
        fn parts_always_sum_to_the_amount(amount in 1i64..=10_000_000_000_000, weights in proptest::collection::vec(0u32..=10_000, 1..6)) {
            prop_assume!(weights.iter().any(|w| *w > 0));
            let parts = largest_remainder(amount, &weights);
            prop_assert_eq!(parts.iter().sum::<i64>(), amount);
            let total: i64 = weights.iter().map(|w| i64::from(*w)).sum();
            for (part, weight) in parts.iter().zip(&weights) {
                let exact = amount as f64 * f64::from(*weight) / total as f64;
                prop_assert!((*part as f64 - exact).abs() < 1.0 + 1e-6, "{part} vs {exact}");
                prop_assert!(*part >= 0);
            }
        }

        #[test]
        fn a_split_cost_is_paid_in_full(amount in 1i64..=1_000_000_000_000, share in 0u32..=10_000, inside in any::<bool>(), has_agreement in any::<bool>()) {
            let (national, province, ..) = ids();
            let agreements = if has_agreement { vec![agreement(Split::AllCosts(share))] } else { vec![] };
            let payers = Payers { national: Some(national), province: Some(province), agreements: &agreements };
            let origin = if inside { "61.71" } else { "35.07" };
            let result = split_cost(&cost(origin, amount, CostCategory::Transport), &payers).unwrap();
            prop_assert_eq!(result.charges.iter().map(|c| c.amount).sum::<i64>(), amount);
            prop_assert!(result.charges.iter().all(|c| c.amount > 0));
            prop_assert_eq!(result.missing_agreement, inside && !has_agreement);
        }
    }
}
