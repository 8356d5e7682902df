//! Integration tests: the real service over HTTP, on SQLite and (when
//! `CASELOAD_TEST_POSTGRES_URL` is set) on PostgreSQL.

mod helpers;

mod audit;
mod auth;
mod bian;
mod concurrency;
mod contract;
mod criteria;
mod demo;
mod errors;
mod events;
mod facade;
mod hostile;
mod idempotency;
mod metrics;
mod performance;
mod persistence;
mod pg_restart;
mod plan_settings;
mod policy;
mod service;
mod slow_clients;
mod staffing;
mod workflow;
