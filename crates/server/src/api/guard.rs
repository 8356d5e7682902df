//! The guard in front of each route, built from the route's [`Policy`] when the routes are
//! assembled: the route's body limit; for a route that is not public, authentication, the
//! scope it needs, the plan in its path, and the rate limit ([`crate::auth::authorize`]); for
//! an idempotent create, the `Idempotency-Key` guard ([`super::idempotency::guard`]). A public
//! route with the service's body limit gets no layer at all.

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::Response;
use axum::routing::MethodRouter;

use super::AppState;
use super::idempotency;
use super::policy::{BodyLimit, Policy};

/// `routes` behind the guard of `policy`.
pub fn layer(
    routes: MethodRouter<AppState>,
    policy: Policy,
    state: &AppState,
) -> MethodRouter<AppState> {
    let routes = match policy.body_limit {
        BodyLimit::Service => routes,
        BodyLimit::Bytes(bytes) => routes.route_layer(DefaultBodyLimit::max(bytes)),
    };
    if policy.is_public() && !policy.idempotent_create {
        return routes;
    }
    let guarded = Guarded {
        state: state.clone(),
        policy,
    };
    routes.route_layer(from_fn_with_state(guarded, guard))
}

/// What the guard of one route holds: the service's state and the route's policy.
#[derive(Clone)]
struct Guarded {
    state: AppState,
    policy: Policy,
}

/// One layer for authorization and idempotency, as each layer costs every request.
async fn guard(
    State(Guarded { state, policy }): State<Guarded>,
    req: Request,
    next: Next,
) -> Response {
    let req = match policy.scope {
        Some(scope) => match crate::auth::authorize(&state.auth, scope, req).await {
            Ok(req) => req,
            Err(refused) => return refused,
        },
        None => req,
    };
    if policy.idempotent_create {
        let limit = policy.body_limit.bytes(state.body_limit);
        idempotency::guard(state, limit, req, next).await
    } else {
        next.run(req).await
    }
}
