//! Slowing down password guessing: failed sign-ins are counted per account
//! name and per client address in the database, so the limits hold across
//! every instance of the API.
//!
//! An account name is counted whether or not the account exists, so a lock
//! says nothing about which usernames are real.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::schema::sign_in_throttle;

/// Failures of one account name within the window that lock it.
pub const ACCOUNT_FAILURES: i32 = 5;
/// Failures from one address within the window that block it.
pub const ADDRESS_FAILURES: i32 = 20;
/// The window over which failures count, and how long a lock lasts (minutes).
pub const WINDOW_MINUTES: i32 = 15;

/// A throttle key and its limit.
#[derive(Debug, Clone)]
pub struct Key {
    /// `account:<name>` or `address:<ip>`.
    pub key: String,
    /// Failures in the window that lock it.
    pub limit: i32,
}

impl Key {
    /// The key of an account name (lower-cased).
    pub fn account(grant: &str, name: &str) -> Self {
        Self {
            key: format!("account:{grant}:{}", name.to_lowercase()),
            limit: ACCOUNT_FAILURES,
        }
    }

    /// The key of a client address.
    pub fn address(addr: &str) -> Self {
        Self {
            key: format!("address:{addr}"),
            limit: ADDRESS_FAILURES,
        }
    }

    /// Whether this is an account key.
    pub fn is_account(&self) -> bool {
        self.key.starts_with("account:")
    }
}

/// The first of `keys` that is locked now, with the time its lock ends.
pub async fn locked<'k>(
    conn: &mut AsyncPgConnection,
    keys: &'k [Key],
) -> QueryResult<Option<(&'k Key, DateTime<Utc>)>> {
    let names: Vec<&str> = keys.iter().map(|k| k.key.as_str()).collect();
    let rows: Vec<(String, Option<DateTime<Utc>>)> = sign_in_throttle::table
        .filter(sign_in_throttle::key.eq_any(names))
        .filter(sign_in_throttle::locked_until.gt(diesel::dsl::now))
        .select((sign_in_throttle::key, sign_in_throttle::locked_until))
        .load(conn)
        .await?;
    Ok(keys.iter().find_map(|k| {
        rows.iter()
            .find(|(name, _)| *name == k.key)
            .and_then(|(_, until)| until.map(|u| (k, u)))
    }))
}

/// Counts a failure against `key`, locking it when the limit is reached.
pub async fn record_failure(conn: &mut AsyncPgConnection, key: &Key) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO sign_in_throttle AS t (key, failures, window_start) VALUES ($1, 1, now()) \
         ON CONFLICT (key) DO UPDATE SET \
           failures = CASE WHEN t.window_start < now() - make_interval(mins => $3) THEN 1 ELSE t.failures + 1 END, \
           window_start = CASE WHEN t.window_start < now() - make_interval(mins => $3) THEN now() ELSE t.window_start END, \
           locked_until = CASE \
             WHEN t.window_start >= now() - make_interval(mins => $3) AND t.failures + 1 >= $2 \
               THEN now() + make_interval(mins => $3) \
             ELSE t.locked_until END",
    )
    .bind::<Text, _>(&key.key)
    .bind::<Integer, _>(key.limit)
    .bind::<Integer, _>(WINDOW_MINUTES)
    .execute(conn)
    .await
    .map(drop)
}

/// Forgets the failures of `key` (after a successful sign-in).
pub async fn clear(conn: &mut AsyncPgConnection, key: &Key) -> QueryResult<()> {
    diesel::delete(sign_in_throttle::table.find(&key.key))
        .execute(conn)
        .await
        .map(drop)
}
