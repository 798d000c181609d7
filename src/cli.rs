//! The command line: `serve` (the default), `migrate`, `openapi` and `admin`.

use std::io::BufRead;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::admin::{NewUser, create_user};
use crate::auth::{Role, password};
use crate::config::Settings;
use crate::server::Database;

/// Pulang: case and repatriation API for returning migrant citizens (WNI-M KPO).
///
/// With DATABASE_URL unset, Pulang runs a private PostgreSQL cluster in the
/// data folder (PULANG_DATA_DIR, default .pulang).
#[derive(Debug, Parser)]
#[command(name = "pulang", version, about)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations, then serve the API (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Print the OpenAPI document (or write it to a file).
    Openapi {
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Print the access policy as the Markdown table of docs/access-policy.md.
    Policy,
    /// Create the West Kalimantan agencies and their demo users (idempotent).
    Seed {
        /// Give existing demo users new passwords (and print them).
        #[arg(long)]
        reset_passwords: bool,
        /// Also build the 2019 year of the seed story: budgets, agreements, 2,480 returnees,
        /// their transfers, handovers and costs (through the API's own code).
        #[arg(long)]
        demo_2019: bool,
    },
    /// Back up the database into a new folder: a base backup of the private
    /// cluster (taken while it serves), or a pg_dump of DATABASE_URL's database;
    /// with a manifest (time, versions, size, checksum).
    Backup {
        /// The folder to write (absent or empty).
        #[arg(long)]
        to: PathBuf,
    },
    /// Restore a backup made by `pulang backup`: into a new private cluster in
    /// the data folder (never over an existing one), or, with DATABASE_URL,
    /// into an empty database.
    Restore {
        /// The backup's folder.
        #[arg(long)]
        from: PathBuf,
        /// Replay archived WAL up to this time (RFC 3339): point-in-time recovery
        /// of the private cluster. Needs --wal-archive or PULANG_WAL_ARCHIVE_DIR.
        #[arg(long)]
        until: Option<chrono::DateTime<chrono::Utc>>,
        /// The WAL archive to replay from; PULANG_WAL_ARCHIVE_DIR when omitted.
        #[arg(long)]
        wal_archive: Option<PathBuf>,
    },
    /// Administration tasks.
    Admin {
        /// The task.
        #[command(subcommand)]
        task: AdminTask,
    },
}

