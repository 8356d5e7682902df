//! Test harness: starts the real service on a free port against a fresh database (a
//! temporary SQLite file, or a new PostgreSQL database that is dropped afterwards) and talks
//! to it over HTTP.

use std::net::SocketAddr;
use std::path::PathBuf;

use caseload::app::Application;
use caseload::config::Settings;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use sqlx::Connection as _;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server to create test databases on, if configured. When
/// `CASELOAD_REQUIRE_POSTGRES` is set (as `.ci/run` does), a missing URL fails the test
/// instead of skipping it.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("CASELOAD_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os("CASELOAD_REQUIRE_POSTGRES").is_none(),
                "CASELOAD_REQUIRE_POSTGRES is set but CASELOAD_TEST_POSTGRES_URL is not"
            );
            None
        }
    }
}

/// A database of one test, removed when dropped (also when the test panics).
pub enum TestDb {
    Sqlite { dir: tempfile::TempDir },
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    pub async fn create(backend: Backend) -> Option<Self> {
        Some(match backend {
            Backend::Sqlite => Self::Sqlite {
                dir: tempfile::tempdir().expect("temp dir"),
            },
            Backend::Postgres => {
                let admin_url = postgres_admin_url()?;
                let name = format!("caseload_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = sqlx::PgConnection::connect(&admin_url)
                    .await
                    .expect("connect to PostgreSQL");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                Self::Postgres { admin_url, name }
            }
        })
    }

    pub fn url(&self) -> String {
        match self {
            Self::Sqlite { dir } => format!("sqlite://{}", self.sqlite_path(dir).display()),
            Self::Postgres { admin_url, name } => {
                let mut url = url::Url::parse(admin_url).expect("postgres url");
                url.set_path(name);
                url.to_string()
            }
        }
    }

    fn sqlite_path(&self, dir: &tempfile::TempDir) -> PathBuf {
        dir.path().join("caseload.db")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Self::Postgres { admin_url, name } = self {
            let (admin_url, db_name) = (admin_url.clone(), name.clone());
            // Drop may run inside the test's runtime; use a runtime of our own on a thread.
            let dropped = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async {
                    let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
                    sqlx::query(&format!("DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"))
                        .execute(&mut admin)
                        .await?;
                    admin.close().await
                })
            })
            .join();
            if !matches!(dropped, Ok(Ok(()))) {
                eprintln!("could not drop test database {name}");
            }
        }
    }
}

/// A running service.
pub struct TestApp {
    pub addr: SocketAddr,
    /// The metrics listener's address, when the settings asked for one.
    pub metrics_addr: Option<SocketAddr>,
    pub client: reqwest::Client,
    pub backend: Backend,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
    db: Option<TestDb>,
    configure: fn(&mut Settings),
}

/// A response, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn etag(&self) -> &str {
        self.header("etag").expect("ETag header")
    }

    /// Asserts an error in the BIAN `HTTPError` shape with this status; returns the message.
    pub fn assert_error(&self, status: u16) -> String {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        let obj = self
            .body
            .as_object()
            .unwrap_or_else(|| panic!("HTTPError body expected, got {}", self.text));
        assert_eq!(
            obj.len(),
            3,
            "HTTPError has exactly three properties: {}",
            self.text
        );
        assert_eq!(obj["status_code"], Value::String(status.to_string()));
        assert!(obj["status"].as_str().is_some_and(|s| !s.is_empty()));
        obj["message"].as_str().expect("message").to_owned()
    }
}

impl TestApp {
    /// Starts the service on a fresh database; `None` when the backend is not configured.
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Starts the service on a fresh database with settings changed by `configure`; a
    /// restart or another instance keeps them.
    pub async fn spawn_with(backend: Backend, configure: fn(&mut Settings)) -> Option<Self> {
        let db = TestDb::create(backend).await?;
        Some(Self::start(backend, db, configure).await)
    }

