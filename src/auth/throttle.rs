//! Slowing down password guessing: sign-in attempts are counted in the
//! database, so the limits hold across every instance of the API, and each
//! attempt is counted *before* its password is checked, in one atomic
//! statement, so that concurrent guesses cannot slip past the limit.
//!
//! - Per account name and address: 5 attempts in 15 minutes, then 429 until
//!   the window ends. An account name is counted whether or not the account
//!   exists, so a refusal says nothing about which usernames are real.
//! - Per address: 20 attempts that did not succeed in 15 minutes.
//! - People, account-wide (from any address): past 5 failures in the window,
//!   every attempt waits first, 1 s doubling up to 30 s. A slow-down, never a
//!   lock, so a guesser elsewhere cannot lock the owner out.
//! - Machine clients have long random secrets: they are limited per address
//!   only, never account-wide, so nobody can lock a push client out from
//!   another address.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::schema::sign_in_throttle;

/// Attempts of one account name from one address within the window.
pub const ACCOUNT_FAILURES: i32 = 5;
/// Attempts from one address within the window that did not succeed.
pub const ADDRESS_FAILURES: i32 = 20;
/// The window over which attempts count, and how long a refusal lasts (minutes).
pub const WINDOW_MINUTES: i32 = 15;
/// The longest account-wide slow-down (seconds).
pub const MAX_SLOW_DOWN_SECS: u64 = 30;

/// What a throttle key does when its count is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Refuse (429) past this many attempts until the window ends.
    Refuse(i32),
    /// Wait before checking the password, growing past this many attempts.
    SlowDown(i32),
}

/// A throttle key and its limit.
#[derive(Debug, Clone)]
pub struct Key {
    /// `account:<grant>:<name>@<ip>`, `account:<grant>:<name>` or `address:<ip>`.
    pub key: String,
    /// What happens at the limit.
    pub limit: Limit,
}

impl Key {
    /// The keys one sign-in attempt counts against.
    pub fn for_attempt(grant: &str, name: &str, addr: &str) -> Vec<Self> {
        let name = name.to_lowercase();
        let mut keys = vec![
            Self {
                key: format!("account:{grant}:{name}@{addr}"),
                limit: Limit::Refuse(ACCOUNT_FAILURES),
            },
            Self {
                key: format!("address:{addr}"),
                limit: Limit::Refuse(ADDRESS_FAILURES),
            },
        ];
        if grant == "password" {
            keys.push(Self {
                key: format!("account:{grant}:{name}"),
                limit: Limit::SlowDown(ACCOUNT_FAILURES),
            });
        }
        keys
    }

    /// Whether this key names an account (rather than an address alone).
    pub fn is_account(&self) -> bool {
        self.key.starts_with("account:")
    }
}

/// The verdict on an attempt, counted before its password is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Check the password, after waiting this long.
    Proceed(Duration),
    /// Refuse: the key's window ends at the time given.
    Refused {
        /// Whether the refusing key is an account's.
        account: bool,
        /// When the attempt may be made again.
        until: DateTime<Utc>,
    },
}

/// The slow-down after `attempts` attempts against a limit of `limit`.
pub fn slow_down(attempts: i32, limit: i32) -> Duration {
    let over = attempts - limit;
    if over <= 0 {
        return Duration::ZERO;
    }
    let secs = 1u64
        .checked_shl((over - 1).min(16) as u32)
        .unwrap_or(u64::MAX);
    Duration::from_secs(secs.min(MAX_SLOW_DOWN_SECS))
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = Integer)]
    failures: i32,
    #[diesel(sql_type = Timestamptz)]
    window_start: DateTime<Utc>,
}

/// Counts one attempt against every key (a window that has ended starts
/// again) and answers whether the password may be checked.
pub async fn attempt(conn: &mut AsyncPgConnection, keys: &[Key]) -> QueryResult<Verdict> {
    let mut wait = Duration::ZERO;
    let mut refused = None;
    for key in keys {
        let count: Count = diesel::sql_query(
            "INSERT INTO sign_in_throttle AS t (key, failures, window_start) VALUES ($1, 1, now()) \
             ON CONFLICT (key) DO UPDATE SET \
               failures = CASE WHEN t.window_start < now() - make_interval(mins => $2) THEN 1 ELSE t.failures + 1 END, \
               window_start = CASE WHEN t.window_start < now() - make_interval(mins => $2) THEN now() ELSE t.window_start END \
             RETURNING failures, window_start",
        )
        .bind::<Text, _>(&key.key)
        .bind::<Integer, _>(WINDOW_MINUTES)
        .get_result(conn)
        .await?;
        match key.limit {
            Limit::Refuse(limit) if count.failures > limit && refused.is_none() => {
                refused = Some(Verdict::Refused {
                    account: key.is_account(),
                    until: count.window_start
                        + chrono::Duration::minutes(i64::from(WINDOW_MINUTES)),
                });
            }
            Limit::SlowDown(limit) => wait = wait.max(slow_down(count.failures, limit)),
            Limit::Refuse(_) => {}
        }
    }
    Ok(refused.unwrap_or(Verdict::Proceed(wait)))
}

/// After a successful attempt: its account's counts are forgotten, and the
/// address is given back the attempt counted against it.
pub async fn succeeded(conn: &mut AsyncPgConnection, keys: &[Key]) -> QueryResult<()> {
    let accounts: Vec<&str> = keys
        .iter()
        .filter(|k| k.is_account())
        .map(|k| k.key.as_str())
        .collect();
    diesel::delete(sign_in_throttle::table.filter(sign_in_throttle::key.eq_any(accounts)))
        .execute(conn)
        .await?;
    let addresses: Vec<&str> = keys
        .iter()
        .filter(|k| !k.is_account())
        .map(|k| k.key.as_str())
        .collect();
    diesel::update(sign_in_throttle::table.filter(sign_in_throttle::key.eq_any(addresses)))
        .set(
            sign_in_throttle::failures.eq(diesel::dsl::sql::<Integer>("greatest(failures - 1, 0)")),
        )
        .execute(conn)
        .await
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slow_down_starts_past_the_limit_and_doubles_to_a_ceiling() {
        assert_eq!(slow_down(5, 5), Duration::ZERO);
        assert_eq!(slow_down(6, 5), Duration::from_secs(1));
        assert_eq!(slow_down(7, 5), Duration::from_secs(2));
        assert_eq!(slow_down(10, 5), Duration::from_secs(16));
        assert_eq!(slow_down(11, 5), Duration::from_secs(30));
        assert_eq!(slow_down(i32::MAX, 5), Duration::from_secs(30));
    }

    #[test]
    fn machine_clients_are_never_counted_account_wide() {
        let keys = Key::for_attempt("client", "bp3tki", "10.0.0.1");
        assert!(keys.iter().all(|k| k.key.contains("10.0.0.1")));
        let keys = Key::for_attempt("password", "Ani", "10.0.0.1");
        assert!(keys.iter().any(|k| k.key == "account:password:ani"));
    }
}
