//! Housekeeping: rows that matter only for a while are deleted once they can
//! no longer change an answer, so that those tables stay small however long
//! the service runs.
//!
//! - Idempotency keys, once older than [`IDEMPOTENCY_RETENTION_HOURS`]: a
//!   client retries within minutes, and the README promises a day.
//! - Revoked tokens, once expired: an expired token is refused anyway.
//! - Sign-in throttle counters, once their window and any lock have ended:
//!   a guesser trying random account names would otherwise grow the table
//!   without bound.
//!
//! Every instance sweeps every [`SWEEP_EVERY`]; the deletes are idempotent,
//! so instances need not agree on who does it.

use std::time::Duration;

use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::auth::throttle::WINDOW_MINUTES;
use crate::db::DbPool;
use crate::schema::{idempotency_keys, revoked_tokens, sign_in_throttle};

/// How long a stored answer to an `Idempotency-Key` is replayed (hours).
pub const IDEMPOTENCY_RETENTION_HOURS: i32 = 24;

/// How often each instance sweeps.
pub const SWEEP_EVERY: Duration = Duration::from_secs(15 * 60);

/// Rows one sweep deleted, per table.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// Idempotency keys past their retention.
    pub idempotency_keys: usize,
    /// Revoked tokens past their expiry.
    pub revoked_tokens: usize,
    /// Sign-in throttle counters whose window and lock have ended.
    pub throttle_counters: usize,
}

/// Deletes what no longer matters, in three short statements.
pub async fn sweep(conn: &mut AsyncPgConnection) -> QueryResult<Swept> {
    let now = Utc::now();
    let idempotency_keys = diesel::delete(
        idempotency_keys::table.filter(
            idempotency_keys::created_at
                .lt(now - chrono::Duration::hours(IDEMPOTENCY_RETENTION_HOURS.into())),
        ),
    )
    .execute(conn)
    .await?;
    let revoked_tokens =
        diesel::delete(revoked_tokens::table.filter(revoked_tokens::expires_at.lt(now)))
            .execute(conn)
            .await?;
    let throttle_counters = diesel::delete(
        sign_in_throttle::table
            .filter(
                sign_in_throttle::window_start
                    .lt(now - chrono::Duration::minutes(WINDOW_MINUTES.into())),
            )
            .filter(
                sign_in_throttle::locked_until
                    .is_null()
                    .or(sign_in_throttle::locked_until.lt(now)),
            ),
    )
    .execute(conn)
    .await?;
    Ok(Swept {
        idempotency_keys,
        revoked_tokens,
        throttle_counters,
    })
}

/// Sweeps every [`SWEEP_EVERY`] until the process ends. A failed sweep is
/// logged and tried again at the next tick; it never stops the server.
pub fn spawn(pool: DbPool) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(SWEEP_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let swept = match pool.get().await {
                Ok(mut conn) => sweep(&mut conn).await.map_err(anyhow::Error::from),
                Err(e) => Err(anyhow::Error::from(e)),
            };
            match swept {
                Ok(s) if s != Swept::default() => log::info!("housekeeping: deleted {s:?}"),
                Ok(_) => {}
                Err(e) => log::warn!("housekeeping failed, will retry: {e}"),
            }
        }
    })
}
