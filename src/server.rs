//! Running Pulang: finding the database (a configured server or the private
//! local cluster), migrating it, and serving HTTP until Ctrl-C or SIGTERM.

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
                let cluster =
                    tokio::task::spawn_blocking(move || -> anyhow::Result<LocalCluster> {
                        let mut cluster = LocalCluster::new(&data_dir, ClusterOptions::default())?;
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
    ))
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
    let applied = crate::db::run_migrations(&database.url).await?;
    if !applied.is_empty() {
        log::info!("applied migrations: {}", applied.join(", "));
    }
    if let Some(admin) =
        crate::admin::bootstrap_admin_from_env(&mut database.connect().await?).await?
    {
        log::info!("created the first system administrator {admin:?} from PULANG_ADMIN_USERNAME");
    }
    let pool = crate::db::build_pool(&database.url, settings.pool_size)?;
    let sweeper = crate::housekeeping::spawn(pool.clone());
    let bind = settings.bind;
    let workers = settings.workers;
    let state = web::Data::new(AppState::new(pool, tokens, settings)?);
    let reads = state.reads.clone();
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
    // The reads recorded in the last second, before the pool goes.
    reads.flush().await;
    run.context("the HTTP server failed")?;
    log::info!("HTTP server stopped");
    Ok(())
}
