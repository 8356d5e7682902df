//! The baseline for `bench/load.sh`: a bare axum + tokio server with no database, no
//! middleware and no validation, so the benchmark can show what share of the raw HTTP
//! stack's throughput `caseload` keeps.
//!
//! `GET /fixed` answers a fixed JSON body about the size of a plan retrieve;
//! `POST /echo` parses the JSON request body and serializes it back.
//!
//! Usage: `cargo run --release --example baseline -- [LISTEN_ADDR]` (default `127.0.0.1:8090`).

use axum::Json;
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};

/// A fixed body of about 250 bytes, shaped like a plan retrieve.
const FIXED_BODY: &str = r#"{"CustomerCaseManagementPlan":{"CustomerCaseManagementId":"0194f3a2-7c1e-7d2b-9a4f-3e8c5b6d7a10","CustomerCaseTrainingPlan":"x","CustomerCaseProcedureSchedule":"weekly review","CustomerCaseRegulationSchedule":"quarterly","CustomerCaseAnalysisReport":"none"}}"#;

async fn fixed() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], FIXED_BODY)
}

async fn echo(Json(body): Json<serde_json::Value>) -> Json<serde_json::Value> {
    Json(body)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let listen = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8090".to_owned());
    let app = Router::new()
        .route("/fixed", get(fixed))
        .route("/echo", post(echo));
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    eprintln!("baseline listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
