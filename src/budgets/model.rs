//! Budgets, their ledger entries and balances.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::agencies::AgencyKind;
use crate::schema::{budget_ledger, budgets};

crate::text_enum! {
    /// Where a budget's money comes from.
    pub enum FundingSource {
        /// The national budget (APBN), through a ministry unit's DIPA.
        Apbn => "apbn",
        /// A province's own budget (APBD provinsi), through its DPA.
        ApbdProvince => "apbd_province",
        /// A regency's or city's own budget (APBD kabupaten/kota).
        ApbdRegency => "apbd_regency",
    }
}

impl FundingSource {
    /// The kind of agency that owns budgets of this source.
    pub fn owner_kind(self) -> AgencyKind {
        match self {
            FundingSource::Apbn => AgencyKind::Ministry,
            FundingSource::ApbdProvince => AgencyKind::ProvincialSocialService,
            FundingSource::ApbdRegency => AgencyKind::RegencySocialService,
        }
    }
}

crate::text_enum! {
    /// Where a budget stands.
    pub enum BudgetStatus {
        /// Being prepared: allocation and revisions only.
        Draft => "draft",
        /// In use: commitments and realisations allowed.
        Active => "active",
        /// Finished: no more entries.
        Closed => "closed",
    }
}

crate::text_enum! {
    /// What a ledger entry does.
    pub enum LedgerKind {
        /// The allocation (pagu), recorded when the budget is created.
        Allocation => "allocation",
        /// A change of the allocation, up or down.
        Revision => "revision",
        /// Money set aside for a planned cost.
        Commitment => "commitment",
        /// A commitment given back.
        Release => "release",
        /// Money actually spent.
        Realisation => "realisation",
        /// A regency's payment to the province of its share under an
        /// agreement; it does not change the balance.
        Settlement => "settlement",
    }
}

/// A budget as stored.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = budgets)]
pub struct BudgetRow {
    /// Id.
    pub id: Uuid,
    /// Fiscal year.
    pub fiscal_year: i32,
    /// Source.
    pub source: FundingSource,
    /// Owner.
    pub owner_agency_id: Uuid,
    /// Owner's province.
    pub province_code: Option<String>,
    /// DIPA or DPA number.
    pub document_number: String,
    /// Programme or activity code.
    pub activity_code: Option<String>,
    /// Name.
    pub name: String,
    /// Status.
    pub status: BudgetStatus,
    /// Version.
    pub version: i32,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Changed.
    pub updated_at: DateTime<Utc>,
}

/// The derived balance of a budget, in whole rupiah.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Balance {
    /// Allocation plus revisions (pagu).
    #[schema(example = 500_000_000)]
    pub allocated: i64,
    /// Set aside for planned costs and not yet released or spent.
    #[schema(example = 12_500_000)]
    pub committed: i64,
    /// Spent.
    #[schema(example = 87_250_000)]
    pub realised: i64,
    /// Allocated − committed − realised; never below zero.
    #[schema(example = 400_250_000)]
    pub available: i64,
}

impl Balance {
    /// The balance of a list of (kind, amount) entries.
    pub fn of(entries: impl IntoIterator<Item = (LedgerKind, i64)>) -> Self {
        let mut b = Balance::default();
        for (kind, amount) in entries {
            b = b.with(kind, amount);
        }
        b
    }

    /// The balance after one more entry (not checked).
    pub fn with(self, kind: LedgerKind, amount: i64) -> Self {
        // Saturating: amounts are bounded by 10^15 on the way in, so these
        // never saturate on stored data; if they did, a read still answers.
        let mut b = self;
        match kind {
            LedgerKind::Allocation | LedgerKind::Revision => {
                b.allocated = b.allocated.saturating_add(amount)
            }
            LedgerKind::Commitment => b.committed = b.committed.saturating_add(amount),
            LedgerKind::Release => b.committed = b.committed.saturating_sub(amount),
            LedgerKind::Realisation => b.realised = b.realised.saturating_add(amount),
            LedgerKind::Settlement => {}
        }
        b.available = b
            .allocated
            .saturating_sub(b.committed)
            .saturating_sub(b.realised);
        b
    }

