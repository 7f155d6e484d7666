//! A web API over Cosmos DB with axum: orders created, read, replaced under `If-Match` and
//! patched over HTTP, with Cosmos DB's ETags as HTTP ETags, so that a client's stale write
//! answers 412 (and one without `If-Match` answers 428). `GET /health` runs the container check;
//! the container is created at start-up on an emulator only (elsewhere it is checked). Logs go
//! through `tracing`; a 401/403 from Cosmos DB is logged with its fix. Ctrl-C stops it after the
//! requests in flight. Routes: see `examples::web`.
//!
//! Environment: as the quickstart, plus `WEB_API_ADDR` (default `127.0.0.1:3000`) and
//! `RUST_LOG` (default `info`).
//!
//! ```sh
//! cargo run -p examples --example web_api
//! curl -i -X POST localhost:3000/api/cosmos/items -H 'content-type: application/json' \
//!     -d '{"id":"o-1","customerId":"contoso","status":"open","total":10}'
//! curl -i 'localhost:3000/api/cosmos/items/o-1?customerId=contoso'
//! ```

use std::process::ExitCode;

use examples::{Order, Store, report, web};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    report(run().await)
}

async fn run() -> cosmos_repo::Result<()> {
    let store = Store::from_env().await?;
    store.prepare::<Order>().await?;
    let addr = std::env::var("WEB_API_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|e| cosmos_repo::Error::Config {
            message: format!("WEB_API_ADDR `{addr}` cannot be listened on ({e}); use e.g. WEB_API_ADDR=127.0.0.1:3000"),
        })?;
    tracing::info!("listening on http://{addr}");
    axum::serve(listener, web::router(store))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("shutting down after the requests in flight");
        })
        .await
        .map_err(|e| cosmos_repo::Error::Transport {
            source: Box::new(e),
        })
}
