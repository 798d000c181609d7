//! The change feed: every change to a case, transfer or budget, for other
//! ministry systems to follow without polling everything.
//!
//! Writers record events through [`crate::changes`], on the connection of the
//! change's transaction, so the two commit together. Readers see events in `(txid, id)` order, and only
//! those of transactions older than every transaction still running, so the
//! cursor never moves past an event that has yet to commit.

pub mod handlers;
