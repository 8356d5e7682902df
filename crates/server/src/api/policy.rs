//! What each route requires, declared once where its handler is registered.
//!
//! A [`Policy`] states the scope a caller needs (or that the route is public), whether the
//! route is an idempotent create (its POST honours `Idempotency-Key`), and its body limit.
//! Routes are registered in a [`RouteTable`] together with their policy:
//!
//! ```ignore
//! RouteTable::new().route(routes!(create_plan), Policy::write().idempotent_create())
//! ```
//!
//! and everything that depends on a route's rules reads that one declaration: the guard in
//! front of the handler ([`super::guard`]: authorization, the idempotency guard, the body
//! limit) captures the route's policy when the route is assembled, and the OpenAPI document's
//! security section and `Idempotency-Key` parameters are written from the [`PolicyTable`].
//! No rule is derived from the text of a path.

use axum::http::Method;
use axum::routing::MethodRouter;
use utoipa::openapi::OpenApi;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};

use super::AppState;
use crate::auth::scope::Scope;

/// How large a route's request body may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLimit {
    /// The service's configured limit (`--body-limit-bytes`).
    Service,
    /// This many bytes, whatever the service's limit.
    Bytes(usize),
}

impl BodyLimit {
    /// The limit in bytes, given the service's.
    pub fn bytes(self, service: usize) -> usize {
        match self {
            Self::Service => service,
            Self::Bytes(bytes) => bytes,
        }
    }
}

/// What a route requires of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// The scope a caller needs; `None` for a public route, which needs no credentials.
    pub scope: Option<Scope>,
    /// Whether the route's POST creates something and honours `Idempotency-Key`.
    pub idempotent_create: bool,
    /// The largest request body accepted.
    pub body_limit: BodyLimit,
}

impl Policy {
    const fn needs(scope: Option<Scope>) -> Self {
        Self {
            scope,
            idempotent_create: false,
            body_limit: BodyLimit::Service,
        }
    }

    /// Anyone may call, without credentials (the health checks).
    pub const fn public() -> Self {
        Self::needs(None)
    }

    /// Reading plans, records, requests, evaluations, figures and projections: `read`.
    pub const fn read() -> Self {
        Self::needs(Some(Scope::Read))
    }

    /// Creating and changing plans and records, evaluating and back-testing: `write`.
    pub const fn write() -> Self {
        Self::needs(Some(Scope::Write))
    }

    /// Raising intervention requests and moving them: `intervene`.
    pub const fn intervene() -> Self {
        Self::needs(Some(Scope::Intervene))
    }

    /// Sending case events: `ingest`.
    pub const fn ingest() -> Self {
        Self::needs(Some(Scope::Ingest))
    }

    /// The audit trail: `admin`.
    pub const fn admin() -> Self {
        Self::needs(Some(Scope::Admin))
    }

    /// The route's POST creates something, and a client may retry it safely with an
    /// `Idempotency-Key`.
    pub const fn idempotent_create(self) -> Self {
        Self {
            idempotent_create: true,
            ..self
        }
    }

    /// The route accepts bodies up to `bytes`, instead of the service's limit.
    pub const fn body_limit(self, bytes: usize) -> Self {
        Self {
            body_limit: BodyLimit::Bytes(bytes),
            ..self
        }
    }

    /// Whether the route needs no credentials.
    pub const fn is_public(&self) -> bool {
        self.scope.is_none()
    }
}

/// One operation's declared policy: its method, its route template (as routed and as in the
/// OpenAPI document) and its policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    /// The HTTP method.
    pub method: Method,
    /// The route template, e.g. `/customer-case-management/{id}`.
    pub path: String,
    /// What the operation requires.
    pub policy: Policy,
}

/// The policy of every operation of the service, in the order the routes were registered.
#[derive(Debug, Clone, Default)]
pub struct PolicyTable(Vec<Declared>);

impl PolicyTable {
    /// The policy of the operation `method` on the route template `path`, if there is one.
    pub fn get(&self, method: &Method, path: &str) -> Option<Policy> {
        self.0
            .iter()
            .find(|d| d.method == *method && d.path == path)
            .map(|d| d.policy)
    }

