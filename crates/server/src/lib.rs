//! caseload: the BIAN v12 Customer Case Management service.
//!
//! [`app::Application`] binds the listener and connects the database; [`api`] holds the
//! HTTP routes (the exact BIAN paths and the REST facade over the same operations);
//! [`demo`] fills a database with a plan and a generated case history; [`audit`] checks the
//! audit trail (`caseload audit verify`); [`metrics`] counts and times requests for
//! Prometheus.

pub mod api;
pub mod app;
pub mod audit;
pub mod auth;
pub mod config;
pub mod demo;
pub mod metrics;
pub mod serve;
pub mod telemetry;
