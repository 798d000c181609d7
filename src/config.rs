//! Configuration: one typed struct, read once from the environment.
//!
//! Every variable is listed in the README's configuration table. Nothing here
//! has a secret as a default: the signing key either comes from
//! `PULANG_JWT_SECRET` or, when Pulang manages its own local cluster, is
//! generated once and kept in the data folder.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::db::DbLimits;

/// Where the database comes from.
#[derive(Debug, Clone)]
pub enum DatabaseSource {
    /// `DATABASE_URL` names a server that Pulang uses as it is and manages in no way.
    External(String),
    /// No `DATABASE_URL`: Pulang runs a private cluster in the data folder.
    Local,
}

/// The service's settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The database to use.
    pub database: DatabaseSource,
    /// Folder for the local cluster, its socket and the generated signing key (`PULANG_DATA_DIR`).
    pub data_dir: PathBuf,
    /// Address the HTTP server listens on (`PULANG_BIND`).
    pub bind: SocketAddr,
    /// Maximum connections in the pool (`PULANG_DB_POOL_SIZE`).
    pub pool_size: usize,
    /// HTTP worker threads (`PULANG_WORKERS`); defaults to the number of cores.
    pub workers: Option<usize>,
    /// HMAC key for access tokens (`PULANG_JWT_SECRET`), if configured.
    pub jwt_secret: Option<String>,
    /// Retired HMAC keys whose tokens are still accepted until they expire
    /// (`PULANG_JWT_PREVIOUS_SECRETS`, comma separated).
    pub jwt_previous_secrets: Vec<String>,
    /// `iss` claim of issued tokens (`PULANG_JWT_ISSUER`).
    pub jwt_issuer: String,
    /// `aud` claim of issued tokens (`PULANG_JWT_AUDIENCE`).
    pub jwt_audience: String,
    /// Lifetime of an access token (`PULANG_TOKEN_TTL_SECONDS`).
    pub token_ttl: Duration,
    /// Origins allowed to call the API from a browser (`PULANG_CORS_ORIGINS`, comma separated).
    pub cors_origins: Vec<String>,
    /// Largest accepted JSON body in bytes (`PULANG_MAX_BODY_BYTES`).
    pub max_body_bytes: usize,
    /// How long a break-the-glass grant to a person's earlier returns lasts
    /// (`PULANG_BREAK_GLASS_MINUTES`, default 240).
    pub break_glass_ttl: Duration,
    /// Folder the private cluster archives its WAL to, for point-in-time recovery
    /// (`PULANG_WAL_ARCHIVE_DIR`; off when unset).
    pub wal_archive_dir: Option<PathBuf>,
    /// Address of the metrics listener (`PULANG_METRICS_BIND`; off when unset).
    pub metrics_bind: Option<SocketAddr>,
    /// Reverse proxies whose `X-Forwarded-For` names the client
    /// (`PULANG_TRUSTED_PROXIES`, comma-separated addresses; none by default).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Statement, lock, idle-in-transaction and pool-wait limits of the pool.
    pub db_limits: DbLimits,
    /// Longest time to the response head of an ordinary request (`PULANG_REQUEST_TIMEOUT_MS`).
    pub request_timeout: Duration,
    /// Longest time to the response head of a report or export (`PULANG_REPORT_REQUEST_TIMEOUT_MS`).
    pub report_request_timeout: Duration,
    /// How long start-up waits for the database (`PULANG_DB_WAIT_SECONDS`).
    pub db_wait: Duration,
    /// Rows per page of a CSV export (`PULANG_EXPORT_PAGE_ROWS`).
    pub export_page_rows: i64,
    /// How far apart two reports of one identity's arrival in one handling
    /// province may be and still be the same return (`PULANG_SAME_RETURN_WINDOW_DAYS`).
    pub same_return_window: chrono::Duration,
}

/// Signing secrets published in this repository (examples, tests): a key
/// anyone can read forges any token, so they are refused.
const PUBLISHED_SECRETS: &[&str] = &[
    "change-me-to-a-random-secret-of-32-or-more-characters",
    "a-test-secret-of-more-than-thirty-two-characters",
];

/// A signing secret must be at least 32 bytes and not one published anywhere.
fn check_signing_secret(variable: &str, secret: &str) -> anyhow::Result<()> {
    if secret.len() < 32 {
        bail!(
            "{variable} must be at least 32 characters long; make one with `openssl rand -base64 48`"
        );
    }
    if PUBLISHED_SECRETS.contains(&secret) || secret.starts_with("change-me") {
        bail!(
            "{variable} is an example published in Pulang's repository, with which anyone can forge \
             tokens; make a random one with `openssl rand -base64 48`"
        );
    }
    Ok(())
}

