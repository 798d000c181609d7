//! What every handler shares: the pool, the token keys, the settings and the read log.

use crate::auth::TokenKeys;
use crate::config::Settings;
use crate::db::DbPool;
use crate::reads::ReadLog;

/// The application state, handed to handlers as `web::Data<AppState>`.
#[derive(Clone)]
pub struct AppState {
    /// The database pool.
    pub pool: DbPool,
    /// Signs and verifies access tokens.
    pub tokens: TokenKeys,
    /// An argon2 hash of a random secret, verified against when a sign-in names
    /// an unknown account, so that the answer takes as long either way.
    pub decoy_hash: String,
    /// The settings the service started with.
    pub settings: Settings,
    /// Records reads of case and person records (buffered, written each second).
    pub reads: ReadLog,
}

impl AppState {
    /// Builds the state.
    pub fn new(pool: DbPool, tokens: TokenKeys, settings: Settings) -> anyhow::Result<Self> {
        let decoy_hash = crate::auth::password::hash(&crate::auth::password::random_secret(32))?;
        Ok(Self {
            reads: ReadLog::start(pool.clone()),
            pool,
            tokens,
            decoy_hash,
            settings,
        })
    }
}
