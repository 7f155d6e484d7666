//! The SDK store's cost per document, measured where the network is not the bottleneck: upserts
//! and point reads of a 20 KB document through `Repository<T>` against a loopback gateway that
//! answers every item request with the same canned document.
//!
//! `cargo bench -p cosmos-repo-tests --bench bytes_path` prints operations per second of each.

use std::time::Instant;

use cosmos_repo::prelude::*;
use cosmos_repo_tests::fake::{self, Recorded, Reply};
use cosmos_repo_tests::server::connect_to_fake;

#[derive(Debug, Clone, Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "orders")]
#[serde(rename_all = "camelCase")]
struct Big {
    #[id]
    id: String,
    #[partition_key]
    customer_id: String,
    lines: Vec<Line>,
    #[etag]
    #[serde(rename = "_etag", default, skip_serializing)]
    etag: Option<Etag>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Line {
    sku: String,
    qty: u32,
    price: f64,
    note: String,
}

const OPERATIONS: u32 = 2_000;

fn big() -> Big {
    Big {
        id: "o-1".into(),
        customer_id: "contoso".into(),
        lines: (0..200)
            .map(|i| Line {
                sku: format!("sku-{i:05}"),
                qty: i,
                price: f64::from(i) * 1.25,
                note: "a line of an order, long enough to count".into(),
            })
            .collect(),
        etag: None,
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut stored = serde_json::to_value(big()).unwrap();
    stored["_etag"] = "\"1\"".into();
    stored["_rid"] = "gAABAIAAAAEBAAAAAAAAAA==".into();
    stored["_ts"] = 1_700_000_000.into();
    let body = stored.to_string();
    println!("document: {} bytes of JSON", body.len());
    let gateway = fake::gateway(move |request: &Recorded| {
        request
            .target
            .starts_with("/dbs/db/colls/orders/docs")
            .then(|| {
                let mut reply = Reply::json(200, serde_json::Value::Null);
                reply.body = body.clone();
                reply.headers.push(("etag".into(), "\"1\"".into()));
                reply
                    .headers
                    .push(("x-ms-request-charge".into(), "1".into()));
                reply
            })
    });
    let cosmos = connect_to_fake(&gateway.endpoint).await;
    let repo = cosmos.repository::<Big>();
    let doc = big();
    repo.upsert(&doc).await.unwrap();

    let started = Instant::now();
    for _ in 0..OPERATIONS {
        repo.upsert(&doc).await.unwrap();
    }
    let upserts = f64::from(OPERATIONS) / started.elapsed().as_secs_f64();

    let started = Instant::now();
    for _ in 0..OPERATIONS {
        repo.read("contoso", "o-1").await.unwrap();
    }
    let reads = f64::from(OPERATIONS) / started.elapsed().as_secs_f64();
    println!("upserts/s {upserts:.0}");
    println!("point reads/s {reads:.0}");
}
