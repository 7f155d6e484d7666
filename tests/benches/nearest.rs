//! Top-10 nearest neighbours on the embedded store: 100,000 documents with 384-dimension
//! embeddings, cosine, on one thread (a current-thread runtime). Prints the median and the
//! slowest of 20 queries, each against another vector, after one warm-up query; and, side by
//! side, the same ranking as a plain loop over the vectors in a `Vec<Vec<f32>>` (the floor).
//!
//! `cargo bench -p cosmos-repo-tests --bench nearest`

use std::time::{Duration, Instant};

use cosmos_repo::MemoryStore;
use cosmos_repo::prelude::*;

const DOCUMENTS: usize = 100_000;
const DIMENSIONS: usize = 384;
const QUERIES: usize = 20;

#[derive(Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "passages")]
struct Passage {
    #[id]
    id: String,
    #[partition_key]
    source: String,
    #[cosmos(vector(dimensions = 384, distance = "cosine"))]
    embedding: Vec<f32>,
}

/// A deterministic pseudo-random vector (xorshift), the same on every run.
fn vector(seed: u64) -> Vec<f32> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..DIMENSIONS)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % 2_000) as f32 / 1_000.0 - 1.0
        })
        .collect()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let passages = MemoryStore::new().repository::<Passage>();
        for n in 0..DOCUMENTS {
            let passage = Passage {
                id: format!("p{n:06}"),
                source: format!("s{}", n % 100),
                embedding: vector(n as u64),
            };
            passages.create(&passage).await.expect("stored");
        }
        let f = Passage::FIELDS;
        let nearest = |seed: u64| {
            let passages = &passages;
            async move {
                let started = Instant::now();
                let found = passages
                    .query()
                    .cross_partition()
                    .nearest(f.embedding, &vector(seed))
                    .limit(10)
                    .all()
                    .await
                    .expect("ranked");
                assert_eq!(found.len(), 10);
                started.elapsed()
            }
        };
        let warm_up = nearest(1_000_000).await;
        let mut times: Vec<Duration> = Vec::with_capacity(QUERIES);
        for seed in 0..QUERIES as u64 {
            times.push(nearest(2_000_000 + seed).await);
        }
        times.sort();
        let vectors: Vec<Vec<f32>> = (0..DOCUMENTS).map(|n| vector(n as u64)).collect();
        let mut floor: Vec<Duration> = (0..QUERIES as u64)
            .map(|seed| {
                let started = Instant::now();
                let query = vector(2_000_000 + seed);
                let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
                let query_norm = norm(&query);
                let mut scored: Vec<(f32, usize)> = vectors
                    .iter()
                    .enumerate()
                    .map(|(n, v)| {
                        let dot: f32 = v.iter().zip(&query).map(|(a, b)| a * b).sum();
                        (dot / (norm(v) * query_norm), n)
                    })
                    .collect();
                scored.select_nth_unstable_by(9, |a, b| b.0.total_cmp(&a.0));
                std::hint::black_box(&scored[..10]);
                started.elapsed()
            })
            .collect();
        floor.sort();
        println!(
            "the same ranking as a plain loop over Vec<Vec<f32>>: median {:.1} ms",
            floor[QUERIES / 2].as_secs_f64() * 1000.0
        );
        println!(
            "top-10 nearest of {DOCUMENTS} documents x {DIMENSIONS} dimensions, cosine, one thread: \
             median {:.1} ms, slowest {:.1} ms of {QUERIES} (first query, parsing every document: {:.1} ms)",
            times[QUERIES / 2].as_secs_f64() * 1000.0,
            times[QUERIES - 1].as_secs_f64() * 1000.0,
            warm_up.as_secs_f64() * 1000.0,
        );
    });
}