    /// The balance after one more entry, or why it is refused: nothing may
    /// take the available amount below zero, and no release may give back
    /// more than is committed.
    pub fn after(self, kind: LedgerKind, amount: i64) -> Result<Self, Refusal> {
        let next = self.with(kind, amount);
        if next.available < 0 {
            return Err(Refusal::Shortfall {
                available: self.available,
                shortfall: -next.available,
            });
        }
        if next.committed < 0 {
            return Err(Refusal::OverRelease {
                committed: self.committed,
            });
        }
        if next.allocated < 0 {
            return Err(Refusal::NegativeAllocation);
        }
        if next.allocated > crate::money::MAX_RUPIAH {
            return Err(Refusal::AllocationTooLarge);
        }
        Ok(next)
    }
}

/// Why a ledger entry is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The entry would take more than is available.
    #[error("the budget has {available} rupiah available; this entry is {shortfall} rupiah short")]
    Shortfall {
        /// Available before the entry.
        available: i64,
        /// How much is missing.
        shortfall: i64,
    },
    /// A release of more than is committed.
    #[error("only {committed} rupiah are committed; a release cannot give back more")]
    OverRelease {
        /// Committed before the entry.
        committed: i64,
    },
    /// A revision below zero.
    #[error("the allocation cannot go below zero")]
    NegativeAllocation,
    /// A revision above the largest amount a budget may hold.
    #[error("the allocation cannot exceed 10^15 rupiah")]
    AllocationTooLarge,
}

/// A ledger entry.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = budget_ledger)]
#[schema(example = json!({
    "id": 7, "budget_id": "1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9", "kind": "commitment", "amount": 4_500_000,
    "reason": "Transfer to Kota Singkawang, 3 returnees", "transfer_id": "2c3d4e5f-6071-4829-93a4-b5c6d7e8f901",
    "cost_item_id": null, "case_count": 3, "reverses_id": null, "missing_agreement": false,
    "agreement_id": "3d4e5f60-7182-4930-a4b5-c6d7e8f90123", "actor_id": "0b6f2f9e-8f43-4f59-9a3e-5d1c2b7a9e10",
    "actor_name": "dinsos.kalbar", "agency_id": "5c1d2f9e-8f43-4f59-9a3e-5d1c2b7a9e11", "recorded_at": "2019-03-20T03:00:00Z"
}))]
pub struct LedgerEntry {
    /// Position in the ledger.
    pub id: i64,
    /// The budget.
    pub budget_id: Uuid,
    /// What the entry does.
    pub kind: LedgerKind,
    /// Whole rupiah; negative in reversals and downward revisions.
    pub amount: i64,
    /// Why.
    pub reason: String,
    /// The transfer it refers to.
    pub transfer_id: Option<Uuid>,
    /// The cost item it refers to.
    pub cost_item_id: Option<Uuid>,
    /// Returnees the charge covers.
    pub case_count: Option<i32>,
    /// The entry this one reverses.
    pub reverses_id: Option<i64>,
    /// An in-province charge made without an approved cost-sharing agreement.
    pub missing_agreement: bool,
    /// The cost-sharing agreement applied.
    pub agreement_id: Option<Uuid>,
    /// Who recorded it.
    pub actor_id: Option<Uuid>,
    /// Their username or client id.
    pub actor_name: Option<String>,
    /// Their agency.
    pub agency_id: Option<Uuid>,
    /// When.
    pub recorded_at: DateTime<Utc>,
    /// When the money was spent (the date reports count it on; else the day it was recorded).
    pub spent_on: Option<chrono::NaiveDate>,
    /// Kode rekening (APBD, `5.1.02.04.01.0001`) or akun (APBN, `524111`).
    pub account_code: Option<String>,
    /// Who was paid.
    pub payee: Option<String>,
    /// The payment order (SP2D) number, once paid.
    pub sp2d_number: Option<String>,
    /// The payment order's date.
    pub sp2d_date: Option<chrono::NaiveDate>,
}

impl LedgerEntry {
    /// The booking details it carries, to pass on to its reversal.
    pub fn booking(&self) -> crate::budgets::booking::Booking {
        crate::budgets::booking::Booking {
            spent_on: self.spent_on,
            account_code: self.account_code.clone(),
            payee: self.payee.clone(),
            sp2d_number: self.sp2d_number.clone(),
            sp2d_date: self.sp2d_date,
        }
    }
}