    /// Every operation with its policy.
    pub fn iter(&self) -> impl Iterator<Item = &Declared> {
        self.0.iter()
    }
}

/// The routes of the service, each registered together with its policy.
#[derive(Default)]
pub struct RouteTable {
    routes: Vec<(UtoipaMethodRouter<AppState>, Policy)>,
}

impl RouteTable {
    /// No routes yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the operations of `routes` (from utoipa-axum's `routes!`), all under
    /// `policy`.
    pub fn route(mut self, routes: UtoipaMethodRouter<AppState>, policy: Policy) -> Self {
        self.routes.push((routes, policy));
        self
    }

    /// Adds the routes of `other`, after these.
    pub fn merge(mut self, other: Self) -> Self {
        self.routes.extend(other.routes);
        self
    }

    /// The axum routes, each passed through `guard` with its policy; the OpenAPI document
    /// `openapi` with their operations added; and the policy of each operation.
    pub fn split_for_parts(
        self,
        openapi: OpenApi,
        guard: impl Fn(MethodRouter<AppState>, Policy) -> MethodRouter<AppState>,
    ) -> (axum::Router<AppState>, OpenApi, PolicyTable) {
        let mut policies = Vec::new();
        let mut router = OpenApiRouter::with_openapi(openapi);
        for ((schemas, paths, method_router), policy) in self.routes {
            for (path, item) in paths.paths.iter() {
                policies.extend(methods(item).map(|method| Declared {
                    method,
                    path: path.clone(),
                    policy,
                }));
            }
            router = router.routes((schemas, paths, guard(method_router, policy)));
        }
        let (routes, openapi) = router.split_for_parts();
        (routes, openapi, PolicyTable(policies))
    }
}

/// The methods `item` has an operation for.
fn methods(item: &PathItem) -> impl Iterator<Item = Method> + '_ {
    [
        (Method::GET, &item.get),
        (Method::PUT, &item.put),
        (Method::POST, &item.post),
        (Method::DELETE, &item.delete),
        (Method::OPTIONS, &item.options),
        (Method::HEAD, &item.head),
        (Method::PATCH, &item.patch),
        (Method::TRACE, &item.trace),
    ]
    .into_iter()
    .filter(|(_, operation)| operation.is_some())
    .map(|(method, _)| method)
}

