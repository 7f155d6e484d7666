//! Optimistic concurrency under contention: N tasks each increment one counter M times through
//! `update`, which reads, changes and replaces the document under `If-Match` and starts again
//! when another task got there first (412). Prints the final count, the retries and the request
//! charge; exits non-zero if an increment was lost.
//!
//! Environment: as the quickstart, plus `CONCURRENCY_TASKS` (default 16) and
//! `CONCURRENCY_INCREMENTS` (default 50).
//!
//! ```sh
//! cargo run -p examples --example concurrency
//! ```

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cosmos_repo::prelude::*;
use examples::{Store, report};

/// A counter shared by every task.
#[derive(Debug, Clone, Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "counters")]
struct Counter {
    #[id]
    id: String,
    #[partition_key]
    scope: String,
    value: u64,
    #[etag]
    #[serde(rename = "_etag", default, skip_serializing)]
    etag: Option<Etag>,
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> ExitCode {
    report(run().await)
}

async fn run() -> cosmos_repo::Result<()> {
    let tasks = setting("CONCURRENCY_TASKS", 16);
    let increments = setting("CONCURRENCY_INCREMENTS", 50);
    let store = Store::from_env().await?;
    store.prepare::<Counter>().await?;
    let counters = store.repository::<Counter>();
    let counter = Counter {
        id: "hits".into(),
        scope: "example".into(),
        value: 0,
        etag: None,
    };
    counters.upsert(&counter).await?;

    // Each change runs once per attempt: the calls beyond one per increment are retries.
    let calls = Arc::new(AtomicU64::new(0));
    let charge = Arc::new(std::sync::Mutex::new(0.0));
    let workers: Vec<_> = (0..tasks)
        .map(|_| {
            let (counters, calls, charge) = (counters.clone(), calls.clone(), charge.clone());
            tokio::spawn(async move {
                for _ in 0..increments {
                    let updated = counters
                        .update("example", "hits", |c| {
                            calls.fetch_add(1, Ordering::Relaxed);
                            c.value += 1;
                        })
                        .with_meta()
                        .await?;
                    *charge.lock().unwrap_or_else(|e| e.into_inner()) += updated.request_charge;
                }
                Ok::<_, cosmos_repo::Error>(())
            })
        })
        .collect();
    for worker in workers {
        worker.await.map_err(|e| cosmos_repo::Error::Unsupported {
            message: format!("a task panicked: {e}"),
        })??;
    }
    let value = counters.read("example", "hits").await?.value;
    let expected = tasks * increments;
    let retries = calls.load(Ordering::Relaxed) - expected;
    let charge = *charge.lock().unwrap_or_else(|e| e.into_inner());
    println!(
        "{tasks} tasks x {increments} increments: counter = {value} (expected {expected}), {retries} retries after 412, {charge:.1} RU"
    );
    if value != expected {
        return Err(cosmos_repo::Error::Unsupported {
            message: format!("lost updates: {} increments missing", expected - value),
        });
    }
    Ok(())
}
