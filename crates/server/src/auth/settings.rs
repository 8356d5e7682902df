//! Authentication settings, from flags or `CASELOAD_*` environment variables.

use std::num::NonZeroU32;

use clap::{Args, ValueEnum};

use super::jwt::JwtVerifier;

/// How strict the service is about who calls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// For a developer's machine: with nothing configured, authentication is off and only
    /// loopback addresses are served.
    Development,
    /// For a bank's network: refuses to start without authentication.
    Production,
}

/// Who may call the service, and how often.
#[derive(Debug, Clone, Args)]
pub struct AuthSettings {
    /// `development` (authentication off until configured; loopback only while off) or
    /// `production` (authentication required).
    #[arg(
        long,
        env = "CASELOAD_MODE",
        value_enum,
        default_value = "development",
        global = true
    )]
    pub mode: Mode,

    /// Shared secret (at least 32 bytes) to verify HS256 bearer tokens with.
    #[arg(
        long,
        env = "CASELOAD_JWT_HS256_SECRET",
        global = true,
        hide_env_values = true
    )]
    pub jwt_hs256_secret: Option<String>,

    /// PEM file with the identity provider's public key: RSA (tokens signed RS256) or EC
    /// P-256 (ES256).
    #[arg(long, env = "CASELOAD_JWT_PUBLIC_KEY_FILE", global = true)]
    pub jwt_public_key_file: Option<std::path::PathBuf>,

    /// The `iss` bearer tokens must carry.
    #[arg(long, env = "CASELOAD_JWT_ISSUER", default_value = "", global = true)]
    pub jwt_issuer: String,

    /// The `aud` bearer tokens must carry.
    #[arg(
        long,
        env = "CASELOAD_JWT_AUDIENCE",
        default_value = "caseload",
        global = true
    )]
    pub jwt_audience: String,

    /// Requests per second each principal may make (0: no limit). Default: no limit in
    /// development mode, 100 in production mode.
    #[arg(long, env = "CASELOAD_RATE_LIMIT_PER_SECOND", global = true)]
    pub rate_limit_per_second: Option<u32>,

    /// Requests a principal may make at once above its rate (default: twice the rate).
    #[arg(long, env = "CASELOAD_RATE_LIMIT_BURST", global = true)]
    pub rate_limit_burst: Option<u32>,
}

/// The rate of production mode when none is configured.
pub const PRODUCTION_RATE_PER_SECOND: u32 = 100;

impl AuthSettings {
    /// The token verifier, if tokens are configured.
    pub fn verifier(&self) -> anyhow::Result<Option<JwtVerifier>> {
        let pem = match &self.jwt_public_key_file {
            Some(path) => Some(std::fs::read(path).map_err(|e| {
                anyhow::anyhow!("reading the JWT public key {}: {e}", path.display())
            })?),
            None => None,
        };
        if self.jwt_hs256_secret.is_none() && pem.is_none() {
            return Ok(None);
        }
        JwtVerifier::new(
            self.jwt_hs256_secret.as_deref(),
            pem.as_deref(),
            self.jwt_issuer.clone(),
            self.jwt_audience.clone(),
        )
        .map(Some)
        .map_err(|e| anyhow::anyhow!("JWT settings: {e}"))
    }

    /// Requests per second and burst per principal, if limited.
    pub fn rate_limit(&self) -> anyhow::Result<Option<(NonZeroU32, NonZeroU32)>> {
        let rate = self.rate_limit_per_second.unwrap_or(match self.mode {
            Mode::Development => 0,
            Mode::Production => PRODUCTION_RATE_PER_SECOND,
        });
        let burst = self.rate_limit_burst.unwrap_or(rate.saturating_mul(2));
        Ok(super::quota(rate, burst))
    }
}
