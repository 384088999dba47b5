use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = scorewatch::config::Cli::parse();
    // The server's log is its output; every other command's stdout carries data.
    let serving = matches!(cli.command, scorewatch::config::Command::Serve(_));
    let logs = scorewatch::observability::logging::init(cli.log_format, serving);
    match scorewatch::commands::run(cli, logs).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
