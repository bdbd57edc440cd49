//! The `helpdesk` binary: parses the command line, sets up logging, runs the command.

use helpdesk::cli::{Cli, run};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse_or_serve();
    let filter = EnvFilter::try_from_env("HELPDESK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    // Standard error, each event on one line whatever a client or a plugin wrote into it.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(helpdesk::logging::OneLine);
    if cli.settings.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
