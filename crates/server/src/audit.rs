//! `caseload audit verify`: checks every hash chain of the configured database's audit trail.

use caseload_store::AuditVerification;
use caseload_store::audit::SERVICE_CHAIN;

use crate::app;
use crate::config::Settings;

/// Opens the configured database (applying pending migrations, as every command does) and
/// checks the audit trail.
pub async fn verify(settings: &Settings) -> anyhow::Result<AuditVerification> {
    let db = app::connect(settings).await?;
    let verdict = db.verify_audit().await;
    db.close().await;
    Ok(verdict?)
}

/// One line for a person: what was checked, and OK or where the first break is.
pub fn summary(verdict: &AuditVerification) -> String {
    let checked = format!(
        "{} chain{}, {} record{}",
        verdict.chains,
        if verdict.chains == 1 { "" } else { "s" },
        verdict.records,
        if verdict.records == 1 { "" } else { "s" },
    );
    match &verdict.first_break {
        None => format!("audit trail OK: {checked} verified"),
        Some(broken) => {
            let chain = if broken.chain == SERVICE_CHAIN {
                "service".to_owned()
            } else {
                format!("plan {}", broken.chain)
            };
            format!(
                "audit trail BROKEN: first break in chain {chain} at seq {}: {} ({checked} checked)",
                broken.seq, broken.reason
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use caseload_store::ChainBreak;

    use super::*;

    #[test]
    fn the_summary_says_ok_or_names_the_first_break() {
        let mut verdict = AuditVerification {
            chains: 2,
            records: 1,
            first_break: None,
        };
        assert_eq!(
            summary(&verdict),
            "audit trail OK: 2 chains, 1 record verified"
        );
        verdict.first_break = Some(ChainBreak {
            chain: String::new(),
            seq: 7,
            reason: "its hash does not match its content".into(),
        });
        assert_eq!(
            summary(&verdict),
            "audit trail BROKEN: first break in chain service at seq 7: its hash does not match \
             its content (2 chains, 1 record checked)"
        );
    }
}
