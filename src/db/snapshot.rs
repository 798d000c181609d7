//! One moment of the data for a long read: a pooled connection held in a
//! read-only, repeatable-read transaction, so that every page of an export
//! sees the same snapshot however long the client takes to read it.

use std::time::Duration;

use diesel_async::TransactionManager;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::{AnsiTransactionManager, AsyncPgConnection, SimpleAsyncConnection};

use super::DbConn;
use crate::error::ApiResult;

/// A connection inside a `REPEATABLE READ, READ ONLY` transaction.
///
/// The transaction is opened through diesel-async's transaction manager, so
/// that a snapshot dropped before [`Snapshot::finish`] (the client went away,
/// a page failed) leaves the connection marked as inside a transaction: the
/// pool then closes it instead of handing it out again, and the server rolls
/// the transaction back. Nothing it read was changed, so nothing is lost.
pub struct Snapshot {
    conn: DbConn,
}

impl Snapshot {
    /// Checks out a connection and opens the snapshot. `limit` is the
    /// statement timeout of every page and how long the transaction may sit
    /// idle between pages while the client reads.
    pub async fn begin(pool: &Pool<AsyncPgConnection>, limit: Duration) -> ApiResult<Self> {
        let mut conn = pool.get().await?;
        AnsiTransactionManager::begin_transaction(&mut *conn).await?;
        let millis = limit.as_millis();
        conn.batch_execute(&format!(
            "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY; \
             SET LOCAL statement_timeout = {millis}; \
             SET LOCAL idle_in_transaction_session_timeout = {millis}"
        ))
        .await?;
        Ok(Self { conn })
    }

    /// The connection, for the pages' queries.
    pub fn conn(&mut self) -> &mut AsyncPgConnection {
        &mut self.conn
    }

    /// Ends the transaction; the connection goes back to the pool clean.
    pub async fn finish(mut self) -> ApiResult<()> {
        AnsiTransactionManager::commit_transaction(&mut *self.conn).await?;
        Ok(())
    }
}
