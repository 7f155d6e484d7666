//! Peak memory of reading 100,000 documents from the embedded store: streamed a page at a time
//! versus collected with `all()`, measured side by side in one process.
//!
//! `cargo bench -p cosmos-repo-tests --bench stream_memory` (Linux: reads VmRSS/VmHWM from
//! /proc/self/status and resets the high-water mark through /proc/self/clear_refs).

use std::time::Instant;

use cosmos_repo::MemoryStore;
use cosmos_repo_tests::Product;
use futures::TryStreamExt as _;

const DOCUMENTS: usize = 100_000;
const PAGE_SIZE: u32 = 100;

/// Resident and peak resident memory in KiB.
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("a memory field")
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn reset_peak() {
    std::fs::write("/proc/self/clear_refs", "5").expect("resetting the peak RSS");
}

/// Runs `read` after resetting the peak; returns (rows, peak growth over the start in KiB, s).
async fn measure<F: std::future::Future<Output = usize>>(read: F) -> (usize, u64, f64) {
    reset_peak();
    let (start, _) = memory_kib();
    let clock = Instant::now();
    let rows = read.await;
    let seconds = clock.elapsed().as_secs_f64();
    let (_, peak) = memory_kib();
    (rows, peak.saturating_sub(start), seconds)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let products = MemoryStore::new().repository::<Product>();
    for n in 0..DOCUMENTS {
        let product = Product {
            id: format!("p{n:06}"),
            category: format!("c{}", n % 50),
            name: format!("product number {n}"),
            price: n as f64 / 100.0,
            stock: (n % 1000) as i64,
            tags: vec!["steel".into(), "hand".into()],
            discontinued: n % 7 == 0,
            note: None,
            discount: None,
            first_seen: "2026-01-01".into(),
        };
        products.create(&product).await.unwrap();
    }
    let (store_kib, _) = memory_kib();
    println!("store holds {DOCUMENTS} documents; process RSS {store_kib} KiB");

    let (streamed, stream_kib, stream_s) = measure(async {
        products
            .query()
            .cross_partition()
            .stream(PAGE_SIZE)
            .try_fold(0usize, |count, _product| async move { Ok(count + 1) })
            .await
            .unwrap()
    })
    .await;
    let (collected, all_kib, all_s) = measure(async {
        products
            .query()
            .cross_partition()
            .all()
            .await
            .unwrap()
            .len()
    })
    .await;

    assert_eq!((streamed, collected), (DOCUMENTS, DOCUMENTS));
    println!(
        "stream(page {PAGE_SIZE}): peak +{stream_kib} KiB in {stream_s:.2} s; all(): peak +{all_kib} KiB in {all_s:.2} s; all/stream peak growth = {:.0}x",
        all_kib as f64 / stream_kib.max(1) as f64
    );
}
