//! Who is calling, and what they may do.
//!
//! - **Authentication**: `Authorization: Bearer <JWT>` ([`jwt`]) or `X-API-Key: <key>`
//!   ([`keys`]). Missing or invalid credentials are a 401 with `WWW-Authenticate`.
//! - **Scopes** ([`scope`]): each operation needs one (`read`, `write`, `intervene`,
//!   `ingest`, `admin`), declared where its route is registered (`crate::api::policy`); a
//!   principal without it gets 403.
//! - **Business units**: every plan belongs to one; a principal reaches only the plans of its
//!   units and everything under them. Another unit's plan is a 404 worded exactly as for a
//!   plan that does not exist.
//! - **Rate limits**: per principal (never per client-supplied header); over the limit is a
//!   429 with `Retry-After`.
//!
//! In development mode with nothing configured (no token keys, no API keys), authentication
//! is off: every request acts as the development principal with every scope and unit, the
//! service listens on loopback addresses only, and says so loudly at start.

pub mod cli;
pub mod jwt;
pub mod keys;
pub mod scope;
pub mod settings;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use caseload_domain::PlanId;
use caseload_store::{Database, StoreError};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use moka::future::Cache;

pub use scope::{Scope, Scopes};
pub use settings::{AuthSettings, Mode};

use crate::api::error::ApiError;

/// The business units a principal reaches.
pub type BusinessUnits = caseload_store::BusinessUnits;

pub use caseload_service::{DEFAULT_UNIT, valid_unit};

/// The units named: `*` among them means all; names that cannot be units are ignored.
pub fn units_from_names(names: &[String]) -> BusinessUnits {
    if names.iter().any(|n| n == "*") {
        BusinessUnits::All
    } else {
        BusinessUnits::Only(names.iter().filter(|n| valid_unit(n)).cloned().collect())
    }
}

/// Who is calling: an authenticated subject with its scopes and business units. The
/// service's caller, under the name the HTTP layer has always used.
pub use caseload_service::Caller as Principal;

/// Why a request is not let through.
#[derive(Debug)]
pub enum AuthError {
    /// No credentials (401).
    Missing,
    /// Credentials that do not verify (401); the reason is for the caller.
    Invalid(&'static str),
    /// Credentials that could not be checked because the store failed: 503 with
    /// `Retry-After` when the database is away, else 500 (never a 401, which would tell a
    /// client with a good key that its key is bad).
    Unchecked(StoreError),
}

impl AuthError {
    pub(crate) fn invalid(reason: &'static str) -> Self {
        Self::Invalid(reason)
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let (message, challenge) = match self {
            Self::Unchecked(err) => return ApiError::from(err).into_response(),
            Self::Missing => (
                "authentication required: send Authorization: Bearer <token> or X-API-Key"
                    .to_owned(),
                r#"Bearer realm="caseload""#,
            ),
            Self::Invalid(reason) => (
                format!("invalid credentials: {reason}"),
                r#"Bearer realm="caseload", error="invalid_token""#,
            ),
        };
        let mut response = ApiError::new(StatusCode::UNAUTHORIZED, message).into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(challenge),
        );
        response
    }
}

/// A verified API key, kept briefly so that a burst of requests does not look the key up
/// each time; a revocation takes effect within [`KEY_CACHE_TTL`].
#[derive(Clone)]
struct CachedKey {
    secret_hash: Vec<u8>,
    principal: Principal,
}

/// How long a looked-up API key is trusted before it is read again.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(5);

/// The authentication and authorization state of the service.
#[derive(Clone)]
pub struct Auth {
    inner: Arc<Inner>,
}

struct Inner {
    /// Off only in development mode with nothing configured.
    enabled: bool,
    jwt: Option<jwt::JwtVerifier>,
    db: Arc<dyn Database>,
    keys: Cache<String, Option<CachedKey>>,
    /// The business unit of each plan (fixed at creation), so checks need no query.
    plan_units: Cache<PlanId, String>,
    limiter: Option<(DefaultKeyedRateLimiter<String>, DefaultClock)>,
}

impl Auth {
    /// Sets up authentication from the settings; refuses what production mode does not
    /// allow (see [`AuthSettings::check`]).
    pub async fn new(settings: &AuthSettings, db: Arc<dyn Database>) -> anyhow::Result<Self> {
        let jwt = settings.verifier()?;
        let active_keys = db
            .api_keys()
            .await?
            .iter()
            .filter(|k| k.revoked_at.is_none())
            .count();
        let enabled = jwt.is_some() || active_keys > 0 || settings.mode == Mode::Production;
        if settings.mode == Mode::Production && jwt.is_none() && active_keys == 0 {
            anyhow::bail!(
                "production mode needs authentication: configure JWT verification \
                 (--jwt-hs256-secret or --jwt-public-key-file, with --jwt-issuer and \
                 --jwt-audience) or create an API key with `caseload apikey create`"
            );
        }
        let limiter = settings.rate_limit()?.map(|(rate, burst)| {
            let quota = Quota::per_second(rate).allow_burst(burst);
            (RateLimiter::keyed(quota), DefaultClock::default())
        });
        Ok(Self {
            inner: Arc::new(Inner {
                enabled,
                jwt,
                db,
                keys: Cache::builder()
                    .max_capacity(10_000)
                    .time_to_live(KEY_CACHE_TTL)
                    .build(),
                plan_units: Cache::builder().max_capacity(100_000).build(),
                limiter,
            }),
        })
    }

    /// Whether requests must authenticate.
    pub fn enabled(&self) -> bool {
        self.inner.enabled
    }

