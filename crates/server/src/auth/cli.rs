//! `caseload apikey create|list|revoke`: API keys managed from the command line, by whoever
//! runs the service (and so can reach its database).

use anyhow::Context as _;

use super::{Scope, keys};
use crate::config::{ApiKeyCommand, Settings};

/// Who is recorded as having created or revoked a key from the command line.
fn operator() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    format!("cli:{user}")
}

/// Runs one `apikey` command against the configured database.
pub async fn run(settings: &Settings, command: ApiKeyCommand) -> anyhow::Result<()> {
    let db = crate::app::connect(settings).await?;
    let result = match command {
        ApiKeyCommand::Create {
            name,
            scopes,
            business_units,
        } => {
            let scopes = scopes
                .iter()
                .map(|s| {
                    Scope::parse(s.trim()).with_context(|| {
                        format!("unknown scope '{s}': use read, write, intervene, ingest or admin")
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let units: Vec<String> = business_units.iter().map(|u| u.trim().to_owned()).collect();
            let (key, stored) =
                keys::create(db.as_ref(), &name, &scopes, &units, &operator()).await?;
            tracing::info!(id = %stored.id, name = %stored.name, "API key created");
            println!("{key}");
            eprintln!(
                "API key {} created for '{}' (scopes: {}; business units: {}). It is shown once: \
                 store it now. Send it as the X-API-Key header.",
                stored.id,
                stored.name,
                stored.scopes.join(" "),
                stored.business_units.join(" ")
            );
            Ok(())
        }
        ApiKeyCommand::List => {
            println!(
                "ID            CREATED                      REVOKED                      SCOPES / BUSINESS UNITS / NAME"
            );
            for k in db.api_keys().await? {
                println!(
                    "{:<13} {:<28} {:<28} {} / {} / {}",
                    k.id,
                    k.created_at.to_rfc3339(),
                    k.revoked_at
                        .map(|t| t.to_rfc3339())
                        .unwrap_or_else(|| "-".into()),
                    k.scopes.join(","),
                    k.business_units.join(","),
                    k.name
                );
            }
            Ok(())
        }
        ApiKeyCommand::Revoke { id } => {
            let key = keys::revoke(db.as_ref(), id.trim(), &operator())
                .await
                .with_context(|| format!("revoking API key {id}"))?;
            tracing::info!(id = %key.id, by = %operator(), "API key revoked");
            eprintln!(
                "API key {} ('{}') revoked; it stops working within {} s.",
                key.id,
                key.name,
                super::KEY_CACHE_TTL.as_secs()
            );
            Ok(())
        }
    };
    db.close().await;
    result
}
