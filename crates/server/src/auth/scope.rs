//! Scopes: what a principal may do, and which one each operation needs.

use axum::http::Method;

pub use caseload_service::{Scope, Scopes};

/// The scope an operation needs, from its method and route template; `None` for the public
/// routes (health checks). Rules, in order:
///
/// - the audit trail: `admin`;
/// - reading (GET, HEAD): `read`;
/// - sending case events: `ingest`;
/// - intervention requests (the facade's `/requests`, the BIAN `Request` operations):
///   `intervene`;
/// - every other change: `write`.
pub fn required(method: &Method, route: &str) -> Option<Scope> {
    if route.starts_with("/health") {
        return None;
    }
    if route == "/audit" || route.starts_with("/audit/") {
        return Some(Scope::Admin);
    }
    if *method == Method::GET || *method == Method::HEAD {
        return Some(Scope::Read);
    }
    if route.ends_with("/case-events") {
        return Some(Scope::Ingest);
    }
    if route.contains("/requests") || route.ends_with("/Request") {
        return Some(Scope::Intervene);
    }
    Some(Scope::Write)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_allows_everything_and_others_only_themselves() {
        let admin = Scopes::parse("admin");
        assert!(Scope::ALL.into_iter().all(|s| admin.allow(s)));
        let read = Scopes::parse("read other:scope caseload:ingest");
        assert!(read.allow(Scope::Read) && read.allow(Scope::Ingest));
        assert!(!read.allow(Scope::Write) && !read.allow(Scope::Admin));
        assert_eq!(read.names(), ["read", "ingest"]);
        assert!(!Scopes::default().allow(Scope::Read));
    }

    #[test]
    fn each_kind_of_operation_needs_its_scope() {
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
            assert_eq!(required(&method, route), scope, "{method} {route}");
        }
    }
}
