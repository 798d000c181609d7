//! The `pulang` binary.

use clap::Parser;

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    let cli = pulang::cli::Cli::parse();
    // The demo seed drives the API in process: one access-log line per of its
    // ~20,000 requests would bury its progress lines, so it logs warnings of
    // the access log only (RUST_LOG still decides when set).
    let default_filter = match cli.command {
        Some(pulang::cli::Command::Seed { .. }) => "info,pulang::http::middleware=warn",
        _ => "info",
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default_filter))
        .init();
    match pulang::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pulang: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