    /// The principal of a request's credentials.
    pub async fn authenticate(
        &self,
        headers: &axum::http::HeaderMap,
    ) -> Result<Principal, AuthError> {
        if !self.inner.enabled {
            return Ok(Principal::development());
        }
        if let Some(value) = headers.get(header::AUTHORIZATION) {
            let text = value
                .to_str()
                .map_err(|_| AuthError::invalid("unreadable Authorization header"))?;
            let (scheme, token) = text
                .split_once(' ')
                .ok_or(AuthError::invalid("Authorization must be: Bearer <token>"))?;
            if !scheme.eq_ignore_ascii_case("bearer") {
                return Err(AuthError::invalid("Authorization must be: Bearer <token>"));
            }
            let verifier = self
                .inner
                .jwt
                .as_ref()
                .ok_or(AuthError::invalid("bearer tokens are not accepted here"))?;
            return verifier.verify(token.trim());
        }
        if let Some(value) = headers.get("x-api-key") {
            let text = value
                .to_str()
                .map_err(|_| AuthError::invalid("unknown API key"))?;
            return self.api_key(text.trim()).await;
        }
        Err(AuthError::Missing)
    }

    async fn api_key(&self, presented: &str) -> Result<Principal, AuthError> {
        let unknown = AuthError::invalid("unknown or revoked API key");
        let key = keys::parse(presented).ok_or(AuthError::invalid("unknown or revoked API key"))?;
        let db = Arc::clone(&self.inner.db);
        let id = key.id.to_owned();
        let cached =
            self.inner
                .keys
                .try_get_with(id.clone(), async move {
                    let stored = db.api_key(&id).await?;
                    Ok::<_, StoreError>(stored.filter(|k| k.revoked_at.is_none()).map(|k| {
                        CachedKey {
                            principal: keys::principal(&k),
                            secret_hash: k.secret_hash,
                        }
                    }))
                })
                .await
                .map_err(|e| {
                    tracing::warn!(error = %e, "looking up an API key failed");
                    AuthError::Unchecked(e.copied())
                })?;
        match cached {
            Some(k) if keys::matches(key.secret, &k.secret_hash) => Ok(k.principal),
            _ => Err(unknown),
        }
    }

    /// Whether `principal` reaches `plan`; a plan it does not reach is not found, worded as
    /// for a plan that does not exist.
    pub async fn check_plan(&self, principal: &Principal, plan: PlanId) -> Result<(), ApiError> {
        if principal.units == BusinessUnits::All {
            return Ok(());
        }
        let db = Arc::clone(&self.inner.db);
        let unit = self
            .inner
            .plan_units
            .try_get_with(plan, async move { db.plan_business_unit(plan).await })
            .await
            .map_err(|e| e.copied())?;
        if principal.units.contains(&unit) {
            Ok(())
        } else {
            Err(StoreError::plan_not_found(plan).into())
        }
    }

    /// Takes one request from the principal's allowance; when it is used up, how long until
    /// the next request may come.
    fn throttle(&self, principal: &Principal) -> Result<(), Duration> {
        let Some((limiter, clock)) = &self.inner.limiter else {
            return Ok(());
        };
        limiter
            .check_key(&principal.subject)
            .map_err(|not_until| not_until.wait_time_from(clock.now()))
    }
}

/// The rate limit in force: requests per second and burst, per principal.
pub fn quota(rate: u32, burst: u32) -> Option<(NonZeroU32, NonZeroU32)> {
    Some((NonZeroU32::new(rate)?, NonZeroU32::new(burst.max(rate))?))
}

/// Lets a request through to its route only with credentials that verify, the scope
/// `needed` (declared by the route, see `crate::api::policy`), access to the plan in its path,
/// and allowance left; puts the [`Principal`] into the request for the handlers (and the
/// idempotency guard). A request not let through is answered here.
pub async fn authorize(auth: &Auth, needed: Scope, mut req: Request) -> Result<Request, Response> {
    let principal = auth
        .authenticate(req.headers())
        .await
        .map_err(IntoResponse::into_response)?;
    if !principal.scopes.allow(needed) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("this operation needs the '{needed}' scope"),
        )
        .into_response());
    }
    if let Err(wait) = auth.throttle(&principal) {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let mut response = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("rate limit reached; retry in {seconds} s"),
        )
        .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        return Err(response);
    }
    if principal.units != BusinessUnits::All {
        let (mut parts, body) = req.into_parts();
        if let Some(plan) = plan_in_path(&mut parts).await
            && let Err(e) = auth.check_plan(&principal, plan).await
        {
            return Err(e.into_response());
        }
        req = Request::from_parts(parts, body);
    }
    tracing::Span::current().record("principal", principal.subject.as_str());
    req.extensions_mut().insert(principal);
    Ok(req)
}

/// The plan id in a request's path, if its route has one and it is well formed (a malformed
/// one is left to the handler, which answers 404).
async fn plan_in_path(parts: &mut Parts) -> Option<PlanId> {
    let params = RawPathParams::from_request_parts(parts, &()).await.ok()?;
    params
        .iter()
        .find(|(name, _)| matches!(*name, "id" | "customercasemanagementid"))
        .and_then(|(_, value)| PlanId::parse(value).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_that_could_not_be_checked_is_not_called_bad() {
        let away = AuthError::Unchecked(StoreError::Unavailable("connection refused".into()));
        let response = away.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().contains_key(header::RETRY_AFTER));
        assert!(!response.headers().contains_key(header::WWW_AUTHENTICATE));
        let broken = AuthError::Unchecked(StoreError::Internal("disk".into()));
        assert_eq!(
            broken.into_response().status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        let bad = AuthError::invalid("unknown or revoked API key").into_response();
        assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    }
}