/// The operation of `openapi` that `declared` describes.
pub fn operation_mut<'a>(
    openapi: &'a mut OpenApi,
    declared: &Declared,
) -> Option<&'a mut Operation> {
    let item = openapi.paths.paths.get_mut(&declared.path)?;
    let operation = match declared.method {
        Method::GET => &mut item.get,
        Method::PUT => &mut item.put,
        Method::POST => &mut item.post,
        Method::DELETE => &mut item.delete,
        Method::OPTIONS => &mut item.options,
        Method::HEAD => &mut item.head,
        Method::PATCH => &mut item.patch,
        Method::TRACE => &mut item.trace,
        _ => return None,
    };
    operation.as_mut()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> PolicyTable {
        super::super::openapi_router().0
    }

    fn declared(table: &PolicyTable, method: Method, path: &str) -> Policy {
        table
            .get(&method, path)
            .unwrap_or_else(|| panic!("{method} {path} has no declared policy"))
    }

    #[test]
    fn a_policy_is_built_from_its_scope_then_what_the_route_adds() {
        assert_eq!(
            Policy::write(),
            Policy {
                scope: Some(Scope::Write),
                idempotent_create: false,
                body_limit: BodyLimit::Service,
            }
        );
        let batch = Policy::ingest().idempotent_create().body_limit(5);
        assert_eq!(batch.scope, Some(Scope::Ingest));
        assert!(batch.idempotent_create && !batch.is_public());
        assert_eq!(batch.body_limit.bytes(1_000), 5);
        assert_eq!(BodyLimit::Service.bytes(1_000), 1_000);
        assert!(Policy::public().is_public());
    }

    #[test]
    fn each_kind_of_operation_needs_its_scope() {
        let table = table();
        let cases = [
            (
                Method::GET,
                "/customer-case-management/{id}",
                Some(Scope::Read),
            ),
            (Method::GET, "/audit", Some(Scope::Admin)),
            (Method::GET, "/health/ready", None),
            (
                Method::POST,
                "/CustomerCaseManagement/Create",
                Some(Scope::Write),
            ),
            (
                Method::PUT,
                "/CustomerCaseManagement/{customercasemanagementid}/Request",
                Some(Scope::Intervene),
            ),
            (
                Method::PATCH,
                "/customer-case-management/{id}/requests/{requestid}",
                Some(Scope::Intervene),
            ),
            (
                Method::POST,
                "/customer-case-management/{id}/rules/{rulesid}/requests",
                Some(Scope::Intervene),
            ),
            (
                Method::POST,
                "/customer-case-management/{id}/case-events",
                Some(Scope::Ingest),
            ),
            (
                Method::PUT,
                "/customer-case-management/{id}/performances/{performanceid}",
                Some(Scope::Write),
            ),
            (
                Method::POST,
                "/customer-case-management/{id}/rules/{rulesid}/evaluations",
                Some(Scope::Write),
            ),
        ];
        for (method, route, scope) in cases {
            assert_eq!(
                declared(&table, method.clone(), route).scope,
                scope,
                "{method} {route}"
            );
        }
    }

    #[test]
    fn reading_needs_read_and_only_the_health_checks_are_public() {
        for d in table().iter() {
            let expected = if d.path.starts_with("/health") {
                None
            } else if d.path == "/audit" {
                Some(Scope::Admin)
            } else if d.method == Method::GET {
                Some(Scope::Read)
            } else {
                continue;
            };
            assert_eq!(d.policy.scope, expected, "{} {}", d.method, d.path);
        }
    }

    #[test]
    fn every_post_that_creates_is_an_idempotent_create() {
        let mut creates: Vec<(Method, &str)> = [
            "/CustomerCaseManagement/Create",
            "/customer-case-management",
            "/customer-case-management/{id}/requests",
            "/customer-case-management/{id}/rules/{rulesid}/requests",
            "/customer-case-management/{id}/performances/{performanceid}/requests",
            "/customer-case-management/{id}/case-events",
            "/customer-case-management/{id}/rules/{rulesid}/evaluations",
            "/customer-case-management/{id}/rules/{rulesid}/backtests",
        ]
        .into_iter()
        .map(|path| (Method::POST, path))
        .collect();
        let table = table();
        let mut idempotent: Vec<(Method, &str)> = table
            .iter()
            .filter(|d| d.policy.idempotent_create)
            .map(|d| (d.method.clone(), d.path.as_str()))
            .collect();
        creates.sort_by_key(|(_, path)| *path);
        idempotent.sort_by_key(|(_, path)| *path);
        assert_eq!(idempotent, creates);
        // The one POST that is not: evaluating a case against a plan's criteria records
        // nothing.
        let other_posts: Vec<&str> = table
            .iter()
            .filter(|d| d.method == Method::POST && !d.policy.idempotent_create)
            .map(|d| d.path.as_str())
            .collect();
        assert_eq!(other_posts, ["/customer-case-management/{id}/evaluations"]);
    }

    #[test]
    fn only_the_ingest_route_takes_a_batch_sized_body() {
        for d in table().iter() {
            let expected = if d.path == "/customer-case-management/{id}/case-events" {
                // 10,000 events of up to about 1.6 KB each, as the operation documents.
                BodyLimit::Bytes(16 * 1024 * 1024)
            } else {
                BodyLimit::Service
            };
            assert_eq!(d.policy.body_limit, expected, "{} {}", d.method, d.path);
        }
    }

    #[test]
    fn every_operation_of_the_document_has_exactly_one_declared_policy() {
        let (table, doc) = super::super::openapi_router();
        let mut documented = 0;
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("operations").keys() {
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
                let found = table
                    .iter()
                    .filter(|d| d.method == method && d.path == *path)
                    .count();
                assert_eq!(found, 1, "{method} {path}");
                documented += 1;
            }
        }
        assert_eq!(
            documented,
            table.iter().count(),
            "every declared route is documented"
        );
    }
}
