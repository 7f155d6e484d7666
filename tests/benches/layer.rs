//! What the repository layer costs on top of the SDK: point read, upsert, replace with
//! If-Match and a 100-document query page, each made through `Repository<T>` and directly with
//! `azure_data_cosmos`, side by side in one run, against one in-process loopback gateway that
//! answers canned Cosmos DB responses (so the service is not the bottleneck).
//!
//! `cargo bench -p cosmos-repo-tests --bench layer` prints operations per second of each and
//! the repository's share of the raw SDK's throughput. The last line sets the repository's
//! query page against the raw SDK taking items as `RawValue`, as a store seam carrying bytes
//! must: the difference between the two query lines is the SDK API's, not the layer's.

use std::future::Future;
use std::hint::black_box;
use std::time::Instant;

use azure_data_cosmos::options::{ItemWriteOptions, MaxItemCountHint, Precondition, QueryOptions};
use azure_data_cosmos::{ContainerClient, FeedScope, PartitionKey, Query};
use cosmos_repo::EMULATOR_KEY;
use cosmos_repo::prelude::*;
use cosmos_repo_tests::fake::{self, Recorded, Reply};
use cosmos_repo_tests::server::connect_to_fake;
use futures::StreamExt as _;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

#[derive(Debug, Clone, Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "orders")]
#[serde(rename_all = "camelCase")]
struct Doc {
    #[id]
    id: String,
    #[partition_key]
    customer_id: String,
    status: String,
    total: f64,
    tags: Vec<String>,
    note: String,
    #[etag]
    #[serde(rename = "_etag", default, skip_serializing)]
    etag: Option<Etag>,
}

const ROUNDS: u32 = 1_500;

fn doc() -> Doc {
    Doc {
        id: "o-1".into(),
        customer_id: "contoso".into(),
        status: "paid".into(),
        total: 42.5,
        tags: vec!["a".into(), "b".into()],
        note: "n".repeat(700),
        etag: None,
    }
}

/// One page of 100 documents of one partition, made directly with the SDK.
async fn raw_page<T: DeserializeOwned + Send + 'static>(container: &ContainerClient) -> Vec<T> {
    let query = Query::from("SELECT * FROM c WHERE c.customerId = @p0")
        .with_parameter("@p0", "contoso")
        .unwrap();
    let options = QueryOptions::default().with_max_item_count(MaxItemCountHint::Limit(
        std::num::NonZeroU32::new(100).unwrap(),
    ));
    let mut pages = container
        .query_items::<T>(
            query,
            FeedScope::partition(PartitionKey::from("contoso")),
            Some(options),
        )
        .await
        .unwrap()
        .into_pages();
    pages.next().await.unwrap().unwrap().into_items()
}

/// Throughput of `layered` and `raw`, alternating one call of each so that both see the same
/// machine (these are shared and their speed drifts).
async fn rates<A: Future<Output = ()>, B: Future<Output = ()>>(
    mut layered: impl FnMut() -> A,
    mut raw: impl FnMut() -> B,
) -> (f64, f64) {
    let (mut a, mut b) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
    for round in 0..ROUNDS {
        // Each goes first in every other round: the first of a pair can pay for the second.
        if round % 2 == 0 {
            let started = Instant::now();
            layered().await;
            a += started.elapsed();
            let started = Instant::now();
            raw().await;
            b += started.elapsed();
        } else {
            let started = Instant::now();
            raw().await;
            b += started.elapsed();
            let started = Instant::now();
            layered().await;
            a += started.elapsed();
        }
    }
    let rate = |elapsed: std::time::Duration| f64::from(ROUNDS) / elapsed.as_secs_f64();
    (rate(a), rate(b))
}