/// Administration tasks.
#[derive(Debug, Subcommand)]
pub enum AdminTask {
    /// Create a user. Prints a generated password unless --password-stdin is given.
    CreateUser {
        /// Login name: 3 to 64 lower-case letters, digits, '.', '_' or '-'.
        #[arg(long)]
        username: String,
        /// The person's full name.
        #[arg(long, default_value = "System administrator")]
        full_name: String,
        /// A role to grant (repeat for several): system_admin, agency_admin, case_worker, finance_officer, viewer.
        #[arg(long = "role", default_value = "system_admin")]
        roles: Vec<Role>,
        /// Code of the user's agency; the system agency when omitted.
        #[arg(long)]
        agency: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => crate::server::serve(Settings::from_env()?).await,
        Command::Openapi { output } => {
            let json = crate::openapi::openapi().to_pretty_json()? + "\n";
            match output {
                Some(path) => std::fs::write(&path, json)?,
                None => print!("{json}"),
            }
            Ok(())
        }
        Command::Policy => {
            print!("{}", crate::access::render_policy_markdown());
            Ok(())
        }
        Command::Seed {
            reset_passwords,
            demo_2019,
        } => {
            let settings = Settings::from_env()?;
            let tokens = crate::server::token_keys(&settings)?;
            let database = Database::open(&settings).await?;
            let result = async {
                crate::db::run_migrations(&database.url).await?;
                let mut conn = database.connect().await?;
                let report = crate::seed::west_kalimantan(&mut conn, reset_passwords).await?;
                // The accounts first: if the demo fails half-way, their
                // passwords (shown once) are not lost with it.
                print!("{report}");
                let mut report = String::new();
                if demo_2019 {
                    use std::io::IsTerminal;
                    let terminal = std::io::stdout().is_terminal();
                    let mut out = std::io::stdout();
                    let mut progress = crate::seed_2019::Progress::new(&mut out, terminal);
                    let pool = crate::db::build_pool(&database.url, 4)?;
                    let state = actix_web::web::Data::new(crate::state::AppState::new(
                        pool,
                        tokens,
                        settings.clone(),
                    )?);
                    report.push('\n');
                    report.push_str(
                        &crate::seed_2019::demo_2019(
                            &mut conn,
                            state,
                            crate::seed_2019::SEED_2019,
                            &mut progress,
                        )
                        .await?,
                    );
                }
                Ok::<_, anyhow::Error>(report)
            }
            .await;
            database.close();
            print!("{}", result?);
            Ok(())
        }
        Command::Backup { to } => {
            let settings = Settings::from_env()?;
            let manifest = match &settings.database {
                crate::config::DatabaseSource::External(url) => {
                    let (url, to) = (url.clone(), to.clone());
                    tokio::task::spawn_blocking(move || crate::backup::dump_database(&url, &to))
                        .await??
                }
                crate::config::DatabaseSource::Local => {
                    let mut database = Database::open(&settings).await?;
                    let cluster = database.cluster.take().expect("the private cluster");
                    let dest = to.clone();
                    let (cluster, result) = tokio::task::spawn_blocking(move || {
                        let result = crate::backup::back_up_cluster(&cluster, &dest);
                        (cluster, result)
                    })
                    .await?;
                    database.cluster = Some(cluster);
                    database.close();
                    result?
                }
            };
            println!(
                "backed up to {} ({} files, {} bytes, sha256 {}), consistent as of {}",
                to.display(),
                manifest.files,
                manifest.bytes,
                manifest.sha256,
                manifest.started_at.to_rfc3339()
            );
            Ok(())
        }
        Command::Restore {
            from,
            until,
            wal_archive,
        } => {
            let settings = Settings::from_env()?;
            let manifest = match &settings.database {
                crate::config::DatabaseSource::External(url) => {
                    if until.is_some() {
                        anyhow::bail!(
                            "--until restores the private cluster; for a server behind DATABASE_URL use its own point-in-time recovery (docs/operations.md)"
                        );
                    }
                    crate::backup::restore_dump(&from, url).await?
                }
                crate::config::DatabaseSource::Local => {
                    let recovery = match until {
                        None => None,
                        Some(until) => Some(crate::db::cluster::Recovery {
                            wal_archive: wal_archive
                                .or(settings.wal_archive_dir.clone())
                                .ok_or_else(|| {
                                    anyhow::anyhow!(
                                        "--until needs --wal-archive or PULANG_WAL_ARCHIVE_DIR"
                                    )
                                })?,
                            until,
                        }),
                    };
                    crate::backup::restore_cluster(&from, &settings.data_dir, recovery).await?
                }
            };
            println!(
                "restored the backup of {} from {}{}; start Pulang to serve from it",
                manifest.started_at.to_rfc3339(),
                from.display(),
                until
                    .map(|u| format!(", replayed to {}", u.to_rfc3339()))
                    .unwrap_or_default()
            );
            Ok(())
        }
        Command::Migrate => {
            let database = Database::open(&Settings::from_env()?).await?;
            let result = crate::db::run_migrations(&database.url).await;
            database.close();
            let applied = result?;
            println!(
                "applied {} migration(s){}",
                applied.len(),
                if applied.is_empty() { "" } else { ":" }
            );
            for version in applied {
                println!("  {version}");
            }
            Ok(())
        }
        Command::Admin {
            task:
                AdminTask::CreateUser {
                    username,
                    full_name,
                    roles,
                    agency,
                    password_stdin,
                },
        } => {
            let (pass, generated) = if password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                (line.trim_end_matches(['\r', '\n']).to_owned(), false)
            } else {
                (password::random_secret(20), true)
            };
            let database = Database::open(&Settings::from_env()?).await?;
            let result = async {
                crate::db::run_migrations(&database.url).await?;
                let mut conn = database.connect().await?;
                let new = NewUser {
                    username: username.clone(),
                    full_name,
                    roles,
                    agency_code: agency,
                    password: pass.clone(),
                };
                create_user(&mut conn, new).await
            }
            .await;
            database.close();
            let id = result?;
            println!("created user {username} ({id})");
            if generated {
                println!("password: {pass}");
                println!("(shown once; store it now)");
            }
            Ok(())
        }
    }
}
