//! End to end on the local Cosmos DB-compatible server: upserts and point reads through
//! `Repository<T>` and directly with `azure_data_cosmos`, sequentially and 32 in flight,
//! alternating between the two in one run.
//!
//! `cargo bench -p cosmos-repo-tests --bench end_to_end` (starts the local server unless
//! `COSMOS_TEST_ENDPOINT` names one).

use std::future::Future;
use std::time::{Duration, Instant};

use azure_data_cosmos::PartitionKey;
use cosmos_repo::EMULATOR_KEY;
use cosmos_repo_tests::Order;
use cosmos_repo_tests::server::{fresh_database, local_endpoint};
use futures::StreamExt as _;

const OPERATIONS: usize = 2_000;

/// Seconds taken by `OPERATIONS` calls of `operation`, `in_flight` at a time.
async fn timed<F: Future<Output = ()>>(
    in_flight: usize,
    operation: impl Fn(usize) -> F,
) -> Duration {
    let started = Instant::now();
    futures::stream::iter(0..OPERATIONS)
        .map(operation)
        .buffer_unordered(in_flight)
        .collect::<Vec<()>>()
        .await;
    started.elapsed()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let endpoint = local_endpoint();
    let cosmos = fresh_database(&endpoint).await;
    let database = cosmos.config().database().to_owned();
    let orders = cosmos.repository::<Order>();
    let raw = cosmos_repo_tests::raw::container(&endpoint, EMULATOR_KEY, &database, "orders").await;
    let docs: Vec<Order> = (0..OPERATIONS)
        .map(|i| Order::new(&format!("c-{}", i % 20), &format!("o-{i}"), 1.0))
        .collect();
    let rate = |elapsed: Duration| OPERATIONS as f64 / elapsed.as_secs_f64();
    println!("{OPERATIONS} operations each; repository/s, raw SDK/s, repository share");
    for in_flight in [1, 32] {
        let mut figures = Vec::new();
        for round in 0..2 {
            // Each goes first in every other round.
            let repository_upserts = || {
                timed(in_flight, |i| {
                    let (orders, doc) = (&orders, &docs[i]);
                    async move {
                        orders.upsert(doc).await.unwrap();
                    }
                })
            };
            let raw_upserts = || {
                timed(in_flight, |i| {
                    let (raw, doc) = (&raw, &docs[i]);
                    async move {
                        let pk = PartitionKey::from(doc.customer_id.clone());
                        let response = raw.upsert_item(pk, &doc.id, doc, None).await.unwrap();
                        response.into_body().into_single::<Order>().unwrap();
                    }
                })
            };
            let repository_reads = || {
                timed(in_flight, |i| {
                    let (orders, doc) = (&orders, &docs[i]);
                    async move {
                        orders
                            .read(doc.customer_id.as_str(), &doc.id)
                            .await
                            .unwrap();
                    }
                })
            };
            let raw_reads = || {
                timed(in_flight, |i| {
                    let (raw, doc) = (&raw, &docs[i]);
                    async move {
                        let pk = PartitionKey::from(doc.customer_id.clone());
                        let response = raw.read_item(pk, &doc.id, None).await.unwrap();
                        response.into_body().into_single::<Order>().unwrap();
                    }
                })
            };
            let (a, b, c, d) = if round == 0 {
                let a = repository_upserts().await;
                let b = raw_upserts().await;
                let c = repository_reads().await;
                let d = raw_reads().await;
                (a, b, c, d)
            } else {
                let b = raw_upserts().await;
                let a = repository_upserts().await;
                let d = raw_reads().await;
                let c = repository_reads().await;
                (a, b, c, d)
            };
            figures.push((a, b, c, d));
        }
        let sum = |pick: fn(&(Duration, Duration, Duration, Duration)) -> Duration| {
            figures.iter().map(pick).sum::<Duration>() / 2
        };
        let (a, b, c, d) = (sum(|f| f.0), sum(|f| f.1), sum(|f| f.2), sum(|f| f.3));
        println!(
            "{in_flight} in flight: upserts {:.0}, {:.0}, {:.3}; point reads {:.0}, {:.0}, {:.3}",
            rate(a),
            rate(b),
            rate(a) / rate(b),
            rate(c),
            rate(d),
            rate(c) / rate(d)
        );
    }
}
