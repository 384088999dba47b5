use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = scorewatch::cli::Cli::parse();
    let logs = scorewatch::telemetry::init(cli.log_format);
    match scorewatch::cli::run(cli, logs).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
