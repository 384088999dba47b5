use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = scorewatch::cli::Cli::parse();
    scorewatch::telemetry::init(cli.log_format);
    match scorewatch::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
