//! Start-up and shutdown: connect the store, bind the listeners (the API's and, if asked
//! for, the metrics'), serve until told to stop, let in-flight requests finish, close the
//! store. While serving, expired idempotency keys are purged hourly. Connections are served
//! by [`crate::serve`], which bounds slow, idle and excess clients.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use caseload_domain::Timestamp;
use caseload_store::{ConnectOptions, Database};
use tokio::net::TcpListener;

use crate::api;
use crate::config::Settings;
use crate::metrics::HttpMetrics;

/// How often expired idempotency keys are purged.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// A bound, connected service, ready to serve.
pub struct Application {
    listener: TcpListener,
    db: Arc<dyn Database>,
    router: axum::Router,
    grace: Duration,
    limits: crate::serve::Limits,
    metrics: Option<(TcpListener, axum::Router)>,
}

/// Connects to the configured database and applies pending migrations.
pub async fn connect(settings: &Settings) -> anyhow::Result<Arc<dyn Database>> {
    let options = ConnectOptions {
        max_connections: settings.db_max_connections,
        acquire_timeout: Duration::from_secs(settings.db_acquire_timeout_secs),
    };
    caseload_store::connect(&settings.database_url, &options)
        .await
        .context("opening the database")
}

impl Application {
    /// Connects the database and binds the listen address (and the metrics address, if
    /// any).
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let db = connect(settings).await?;
        let auth = crate::auth::Auth::new(&settings.auth, db.clone()).await?;
        if !auth.enabled() {
            anyhow::ensure!(
                settings.listen.ip().is_loopback(),
                "authentication is off (development mode, nothing configured), so caseload \
                 serves loopback addresses only, not {}: configure authentication or listen \
                 on 127.0.0.1",
                settings.listen
            );
            tracing::warn!(
                "AUTHENTICATION IS OFF: development mode with no JWT keys and no API keys; every \
                 request acts with every scope on every business unit. Do not expose this \
                 service. Use --mode production, or create a key with `caseload apikey create`."
            );
        }
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("binding {}", settings.listen))?;
        let service = caseload_service::Service::new(db.clone());
        // Timelines behind their events (after an upgrade that rebuilds them) are folded in
        // the background, so that the first reads do not wait for them.
        let folding = service.clone();
        tokio::spawn(async move { folding.fold_pending().await });
        let state = api::AppState {
            db: db.clone(),
            body_timeout: settings.body_timeout(),
            service: service.clone(),
            auth,
            body_limit: settings.body_limit_bytes,
            idempotency_retention: settings.idempotency_retention,
        };
        let mut router = api::router(state, settings);
        let metrics = match settings.metrics_listen {
            None => None,
            Some(addr) => {
                let metrics = Arc::new(HttpMetrics::new().context("creating the metrics")?);
                // Outermost, so that every answer is counted, the framework's own included.
                router = router.layer(axum::middleware::from_fn_with_state(
                    metrics.clone(),
                    crate::metrics::track,
                ));
                let listener = TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("binding the metrics address {addr}"))?;
                Some((listener, metrics.router()))
            }
        };
        Ok(Self {
            listener,
            db,
            router,
            grace: Duration::from_secs(settings.shutdown_grace_secs),
            limits: settings.connection_limits(),
            metrics,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// The address the metrics listener actually bound, if there is one.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics
            .as_ref()
            .and_then(|(listener, _)| listener.local_addr().ok())
    }

    /// Serves until `shutdown` completes, then stops accepting, gives in-flight requests
    /// the grace period to finish, and closes the database.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let addr = self.local_addr();
        tracing::info!(%addr, backend = ?self.db.backend(), "caseload listening on http://{addr}");
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut grace_rx = stop_rx.clone();
        let purge = tokio::spawn(purge_idempotency_keys(self.db.clone()));
        let limits = self.limits;
        let metrics = self.metrics.map(|(listener, router)| {
            if let Ok(addr) = listener.local_addr() {
                tracing::info!(%addr, "metrics at http://{addr}/metrics");
            }
            // Served until the API has stopped, so that draining can be watched too.
            tokio::spawn(crate::serve::serve(
                listener,
                router,
                limits,
                std::future::pending(),
            ))
        });
        let serve = crate::serve::serve(self.listener, self.router, limits, async move {
            shutdown.await;
            let _ = stop_tx.send(true);
            tracing::info!("shutting down: finishing in-flight requests");
        });
        let grace = self.grace;
        tokio::select! {
            () = serve => {},
            () = async move {
                let _ = grace_rx.wait_for(|stopped| *stopped).await;
                tokio::time::sleep(grace).await;
            } => tracing::warn!("grace period over; dropping unfinished requests"),
        }
        drop(stop_rx);
        purge.abort();
        if let Some(metrics) = metrics {
            metrics.abort();
        }
        self.db.close().await;
        tracing::info!("caseload stopped");
        Ok(())
    }
}

/// Purges expired idempotency keys now and every [`PURGE_EVERY`], logging how many went.
async fn purge_idempotency_keys(db: Arc<dyn Database>) {
    let mut every = tokio::time::interval(PURGE_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match db.purge_expired(Timestamp::now()).await {
            Ok(purged) => tracing::info!(purged, "purged expired idempotency keys"),
            Err(err) => tracing::warn!(error = %err, "purging expired idempotency keys failed"),
        }
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
