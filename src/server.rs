//! Running Pulang: finding the database (a configured server or the private
//! local cluster), migrating it, and serving HTTP until Ctrl-C or SIGTERM.

use std::time::{Duration, Instant};

use actix_web::{HttpServer, web};
use anyhow::Context;
use diesel_async::{AsyncConnection, AsyncPgConnection};

use crate::app::build_app;
use crate::auth::TokenKeys;
use crate::auth::tokens::load_or_create_secret;
use crate::config::{DatabaseSource, Settings};
use crate::db::cluster::{ClusterOptions, LocalCluster};
use crate::state::AppState;

/// The database Pulang runs against, and the local cluster if it manages one.
pub struct Database {
    /// Connection URL of the application database.
    pub url: String,
    /// The local cluster, when `DATABASE_URL` is unset.
    pub cluster: Option<LocalCluster>,
}

impl Database {
    /// Opens the configured database: `DATABASE_URL` as it is, or the local
    /// cluster in the data folder, created and started as needed.
    pub async fn open(settings: &Settings) -> anyhow::Result<Self> {
        match &settings.database {
            DatabaseSource::External(url) => Ok(Self {
                url: url.clone(),
                cluster: None,
            }),
            DatabaseSource::Local => {
                let data_dir = settings.data_dir.clone();
                let options = ClusterOptions {
                    wal_archive: settings.wal_archive_dir.clone(),
                    ..ClusterOptions::default()
                };
                let cluster =
                    tokio::task::spawn_blocking(move || -> anyhow::Result<LocalCluster> {
                        let mut cluster = LocalCluster::new(&data_dir, options)?;
                        cluster.start()?;
                        Ok(cluster)
                    })
                    .await??;
                crate::db::create_database_if_missing(&cluster.url("postgres"), "pulang").await?;
                Ok(Self {
                    url: cluster.url("pulang"),
                    cluster: Some(cluster),
                })
            }
        }
    }

    /// Stops the local cluster if this process started it.
    pub fn close(self) {
        if let Some(mut cluster) = self.cluster
            && cluster.started_here()
        {
            match cluster.stop() {
                Ok(()) => log::info!("stopped the local PostgreSQL cluster"),
                Err(e) => log::error!("could not stop the local PostgreSQL cluster: {e:#}"),
            }
        }
    }

    /// A single connection to the application database.
    pub async fn connect(&self) -> anyhow::Result<AsyncPgConnection> {
        AsyncPgConnection::establish(&self.url)
            .await
            .context("cannot connect to the database")
    }
}

/// The token keys: from `PULANG_JWT_SECRET`, or generated once into the data folder.
pub fn token_keys(settings: &Settings) -> anyhow::Result<TokenKeys> {
    let secret = match (&settings.jwt_secret, &settings.database) {
        (Some(secret), _) => secret.clone(),
        (None, DatabaseSource::Local) => {
            load_or_create_secret(&settings.data_dir.join("jwt-secret"))?
        }
        (None, DatabaseSource::External(_)) => anyhow::bail!(
            "PULANG_JWT_SECRET must be set (32 characters or more) when DATABASE_URL is: \
             every instance behind one database must sign tokens with the same key"
        ),
    };
    Ok(TokenKeys::new(
        secret.as_bytes(),
        &settings.jwt_issuer,
        &settings.jwt_audience,
        settings.token_ttl,
    )
    .with_previous(settings.jwt_previous_secrets.iter().map(|s| s.as_bytes())))
}

/// `pulang serve`: migrate, then serve until stopped.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let tokens = token_keys(&settings)?;
    let database = Database::open(&settings).await?;
    let result = serve_on(&database, settings, tokens).await;
    database.close();
    result
}