impl Settings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads the settings through `lookup`, so that tests can supply their own environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let get = |key: &str| lookup(key).filter(|v| !v.trim().is_empty());
        let parse_num = |key: &str, default: u64| -> anyhow::Result<u64> {
            match get(key) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse::<u64>()
                    .with_context(|| format!("{key} must be a whole number, got {v:?}")),
            }
        };
        let database = match get("DATABASE_URL") {
            Some(url) => DatabaseSource::External(url),
            None => DatabaseSource::Local,
        };
        let bind = get("PULANG_BIND").unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let bind = bind.parse().with_context(|| {
            format!("PULANG_BIND must be an address like 127.0.0.1:8080, got {bind:?}")
        })?;
        let pool_size = parse_num("PULANG_DB_POOL_SIZE", 8)? as usize;
        if pool_size == 0 {
            bail!("PULANG_DB_POOL_SIZE must be at least 1");
        }
        let workers = match parse_num("PULANG_WORKERS", 0)? {
            0 => None,
            n => Some(n as usize),
        };
        let jwt_secret = get("PULANG_JWT_SECRET");
        if let Some(secret) = &jwt_secret {
            check_signing_secret("PULANG_JWT_SECRET", secret)?;
        }
        let jwt_previous_secrets: Vec<String> = get("PULANG_JWT_PREVIOUS_SECRETS")
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        for secret in &jwt_previous_secrets {
            check_signing_secret("PULANG_JWT_PREVIOUS_SECRETS", secret)?;
        }
        let token_ttl = Duration::from_secs(parse_num("PULANG_TOKEN_TTL_SECONDS", 900)?);
        if token_ttl.is_zero() {
            bail!("PULANG_TOKEN_TTL_SECONDS must be at least 1");
        }
        let metrics_bind = get("PULANG_METRICS_BIND")
            .map(|v| {
                v.parse::<SocketAddr>().with_context(|| {
                    format!("PULANG_METRICS_BIND must be an address like 127.0.0.1:9464, got {v:?}")
                })
            })
            .transpose()?;
        let trusted_proxies = get("PULANG_TRUSTED_PROXIES")
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(|a| {
                        a.parse::<std::net::IpAddr>().with_context(|| {
                            format!("PULANG_TRUSTED_PROXIES must list IP addresses, got {a:?}")
                        })
                    })
                    .collect::<anyhow::Result<Vec<_>>>()
            })
            .transpose()?
            .unwrap_or_default();
        let break_glass_ttl =
            Duration::from_secs(60 * parse_num("PULANG_BREAK_GLASS_MINUTES", 240)?);
        if break_glass_ttl.is_zero() || break_glass_ttl > Duration::from_secs(24 * 3600) {
            bail!("PULANG_BREAK_GLASS_MINUTES must be 1 to 1440 (a day at most)");
        }
        let cors_origins = get("PULANG_CORS_ORIGINS")
            .map(|v| {
                v.split(',')
                    .map(|o| o.trim().trim_end_matches('/').to_owned())
                    .filter(|o| !o.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let millis = |key: &str, default: Duration| -> anyhow::Result<Duration> {
            Ok(Duration::from_millis(parse_num(
                key,
                default.as_millis() as u64,
            )?))
        };
        let defaults = DbLimits::default();
        let db_limits = DbLimits {
            statement: millis("PULANG_STATEMENT_TIMEOUT_MS", defaults.statement)?,
            report_statement: millis(
                "PULANG_REPORT_STATEMENT_TIMEOUT_MS",
                defaults.report_statement,
            )?,
            lock: millis("PULANG_LOCK_TIMEOUT_MS", defaults.lock)?,
            idle_in_transaction: millis(
                "PULANG_IDLE_IN_TRANSACTION_TIMEOUT_MS",
                defaults.idle_in_transaction,
            )?,
            pool_wait: millis("PULANG_DB_POOL_WAIT_MS", defaults.pool_wait)?,
        };
        let request_timeout = millis("PULANG_REQUEST_TIMEOUT_MS", Duration::from_secs(30))?;
        let report_request_timeout =
            millis("PULANG_REPORT_REQUEST_TIMEOUT_MS", Duration::from_secs(150))?;
        if request_timeout.is_zero() || report_request_timeout.is_zero() {
            bail!(
                "PULANG_REQUEST_TIMEOUT_MS and PULANG_REPORT_REQUEST_TIMEOUT_MS must be at least 1"
            );
        }
        let export_page_rows = parse_num("PULANG_EXPORT_PAGE_ROWS", 1000)?.clamp(1, 10_000) as i64;
        let window_days = parse_num("PULANG_SAME_RETURN_WINDOW_DAYS", 7)?;
        if window_days > 366 {
            bail!("PULANG_SAME_RETURN_WINDOW_DAYS must be at most 366");
        }
        let same_return_window = chrono::Duration::days(window_days as i64);
        Ok(Self {
            database,
            data_dir: PathBuf::from(get("PULANG_DATA_DIR").unwrap_or_else(|| ".pulang".to_owned())),
            bind,
            pool_size,
            workers,
            jwt_secret,
            jwt_previous_secrets,
            jwt_issuer: get("PULANG_JWT_ISSUER").unwrap_or_else(|| "pulang".to_owned()),
            jwt_audience: get("PULANG_JWT_AUDIENCE").unwrap_or_else(|| "pulang-api".to_owned()),
            token_ttl,
            cors_origins,
            max_body_bytes: parse_num("PULANG_MAX_BODY_BYTES", 16 * 1024 * 1024)? as usize,
            break_glass_ttl,
            wal_archive_dir: get("PULANG_WAL_ARCHIVE_DIR").map(PathBuf::from),
            metrics_bind,
            trusted_proxies,
            db_limits,
            request_timeout,
            report_request_timeout,
            db_wait: Duration::from_secs(parse_num("PULANG_DB_WAIT_SECONDS", 60)?),
            export_page_rows,
            same_return_window,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> anyhow::Result<Settings> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn nothing_configured_means_a_local_cluster_on_loopback() {
        let s = settings(&[]).unwrap();
        assert!(matches!(s.database, DatabaseSource::Local));
        assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
        assert!(s.jwt_secret.is_none());
    }

    #[test]
    fn a_short_signing_secret_is_refused() {
        let err = settings(&[("PULANG_JWT_SECRET", "short")]).unwrap_err();
        assert!(err.to_string().contains("PULANG_JWT_SECRET"));
        for published in PUBLISHED_SECRETS {
            let err = settings(&[("PULANG_JWT_SECRET", published)]).unwrap_err();
            assert!(err.to_string().contains("published"), "{err}");
        }
        let err = settings(&[(
            "PULANG_JWT_PREVIOUS_SECRETS",
            "Zs9v8s7d6f5g4h3j2k1l0qwertyuiopa, change-me-please-with-thirty-two-characters",
        )])
        .unwrap_err();
        assert!(
            err.to_string().contains("PULANG_JWT_PREVIOUS_SECRETS"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_number_names_its_variable() {
        let err = settings(&[("PULANG_DB_POOL_SIZE", "many")]).unwrap_err();
        assert!(err.to_string().contains("PULANG_DB_POOL_SIZE"));
    }

    #[test]
    fn time_limits_have_defaults_and_overrides() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.db_limits, DbLimits::default());
        assert_eq!(s.request_timeout, Duration::from_secs(30));
        assert_eq!(s.db_wait, Duration::from_secs(60));
        let s = settings(&[
            ("PULANG_LOCK_TIMEOUT_MS", "250"),
            ("PULANG_REQUEST_TIMEOUT_MS", "1500"),
        ])
        .unwrap();
        assert_eq!(s.db_limits.lock, Duration::from_millis(250));
        assert_eq!(s.request_timeout, Duration::from_millis(1500));
        assert!(settings(&[("PULANG_REQUEST_TIMEOUT_MS", "0")]).is_err());
    }

    #[test]
    fn cors_origins_are_split_and_trimmed() {
        let s = settings(&[(
            "PULANG_CORS_ORIGINS",
            "https://a.example/, https://b.example",
        )])
        .unwrap();
        assert_eq!(
            s.cors_origins,
            vec!["https://a.example", "https://b.example"]
        );
    }

    #[test]
    fn two_reports_are_one_return_within_a_week_unless_configured() {
        assert_eq!(
            settings(&[]).unwrap().same_return_window,
            chrono::Duration::days(7)
        );
        let s = settings(&[("PULANG_SAME_RETURN_WINDOW_DAYS", "3")]).unwrap();
        assert_eq!(s.same_return_window, chrono::Duration::days(3));
        let err = settings(&[("PULANG_SAME_RETURN_WINDOW_DAYS", "400")]).unwrap_err();
        assert!(err.to_string().contains("PULANG_SAME_RETURN_WINDOW_DAYS"));
    }
}