// Two worker threads: the loopback gateway runs in this process, and on one thread its work
// and the client's interleave in ways that differ between the two clients.
#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut stored = serde_json::to_value(doc()).unwrap();
    stored["_etag"] = "\"1\"".into();
    stored["_rid"] = "gAABAIAAAAEBAAAAAAAAAA==".into();
    stored["_ts"] = 1_700_000_000.into();
    let item = stored.to_string();
    let page = serde_json::json!({
        "_rid": "gAABAIAAAAE=",
        "Documents": vec![stored; 100],
        "_count": 100,
    })
    .to_string();
    let gateway = fake::gateway(move |request: &Recorded| {
        if !request.target.starts_with("/dbs/db/colls/orders/docs") {
            return None;
        }
        let is_query = request
            .headers
            .get("content-type")
            .is_some_and(|t| t.starts_with("application/query+json"));
        let mut reply = Reply::json(200, serde_json::Value::Null);
        reply.body = if is_query { page.clone() } else { item.clone() };
        reply.headers.push(("etag".into(), "\"1\"".into()));
        reply
            .headers
            .push(("x-ms-request-charge".into(), "1".into()));
        if is_query {
            reply.headers.push(("x-ms-item-count".into(), "100".into()));
        }
        Some(reply)
    });

    // The raw SDK, with the same client settings.
    let container =
        cosmos_repo_tests::raw::container(&gateway.endpoint, EMULATOR_KEY, "db", "orders").await;

    // The repository, connected as the emulator settings connect it.
    let repo = connect_to_fake(&gateway.endpoint).await.repository::<Doc>();

    let order = doc();
    let stored_etag = Etag::new("\"1\"");
    // Warm up both.
    repo.upsert(&order).await.unwrap();
    container
        .upsert_item(PartitionKey::from("contoso"), "o-1", &order, None)
        .await
        .unwrap();

    println!("operation: repository/s, raw SDK/s, repository share");
    for round in 1..=2 {
        let figures = [
            (
                "point read",
                rates(
                    || async {
                        black_box(repo.read("contoso", "o-1").await.unwrap());
                    },
                    || async {
                        let response = container
                            .read_item(PartitionKey::from("contoso"), "o-1", None)
                            .await
                            .unwrap();
                        black_box(response.into_body().into_single::<Doc>().unwrap());
                    },
                )
                .await,
            ),
            (
                "upsert",
                rates(
                    || async {
                        black_box(repo.upsert(&order).await.unwrap());
                    },
                    || async {
                        let response = container
                            .upsert_item(PartitionKey::from("contoso"), "o-1", &order, None)
                            .await
                            .unwrap();
                        black_box(response.into_body().into_single::<Doc>().unwrap());
                    },
                )
                .await,
            ),
            (
                "replace with If-Match",
                rates(
                    || async {
                        let replace = repo.replace(&order).if_match(stored_etag.clone());
                        black_box(replace.await.unwrap());
                    },
                    || async {
                        let options = ItemWriteOptions::default()
                            .with_precondition(Precondition::if_match("\"1\"".to_owned()));
                        let response = container
                            .replace_item(
                                PartitionKey::from("contoso"),
                                "o-1",
                                &order,
                                Some(options),
                            )
                            .await
                            .unwrap();
                        black_box(response.into_body().into_single::<Doc>().unwrap());
                    },
                )
                .await,
            ),
            (
                "query page of 100",
                rates(
                    || async {
                        let page = repo.query().partition("contoso").page(100, None).await;
                        black_box(page.unwrap());
                    },
                    || async {
                        black_box(raw_page::<Doc>(&container).await);
                    },
                )
                .await,
            ),
            (
                // The SDK hands query items typed or as `RawValue`; a store seam that carries
                // bytes must take them as `RawValue` and then decode: this is that floor.
                "query page of 100, raw SDK via RawValue",
                rates(
                    || async {
                        let page = repo.query().partition("contoso").page(100, None).await;
                        black_box(page.unwrap());
                    },
                    || async {
                        let items = raw_page::<Box<RawValue>>(&container).await;
                        let docs: Vec<Doc> = items
                            .iter()
                            .map(|item| serde_json::from_str(item.get()).unwrap())
                            .collect();
                        black_box(docs);
                    },
                )
                .await,
            ),
        ];
        println!("round {round}");
        for (name, (layered, raw)) in figures {
            println!("  {name}: {layered:.0}, {raw:.0}, {:.3}", layered / raw);
        }
    }
}
