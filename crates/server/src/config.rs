//! Settings, from flags or `CASELOAD_*` environment variables. Every option has a default
//! that suits a developer's machine: `caseload` with no arguments serves on
//! 127.0.0.1:8080 from `caseload.db` in the working directory, and `caseload demo` fills
//! that database with a plan and a generated case history before serving it.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// caseload: the BIAN v12 Customer Case Management service.
#[derive(Debug, Parser)]
#[command(name = "caseload", version, about)]
pub struct Cli {
    /// What to do; serving is the default.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Settings shared by every command.
    #[command(flatten)]
    pub settings: Settings,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create a demo plan, fill it with a generated case history, and serve it.
    Demo(DemoArgs),
    /// Create, list and revoke API keys.
    #[command(subcommand)]
    Apikey(ApiKeyCommand),
    /// Work with the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
}

/// `caseload apikey ...`
#[derive(Debug, Clone, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key and print it (the only time its secret is shown).
    Create {
        /// What the key is for, e.g. the calling system.
        #[arg(long)]
        name: String,
        /// Scopes, comma-separated: read, write, intervene, ingest, admin.
        #[arg(long, value_delimiter = ',', required = true)]
        scopes: Vec<String>,
        /// Business units the key reaches, comma-separated; `*` for all.
        #[arg(long, value_delimiter = ',', required = true)]
        business_units: Vec<String>,
    },
    /// List keys (never their secrets).
    List,
    /// Revoke a key by id; it stops working within seconds.
    Revoke {
        /// The key's id (the 12 hex digits after `cl_`).
        id: String,
    },
}

/// What `caseload audit` does.
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum AuditCommand {
    /// Check every hash chain of the audit trail and print a summary; exit with status 1 if
    /// a chain is broken, naming the first break.
    Verify,
}

/// What `caseload demo` generates.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// How many case events to generate (about: whole cases are added until the count is
    /// reached).
    #[arg(long, env = "CASELOAD_DEMO_EVENTS", default_value_t = 200_000,
        value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub events: u64,

    /// Seed of the generator: the same seed, size and end time give the same events.
    #[arg(long, env = "CASELOAD_DEMO_SEED", default_value_t = 42)]
    pub seed: u64,

    /// Days of history to generate, ending now.
    #[arg(long, env = "CASELOAD_DEMO_DAYS", default_value_t = 90,
        value_parser = clap::value_parser!(u32).range(1..=3_650))]
    pub days: u32,

    /// Exit after ingesting instead of serving (for tests and benchmarks); the variable
    /// takes true/false, 1/0, yes/no or on/off.
    #[arg(long, env = "CASELOAD_DEMO_NO_SERVE", action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new())]
    pub no_serve: bool,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Everything the service can be told at start.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address to listen on; port 0 picks a free port (the bound address is logged).
    #[arg(
        long,
        env = "CASELOAD_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: SocketAddr,

    /// Database: `sqlite://FILE` (created if missing) or `postgres://USER@HOST/DB`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://caseload.db",
        global = true,
        hide_env_values = true
    )]
    pub database_url: String,

    /// Most database connections (readers, on SQLite).
    #[arg(
        long,
        env = "CASELOAD_DB_MAX_CONNECTIONS",
        default_value_t = 16,
        global = true
    )]
    pub db_max_connections: u32,

    /// Seconds a request waits for a free database connection before getting 503.
    #[arg(
        long,
        env = "CASELOAD_DB_ACQUIRE_TIMEOUT_SECS",
        default_value_t = 5,
        global = true
    )]
    pub db_acquire_timeout_secs: u64,

    /// Largest request body accepted, in bytes; larger ones get 413.
    #[arg(long, env = "CASELOAD_BODY_LIMIT_BYTES", default_value_t = 1024 * 1024, global = true)]
    pub body_limit_bytes: usize,

    /// Seconds a client may take to send a request body before it is answered with 408, so
    /// slow senders cannot hold connections. (Reads are bounded by the database timeouts,
    /// criterion evaluations by their own budgets.)
    #[arg(
        long,
        env = "CASELOAD_BODY_TIMEOUT_SECS",
        default_value_t = 30,
        global = true
    )]
    pub body_timeout_secs: u64,

    /// Seconds given to in-flight requests to finish after SIGTERM or SIGINT.
    #[arg(
        long,
        env = "CASELOAD_SHUTDOWN_GRACE_SECS",
        default_value_t = 30,
        global = true
    )]
    pub shutdown_grace_secs: u64,

    /// Seconds a client has, from connecting or from its previous response, to send a
    /// complete request line and headers; then its connection is closed. Slow or stalled
    /// clients cannot hold connections open (1 to 3600).
    #[arg(
        long,
        env = "CASELOAD_HEADER_TIMEOUT_SECS",
        default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..=3_600),
        global = true
    )]
    pub header_timeout_secs: u64,

    /// Seconds a keep-alive connection may stay open with no request in flight before it is
    /// closed (1 to 86400). An HTTP/1.1 connection waiting for its next request is also
    /// bounded by the header timeout, so it closes after the smaller of the two.
    #[arg(
        long,
        env = "CASELOAD_IDLE_TIMEOUT_SECS",
        default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(1..=86_400),
        global = true
    )]
    pub idle_timeout_secs: u64,

    /// Most client connections open at once (1 to 1000000); further clients wait in the
    /// listen backlog until a connection closes. Keep it under the process's open-file limit.
    #[arg(
        long,
        env = "CASELOAD_MAX_CONNECTIONS",
        default_value_t = 10_000,
        value_parser = clap::value_parser!(u32).range(1..=1_000_000),
        global = true
    )]
    pub max_connections: u32,

    /// Authentication, authorization and rate limits.
    #[command(flatten)]
    pub auth: crate::auth::AuthSettings,

    /// Log format.
    #[arg(
        long,
        env = "CASELOAD_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,

    /// Hours the first response to an `Idempotency-Key` is kept and replayed to retries
    /// (24 to 8760); expired keys are purged hourly.
    #[arg(
        long = "idempotency-retention-hours",
        env = "CASELOAD_IDEMPOTENCY_RETENTION_HOURS",
        default_value = "24",
        value_parser = retention_hours,
        global = true
    )]
    pub idempotency_retention: Duration,

    /// Address of a second listener serving Prometheus metrics at `GET /metrics`, kept apart
    /// from the API so that it can stay off the public network; unset (the default), no
    /// metrics are collected or served.
    #[arg(long, env = "CASELOAD_METRICS_LISTEN", global = true)]
    pub metrics_listen: Option<SocketAddr>,
}

