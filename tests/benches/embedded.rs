//! The embedded store's own speed, release build: point reads and upserts of a 1 KB document on
//! one thread and on two (distinct keys), a 5-predicate filter over 100,000 documents of one
//! partition, the cost of one page of a stream as the partition grows, and building and
//! rendering a 5-predicate query with ORDER BY.
//!
//! `cargo bench -p cosmos-repo-tests --bench embedded`

use std::hint::black_box;
use std::time::{Duration, Instant};

use cosmos_repo::MemoryStore;
use cosmos_repo::prelude::*;
use futures::StreamExt as _;

/// About 1 KB of JSON.
#[derive(Debug, Clone, Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "docs")]
#[serde(rename_all = "camelCase")]
struct Doc {
    #[id]
    id: String,
    #[partition_key]
    tenant: String,
    name: String,
    status: String,
    price: f64,
    stock: i64,
    tags: Vec<String>,
    description: String,
    #[etag]
    #[serde(rename = "_etag", default, skip_serializing)]
    etag: Option<Etag>,
}

fn doc(tenant: &str, i: usize) -> Doc {
    Doc {
        id: format!("d-{i:07}"),
        tenant: tenant.to_owned(),
        name: format!("product {i}"),
        status: ["open", "paid", "shipped"][i % 3].to_owned(),
        price: (i % 1000) as f64 * 0.5,
        stock: (i % 97) as i64,
        tags: vec!["alpha".into(), "beta".into(), format!("t{}", i % 10)],
        description: "x".repeat(800),
        etag: None,
    }
}

fn rate(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

async fn reads_and_upserts(store: &MemoryStore, tenant: &str, count: usize) -> (f64, f64) {
    let docs = store.repository::<Doc>();
    let items: Vec<Doc> = (0..1000).map(|i| doc(tenant, i)).collect();
    let started = Instant::now();
    for i in 0..count {
        docs.upsert(&items[i % items.len()]).await.unwrap();
    }
    let upserts = rate(count, started.elapsed());
    let started = Instant::now();
    for i in 0..count {
        black_box(docs.read(tenant, &items[i % items.len()].id).await.unwrap());
    }
    (upserts, rate(count, started.elapsed()))
}

/// Writes `all` one by one (a bulk's report of 100,000 outcomes, freed at once, would leave the
/// allocator sorting its free lists through the measurements after it).
async fn load(docs: &Repository<Doc>, all: &[Doc]) {
    for doc in all {
        docs.upsert(doc).await.unwrap();
    }
}

fn main() {
    const OPERATIONS: usize = 200_000;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let store = MemoryStore::new();
    let size = serde_json::to_vec(&doc("t", 1)).unwrap().len();
    println!("document: {size} bytes of JSON");

    let (upserts, reads) = runtime.block_on(reads_and_upserts(&store, "solo", OPERATIONS));
    println!("one thread: {upserts:.0} upserts/s, {reads:.0} point reads/s");

    // Two threads, each with its own runtime and its own keys.
    let started = Instant::now();
    let threads: Vec<_> = ["left", "right"]
        .into_iter()
        .map(|tenant| {
            let store = store.clone();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap();
                runtime.block_on(reads_and_upserts(&store, tenant, OPERATIONS))
            })
        })
        .collect();
    let results: Vec<(f64, f64)> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let (up2, read2): (f64, f64) = results
        .iter()
        .fold((0.0, 0.0), |(u, r), (a, b)| (u + a, r + b));
    println!(
        "two threads: {up2:.0} upserts/s, {read2:.0} point reads/s ({:.2}x and {:.2}x one thread; {:.1} s)",
        up2 / upserts,
        read2 / reads,
        started.elapsed().as_secs_f64()
    );

    // A 5-predicate filter over 100,000 documents of one partition.
    let big = MemoryStore::new();
    let docs = big.repository::<Doc>();
    let all: Vec<Doc> = (0..100_000).map(|i| doc("big", i)).collect();
    runtime.block_on(load(&docs, &all));
    let f = Doc::FIELDS;
    let filter = || {
        f.status
            .eq("paid")
            .and(f.price.gt(10.0))
            .and(f.stock.lt(50))
            .and(f.name.starts_with("product 1"))
            .and(f.tags.array_contains("beta"))
    };
    // The first query of a document parses it (writes and point reads never do).
    for run in ["first (parses each document)", "second"] {
        let started = Instant::now();
        let found = runtime.block_on(async {
            docs.query()
                .partition("big")
                .filter(filter())
                .select(f.id)
                .all()
                .await
                .unwrap()
        });
        println!(
            "5-predicate filter over 100,000 documents of one partition, {run}: {:.1} ms ({} matches)",
            started.elapsed().as_secs_f64() * 1000.0,
            found.len()
        );
    }

    // One page of a stream, at partition sizes 10,000 and 100,000: O(page) or O(partition)?
    for size in [1_000, 10_000, 100_000] {
        let store = MemoryStore::new();
        let docs = store.repository::<Doc>();
        runtime.block_on(load(&docs, &all[..size]));
        let pages = 8;
        let elapsed = runtime.block_on(async {
            let mut stream = Box::pin(docs.query().partition("big").pages(100));
            black_box(stream.next().await.unwrap().unwrap());
            let started = Instant::now();
            for _ in 0..pages {
                black_box(stream.next().await.unwrap().unwrap());
            }
            started.elapsed()
        });
        println!(
            "a page of 100 from a stream over {size} documents: {:.0} us",
            elapsed.as_secs_f64() * 1e6 / f64::from(pages)
        );
    }

    // Building and rendering a 5-predicate query with ORDER BY.
    let repo = Repository::<Doc>::in_memory();
    let rounds = 200_000;
    let started = Instant::now();
    for _ in 0..rounds {
        let sql = repo
            .query()
            .partition("big")
            .filter(filter())
            .order_by(f.price.desc())
            .to_sql()
            .unwrap();
        black_box(sql);
    }
    println!(
        "build and render a 5-predicate query with ORDER BY: {:.2} us",
        started.elapsed().as_secs_f64() * 1e6 / rounds as f64
    );
}
