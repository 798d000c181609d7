//! Database plumbing: the connection pool, embedded migrations and the local cluster.

pub mod cluster;
pub mod limit;
pub mod outage;
pub mod snapshot;

pub use outage::Outage;

use std::time::Duration;

use futures_util::FutureExt;

use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// The migrations in `migrations/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// A pool of asynchronous PostgreSQL connections.
pub type DbPool = Pool<AsyncPgConnection>;
/// A connection checked out of the pool.
pub type DbConn = Object<AsyncPgConnection>;

/// The time limits every pooled connection carries (see the README's
/// configuration table for the variables and defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DbLimits {
    /// `statement_timeout` of ordinary reads and writes.
    pub statement: Duration,
    /// `statement_timeout` of reports and exports, set in their own transaction.
    pub report_statement: Duration,
    /// `lock_timeout`: how long a statement waits for a row or table lock.
    pub lock: Duration,
    /// `idle_in_transaction_session_timeout`: a transaction left idle this long is ended.
    pub idle_in_transaction: Duration,
    /// How long a request waits for a free pooled connection before a 503 "busy".
    pub pool_wait: Duration,
}

impl Default for DbLimits {
    fn default() -> Self {
        Self {
            statement: Duration::from_secs(15),
            report_statement: Duration::from_secs(120),
            lock: Duration::from_secs(5),
            idle_in_transaction: Duration::from_secs(30),
            pool_wait: Duration::from_secs(5),
        }
    }
}

impl DbLimits {
    /// The `SET` commands that give a new connection these limits.
    pub fn session_sql(&self) -> String {
        format!(
            "SET statement_timeout = {}; SET lock_timeout = {}; \
             SET idle_in_transaction_session_timeout = {}",
            self.statement.as_millis(),
            self.lock.as_millis(),
            self.idle_in_transaction.as_millis()
        )
    }
}

/// Raises the statement timeout of the current transaction (only) to the
/// report limit: statistics call this first thing in their transaction.
pub async fn use_report_timeout(
    conn: &mut AsyncPgConnection,
    limits: &DbLimits,
) -> diesel::QueryResult<()> {
    diesel::sql_query("SELECT set_config('statement_timeout', $1, true)")
        .bind::<diesel::sql_types::Text, _>(limits.report_statement.as_millis().to_string())
        .execute(conn)
        .await
        .map(|_| ())
}

/// Builds a pool of at most `size` connections to `url` with the default
/// [`DbLimits`].
pub fn build_pool(url: &str, size: usize) -> anyhow::Result<DbPool> {
    build_pool_with(url, size, DbLimits::default())
}

/// Builds a pool of at most `size` connections to `url`. Connections are
/// opened lazily, so this succeeds even while the database is down. Each new
/// connection gets the statement, lock and idle-in-transaction timeouts of
/// `limits` as session settings (one round trip when it is opened, none per
/// request); code that needs another limit sets it with `SET LOCAL` inside its
/// own transaction, so a connection goes back to the pool as it came.
///
/// A connection handed back is reused without a test query (`Fast`
/// recycling): the default sent `SELECT 1` on every checkout, two extra round
/// trips per request that the performance suite found were a fifth of the
/// database's work for `GET /cases/{id}`. A connection that broke is marked
/// so by the failed query and dropped, so a database restart costs the
/// requests in flight, not every later one.
pub fn build_pool_with(url: &str, size: usize, limits: DbLimits) -> anyhow::Result<DbPool> {
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    let session = limits.session_sql();
    config.custom_setup = Box::new(move |url| {
        let (url, session) = (url.to_owned(), session.clone());
        async move {
            use diesel_async::{AsyncConnection, SimpleAsyncConnection};
            let mut conn = AsyncPgConnection::establish(&url).await?;
            conn.batch_execute(&session)
                .await
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
            Ok(conn)
        }
        .boxed()
    });
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
    Ok(Pool::builder(manager)
        .max_size(size)
        .wait_timeout(Some(limits.pool_wait))
        .create_timeout(Some(Duration::from_secs(5)))
        .runtime(deadpool::Runtime::Tokio1)
        .build()?)
}

