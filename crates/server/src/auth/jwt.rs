//! Bearer tokens: JWTs signed with HS256 (a shared secret) or RS256/ES256 (the identity
//! provider's public key), with `exp`, `iss`, `aud` and `sub` required and checked. The
//! algorithm comes from the configured key, never from the token: a token that names another
//! algorithm (including `none`) is refused.

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;

use super::{AuthError, Principal, Scopes};

/// Verifies tokens against the configured keys.
pub struct JwtVerifier {
    keys: Vec<(Algorithm, DecodingKey)>,
    issuer: String,
    audience: String,
}

/// The claims read from a token beyond the registered ones.
#[derive(Deserialize)]
struct Claims {
    sub: String,
    /// Space-separated scopes (OAuth 2.0 `scope`).
    #[serde(default)]
    scope: String,
    /// Business units the subject may reach; `*` for all.
    #[serde(default)]
    business_units: Vec<String>,
}

impl JwtVerifier {
    /// A verifier for an HS256 `secret` and/or a PEM public key (RSA for RS256, EC P-256 for
    /// ES256); `issuer` and `audience` are what tokens must carry.
    pub fn new(
        secret: Option<&str>,
        public_key_pem: Option<&[u8]>,
        issuer: String,
        audience: String,
    ) -> Result<Self, String> {
        let mut keys = Vec::new();
        if let Some(secret) = secret {
            if secret.len() < 32 {
                return Err("the HS256 secret must be at least 32 bytes".into());
            }
            keys.push((
                Algorithm::HS256,
                DecodingKey::from_secret(secret.as_bytes()),
            ));
        }
        if let Some(pem) = public_key_pem {
            if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
                keys.push((Algorithm::RS256, key));
            } else if let Ok(key) = DecodingKey::from_ec_pem(pem) {
                keys.push((Algorithm::ES256, key));
            } else {
                return Err("the public key is neither an RSA nor an EC key in PEM".into());
            }
        }
        if keys.is_empty() {
            return Err("no key to verify tokens with".into());
        }
        if issuer.is_empty() || audience.is_empty() {
            return Err("tokens need an issuer and an audience to be checked against".into());
        }
        Ok(Self {
            keys,
            issuer,
            audience,
        })
    }

    /// The principal a token stands for, or why it is refused.
    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let header = decode_header(token).map_err(|_| AuthError::invalid("malformed token"))?;
        let (alg, key) = self
            .keys
            .iter()
            .find(|(alg, _)| *alg == header.alg)
            .ok_or_else(|| AuthError::invalid("token signed with an algorithm not accepted"))?;
        let mut validation = Validation::new(*alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        let data = decode::<Claims>(token, key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            AuthError::invalid(match e.kind() {
                ErrorKind::ExpiredSignature => "token expired",
                ErrorKind::InvalidIssuer => "token from another issuer",
                ErrorKind::InvalidAudience => "token for another audience",
                ErrorKind::InvalidSignature => "token signature does not verify",
                ErrorKind::MissingRequiredClaim(_) => "token lacks a required claim",
                _ => "invalid token",
            })
        })?;
        let claims = data.claims;
        if claims.sub.is_empty() || claims.sub.len() > 256 {
            return Err(AuthError::invalid("token subject is empty or too long"));
        }
        Ok(Principal {
            subject: format!("jwt:{}", claims.sub),
            scopes: Scopes::parse(&claims.scope),
            units: super::units_from_names(&claims.business_units),
        })
    }
}
