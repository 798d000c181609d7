//! Transfers (pemulangan): taking returnees home, and what it cost.
//!
//! A transfer moves one or more returnees from the province's shelter to
//! their region of origin — by road to a regency of the province, by ship or
//! plane to another province — and ends in a signed handover (BAST) to the
//! receiving social service. Its estimated costs are committed on budgets
//! through the split rule; actual cost items realise them.

pub mod admission;
pub mod corrections;
pub mod costs;
pub mod export;
pub mod handlers;
pub mod lifecycle;
pub mod members;
pub mod model;
pub mod queries;

pub use model::TransferStatus;
