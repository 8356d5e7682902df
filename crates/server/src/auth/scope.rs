//! Scopes: what a principal may do. Which one each operation needs is declared where its
//! route is registered (`crate::api::policy`).

pub use caseload_service::{Scope, Scopes};

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
}
