//! The conformance suite and the embedded store's own guarantees.

use std::thread;

use cosmos_repo::MemoryStore;
use cosmos_repo::prelude::*;
use cosmos_repo_tests::{Counter, Order};

cosmos_repo_tests::conformance_suite!(MemoryStore::new());

#[tokio::test]
async fn each_store_starts_empty_and_clones_share() {
    let store = MemoryStore::new();
    store
        .repository::<Order>()
        .create(&Order::new("c", "o-1", 1.0))
        .await
        .unwrap();
    let clone = store.clone();
    assert!(
        clone
            .repository::<Order>()
            .find("c", "o-1")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        MemoryStore::new()
            .repository::<Order>()
            .find("c", "o-1")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        Repository::<Order>::in_memory()
            .find("c", "o-1")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn containers_are_kept_apart() {
    let store = MemoryStore::new();
    let orders = store.repository::<Order>();
    let archive = store.repository::<Order>().with_container("orders-archive");
    orders.create(&Order::new("c", "o-1", 1.0)).await.unwrap();
    assert!(archive.find("c", "o-1").await.unwrap().is_none());
    archive.create(&Order::new("c", "o-1", 2.0)).await.unwrap();
    assert_eq!(orders.read("c", "o-1").await.unwrap().total, 1.0);
}

#[derive(Debug, Deserialize, Serialize, CosmosDocument)]
#[cosmos(container = "orders")]
struct RawOrder {
    #[id]
    id: String,
    #[partition_key]
    #[serde(rename = "customerId")]
    customer_id: String,
    _rid: String,
    _self: String,
    _etag: String,
    _attachments: String,
    _ts: u64,
}

#[tokio::test]
async fn stored_documents_carry_system_properties() {
    let store = MemoryStore::new();
    let orders = store.repository::<Order>();
    let created = orders.create(&Order::new("c", "o-1", 1.0)).await.unwrap();
    let raw = store
        .repository::<RawOrder>()
        .read("c", "o-1")
        .await
        .unwrap();
    assert_eq!(
        Some(raw._etag.as_str()),
        created.etag.as_ref().map(Etag::as_str)
    );
    assert!(
        raw._ts > 1_700_000_000,
        "_ts is seconds since the epoch: {}",
        raw._ts
    );
    assert!(raw._self.contains(&raw._rid));
    orders.upsert(&created).await.unwrap();
    let again = store
        .repository::<RawOrder>()
        .read("c", "o-1")
        .await
        .unwrap();
    assert_eq!(again._rid, raw._rid, "a write keeps the resource id");
    assert_ne!(again._etag, raw._etag);
}

/// A counter at 0, and a change that increments it while another writer adds 100 between
/// its read and its replace, so that every attempt of an update making it loses the race.
async fn contended_counter() -> (Repository<Counter>, impl FnMut(&mut Counter)) {
    let counters = Repository::<Counter>::in_memory();
    counters
        .create(&Counter {
            id: "n".into(),
            scope: "s".into(),
            value: 0,
            etag: None,
        })
        .await
        .unwrap();
    let interferer = counters.clone();
    let change = move |counter: &mut Counter| {
        counter.value += 1;
        let other = interferer.clone();
        thread::spawn(move || block_on(other.update("s", "n", |c| c.value += 100)))
            .join()
            .unwrap()
            .unwrap();
    };
    (counters, change)
}

#[tokio::test]
async fn update_gives_up_after_max_attempts() {
    let (counters, mut change) = contended_counter().await;
    let mut calls = 0;
    let err = counters
        .update("s", "n", |counter| {
            calls += 1;
            change(counter);
        })
        .max_attempts(3)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::UpdateConflict { attempts: 3, .. }),
        "{err:?}"
    );
    assert_eq!(calls, 3);
    assert_eq!(
        counters.read("s", "n").await.unwrap().value,
        300,
        "only the interfering writes landed"
    );
}

/// Runs a request to completion on this thread, on a runtime of its own.
fn block_on<F: std::future::IntoFuture>(request: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(request.into_future())
}

#[test]
fn repositories_are_cheap_send_sync_clones() {
    fn assert_send_sync_clone<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync_clone::<Repository<Order>>();
    assert_send_sync_clone::<MemoryStore>();
}

// Queries the local server cannot run (see tests/server/README.md), checked on the embedded store.

use cosmos_repo_tests::Product;
use cosmos_repo_tests::scenarios::seed_products;

#[tokio::test]
async fn sorting_by_several_fields_and_offset() {
    let products = seed_products(&MemoryStore::new()).await;
    let f = Product::FIELDS;
    let query = || {
        products
            .query()
            .cross_partition()
            .order_by(f.price.asc())
            .order_by(f.id.desc())
            .select(f.id)
    };
    let all = query().all().await.unwrap();
    assert_eq!(all, ["p7", "p8", "p1", "p5", "p3", "p4", "p2", "p6"]);
    assert_eq!(
        query().offset(2).limit(3).all().await.unwrap(),
        ["p1", "p5", "p3"]
    );
    let first = query().offset(6).page(1, None).await.unwrap();
    assert_eq!(first.items, ["p2"]);
    let second = query()
        .offset(6)
        .page(1, first.continuation.as_deref())
        .await
        .unwrap();
    assert_eq!(second.items, ["p6"]);
    assert_eq!(second.continuation, None);
    let unsorted = products
        .query()
        .cross_partition()
        .offset(7)
        .select(f.id)
        .all()
        .await
        .unwrap();
    assert_eq!(unsorted.len(), 1);
}

