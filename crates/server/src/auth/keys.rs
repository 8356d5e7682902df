//! API keys: `cl_<id>_<secret>`, where the id (12 hex digits) finds the key and the secret (32
//! random bytes, base64url) proves it. Only SHA-256 of the secret is stored; a key is shown
//! once, when it is created.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use caseload_domain::Timestamp;
use caseload_store::{ApiKey, Database, StoreError};
use sha2::{Digest as _, Sha256};

use super::{Principal, Scope, Scopes};

const PREFIX: &str = "cl_";

/// A key's parts, as presented.
pub struct Presented<'a> {
    /// The key's id.
    pub id: &'a str,
    /// Its secret.
    pub secret: &'a str,
}

/// Splits a presented key; `None` when it cannot be one of ours.
pub fn parse(key: &str) -> Option<Presented<'_>> {
    let rest = key.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit()) && secret.len() == 43)
        .then_some(Presented { id, secret })
}

/// SHA-256 of a secret.
pub fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Whether `secret` is the one whose hash is stored, compared in constant time.
pub fn matches(secret: &str, stored: &[u8]) -> bool {
    let given = hash(secret);
    given.len() == stored.len()
        && given
            .iter()
            .zip(stored)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// The principal of a stored, unrevoked key.
pub fn principal(key: &ApiKey) -> Principal {
    Principal {
        subject: format!("key:{}", key.id),
        scopes: Scopes::parse(&key.scopes.join(" ")),
        units: super::units_from_names(&key.business_units),
    }
}

/// Creates a key and returns it (the only time its secret is seen) with what was stored.
pub async fn create(
    db: &dyn Database,
    name: &str,
    scopes: &[Scope],
    business_units: &[String],
    created_by: &str,
) -> anyhow::Result<(String, ApiKey)> {
    anyhow::ensure!(!name.trim().is_empty(), "a key needs a name");
    anyhow::ensure!(!scopes.is_empty(), "a key needs at least one scope");
    anyhow::ensure!(
        !business_units.is_empty(),
        "a key needs at least one business unit (or * for all)"
    );
    for unit in business_units {
        anyhow::ensure!(
            unit == "*" || super::valid_unit(unit),
            "'{unit}' is not a business unit name (1 to 64 of A-Z a-z 0-9 . _ -)"
        );
    }
    let mut id = [0u8; 6];
    let mut secret = [0u8; 32];
    getrandom::fill(&mut id).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let id: String = id.iter().map(|b| format!("{b:02x}")).collect();
    let secret = URL_SAFE_NO_PAD.encode(secret);
    let stored = ApiKey {
        id: id.clone(),
        name: name.trim().to_owned(),
        secret_hash: hash(&secret),
        scopes: scopes.iter().map(|s| s.as_str().to_owned()).collect(),
        business_units: business_units.to_vec(),
        created_at: Timestamp::now(),
        created_by: created_by.to_owned(),
        revoked_at: None,
    };
    db.create_api_key(stored.clone()).await?;
    Ok((format!("{PREFIX}{id}_{secret}"), stored))
}

/// Revokes a key by id on behalf of `actor`.
pub async fn revoke(db: &dyn Database, id: &str, actor: &str) -> Result<ApiKey, StoreError> {
    db.revoke_api_key(id, actor.to_owned()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_only_in_their_own_shape() {
        let secret = "a".repeat(43);
        let key = format!("cl_0123456789ab_{secret}");
        let parsed = parse(&key).expect("a key");
        assert_eq!(
            (parsed.id, parsed.secret),
            ("0123456789ab", secret.as_str())
        );
        for bad in [
            "",
            "cl_",
            "cl_0123456789ab",
            "xx_0123456789ab_aaaa",
            "cl_0123456789zz_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn only_the_right_secret_matches() {
        let stored = hash("right");
        assert!(matches("right", &stored));
        assert!(!matches("wrong", &stored));
        assert!(!matches("right", &stored[..16]));
    }
}