    /// Starts the service on a database the test manages itself (its own PostgreSQL
    /// cluster, say); the database outlives the service.
    pub async fn on_database(backend: Backend, url: &str, configure: fn(&mut Settings)) -> Self {
        Self::serve(backend, url, configure).await
    }

    /// A second, independent instance of the service on the same database, as a
    /// horizontally scaled deployment would run it.
    pub async fn another_instance(&self) -> Self {
        self.another_instance_with(self.configure).await
    }

    /// Another instance on the same database, with some settings changed.
    pub async fn another_instance_with(&self, configure: fn(&mut Settings)) -> Self {
        let url = self.db.as_ref().expect("database").url();
        let mut app = Self::serve(self.backend, &url, configure).await;
        app.db = None;
        app
    }

    async fn start(backend: Backend, db: TestDb, configure: fn(&mut Settings)) -> Self {
        let mut app = Self::serve(backend, &db.url(), configure).await;
        app.db = Some(db);
        app
    }

    /// The settings the test service runs with.
    pub fn settings(url: &str, configure: fn(&mut Settings)) -> Settings {
        let mut settings = Settings::for_database(url);
        settings.db_max_connections = 8;
        settings.body_timeout_secs = 2;
        configure(&mut settings);
        settings
    }

    async fn serve(backend: Backend, url: &str, configure: fn(&mut Settings)) -> Self {
        let settings = Self::settings(url, configure);
        let app = Application::build(&settings).await.expect("service starts");
        let addr = app.local_addr();
        let metrics_addr = app.metrics_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        Self {
            addr,
            metrics_addr,
            client: reqwest::Client::new(),
            backend,
            stop: Some(stop),
            task: Some(task),
            db: None,
            configure,
        }
    }

    /// Stops the service gracefully, keeping its database.
    pub async fn stop(mut self) -> TestDb {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .expect("server task")
                .expect("server stops cleanly");
        }
        self.db.take().expect("database")
    }

    /// Stops the service and starts a new one on the same database.
    pub async fn restart(self) -> Self {
        let (backend, configure) = (self.backend, self.configure);
        let db = self.stop().await;
        Self::start(backend, db, configure).await
    }

    /// The URL of the service's database.
    pub fn database_url(&self) -> String {
        self.db.as_ref().expect("database").url()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = self.client.request(method, self.url(path));
        if let Some(body) = body {
            req = req.json(body);
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        read(req.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(Method::POST, path, Some(body), &[]).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Reply {
        self.send(Method::PUT, path, Some(body), &[]).await
    }

    /// Sends raw bytes with a content type.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Reply {
        let mut req = self.client.request(method, self.url(path)).body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        read(req.send().await.expect("request sent")).await
    }

    /// Creates a plan through BIAN Create; returns its id.
    pub async fn create_plan(&self, body: &Value) -> String {
        let reply = self.post("/CustomerCaseManagement/Create", body).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        reply.body["CustomerCaseManagementId"]
            .as_str()
            .expect("id")
            .to_owned()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub async fn read(resp: reqwest::Response) -> Reply {
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
        text,
    }
}

/// Runs a test body on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($(async fn $name:ident($app:ident: TestApp) $body:block)*) => {
        $crate::on_both_backends!(settings = |_| {}; $(async fn $name($app: TestApp) $body)*);
    };
    (settings = $configure:expr; $(async fn $name:ident($app:ident: TestApp) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($app: $crate::helpers::TestApp) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let app = $crate::helpers::TestApp::spawn_with($crate::helpers::Backend::Sqlite, $configure).await.expect("sqlite");
                    run(app).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    match $crate::helpers::TestApp::spawn_with($crate::helpers::Backend::Postgres, $configure).await {
                        Some(app) => run(app).await,
                        None => eprintln!("skipped: CASELOAD_TEST_POSTGRES_URL is not set"),
                    }
                }
            }
        )*
    };
}