async fn serve_on(
    database: &Database,
    settings: Settings,
    tokens: TokenKeys,
) -> anyhow::Result<()> {
    wait_for_database(&database.url, settings.db_wait).await?;
    let applied = crate::db::run_migrations(&database.url).await?;
    if !applied.is_empty() {
        log::info!("applied migrations: {}", applied.join(", "));
    }
    if let Some(admin) =
        crate::admin::bootstrap_admin_from_env(&mut database.connect().await?).await?
    {
        log::info!("created the first system administrator {admin:?} from PULANG_ADMIN_USERNAME");
    }
    let pool = crate::db::build_pool_with(&database.url, settings.pool_size, settings.db_limits)?;
    let sweeper = crate::housekeeping::spawn(pool.clone());
    let bind = settings.bind;
    let workers = settings.workers;
    let metrics_bind = settings.metrics_bind;
    let state = web::Data::new(AppState::new(pool, tokens, settings)?);
    let reads = state.reads.clone();
    // Metrics on a listener of their own, never on the API's address.
    let metrics = match metrics_bind {
        None => None,
        Some(addr) => {
            let state = state.clone();
            let server = HttpServer::new(move || {
                actix_web::App::new()
                    .app_data(state.clone())
                    .configure(crate::metrics::routes)
            })
            .workers(1)
            .disable_signals()
            .bind(addr)
            .with_context(|| format!("cannot listen for metrics on {addr}"))?
            .run();
            println!("  Metrics:      http://{addr}/metrics");
            let handle = server.handle();
            tokio::spawn(server);
            Some(handle)
        }
    };
    let mut server = HttpServer::new(move || build_app(state.clone()))
        .bind(bind)
        .with_context(|| format!("cannot listen on {bind}"))?;
    if let Some(workers) = workers {
        server = server.workers(workers);
    }
    let addrs = server.addrs();
    let shown = addrs.first().copied().unwrap_or(bind);
    println!(
        "Pulang {} is listening on http://{shown}",
        env!("CARGO_PKG_VERSION")
    );
    println!("  Swagger UI:   http://{shown}/swagger-ui/");
    println!("  OpenAPI:      http://{shown}/api-docs/openapi.json");
    if let Some(cluster) = &database.cluster {
        println!(
            "  Database:     private PostgreSQL cluster, socket in {}",
            cluster.socket_dir().display()
        );
    }
    println!("Press Ctrl-C to stop.");
    let run = server.run().await;
    sweeper.abort();
    if let Some(metrics) = metrics {
        metrics.stop(true).await;
    }
    // The reads recorded in the last second, before the pool goes.
    reads.flush().await;
    run.context("the HTTP server failed")?;
    log::info!("HTTP server stopped");
    Ok(())
}

/// Waits until the database accepts a connection, trying again with a
/// doubling pause (a quarter second up to five seconds) for at most `limit`
/// (`PULANG_DB_WAIT_SECONDS`), so that Pulang started beside a database that
/// is still coming up (or restarting) simply waits for it. Each try is logged
/// with the server and database, never the password. Gives up with an error
/// naming both, and the process exits non-zero (for a supervisor to restart).
pub async fn wait_for_database(url: &str, limit: Duration) -> anyhow::Result<()> {
    let target = describe_database_url(url);
    let started = Instant::now();
    let mut pause = Duration::from_millis(250);
    for attempt in 1.. {
        let tried =
            tokio::time::timeout(Duration::from_secs(5), AsyncPgConnection::establish(url)).await;
        let error = match tried {
            Ok(Ok(_)) => {
                if attempt > 1 {
                    log::info!(
                        "the database at {target} is reachable after {:.1} s",
                        started.elapsed().as_secs_f64()
                    );
                }
                return Ok(());
            }
            Ok(Err(e)) => e.to_string(),
            Err(_) => "no answer within 5 s".to_owned(),
        };
        let waited = started.elapsed();
        if waited >= limit {
            anyhow::bail!(
                "gave up waiting for the database at {target} after {} tries in {:.0} s \
                 (PULANG_DB_WAIT_SECONDS={}); last error: {error}",
                attempt,
                waited.as_secs_f64(),
                limit.as_secs()
            );
        }
        log::warn!(
            "the database at {target} is not reachable (try {attempt}: {error}); \
             trying again in {:.2} s",
            pause.min(limit - waited).as_secs_f64()
        );
        tokio::time::sleep(pause.min(limit - waited)).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
    unreachable!("the loop returns or bails")
}

/// `host=… port=… database=… user=…` of a PostgreSQL URL, for logs: the
/// password is never part of it.
pub fn describe_database_url(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, database) = rest.split_once('/').unwrap_or((rest, ""));
    let (user, hostport) = match authority.rsplit_once('@') {
        Some((userinfo, hostport)) => (userinfo.split(':').next().unwrap_or(""), hostport),
        None => ("", authority),
    };
    let (host, port) = match hostport.strip_prefix('[') {
        Some(v6) => v6
            .split_once("]:")
            .unwrap_or((v6.trim_end_matches(']'), "")),
        None => hostport.rsplit_once(':').unwrap_or((hostport, "")),
    };
    let (mut host, mut port) = (host.to_owned(), port.to_owned());
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match &*key {
            "host" => host = value.into_owned(),
            "port" => port = value.into_owned(),
            _ => {}
        }
    }
    let or = |s: &str, default: &str| {
        if s.is_empty() {
            default.to_owned()
        } else {
            s.to_owned()
        }
    };
    format!(
        "host={} port={} database={} user={}",
        or(&host, "localhost"),
        or(&port, "5432"),
        or(database, "(default)"),
        or(user, "(default)")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_described_url_never_shows_the_password() {
        let shown = describe_database_url(
            "postgres://pulang:s3cret-pw@db.example:6543/pulang?sslmode=require",
        );
        assert_eq!(
            shown,
            "host=db.example port=6543 database=pulang user=pulang"
        );
        assert!(!shown.contains("s3cret"));
    }

    #[test]
    fn a_socket_url_names_its_folder() {
        let shown = describe_database_url("postgres://postgres@localhost/pulang?host=%2Ftmp%2Fpg");
        assert_eq!(
            shown,
            "host=/tmp/pg port=5432 database=pulang user=postgres"
        );
    }
}