/// A budget with its balance, as answered.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9", "fiscal_year": 2019, "source": "apbd_province",
    "owner_agency_id": "5c1d2f9e-8f43-4f59-9a3e-5d1c2b7a9e11", "province_code": "61",
    "document_number": "DPA-1.06.01-2019", "activity_code": "1.06.01.2.04", "name": "Pemulangan WNI-M KPO 2019",
    "status": "active", "version": 2,
    "balance": {"allocated": 500_000_000, "committed": 12_500_000, "realised": 87_250_000, "available": 400_250_000},
    "created_at": "2019-01-02T01:00:00Z", "updated_at": "2019-01-10T01:00:00Z"
}))]
pub struct Budget {
    /// The budget's id.
    pub id: Uuid,
    /// Fiscal year (tahun anggaran).
    pub fiscal_year: i32,
    /// Where the money comes from.
    pub source: FundingSource,
    /// The agency that owns and manages it.
    pub owner_agency_id: Uuid,
    /// The owner's province, if not national.
    pub province_code: Option<String>,
    /// The budget document: DIPA (APBN) or DPA (APBD) number.
    pub document_number: String,
    /// Programme or activity code.
    pub activity_code: Option<String>,
    /// Name.
    pub name: String,
    /// draft, active or closed.
    pub status: BudgetStatus,
    /// Version.
    pub version: i32,
    /// The derived balance.
    pub balance: Balance,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl Budget {
    /// A stored budget with its balance.
    pub fn new(row: BudgetRow, balance: Balance) -> Self {
        Self {
            id: row.id,
            fiscal_year: row.fiscal_year,
            source: row.source,
            owner_agency_id: row.owner_agency_id,
            province_code: row.province_code,
            document_number: row.document_number,
            activity_code: row.activity_code,
            name: row.name,
            status: row.status,
            version: row.version,
            balance,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// A new budget.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "fiscal_year": 2019, "source": "apbd_province", "document_number": "DPA-1.06.01-2019",
    "activity_code": "1.06.01.2.04", "name": "Pemulangan WNI-M KPO 2019", "allocation": 500_000_000, "status": "active"
}))]
pub struct NewBudget {
    /// Fiscal year, 2000 to 2100.
    #[schema(minimum = 2000, maximum = 2100)]
    pub fiscal_year: i32,
    /// Source; it must fit the owner: apbn a ministry, apbd_province a provincial social
    /// service, apbd_regency a regency social service.
    pub source: FundingSource,
    /// The owning agency; the caller's own when absent.
    pub owner_agency_id: Option<Uuid>,
    /// DIPA or DPA number.
    #[schema(max_length = 200)]
    pub document_number: String,
    /// Programme or activity code.
    pub activity_code: Option<String>,
    /// Name.
    #[schema(max_length = 200)]
    pub name: String,
    /// The allocation (pagu), whole rupiah, 0 to 10^15.
    #[schema(
        example = 500_000_000,
        minimum = 0,
        maximum = 1_000_000_000_000_000_i64
    )]
    pub allocation: i64,
    /// `draft` (default) or `active`.
    pub status: Option<BudgetStatus>,
}

/// Changes to a budget's description or status (draft → active → closed).
/// Money moves only through the ledger.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "active"}))]
pub struct BudgetPatch {
    /// DIPA or DPA number.
    #[schema(max_length = 200)]
    pub document_number: Option<String>,
    /// Programme or activity code.
    pub activity_code: Option<String>,
    /// Name.
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// New status: draft → active → closed, never back.
    pub status: Option<BudgetStatus>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_balance_is_derived_from_the_entries() {
        let b = Balance::of([
            (LedgerKind::Allocation, 1000),
            (LedgerKind::Revision, -100),
            (LedgerKind::Commitment, 300),
            (LedgerKind::Realisation, 200),
            (LedgerKind::Release, 100),
        ]);
        assert_eq!(
            b,
            Balance {
                allocated: 900,
                committed: 200,
                realised: 200,
                available: 500
            }
        );
    }

    #[test]
    fn an_entry_that_would_overdraw_states_the_shortfall() {
        let b = Balance::of([
            (LedgerKind::Allocation, 1000),
            (LedgerKind::Commitment, 900),
        ]);
        assert_eq!(
            b.after(LedgerKind::Commitment, 150),
            Err(Refusal::Shortfall {
                available: 100,
                shortfall: 50
            })
        );
        assert_eq!(
            b.after(LedgerKind::Release, 901),
            Err(Refusal::OverRelease { committed: 900 })
        );
        assert!(b.after(LedgerKind::Commitment, 100).is_ok());
        assert_eq!(
            b.after(LedgerKind::Revision, -1000).unwrap_err(),
            Refusal::Shortfall {
                available: 100,
                shortfall: 900
            }
        );
    }
}
