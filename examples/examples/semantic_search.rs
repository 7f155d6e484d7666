//! Semantic search: articles stored with an embedding of their text, found by nearness to a
//! question (with a filter), by full-text relevance, and by both at once (hybrid ranking).
//!
//! The embeddings are made here, without a model: each word is hashed into one of 64
//! dimensions and the vector normalised, so texts that share words point the same way. A
//! service would call its embedding model instead; the queries stay the same.
//!
//! ```sh
//! cargo run -p examples --example semantic_search
//! ```
//!
//! It runs on the embedded store. With `COSMOS_ENDPOINT` it runs against Cosmos DB, whose
//! container it creates with the vector and full-text policies on an emulator; SDK 1.0 runs
//! the vector query there, and refuses the full-text and hybrid rankings (the example says so
//! and goes on).

use std::process::ExitCode;

use cosmos_repo::prelude::*;
use examples::{Store, report};

const DIMENSIONS: usize = 64;

#[derive(Debug, Clone, Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "articles")]
struct Article {
    #[id]
    id: String,
    #[partition_key]
    topic: String,
    #[cosmos(full_text)]
    text: String,
    #[cosmos(vector(dimensions = 64, distance = "cosine", index = "flat"))]
    embedding: Vec<f32>,
}

/// The words of a text, lower-cased.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| word.len() > 2)
        .map(str::to_lowercase)
}

/// A bag-of-words embedding: each word (FNV-1a hash) adds one to its dimension; normalised.
fn embed(text: &str) -> Vec<f32> {
    let mut vector = vec![0.0_f32; DIMENSIONS];
    for word in words(text) {
        let hash = word.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
        vector[(hash % DIMENSIONS as u64) as usize] += 1.0;
    }
    let norm = vector
        .iter()
        .map(|x| x * x)
        .sum::<f32>()
        .sqrt()
        .max(f32::MIN_POSITIVE);
    vector.iter().map(|x| x / norm).collect()
}

const ARTICLES: &[(&str, &str, &str)] = &[
    ("a1", "garden", "Watering tomatoes in hot summer weather"),
    ("a2", "garden", "Pruning roses and other flowering shrubs"),
    ("a3", "garden", "Tomatoes and peppers grow well in pots"),
    (
        "a4",
        "kitchen",
        "Roasting tomatoes and peppers for a summer sauce",
    ),
    ("a5", "kitchen", "Baking bread with a sourdough starter"),
    ("a6", "kitchen", "Sharpening kitchen knives safely"),
    ("a7", "garden", "Composting kitchen scraps for the garden"),
    ("a8", "kitchen", "A quick tomato soup for cold weather"),
];

#[tokio::main]
async fn main() -> ExitCode {
    report(run().await)
}

async fn run() -> cosmos_repo::Result<()> {
    let store = Store::from_env().await?;
    store.prepare::<Article>().await?;
    let articles = store.repository::<Article>();
    for (id, topic, text) in ARTICLES {
        let article = Article {
            id: (*id).to_owned(),
            topic: (*topic).to_owned(),
            text: (*text).to_owned(),
            embedding: embed(text),
        };
        articles.upsert(&article).await?;
    }
    let f = Article::FIELDS;
    let question = "growing tomatoes in summer";

    // Nearest by meaning (here: shared words), in the garden only.
    let nearest = articles
        .query()
        .partition("garden")
        .nearest(f.embedding, &embed(question))
        .limit(2);
    println!("nearest: {}", nearest.to_sql()?.text);
    let found = nearest.all().await?;
    for scored in &found {
        println!(
            "  {:.3}  {}: {}",
            scored.score, scored.document.id, scored.document.text
        );
    }
    let best = found.first().map(|scored| scored.document.id.as_str());
    if best != Some("a1") {
        return Err(cosmos_repo::Error::Unsupported {
            message: format!("expected a1 nearest to {question:?}, got {best:?}"),
        });
    }

    // By full-text relevance, and by both at once.
    let by_text = articles
        .query()
        .cross_partition()
        .rank_by_text(f.text, ["tomatoes", "summer"])
        .limit(3);
    let hybrid = articles
        .query()
        .cross_partition()
        .rank_hybrid(
            f.embedding,
            &embed(question),
            f.text,
            ["tomatoes", "summer"],
        )
        .limit(3);
    for (name, ranked) in [("full text", by_text), ("hybrid", hybrid)] {
        match ranked.all().await {
            Ok(found) => {
                let ids: Vec<&str> = found.iter().map(|a| a.id.as_str()).collect();
                println!("{name}: {ids:?}");
            }
            Err(cosmos_repo::Error::Unsupported { message }) => {
                println!("{name}: not run here: {message}");
            }
            Err(err) => return Err(err),
        }
    }
    Ok(())
}
