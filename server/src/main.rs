use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = scorewatch::config::Cli::parse();
    let logs = scorewatch::observability::logging::init(cli.log_format);
    match scorewatch::commands::run(cli, logs).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