/// Cosmos DB's order across types: undefined, null, booleans, numbers, strings.
#[tokio::test]
async fn mixed_types_sort_by_type_then_value() {
    #[derive(Debug, Serialize, Deserialize, CosmosDocument)]
    struct Cell {
        #[id]
        id: String,
        #[partition_key]
        sheet: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<serde_json::Value>,
    }
    let cells = MemoryStore::new().repository::<Cell>();
    for (id, value) in [
        ("s", Some(serde_json::json!("b"))),
        ("n2", Some(serde_json::json!(2))),
        ("u", None),
        ("t", Some(serde_json::json!(true))),
        ("z", Some(serde_json::Value::Null)),
        ("n1", Some(serde_json::json!(1.5))),
        ("a", Some(serde_json::json!("a"))),
    ] {
        cells
            .create(&Cell {
                id: id.into(),
                sheet: "s1".into(),
                value,
            })
            .await
            .unwrap();
    }
    let ids = cells
        .query()
        .partition("s1")
        .order_by(Cell::FIELDS.value.asc())
        .select(Cell::FIELDS.id)
        .all()
        .await
        .unwrap();
    assert_eq!(ids, ["u", "z", "t", "n1", "n2", "a", "s"]);
}

#[tokio::test]
async fn a_query_on_an_unused_container_is_empty() {
    let products = MemoryStore::new().repository::<Product>();
    assert!(
        products
            .query()
            .cross_partition()
            .all()
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(products.query().cross_partition().count().await.unwrap(), 0);
}

#[tokio::test]
async fn raw_sql_beyond_what_the_builder_writes_is_unsupported_on_the_embedded_store() {
    let products = seed_products(&MemoryStore::new()).await;
    let err = products
        .raw_query("SELECT c.id, t AS tag FROM c JOIN t IN c.tags")
        .cross_partition()
        .all()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Unsupported { message } if message.contains("SELECT VALUE [c.a, c.b]") && message.contains("Repository::query")),
        "{err:?}"
    );
}

#[tokio::test]
async fn update_gives_up_when_its_time_budget_is_spent() {
    let (counters, change) = contended_counter().await;
    let started = std::time::Instant::now();
    let err = counters
        .update("s", "n", change)
        .time_budget(std::time::Duration::from_millis(30))
        .await
        .unwrap_err();
    let Error::UpdateConflict { attempts, .. } = err else {
        panic!("{err:?}");
    };
    assert!(attempts >= 2, "it retried before giving up: {attempts}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "it stopped near its budget: {:?}",
        started.elapsed()
    );
    assert_eq!(
        counters.read("s", "n").await.unwrap().value,
        100 * u64::from(attempts),
        "only the interfering writes landed"
    );
}

#[tokio::test]
async fn documents_expire_by_their_own_or_the_container_time_to_live() {
    use cosmos_repo_tests::Token;
    use std::time::Duration;
    let store = MemoryStore::new();
    let tokens = store.repository::<Token>();
    let token = |id: &str, ttl: Option<i32>| Token {
        id: id.into(),
        user: "ann".into(),
        ttl,
        claims: serde_json::json!({ "scope": "read" }),
    };
    tokens.create(&token("default", None)).await.unwrap();
    tokens.create(&token("short", Some(10))).await.unwrap();
    tokens.create(&token("forever", Some(-1))).await.unwrap();
    let alive = || async {
        let mut ids: Vec<String> = tokens
            .query()
            .partition("ann")
            .select(Token::FIELDS.id)
            .all()
            .await
            .unwrap();
        ids.sort();
        ids
    };
    assert_eq!(alive().await, ["default", "forever", "short"]);

    store.advance_time(Duration::from_secs(10));
    assert!(
        tokens
            .read("ann", "short")
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert_eq!(alive().await, ["default", "forever"]);

    // A write starts the clock again.
    store.advance_time(Duration::from_secs(3000));
    tokens.upsert(&token("default", None)).await.unwrap();
    store.advance_time(Duration::from_secs(3000));
    assert_eq!(alive().await, ["default", "forever"]);
    store.advance_time(Duration::from_secs(600));
    assert_eq!(alive().await, ["forever"]);
    assert_eq!(tokens.query().partition("ann").count().await.unwrap(), 1);

    // An expired document is gone: its id is free again, and a replace finds nothing.
    let err = tokens.replace(&token("short", None)).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    tokens.create(&token("short", Some(10))).await.unwrap();
}

#[tokio::test]
async fn full_text_search_needs_the_field_in_the_full_text_policy() {
    use cosmos_repo_tests::Article;
    let articles = cosmos_repo_tests::scenarios::seed_titles(&MemoryStore::new()).await;
    let err = articles
        .query()
        .cross_partition()
        .filter(Article::FIELDS.topic.full_text_contains("shop"))
        .all()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::BadRequest { message } if message.contains("#[cosmos(full_text)]") && message.contains("/topic")),
        "{err:?}"
    );
}