/// Applies every pending migration, on a blocking thread through Diesel's
/// synchronous migration harness wrapped around an async connection.
/// Returns the versions it applied.
pub async fn run_migrations(url: &str) -> anyhow::Result<Vec<String>> {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
        use diesel::Connection;
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url)?;
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
        Ok(applied.iter().map(ToString::to_string).collect())
    })
    .await?
}

/// Whether every embedded migration has been applied to the database behind `conn`.
pub async fn is_migrated(conn: &mut AsyncPgConnection) -> Result<bool, diesel::result::Error> {
    use diesel::sql_types::{Bool, Nullable, Text};
    #[derive(diesel::QueryableByName)]
    struct Applied {
        #[diesel(sql_type = Bool)]
        applied: bool,
    }
    let found: Applied = diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM __diesel_schema_migrations WHERE version = $1) AS applied",
    )
    .bind::<Nullable<Text>, _>(latest_migration_version())
    .get_result(conn)
    .await?;
    Ok(found.applied)
}

/// The version of the newest embedded migration (read from the binary once).
pub fn latest_migration_version() -> Option<&'static str> {
    use diesel::migration::MigrationSource;
    static LATEST: std::sync::LazyLock<Option<String>> = std::sync::LazyLock::new(|| {
        let migrations: Vec<Box<dyn diesel::migration::Migration<diesel::pg::Pg>>> =
            MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS).ok()?;
        migrations
            .iter()
            .map(|m| m.name().version().to_string())
            .max()
    });
    LATEST.as_deref()
}

/// Creates `name` on the server behind `admin_url` unless it exists.
pub async fn create_database_if_missing(admin_url: &str, name: &str) -> anyhow::Result<()> {
    use diesel::sql_types::{Bool, Text};
    use diesel_async::AsyncConnection;
    #[derive(diesel::QueryableByName)]
    struct Exists {
        #[diesel(sql_type = Bool)]
        exists: bool,
    }
    let mut conn = AsyncPgConnection::establish(admin_url).await?;
    let found: Exists =
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
            .bind::<Text, _>(name)
            .get_result(&mut conn)
            .await?;
    if !found.exists {
        diesel::sql_query(format!("CREATE DATABASE {}", quote_ident(name)))
            .execute(&mut conn)
            .await?;
    }
    Ok(())
}

/// Quotes an SQL identifier.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Runs `attempt` (a whole transaction) once more when it failed on a
/// serialization failure or a deadlock, which a second run usually clears;
/// a second failure is answered as it is (503 with `Retry-After`).
pub async fn retry_once<T>(
    mut attempt: impl AsyncFnMut() -> crate::error::ApiResult<T>,
) -> crate::error::ApiResult<T> {
    match attempt().await {
        Err(error) if error.is_retryable() => {
            log::info!("retrying a transaction after: {error}");
            attempt().await
        }
        other => other,
    }
}

#[cfg(test)]
mod retry_tests {
    use super::retry_once;
    use crate::error::ApiError;

    fn contention() -> ApiError {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::SerializationFailure,
            Box::new("could not serialize access".to_owned()),
        )
        .into()
    }

    #[actix_web::test]
    async fn a_contended_transaction_runs_once_more_and_then_gives_up() {
        let mut runs = 0;
        let result = retry_once(async || {
            runs += 1;
            if runs == 1 {
                Err(contention())
            } else {
                Ok(runs)
            }
        })
        .await;
        assert_eq!(result.unwrap(), 2);
        let mut runs = 0;
        let result: Result<(), _> = retry_once(async || {
            runs += 1;
            Err(contention())
        })
        .await;
        assert_eq!(runs, 2);
        assert_eq!(result.unwrap_err().status().as_u16(), 503);
        let mut runs = 0;
        let _ = retry_once(async || {
            runs += 1;
            Err::<(), _>(ApiError::conflict("no"))
        })
        .await;
        assert_eq!(runs, 1, "other errors are not retried");
    }
}
