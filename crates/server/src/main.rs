//! The `caseload` command: `serve` (the default), `migrate`, `demo` and `audit verify`.

use caseload::app::{Application, shutdown_signal};
use caseload::config::{AuditCommand, Cli, Command};
use caseload::telemetry;
use clap::Parser;

/// mimalloc: a request allocates and frees many small buffers across threads, where it is
/// measurably faster than the system allocator (see bench/README.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::init(cli.settings.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(&cli.settings).await?;
            app.run_until(shutdown_signal()).await
        }
        Command::Migrate => {
            let db = caseload::app::connect(&cli.settings).await?;
            db.close().await;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Demo(args) => caseload::demo::run(&cli.settings, &args).await,
        Command::Apikey(command) => caseload::auth::cli::run(&cli.settings, command).await,
        Command::Audit(AuditCommand::Verify) => {
            let verdict = caseload::audit::verify(&cli.settings).await?;
            println!("{}", caseload::audit::summary(&verdict));
            if !verdict.is_intact() {
                std::process::exit(1);
            }
            Ok(())
        }
    }
}
