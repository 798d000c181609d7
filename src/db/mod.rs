//! Database plumbing: the connection pool, embedded migrations and the local cluster.

pub mod cluster;
pub mod limit;

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

/// Builds a pool of at most `size` connections to `url`. Connections are
/// opened lazily, so this succeeds even while the database is down.
///
/// A connection handed back is reused without a test query (`Fast`
/// recycling): the default sent `SELECT 1` on every checkout, two extra round
/// trips per request that the performance suite found were a fifth of the
/// database's work for `GET /cases/{id}`. A connection that broke is marked
/// so by the failed query and dropped, so a database restart costs the
/// requests in flight, not every later one.
pub fn build_pool(url: &str, size: usize) -> anyhow::Result<DbPool> {
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
    Ok(Pool::builder(manager)
        .max_size(size)
        .wait_timeout(Some(std::time::Duration::from_secs(5)))
        .create_timeout(Some(std::time::Duration::from_secs(5)))
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