/// Hours of idempotency retention: at least a day, so a client's retries over a day are
/// safe, and at most a year.
fn retention_hours(text: &str) -> Result<Duration, String> {
    let hours: u64 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a whole number of hours"))?;
    if !(24..=8760).contains(&hours) {
        return Err(format!("{hours} hours is outside 24 to 8760"));
    }
    Ok(Duration::from_secs(hours * 3600))
}

impl Settings {
    /// Settings for a test or an embedding program: everything default but the database.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        let mut cli = Cli::parse_from(["caseload"]);
        cli.settings.database_url = database_url.into();
        cli.settings.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        cli.settings
    }

    /// The limits of the serve loop: header and idle timeouts, most open connections.
    pub fn connection_limits(&self) -> crate::serve::Limits {
        crate::serve::Limits {
            header_timeout: Duration::from_secs(self.header_timeout_secs),
            idle_timeout: Duration::from_secs(self.idle_timeout_secs),
            max_connections: self.max_connections,
        }
    }

    /// The request body deadline.
    pub fn body_timeout(&self) -> Duration {
        Duration::from_secs(self.body_timeout_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_retention_is_a_day_by_default_and_at_least_a_day() {
        let settings = Cli::parse_from(["caseload"]).settings;
        assert_eq!(
            settings.idempotency_retention,
            Duration::from_secs(24 * 3600)
        );
        let week = Cli::try_parse_from(["caseload", "--idempotency-retention-hours", "168"]);
        assert_eq!(
            week.expect("a week").settings.idempotency_retention,
            Duration::from_secs(168 * 3600)
        );
        for refused in ["23", "0", "8761", "1.5", "x"] {
            let parsed =
                Cli::try_parse_from(["caseload", "--idempotency-retention-hours", refused]);
            assert!(parsed.is_err(), "{refused} accepted");
        }
    }

    #[test]
    fn connection_limits_have_defaults_and_refuse_zero_and_absurd_values() {
        let limits = Cli::parse_from(["caseload"]).settings.connection_limits();
        assert_eq!(limits.header_timeout, Duration::from_secs(10));
        assert_eq!(limits.idle_timeout, Duration::from_secs(60));
        assert_eq!(limits.max_connections, 10_000);
        let set = Cli::try_parse_from([
            "caseload",
            "--header-timeout-secs",
            "2",
            "--idle-timeout-secs",
            "5",
            "--max-connections",
            "50",
        ])
        .expect("valid limits")
        .settings
        .connection_limits();
        assert_eq!(set.header_timeout, Duration::from_secs(2));
        assert_eq!(set.idle_timeout, Duration::from_secs(5));
        assert_eq!(set.max_connections, 50);
        for (flag, refused) in [
            ("--header-timeout-secs", "0"),
            ("--header-timeout-secs", "3601"),
            ("--idle-timeout-secs", "0"),
            ("--idle-timeout-secs", "86401"),
            ("--max-connections", "0"),
            ("--max-connections", "1000001"),
            ("--max-connections", "-1"),
        ] {
            let parsed = Cli::try_parse_from(["caseload", flag, refused]);
            assert!(parsed.is_err(), "{flag} {refused} accepted");
        }
    }

    #[test]
    fn metrics_are_off_unless_a_listener_is_named() {
        assert_eq!(Cli::parse_from(["caseload"]).settings.metrics_listen, None);
        let on = Cli::try_parse_from(["caseload", "--metrics-listen", "127.0.0.1:9464"]);
        assert_eq!(
            on.expect("address").settings.metrics_listen,
            Some(SocketAddr::from(([127, 0, 0, 1], 9464)))
        );
    }
}
