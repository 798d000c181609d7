//! Budgets (anggaran) and cost sharing: who pays for each return, and what is left.
//!
//! A budget is an allocation (pagu) of one funding source for a fiscal year,
//! owned by an agency. Every movement of money is an append-only ledger entry;
//! the balance is derived from the ledger and never goes below zero. The
//! split rule decides which budgets pay a cost; cost-sharing agreements
//! between a province and its regencies feed it.

pub mod agreements;
pub mod booking;
pub mod forecast;
pub mod handlers;
pub mod ledger;
pub mod model;
pub mod payers;
pub mod queries;
pub mod realisation;
pub mod reconciliation;
pub mod settlements;
pub mod split;
pub mod summary;

pub use model::{Balance, Budget, FundingSource, LedgerKind};
