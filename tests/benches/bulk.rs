//! Bulk upserts against the local Cosmos DB-compatible server: 10,000 documents written with
//! `upsert_all` (bounded concurrency) and with a sequential loop of `upsert`, side by side in
//! one run.
//!
//! `cargo bench -p cosmos-repo-tests --bench bulk` (starts the local server unless
//! `COSMOS_TEST_ENDPOINT` names one). `BULK_DOCUMENTS` and `BULK_CONCURRENCY` change the
//! defaults (10,000 and 32).

use std::time::Instant;

use cosmos_repo_tests::Order;
use cosmos_repo_tests::server::local_database;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let documents = setting("BULK_DOCUMENTS", 10_000);
    let concurrency = setting("BULK_CONCURRENCY", 32);
    let cosmos = local_database().await;
    let orders = cosmos.repository::<Order>();
    let docs = |run: &str| -> Vec<Order> {
        (0..documents)
            .map(|i| Order::new(&format!("c-{}", i % 50), &format!("{run}-{i}"), i as f64))
            .collect()
    };

    let sequential = docs("seq");
    let started = Instant::now();
    for doc in &sequential {
        orders.upsert(doc).await.unwrap();
    }
    let sequential_seconds = started.elapsed().as_secs_f64();

    let bulk = docs("bulk");
    let started = Instant::now();
    let report = orders.upsert_all(&bulk).concurrency(concurrency).await;
    let bulk_seconds = started.elapsed().as_secs_f64();
    assert!(report.is_success(), "{:?}", report.failures().next());

    let rate = |seconds: f64| documents as f64 / seconds;
    println!("{documents} upserts, local server, release build");
    println!(
        "sequential loop: {:.2} s ({:.0}/s)",
        sequential_seconds,
        rate(sequential_seconds)
    );
    println!(
        "upsert_all, concurrency {concurrency}: {:.2} s ({:.0}/s), {:.0} RU",
        bulk_seconds,
        rate(bulk_seconds),
        report.request_charge
    );
    println!(
        "bulk / sequential throughput: {:.2}x",
        sequential_seconds / bulk_seconds
    );
}
