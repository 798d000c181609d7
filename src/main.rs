//! The `pulang` binary.

use clap::Parser;

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = pulang::cli::Cli::parse();
    match pulang::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pulang: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
