//! Repository behaviour every store must show. Each scenario panics on a deviation.

use std::sync::Arc;
use std::time::Duration;

use cosmos_repo::change_feed::{ChangeBatch, Lease, ProcessorHandle};
use cosmos_repo::prelude::*;
use cosmos_repo::query::Filter;
use cosmos_repo::query::{Query, Scoped};
use cosmos_repo::{SessionToken, Timestamp};
use futures::{StreamExt as _, TryStreamExt as _};

use crate::{
    Address, AppCustomer, AppDocument, AppOrder, Article, Backend, Blob, Cart, Counter, Event, Geo,
    Line, Member, Order, Product, Reading, Session, Shipment, Tally,
};

pub async fn create_then_read_returns_the_stored_document(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    let created = create_order(&orders, "contoso", "o-1", 10.5).await;
    assert!(created.etag.is_some(), "create fills the etag field");
    let read = orders.read("contoso", "o-1").await.unwrap();
    assert_eq!(
        read, created,
        "read returns what create stored, etag included"
    );
    assert_eq!(orders.find("contoso", "o-1").await.unwrap(), Some(created));
}

pub async fn duplicate_create_is_already_exists(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    create_order(&orders, "contoso", "o-1", 1.0).await;
    let err = orders
        .create(&Order::new("contoso", "o-1", 2.0))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::AlreadyExists { ref id, .. } if id == "o-1"),
        "{err:?}"
    );
    assert_eq!(
        orders.read("contoso", "o-1").await.unwrap().total,
        1.0,
        "the first create stands"
    );
}

pub async fn concurrent_creates_of_one_id_admit_exactly_one(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    let tasks: Vec<_> = (0..16)
        .map(|n| {
            let orders = orders.clone();
            tokio::spawn(async move {
                orders
                    .create(&Order::new("contoso", "race", f64::from(n)))
                    .await
            })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => created += 1,
            Err(Error::AlreadyExists { .. }) => {}
            Err(err) => panic!("unexpected error: {err:?}"),
        }
    }
    assert_eq!(created, 1);
}

pub async fn missing_document_is_not_found(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    let err = orders.read("contoso", "nope").await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("`nope`") && message.contains(orders.container()),
        "{message}"
    );
    assert_eq!(orders.find("contoso", "nope").await.unwrap(), None);
}

pub async fn same_id_lives_in_two_partitions(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    create_order(&orders, "contoso", "o-1", 1.0).await;
    create_order(&orders, "fabrikam", "o-1", 2.0).await;
    assert_eq!(orders.read("contoso", "o-1").await.unwrap().total, 1.0);
    assert_eq!(orders.read("fabrikam", "o-1").await.unwrap().total, 2.0);
    orders.delete("contoso", "o-1").await.unwrap();
    assert_eq!(
        orders.read("fabrikam", "o-1").await.unwrap().total,
        2.0,
        "the other partition keeps its copy"
    );
}

pub async fn etag_changes_on_every_write(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    let mut seen = Vec::new();
    let created = create_order(&orders, "contoso", "o-1", 1.0).await;
    seen.push(created.etag.clone().unwrap());
    let upserted = orders.upsert(&created).await.unwrap();
    seen.push(upserted.etag.clone().unwrap());
    let replaced = orders.replace(&upserted).await.unwrap();
    seen.push(replaced.etag.clone().unwrap());
    let updated = orders
        .update("contoso", "o-1", |o| o.total += 1.0)
        .await
        .unwrap();
    seen.push(updated.etag.clone().unwrap());
    let read = orders.read("contoso", "o-1").await.unwrap();
    assert_eq!(
        read.etag.as_ref(),
        seen.last(),
        "a read sees the last write's etag"
    );
    let mut distinct = seen.clone();
    distinct.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        seen.len(),
        "every write gave a new etag: {seen:?}"
    );
}

pub async fn stale_replace_is_precondition_failed(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    let first = create_order(&orders, "contoso", "o-1", 1.0).await;
    let mut winner = first.clone();
    winner.total = 2.0;
    orders.replace(&winner).await.unwrap();
    let mut loser = first;
    loser.total = 3.0;
    let err = orders.replace(&loser).await.unwrap_err();
    assert!(err.is_precondition_failed(), "{err:?}");
    assert_eq!(
        orders.read("contoso", "o-1").await.unwrap().total,
        2.0,
        "the stale write was not applied"
    );
    let err = orders.delete_doc(&loser).await.unwrap_err();
    assert!(
        err.is_precondition_failed(),
        "a stale delete_doc is refused too: {err:?}"
    );
}

pub async fn replace_overrides(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    let stale = create_order(&orders, "contoso", "o-1", 1.0).await;
    let current = orders.upsert(&stale).await.unwrap();
    let mut doc = stale.clone();
    doc.total = 5.0;
    let err = orders
        .replace(&doc)
        .if_match(stale.etag.clone().unwrap())
        .await
        .unwrap_err();
    assert!(err.is_precondition_failed(), "{err:?}");
    let replaced = orders
        .replace(&doc)
        .if_match(current.etag.clone().unwrap())
        .await
        .unwrap();
    assert_eq!(replaced.total, 5.0);
    doc.total = 6.0;
    let forced = orders.replace(&doc).unconditional().await.unwrap();
    assert_eq!(
        forced.total, 6.0,
        "an unconditional replace ignores the stale etag"
    );
}

pub async fn replace_of_a_missing_document_is_not_found(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    let err = orders
        .replace(&Order::new("contoso", "ghost", 1.0))
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
}

pub async fn upsert_creates_then_overwrites(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    orders
        .upsert(&Order::new("contoso", "o-1", 1.0))
        .await
        .unwrap();
    orders
        .upsert(&Order::new("contoso", "o-1", 2.0))
        .await
        .unwrap();
    assert_eq!(orders.read("contoso", "o-1").await.unwrap().total, 2.0);
}

pub async fn delete_removes_and_respects_if_match(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    let stale = create_order(&orders, "contoso", "o-1", 1.0).await;
    let current = orders.upsert(&stale).await.unwrap();
    let err = orders
        .delete("contoso", "o-1")
        .if_match(stale.etag.clone().unwrap())
        .await
        .unwrap_err();
    assert!(err.is_precondition_failed(), "{err:?}");
    orders.delete_doc(&current).await.unwrap();
    assert!(
        orders
            .read("contoso", "o-1")
            .await
            .unwrap_err()
            .is_not_found()
    );
    let err = orders.delete("contoso", "o-1").await.unwrap_err();
    assert!(err.is_not_found(), "deleting twice is not found: {err:?}");
}

pub async fn update_applies_the_change_and_returns_the_stored_document(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    create_order(&orders, "contoso", "o-1", 1.0).await;
    let updated = orders
        .update("contoso", "o-1", |o| o.total *= 10.0)
        .await
        .unwrap();
    assert_eq!(updated.total, 10.0);
    assert_eq!(orders.read("contoso", "o-1").await.unwrap(), updated);
}

pub async fn update_refuses_to_change_the_key(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    create_order(&orders, "contoso", "o-1", 1.0).await;
    let err = orders
        .update("contoso", "o-1", |o| o.customer_id = "fabrikam".into())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err:?}");
    let err = orders
        .update("contoso", "o-1", |o| o.id = "o-2".into())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err:?}");
    assert_eq!(orders.read("contoso", "o-1").await.unwrap().total, 1.0);
}

pub async fn update_of_a_missing_document_is_not_found(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    let err = orders
        .update("contoso", "ghost", |o| o.total = 1.0)
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
}

/// 16 tasks each increment one counter 50 times through `update`: every increment survives.
pub async fn lost_update_never_happens(backend: &impl Backend) {
    const TASKS: u64 = 16;
    const INCREMENTS: u64 = 50;
    let counters = Arc::new(backend.repository::<Counter>());
    let counter = Counter {
        id: "hits".into(),
        scope: "site".into(),
        value: 0,
        etag: None,
    };
    counters.create(&counter).await.unwrap();
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let counters = Arc::clone(&counters);
            tokio::spawn(async move {
                for _ in 0..INCREMENTS {
                    counters
                        .update("site", "hits", |c| c.value += 1)
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(
        counters.read("site", "hits").await.unwrap().value,
        TASKS * INCREMENTS
    );
}

pub async fn hierarchical_keys_address_documents(backend: &impl Backend) {
    let sessions = backend.repository::<Session>();
    let session = Session {
        id: "s1".into(),
        tenant_id: "acme".into(),
        user_id: "u1".into(),
        active: true,
    };
    sessions.create(&session).await.unwrap();
    let other = Session {
        user_id: "u2".into(),
        active: false,
        ..session.clone()
    };
    sessions.create(&other).await.unwrap();
    assert_eq!(sessions.read(("acme", "u1"), "s1").await.unwrap(), session);
    assert_eq!(sessions.read(("acme", "u2"), "s1").await.unwrap(), other);
    assert!(sessions.find(("acme", "u3"), "s1").await.unwrap().is_none());
}

pub async fn numeric_keys_address_documents(backend: &impl Backend) {
    let readings = backend.repository::<Reading>();
    let reading = Reading {
        id: "r1".into(),
        sensor: 7,
        celsius: 21.5,
    };
    readings.create(&reading).await.unwrap();
    assert_eq!(readings.read(7, "r1").await.unwrap(), reading);
    assert!(readings.find(8, "r1").await.unwrap().is_none());
    let err = readings.replace(&reading).await;
    assert!(
        err.is_ok(),
        "a type without #[etag] replaces unconditionally: {err:?}"
    );
}

/// Ids Cosmos DB refuses, or that a request path would turn into another resource.
pub const BAD_IDS: [&str; 12] = [
    "",
    ".",
    "..",
    "a/b",
    "x/../other",
    "a\\b",
    "a?b",
    "a#b",
    "tab\there",
    "new\nline",
    "nul\0",
    "other ",
];

fn assert_bad_request<T: std::fmt::Debug>(result: Result<T>, what: &str) {
    match result {
        Err(Error::BadRequest { message }) => assert!(!message.is_empty(), "{what}"),
        other => panic!("{what}: expected BadRequest, got {other:?}"),
    }
}

pub async fn invalid_ids_are_bad_requests(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    for id in bad_ids() {
        assert_bad_request(orders.create(&Order::new("contoso", &id, 1.0)).await, &id);
        assert_bad_request(orders.upsert(&Order::new("contoso", &id, 1.0)).await, &id);
        assert_bad_request(orders.replace(&Order::new("contoso", &id, 1.0)).await, &id);
        assert_bad_request(orders.read("contoso", &id).await, &id);
        assert_bad_request(orders.find("contoso", &id).await, &id);
        assert_bad_request(orders.delete("contoso", &id).await, &id);
        assert_bad_request(
            orders.delete_doc(&Order::new("contoso", &id, 1.0)).await,
            &id,
        );
        assert_bad_request(orders.update("contoso", &id, |o| o.total += 1.0).await, &id);
    }
}

/// Every id in [`BAD_IDS`], and one a byte over Cosmos DB's 1,023-byte limit.
pub fn bad_ids() -> Vec<String> {
    let mut ids: Vec<String> = BAD_IDS.iter().map(|id| (*id).to_owned()).collect();
    ids.push("é".repeat(512));
    ids
}

pub async fn bad_ids_never_reach_another_document(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    create_order(&orders, "contoso", "other", 1.0).await;
    for id in bad_ids() {
        let _ = orders.delete("contoso", &id).await;
        let _ = orders.update("contoso", &id, |o| o.total = 666.0).await;
        let _ = orders
            .replace(&Order::new("contoso", &id, 666.0))
            .unconditional()
            .await;
    }
    let other = orders.read("contoso", "other").await.unwrap();
    assert_eq!(other.total, 1.0, "no operation on a bad id touched `other`");
    assert_eq!(orders.query().cross_partition().count().await.unwrap(), 1);
    // Ids near the rules are fine, and name exactly themselves.
    for id in [
        " lead",
        "...",
        ".dot",
        "100%",
        "a b",
        "ünï😀",
        "a+b=c&d",
        "%2e%2e",
        "o%2Fx",
    ] {
        orders
            .create(&Order::new("contoso", id, 2.0))
            .await
            .unwrap();
        assert_eq!(orders.read("contoso", id).await.unwrap().id, id);
        orders.delete("contoso", id).await.unwrap();
    }
    assert_eq!(orders.read("contoso", "other").await.unwrap().total, 1.0);
}

pub async fn values_cosmos_db_cannot_hold_are_never_stored(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    for total in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let err = orders
            .create(&Order::new("contoso", "o-nan", total))
            .await
            .unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, Error::BadRequest { .. }), "{err:?}");
        assert!(
            message.contains("`total`") && message.contains("string"),
            "{message}"
        );
        assert!(
            orders.find("contoso", "o-nan").await.unwrap().is_none(),
            "nothing stored"
        );
    }
    let counters = backend.repository::<Counter>();
    let big = Counter {
        id: "big".into(),
        scope: "s".into(),
        value: (1 << 53) + 1,
        etag: None,
    };
    let err = counters.upsert(&big).await.unwrap_err();
    assert!(
        err.to_string().contains("`value` is 9007199254740993"),
        "{err}"
    );
    assert!(counters.find("s", "big").await.unwrap().is_none());
    let edge = Counter {
        value: (1 << 53) - 1,
        ..big
    };
    assert_eq!(counters.upsert(&edge).await.unwrap().value, (1 << 53) - 1);

    let blobs = backend.repository::<Blob>();
    let nest = |arrays: usize| {
        (0..arrays).fold(serde_json::json!(1), |inner, _| serde_json::json!([inner]))
    };
    // The document is level 1 and `payload` an array from level 2.
    let deepest = Blob {
        id: "deep".into(),
        owner: "o".into(),
        payload: nest(123),
        etag: None,
    };
    assert_eq!(
        blobs.create(&deepest).await.unwrap().payload,
        deepest.payload
    );
    let too_deep = Blob {
        id: "deeper".into(),
        payload: nest(124),
        ..deepest.clone()
    };
    let err = blobs.create(&too_deep).await.unwrap_err();
    assert!(err.to_string().contains("nested 125 levels"), "{err}");
    assert!(blobs.find("o", "deeper").await.unwrap().is_none());
    let huge = Blob {
        id: "huge".into(),
        payload: "x".repeat(2 * 1024 * 1024).into(),
        ..deepest
    };
    let err = blobs.create(&huge).await.unwrap_err();
    assert!(err.to_string().contains("2 MB"), "{err}");
    assert!(blobs.find("o", "huge").await.unwrap().is_none());

    // The partition still answers queries: nothing half-stored poisons it.
    assert_eq!(blobs.query().partition("o").count().await.unwrap(), 1);
    let nan_filter = orders
        .query()
        .partition("contoso")
        .filter(Order::FIELDS.total.eq(f64::NAN));
    assert_bad_request(nan_filter.all().await, "a NaN filter value");
    let huge_filter = counters
        .query()
        .cross_partition()
        .filter(Counter::FIELDS.value.gt(u64::MAX));
    assert_bad_request(huge_filter.count().await, "a filter value beyond 2^53");
}

pub async fn keys_cosmos_db_cannot_hold_are_refused(backend: &impl Backend) {
    let readings = backend.repository::<Reading>();
    let beyond = Reading {
        id: "r".into(),
        sensor: i64::MAX,
        celsius: 1.0,
    };
    assert_bad_request(readings.create(&beyond).await, "a key beyond 2^53");
    assert_bad_request(readings.read(i64::MAX, "r").await, "a key beyond 2^53");
    assert_bad_request(
        readings.query().partition(-(1i64 << 60)).all().await,
        "scope beyond 2^53",
    );
    let orders = backend.repository::<Order>();
    let long_key = "k".repeat(2049);
    assert_bad_request(
        orders.create(&Order::new(&long_key, "o-1", 1.0)).await,
        "a 2,049-byte key",
    );
    assert_bad_request(orders.read(&long_key, "o-1").await, "a 2,049-byte key");
    let longest = "k".repeat(2048);
    create_order(&orders, &longest, "o-1", 1.0).await;
    assert_eq!(orders.read(&longest, "o-1").await.unwrap().total, 1.0);
}

pub async fn a_key_stored_in_another_form_is_refused(backend: &impl Backend) {
    /// A key whose serde form (upper case) differs from the value it gives as a key.
    #[derive(Debug, Deserialize)]
    struct Shouted(String);

    impl Serialize for Shouted {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_str(&self.0.to_uppercase())
        }
    }

    impl cosmos_repo::key::KeyComponent<Shouted> for Shouted {
        fn key_value(&self) -> cosmos_repo::key::PartitionKeyValue {
            cosmos_repo::key::PartitionKeyValue::String(self.0.clone())
        }
    }

    #[derive(Debug, Serialize, Deserialize, CosmosDocument)]
    #[cosmos(container = "orders")]
    #[serde(rename_all = "camelCase")]
    struct ShoutedOrder {
        #[id]
        id: String,
        #[partition_key]
        customer_id: Shouted,
    }

    let shouted = backend.repository::<ShoutedOrder>();
    let doc = ShoutedOrder {
        id: "o-1".into(),
        customer_id: Shouted("contoso".into()),
    };
    let err = shouted.upsert(&doc).await.unwrap_err();
    assert!(matches!(err, Error::BadRequest { .. }), "{err:?}");
    assert!(
        err.to_string().contains(r#"`/customerId` as "CONTOSO""#),
        "{err}"
    );
    let orders = backend.repository::<Order>();
    assert_eq!(
        orders.query().cross_partition().count().await.unwrap(),
        0,
        "nothing stored"
    );
}

/// Whether `charge` is what `backend` charges: nothing on the embedded store, something on a
/// service.
fn assert_charged(backend: &impl Backend, charge: f64, what: &str) {
    assert_eq!(
        charge > 0.0,
        backend.charges_requests(),
        "{what} charged {charge} RU"
    );
}

pub async fn metadata_comes_with_every_response(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    let created = orders
        .create(&Order::new("contoso", "o-1", 1.0))
        .with_meta()
        .await
        .unwrap();
    assert_eq!(
        created.etag, created.value.etag,
        "the response etag is the document's"
    );
    assert_eq!(created.status, 201);
    assert!(created.activity_id.is_some());
    assert_charged(backend, created.request_charge, "a create");
    let upserted = orders
        .upsert(&Order::new("contoso", "o-1", 2.0))
        .with_meta()
        .await
        .unwrap();
    assert_eq!(upserted.status, 200, "an upsert that overwrote");
    let read = orders.read("contoso", "o-1").with_meta().await.unwrap();
    assert_eq!((read.status, &read.etag), (200, &upserted.etag));
    assert_charged(backend, read.request_charge, "a read");
    let found = orders.find("contoso", "o-1").with_meta().await.unwrap();
    assert_eq!((found.status, &found.etag), (200, &upserted.etag));
    let missing = orders.find("contoso", "none").with_meta().await.unwrap();
    assert_eq!((missing.status, missing.value), (404, None));

    // An update's charge is its read's and its replace's.
    let updated = orders
        .update("contoso", "o-1", |o| o.total += 1.0)
        .with_meta()
        .await
        .unwrap();
    let reread = orders.read("contoso", "o-1").with_meta().await.unwrap();
    let replaced = orders.replace(&reread.value).with_meta().await.unwrap();
    assert_eq!(
        updated.request_charge,
        reread.request_charge + replaced.request_charge
    );

    // Queries: every terminal operation, the same way.
    let query = || orders.query().partition("contoso");
    let all = query().all().with_meta().await.unwrap();
    assert_eq!((all.value.len(), all.status), (1, 200));
    assert!(all.activity_id.is_some());
    assert_charged(backend, all.request_charge, "all");
    let first = query().first().with_meta().await.unwrap();
    assert!(first.value.is_some() && first.activity_id.is_some());
    assert_charged(backend, first.request_charge, "first");
    let exists = query().exists().with_meta().await.unwrap();
    assert!(exists.value && exists.activity_id.is_some());
    assert_charged(backend, exists.request_charge, "exists");
    let count = query().count().with_meta().await.unwrap();
    assert_eq!(count.value, 1);
    assert_charged(backend, count.request_charge, "count");
    let page = query().page(10, None).await.unwrap();
    assert!(page.activity_id.is_some());
    assert_charged(backend, page.request_charge, "a page");
    let pages: Vec<_> = query().pages(10).try_collect().await.unwrap();
    assert!(pages.iter().all(|page| page.activity_id.is_some()));
    assert_eq!(
        pages.iter().map(|page| page.request_charge).sum::<f64>(),
        all.request_charge,
        "all() charges what its pages do"
    );

    let deleted = orders.delete("contoso", "o-1").with_meta().await.unwrap();
    assert_eq!(deleted.status, 204);
    assert!(deleted.activity_id.is_some());
}

/// Creates an order that a scenario starts from, returning it as stored.
async fn create_order(
    orders: &Repository<Order>,
    customer_id: &str,
    id: &str,
    total: f64,
) -> Order {
    orders
        .create(&Order::new(customer_id, id, total))
        .await
        .unwrap()
}

/// Eight products in three categories, as stored.
pub async fn seed_products(backend: &impl Backend) -> Repository<Product> {
    let products = backend.repository::<Product>();
    let rows = serde_json::json!([
        [
            "p1",
            "tools",
            "Hammer",
            12.5,
            10,
            ["steel", "hand"],
            false,
            null,
            null
        ],
        [
            "p2",
            "tools",
            "Drill",
            89.0,
            3,
            ["power"],
            false,
            "cordless",
            0.1
        ],
        ["p3", "tools", "Saw", 25.0, 0, ["steel"], true, null, 0.5],
        ["p4", "garden", "Hose", 30.0, 7, [], false, "20 m", null],
        [
            "p5",
            "garden",
            "Shovel",
            25.0,
            12,
            ["steel", "hand"],
            false,
            null,
            null
        ],
        [
            "p6",
            "garden",
            "Mower",
            350.0,
            1,
            ["power"],
            true,
            "petrol",
            0.25
        ],
        [
            "p7",
            "paint",
            "Brush",
            4.0,
            100,
            ["hand"],
            false,
            null,
            null
        ],
        [
            "p8",
            "paint",
            "Roller",
            9.5,
            40,
            [],
            false,
            "hand roller",
            null
        ],
    ]);
    for (n, row) in rows.as_array().unwrap().iter().enumerate() {
        let product = serde_json::json!({
            "id": row[0], "category": row[1], "name": row[2], "price": row[3], "stock": row[4],
            "tags": row[5], "discontinued": row[6], "note": row[7], "discount": row[8],
            "first-seen": format!("2026-0{}-01", n + 1),
        });
        let product: Product = serde_json::from_value(product).unwrap();
        products.create(&product).await.unwrap();
    }
    products
}

/// The ids of the documents matching `filter` across partitions, sorted.
pub async fn ids<T: CosmosDocument + Send + Sync>(
    repository: &Repository<T>,
    filter: Filter<T>,
) -> Vec<String> {
    let found = repository
        .query()
        .cross_partition()
        .filter(filter)
        .all()
        .await
        .unwrap();
    let mut ids: Vec<String> = found.iter().map(|doc| doc.id().to_owned()).collect();
    ids.sort();
    ids
}

pub async fn every_query_operator_selects_the_documents_cosmos_db_would(backend: &impl Backend) {
    let products = seed_products(backend).await;
    let f = Product::FIELDS;
    let cases: Vec<(&str, Filter<Product>, &[&str])> = vec![
        ("eq", f.price.eq(25.0), &["p3", "p5"]),
        (
            "ne",
            f.category.ne("tools"),
            &["p4", "p5", "p6", "p7", "p8"],
        ),
        ("gt", f.price.gt(30.0), &["p2", "p6"]),
        ("ge", f.price.ge(30.0), &["p2", "p4", "p6"]),
        ("lt", f.stock.lt(3), &["p3", "p6"]),
        ("le", f.stock.le(3), &["p2", "p3", "p6"]),
        (
            "is_in",
            f.name.is_in(["Saw", "Hose", "Nothing"]),
            &["p3", "p4"],
        ),
        ("is_in empty", f.name.is_in(Vec::<String>::new()), &[]),
        (
            "between",
            f.price.between(9.5, 25.0),
            &["p1", "p3", "p5", "p8"],
        ),
        ("starts_with", f.name.starts_with("S"), &["p3", "p5"]),
        ("ends_with", f.name.ends_with("er"), &["p1", "p6", "p8"]),
        ("contains", f.name.contains("o"), &["p4", "p5", "p6", "p8"]),
        (
            "contains on Option<String>",
            f.note.contains("hand"),
            &["p8"],
        ),
        (
            "array_contains",
            f.tags.array_contains("steel"),
            &["p1", "p3", "p5"],
        ),
        ("is_defined", f.discount.is_defined(), &["p2", "p3", "p6"]),
        ("is_null", f.note.is_null(), &["p1", "p3", "p5", "p7"]),
        ("bool eq", f.discontinued.eq(true), &["p3", "p6"]),
        ("Option eq", f.note.eq("petrol".to_owned()), &["p6"]),
        ("Option eq &str", f.note.eq("petrol"), &["p6"]),
        (
            "Option eq Some",
            f.note.eq(Some("petrol".to_owned())),
            &["p6"],
        ),
        // Stored nulls equal null; an absent property is undefined, so it matches neither.
        ("Option eq None", f.note.eq(None), &["p1", "p3", "p5", "p7"]),
        ("absent Option eq None", f.discount.eq(None), &[]),
        (
            "Option is_in &str",
            f.note.is_in(["petrol", "20 m", "nothing"]),
            &["p4", "p6"],
        ),
        ("Option<f64> ge inner", f.discount.ge(0.25), &["p3", "p6"]),
        (
            "Option between inner",
            f.discount.between(0.1, 0.25),
            &["p2", "p6"],
        ),
        (
            "non-identifier name",
            f.first_seen.ge("2026-07-01"),
            &["p7", "p8"],
        ),
        (
            "and",
            f.category.eq("tools").and(f.price.lt(50.0)),
            &["p1", "p3"],
        ),
        (
            "or",
            f.price.gt(100.0).or(f.stock.ge(40)),
            &["p6", "p7", "p8"],
        ),
        (
            "not",
            f.discontinued.eq(true).not(),
            &["p1", "p2", "p4", "p5", "p7", "p8"],
        ),
        (
            "nested and/or/not",
            f.stock
                .lt(10)
                .or(f.price.gt(100.0))
                .and(f.tags.array_contains("power").not()),
            &["p3", "p4"],
        ),
        // A comparison with a missing property is undefined: neither it nor its negation holds.
        ("missing property", f.discount.lt(0.3), &["p2", "p6"]),
        ("not of missing property", f.discount.lt(0.3).not(), &["p3"]),
        // A comparison with null is undefined too (different types).
        (
            "null compared",
            f.note.gt("a".to_owned()),
            &["p2", "p6", "p8"],
        ),
        (
            "not of null compared",
            f.note.gt("a".to_owned()).not(),
            &["p4"],
        ),
    ];
    for (name, filter, expected) in cases {
        assert_eq!(ids(&products, filter).await, expected, "{name}");
    }
}

pub async fn partition_scope_reads_one_partition(backend: &impl Backend) {
    let products = seed_products(backend).await;
    let mut garden: Vec<String> = products
        .query()
        .partition("garden")
        .select(Product::FIELDS.id)
        .all()
        .await
        .unwrap();
    garden.sort();
    assert_eq!(garden, ["p4", "p5", "p6"]);
    let cheap_garden = products
        .query()
        .partition("garden")
        .filter(Product::FIELDS.price.lt(100.0))
        .order_by(Product::FIELDS.price.asc())
        .all()
        .await
        .unwrap();
    let names: Vec<&str> = cheap_garden.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Shovel", "Hose"]);
    assert!(cheap_garden.iter().all(|p| p.category == "garden"));
}

pub async fn sorting_limits_and_pages_agree(backend: &impl Backend) {
    let products = seed_products(backend).await;
    // Stock levels are all different, so the order is fully determined.
    let by_stock = || {
        products
            .query()
            .cross_partition()
            .order_by(Product::FIELDS.stock.desc())
            .select(Product::FIELDS.id)
    };
    let all = by_stock().all().await.unwrap();
    assert_eq!(all, ["p7", "p8", "p5", "p1", "p4", "p2", "p6", "p3"]);
    assert_eq!(by_stock().limit(3).all().await.unwrap(), ["p7", "p8", "p5"]);
    assert_eq!(by_stock().first().await.unwrap().as_deref(), Some("p7"));
    let ascending: Vec<String> = products
        .query()
        .partition("tools")
        .order_by(Product::FIELDS.stock.asc())
        .select(Product::FIELDS.id)
        .all()
        .await
        .unwrap();
    assert_eq!(ascending, ["p3", "p2", "p1"]);

    // Page by 3 with continuations: the pages add up to the whole, in order.
    let mut paged = Vec::new();
    let mut continuation: Option<String> = None;
    let mut pages = 0;
    let mut charge = 0.0;
    loop {
        let page = by_stock().page(3, continuation.as_deref()).await.unwrap();
        assert!(page.items.len() <= 3);
        // A page the SDK serves from results it already holds costs nothing.
        charge += page.request_charge;
        paged.extend(page.items);
        pages += 1;
        assert!(pages <= 8, "paging does not end");
        match page.continuation {
            Some(next) => continuation = Some(next),
            None => break,
        }
    }
    assert_eq!(paged, all);
    assert_charged(backend, charge, "paging");

    // The stream fetches the same, lazily.
    let streamed: Vec<String> = by_stock().stream(2).try_collect().await.unwrap();
    assert_eq!(streamed, all);

    // Unsorted paging in one partition and across partitions loses and repeats nothing.
    for cross in [false, true] {
        let mut seen = Vec::new();
        let mut continuation: Option<String> = None;
        loop {
            let query = products.query();
            let query = if cross {
                query.cross_partition()
            } else {
                query.partition("tools")
            };
            let page = query
                .select(Product::FIELDS.id)
                .page(2, continuation.as_deref())
                .await
                .unwrap();
            seen.extend(page.items);
            match page.continuation {
                Some(next) => continuation = Some(next),
                None => break,
            }
        }
        seen.sort();
        let expected: &[&str] = if cross {
            &["p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8"]
        } else {
            &["p1", "p2", "p3"]
        };
        assert_eq!(seen, expected, "cross partition: {cross}");
    }
}

pub async fn continuations_are_bound_to_their_query(backend: &impl Backend) {
    let products = seed_products(backend).await;
    let f = Product::FIELDS;
    let cheap = || {
        products
            .query()
            .cross_partition()
            .filter(f.price.lt(100.0))
            .select(f.id)
    };
    let first = cheap().page(2, None).await.unwrap();
    let token = first.continuation.expect("more than one page");
    assert_eq!(cheap().page(2, Some(&token)).await.unwrap().items.len(), 2);

    let other_filter = products
        .query()
        .cross_partition()
        .filter(f.price.lt(99.0))
        .select(f.id);
    let other_scope = products
        .query()
        .partition("tools")
        .filter(f.price.lt(100.0))
        .select(f.id);
    let altered = format!("{}0", token);
    for (what, result) in [
        ("another filter", other_filter.page(2, Some(&token)).await),
        ("another scope", other_scope.page(2, Some(&token)).await),
        ("an altered token", cheap().page(2, Some(&altered)).await),
        ("garbage", cheap().page(2, Some("garbage")).await),
        (
            "a made-up token",
            cheap().page(2, Some("0000000000000000.{}")).await,
        ),
        ("a page size of 0", cheap().page(0, None).await),
    ] {
        assert!(
            matches!(result, Err(Error::BadRequest { .. })),
            "{what}: {result:?}"
        );
    }
    let streamed: Vec<Result<String>> = cheap().stream(0).collect().await;
    assert!(
        matches!(streamed.as_slice(), [Err(Error::BadRequest { .. })]),
        "stream(0): {streamed:?}"
    );
}

/// Pages a query by 2, running `between` after each page but the last; returns every id seen.
async fn page_with_writes_between<F, Fut>(
    query: impl Fn() -> Query<'static, Product, Scoped, String>,
    mut between: F,
) -> Vec<String>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut seen = Vec::new();
    let mut continuation: Option<String> = None;
    for page_number in 0.. {
        assert!(page_number < 20, "paging does not end");
        let page = query().page(2, continuation.as_deref()).await.unwrap();
        seen.extend(page.items);
        match page.continuation {
            Some(next) => continuation = Some(next),
            None => break,
        }
        between(page_number).await;
    }
    seen
}

pub async fn pages_survive_writes_between_them(backend: &impl Backend) {
    let products: &'static Repository<Product> = Box::leak(Box::new(seed_products(backend).await));
    let f = Product::FIELDS;
    // Sorted by stock: p7 p8 | p5 p1 | p4 p2 | p6 p3. After the first page, delete a row
    // already seen (p7) and one not yet seen (p6), and add one that sorts later (p0).
    let sorted = || {
        products
            .query()
            .cross_partition()
            .order_by(f.stock.desc())
            .select(f.id)
    };
    let seen = page_with_writes_between(sorted, |page| async move {
        if page == 0 {
            products.delete("paint", "p7").await.unwrap();
            products.delete("garden", "p6").await.unwrap();
            let mut later = products.read("tools", "p1").await.unwrap();
            later.id = "p0".into();
            later.stock = 2;
            products.create(&later).await.unwrap();
        }
    })
    .await;
    assert_eq!(
        seen,
        ["p7", "p8", "p5", "p1", "p4", "p2", "p0", "p3"],
        "sorted"
    );

    // Unsorted in one partition: tools holds p0 p1 p2 p3, in an order that is the store's.
    // After the first page, two of them go: whichever they are, the others are seen once.
    let unsorted = || products.query().partition("tools").select(f.id);
    let seen = page_with_writes_between(unsorted, |page| async move {
        if page == 0 {
            products.delete("tools", "p0").await.unwrap();
            products.delete("tools", "p3").await.unwrap();
        }
    })
    .await;
    let mut once = seen.clone();
    once.sort();
    once.dedup();
    assert_eq!(once.len(), seen.len(), "nothing repeated: {seen:?}");
    for unchanged in ["p1", "p2"] {
        assert!(
            seen.iter().any(|id| id == unchanged),
            "{unchanged} skipped: {seen:?}"
        );
    }
}

pub async fn projections_return_fields_and_tuples(backend: &impl Backend) {
    let products = seed_products(backend).await;
    let f = Product::FIELDS;
    let mut prices: Vec<f64> = products
        .query()
        .partition("paint")
        .select(f.price)
        .all()
        .await
        .unwrap();
    prices.sort_by(f64::total_cmp);
    assert_eq!(prices, [4.0, 9.5]);
    let mut pairs: Vec<(String, i64)> = products
        .query()
        .partition("paint")
        .select((f.name, f.stock))
        .all()
        .await
        .unwrap();
    pairs.sort();
    assert_eq!(
        pairs,
        [("Brush".to_owned(), 100), ("Roller".to_owned(), 40)]
    );

    #[derive(Debug, Deserialize, PartialEq)]
    struct Label {
        name: String,
        price: f64,
    }
    let labels: Vec<Label> = products
        .query()
        .partition("paint")
        .filter(f.name.eq("Brush"))
        .select_as::<Label>()
        .all()
        .await
        .unwrap();
    assert_eq!(
        labels,
        [Label {
            name: "Brush".into(),
            price: 4.0
        }]
    );
}

pub async fn count_and_exists_follow_the_filter(backend: &impl Backend) {
    let products = seed_products(backend).await;
    let f = Product::FIELDS;
    assert_eq!(products.query().cross_partition().count().await.unwrap(), 8);
    assert_eq!(
        products
            .query()
            .cross_partition()
            .filter(f.tags.array_contains("steel"))
            .count()
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        products.query().partition("paint").count().await.unwrap(),
        2
    );
    assert!(
        products
            .query()
            .partition("garden")
            .filter(f.price.gt(300.0))
            .exists()
            .await
            .unwrap()
    );
    assert!(
        !products
            .query()
            .partition("paint")
            .filter(f.price.gt(300.0))
            .exists()
            .await
            .unwrap()
    );
}

pub async fn nested_fields_are_queried_by_path(backend: &impl Backend) {
    let shipments = backend.repository::<Shipment>();
    let address = |city: &str, zip: &str, lat: f64| Address {
        city: city.into(),
        zip_code: zip.into(),
        geo: Geo { lat },
    };
    for (id, to, back) in [
        ("s1", address("Paris", "75001", 48.8), None),
        (
            "s2",
            address("Lyon", "69001", 45.7),
            Some(address("Paris", "75002", 48.8)),
        ),
        (
            "s3",
            address("Oslo", "0150", 59.9),
            Some(address("Bergen", "5003", 60.4)),
        ),
    ] {
        shipments
            .create(&Shipment {
                id: id.into(),
                carrier: "dhl".into(),
                destination: to,
                return_to: back,
            })
            .await
            .unwrap();
    }
    let f = Shipment::FIELDS;
    let ids = |filter: Filter<Shipment>| {
        let shipments = &shipments;
        async move {
            let mut ids: Vec<String> = shipments
                .query()
                .partition("dhl")
                .filter(filter)
                .select(Shipment::FIELDS.id)
                .all()
                .await
                .unwrap();
            ids.sort();
            ids
        }
    };
    assert_eq!(ids(f.destination.city.eq("Paris")).await, ["s1"]);
    assert_eq!(ids(f.destination.zip_code.starts_with("69")).await, ["s2"]);
    assert_eq!(ids(f.destination.geo.lat.gt(50.0)).await, ["s3"]);
    assert_eq!(ids(f.return_to.city.eq("Paris")).await, ["s2"]);
    assert_eq!(ids(f.return_to.city.is_defined()).await, ["s2", "s3"]);
    assert_eq!(ids(f.return_to.geo.lat.lt(50.0).not()).await, ["s3"]);
    let cities: Vec<String> = shipments
        .query()
        .partition("dhl")
        .order_by(f.destination.geo.lat.desc())
        .select(f.destination.city)
        .all()
        .await
        .unwrap();
    assert_eq!(cities, ["Oslo", "Paris", "Lyon"]);
    // A whole nested struct: tested for presence, and selected.
    assert_eq!(ids(f.return_to.is_defined()).await, ["s2", "s3"]);
    assert_eq!(ids(f.return_to.is_defined().not()).await, ["s1"]);
    assert_eq!(f.return_to.geo.path().segments(), ["returnTo", "geo"]);
    // (The SDK's emulator projects a missing property as null, pinned in sdk_emulator.rs;
    // Cosmos DB leaves the row out. The filter keeps the scenario about the struct.)
    let returns: Vec<Address> = shipments
        .query()
        .partition("dhl")
        .filter(f.return_to.is_defined())
        .order_by(f.id.asc())
        .select(f.return_to)
        .all()
        .await
        .unwrap();
    let cities: Vec<&str> = returns.iter().map(|a| a.city.as_str()).collect();
    assert_eq!(cities, ["Paris", "Bergen"]);
    let geo: Option<Geo> = shipments
        .query()
        .partition("dhl")
        .filter(f.id.eq("s3"))
        .select(f.destination.geo)
        .first()
        .await
        .unwrap();
    assert_eq!(geo, Some(Geo { lat: 59.9 }), "two levels down");
}

/// A product with every kind of field a patch works on.
fn patchable(id: &str) -> Product {
    Product {
        id: id.into(),
        category: "tools".into(),
        name: "Hammer".into(),
        price: 10.0,
        stock: 3,
        tags: vec!["steel".into()],
        discontinued: false,
        note: Some("fragile".into()),
        discount: None,
        first_seen: "2024-01-01".into(),
    }
}

pub async fn patch_applies_typed_operations(backend: &impl Backend) {
    let products = backend.repository::<Product>();
    let f = Product::FIELDS;
    let created = products.create(&patchable("p1")).with_meta().await.unwrap();
    let patched = products
        .patch("tools", "p1")
        .set(f.name, "Sledgehammer")
        .incr(f.stock, 5)
        .incr(f.price, 2.5)
        .remove(f.note)
        .append(f.tags, "heavy")
        .set(f.discount, 0.25)
        .if_match(created.etag.clone().unwrap())
        .with_meta()
        .await
        .unwrap();
    let expected = Product {
        name: "Sledgehammer".into(),
        stock: 8,
        price: 12.5,
        note: None,
        tags: vec!["steel".into(), "heavy".into()],
        discount: Some(0.25),
        ..patchable("p1")
    };
    assert_eq!(
        patched.value, expected,
        "the patch resolves to the stored document"
    );
    assert_eq!(patched.status, 200);
    assert_ne!(patched.etag, created.etag, "a patch is a write");
    assert_eq!(products.read("tools", "p1").await.unwrap(), expected);
    let stored = products.read("tools", "p1").with_meta().await.unwrap();
    assert_eq!(stored.etag, patched.etag);
    let raw: Vec<serde_json::Value> = products
        .query()
        .partition("tools")
        .select_as()
        .all()
        .await
        .unwrap();
    assert!(
        raw[0].get("_azsdkPatchTracking").is_none(),
        "patched server-side, not by the SDK's read-and-replace: {}",
        raw[0]
    );

    // A stale etag: 412, nothing applied.
    let err = products
        .patch("tools", "p1")
        .incr(f.stock, 1)
        .if_match(created.etag.unwrap())
        .await
        .unwrap_err();
    assert!(err.is_precondition_failed(), "{err:?}");
    let err = products
        .patch("tools", "none")
        .incr(f.stock, 1)
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(products.read("tools", "p1").await.unwrap(), expected);
}

pub async fn patch_is_atomic_and_follows_cosmos_db_rules(backend: &impl Backend) {
    let products = backend.repository::<Product>();
    let f = Product::FIELDS;
    let before = products.create(&patchable("p1")).await.unwrap();

    // More than ten operations are refused before anything is sent.
    let eleven = (0..11).fold(products.patch("tools", "p1"), |patch, _| {
        patch.incr(f.stock, 1)
    });
    assert_bad_request(eleven.await, "11 operations");
    assert_bad_request(products.patch("tools", "p1").await, "no operations");
    assert_bad_request(
        products.patch("tools", "p1").set(f.id, "p2").await,
        "patching the id",
    );
    assert_bad_request(
        products
            .patch("tools", "p1")
            .set(f.category, "garden")
            .await,
        "patching the partition key",
    );

    // Removing a property the document lacks fails the whole patch: the set before it too.
    let err = products
        .patch("tools", "p1")
        .set(f.name, "changed")
        .remove(f.discount)
        .await
        .unwrap_err();
    assert_eq!(err.status(), 400, "{err:?}");
    assert_eq!(products.read("tools", "p1").await.unwrap(), before);

    // `incr` on a property stored as something else than a number: 400, nothing applied.
    let blobs = backend.repository::<Blob>();
    let tallies = backend.repository::<Tally>();
    let blob = Blob {
        id: "t1".into(),
        owner: "ann".into(),
        payload: serde_json::json!("not a number"),
        etag: None,
    };
    blobs.create(&blob).await.unwrap();
    let err = tallies
        .patch("ann", "t1")
        .set(Tally::FIELDS.label, Some("x".to_owned()))
        .incr(Tally::FIELDS.payload, 1)
        .await
        .unwrap_err();
    assert_eq!(err.status(), 400, "{err:?}");
    let stored = blobs.read("ann", "t1").await.unwrap();
    assert_eq!(stored.payload, blob.payload);
    assert!(
        serde_json::to_value(blobs.read("ann", "t1").await.unwrap())
            .unwrap()
            .get("label")
            .is_none(),
        "the set before the failed incr was not applied"
    );
}

/// An order of `contoso`.
fn order(id: &str, total: f64) -> Order {
    Order::new("contoso", id, total)
}

pub async fn batch_applies_every_operation(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    let replaced = create_order(&orders, "contoso", "o-3", 3.0).await;
    create_order(&orders, "contoso", "o-4", 4.0).await;
    create_order(&orders, "contoso", "o-5", 5.0).await;
    let changed = Order {
        total: 30.0,
        ..replaced
    };
    let done = orders
        .batch("contoso")
        .create(&order("o-1", 1.0))
        .upsert(&order("o-2", 2.0))
        .replace(&changed)
        .delete("o-4")
        .read("o-5")
        .await
        .unwrap();
    let statuses: Vec<u16> = done.results.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [201, 201, 200, 204, 200]);
    let documents: Vec<Option<Order>> =
        done.results.iter().map(|r| r.document().unwrap()).collect();
    assert_eq!(documents[0].as_ref().unwrap().id, "o-1");
    assert_eq!(documents[2].as_ref().unwrap().total, 30.0);
    assert!(documents[3].is_none(), "a delete returns no document");
    assert_eq!(documents[4].as_ref().unwrap().total, 5.0);
    for (result, document) in done.results.iter().zip(&documents) {
        if let Some(document) = document {
            assert_eq!(result.etag, document.etag, "each result carries its etag");
        }
    }
    assert_charged(backend, done.request_charge, "a batch");
    let mut stored: Vec<(String, f64)> = orders
        .query()
        .partition("contoso")
        .all()
        .await
        .unwrap()
        .into_iter()
        .map(|o| (o.id, o.total))
        .collect();
    stored.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        stored,
        [
            ("o-1".to_owned(), 1.0),
            ("o-2".to_owned(), 2.0),
            ("o-3".to_owned(), 30.0),
            ("o-5".to_owned(), 5.0)
        ]
    );
}

pub async fn a_failed_batch_applies_nothing(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    let existing = create_order(&orders, "contoso", "o-1", 1.0).await;
    create_order(&orders, "contoso", "o-2", 2.0).await;
    let snapshot = || async {
        let mut all = orders.query().partition("contoso").all().await.unwrap();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all
    };
    let before = snapshot().await;

    let failures = [
        // A create of a taken id, after writes that must be undone.
        (
            orders
                .batch("contoso")
                .upsert(&order("o-9", 9.0))
                .delete("o-2")
                .create(&order("o-1", 1.0)),
            2,
            409,
        ),
        // A replace with a stale etag.
        (
            orders
                .batch("contoso")
                .create(&order("o-8", 8.0))
                .replace(&Order {
                    total: 5.0,
                    ..existing.clone()
                })
                .replace(&Order {
                    total: 6.0,
                    ..existing.clone()
                }),
            2,
            412,
        ),
        // A delete and a read of a missing document.
        (orders.batch("contoso").delete("none"), 0, 404),
        (
            orders
                .batch("contoso")
                .upsert(&order("o-7", 7.0))
                .read("none"),
            1,
            404,
        ),
    ];
    for (batch, index, status) in failures {
        match batch.await {
            Err(Error::BatchFailed {
                index: failed,
                status: failed_status,
                ..
            }) => assert_eq!((failed, failed_status), (index, status)),
            other => panic!("expected operation {index} to fail with {status}: {other:?}"),
        }
        assert_eq!(
            snapshot().await,
            before,
            "nothing of a failed batch is applied"
        );
    }
}

pub async fn batch_limits_are_checked_before_sending(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    let many: Vec<Order> = (0..101).map(|i| order(&format!("o-{i}"), 1.0)).collect();
    let batch = many
        .iter()
        .fold(orders.batch("contoso"), |batch, o| batch.create(o));
    assert_bad_request(batch.await, "101 operations");
    assert_bad_request(orders.batch("contoso").await, "an empty batch");
    let elsewhere = Order::new("fabrikam", "o-1", 1.0);
    assert_bad_request(
        orders.batch("contoso").create(&elsewhere).await,
        "a document of another partition",
    );
    assert_bad_request(orders.batch("contoso").delete("a/b").await, "an invalid id");
    let blobs = backend.repository::<Blob>();
    let big = |id: &str| Blob {
        id: id.into(),
        owner: "ann".into(),
        payload: serde_json::json!("x".repeat(700_000)),
        etag: None,
    };
    let (a, b, c) = (big("b1"), big("b2"), big("b3"));
    assert_bad_request(
        blobs.batch("ann").create(&a).create(&b).create(&c).await,
        "over 2 MB",
    );
    assert_eq!(orders.query().cross_partition().count().await.unwrap(), 0);
    assert_eq!(blobs.query().cross_partition().count().await.unwrap(), 0);
}

pub async fn a_batch_holds_documents_of_several_types(backend: &impl Backend) {
    let blobs = backend.repository::<Blob>();
    let tallies = backend.repository::<Tally>();
    let blob = Blob {
        id: "b1".into(),
        owner: "ann".into(),
        payload: serde_json::json!({ "kind": "note" }),
        etag: None,
    };
    let tally = Tally {
        id: "t1".into(),
        owner: "ann".into(),
        payload: 7,
        label: None,
    };
    let done = blobs
        .batch("ann")
        .create(&blob)
        .create(&tally)
        .await
        .unwrap();
    let stored_tally: Tally = done.results[1].document().unwrap().unwrap();
    assert_eq!(stored_tally, tally);
    assert_eq!(tallies.read("ann", "t1").await.unwrap(), tally);
    assert_eq!(blobs.read("ann", "b1").await.unwrap().payload, blob.payload);
}

pub async fn bulk_reports_every_outcome_in_input_order(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    let docs: Vec<Order> = (0..60)
        .map(|i| Order::new(&format!("c-{}", i % 5), &format!("o-{i}"), f64::from(i)))
        .collect();
    let report = orders.create_all(&docs).concurrency(4).await;
    assert!(
        report.is_success(),
        "{:?}",
        report.failures().collect::<Vec<_>>()
    );
    assert_eq!(report.outcomes.len(), docs.len());
    for (outcome, doc) in report.outcomes.iter().zip(&docs) {
        let stored = &outcome.as_ref().unwrap().value;
        assert_eq!(
            (&stored.id, stored.total),
            (&doc.id, doc.total),
            "input order"
        );
    }
    assert_charged(backend, report.request_charge, "a bulk create");
    assert_eq!(orders.query().cross_partition().count().await.unwrap(), 60);

    // Creating some again fails for exactly those; the others go through.
    let mixed: Vec<Order> = (55..65)
        .map(|i| Order::new(&format!("c-{}", i % 5), &format!("o-{i}"), 1.0))
        .collect();
    let report = orders.create_all(&mixed).await;
    let failed: Vec<usize> = report.failures().map(|(index, _)| index).collect();
    assert_eq!(failed, [0, 1, 2, 3, 4]);
    assert!(
        report
            .failures()
            .all(|(_, err)| matches!(err, Error::AlreadyExists { .. }))
    );

    // Upserts overwrite; deletes report a missing document and delete the rest.
    let report = orders.upsert_all(&mixed).concurrency(2).await;
    assert!(report.is_success());
    let keys: Vec<(String, String)> = mixed
        .iter()
        .map(|o| (o.customer_id.clone(), o.id.clone()))
        .chain([("c-0".to_owned(), "missing".to_owned())])
        .collect();
    let report = orders.delete_all(keys).await;
    let failed: Vec<(usize, bool)> = report
        .failures()
        .map(|(index, err)| (index, err.is_not_found()))
        .collect();
    assert_eq!(failed, [(10, true)]);
    assert_eq!(orders.query().cross_partition().count().await.unwrap(), 55);

    // Progress: every input's outcome appears once in the stream.
    let mut seen: Vec<usize> = orders
        .upsert_all(&docs[..20])
        .concurrency(3)
        .stream()
        .map(|(index, outcome)| {
            outcome.unwrap();
            index
        })
        .collect()
        .await;
    seen.sort_unstable();
    assert_eq!(seen, (0..20).collect::<Vec<_>>());
}

pub async fn try_update_writes_nothing_when_the_change_refuses(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    let created = create_order(&orders, "contoso", "o-1", 10.0).await;
    let take = |amount: f64| {
        move |o: &mut Order| {
            if o.total < amount {
                return Err(format!("only {} left", o.total));
            }
            o.total -= amount;
            Ok(())
        }
    };
    let taken = orders
        .try_update("contoso", "o-1", take(4.0))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.total, 6.0);
    let refused = orders
        .try_update("contoso", "o-1", take(7.0))
        .with_meta()
        .await
        .unwrap();
    assert_eq!(refused.value, Err("only 6 left".to_owned()));
    let stored = orders.read("contoso", "o-1").await.unwrap();
    assert_eq!(stored.total, 6.0);
    assert_eq!(stored.etag, taken.etag, "a refused change writes nothing");
    assert_ne!(stored.etag, created.etag);
}

pub async fn types_sharing_a_container_see_only_their_own(backend: &impl Backend) {
    let orders = backend.repository::<AppOrder>();
    let customers = backend.repository::<AppCustomer>();
    let order = AppOrder {
        id: "o-1".into(),
        tenant: "t".into(),
        total: 5.0,
    };
    let customer = AppCustomer {
        id: "c-1".into(),
        tenant: "t".into(),
        name: "Ada".into(),
    };
    orders.create(&order).await.unwrap();
    customers.create(&customer).await.unwrap();

    let stored: Vec<serde_json::Value> = orders
        .query()
        .partition("t")
        .select_as()
        .all()
        .await
        .unwrap();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0]["type"], "order", "the discriminator is stored");
    let listed = customers.query().partition("t").all().await.unwrap();
    assert_eq!(listed, std::slice::from_ref(&customer));
    assert_eq!(orders.query().cross_partition().count().await.unwrap(), 1);

    // Another type's document is not there for this type: read, find, replace, delete, patch.
    assert!(customers.read("t", "o-1").await.unwrap_err().is_not_found());
    assert!(customers.find("t", "o-1").await.unwrap().is_none());
    let impostor = AppCustomer {
        id: "o-1".into(),
        tenant: "t".into(),
        name: "Eve".into(),
    };
    assert!(
        customers
            .replace(&impostor)
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(
        customers
            .delete("t", "o-1")
            .await
            .unwrap_err()
            .is_not_found()
    );
    let err = customers
        .patch("t", "o-1")
        .set(AppCustomer::FIELDS.name, "Eve")
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    for batch in [
        customers.batch("t").delete("o-1"),
        customers.batch("t").read("o-1"),
        customers.batch("t").replace(&impostor),
    ] {
        match batch.await {
            Err(Error::BatchFailed {
                index: 0,
                status: 404,
                ..
            }) => {}
            other => panic!("another type's document in a batch: {other:?}"),
        }
    }
    assert_eq!(orders.read("t", "o-1").await.unwrap(), order, "untouched");

    // Both types go into one batch, each with its own discriminator.
    let second = AppOrder {
        id: "o-2".into(),
        ..order.clone()
    };
    let newcomer = AppCustomer {
        id: "c-2".into(),
        ..customer.clone()
    };
    orders
        .batch("t")
        .create(&second)
        .create(&newcomer)
        .await
        .unwrap();
    assert_eq!(orders.query().partition("t").count().await.unwrap(), 2);
    assert_eq!(customers.read("t", "c-2").await.unwrap(), newcomer);

    // An enum of the container's types reads and writes them all.
    let everything = backend.repository::<AppDocument>();
    let mut all = everything.query().partition("t").all().await.unwrap();
    all.sort_by(|a, b| a.id().cmp(b.id()));
    assert_eq!(
        all,
        [
            AppDocument::Customer(customer),
            AppDocument::Customer(newcomer),
            AppDocument::Order(order),
            AppDocument::Order(second),
        ]
    );
    let third = AppCustomer {
        id: "c-3".into(),
        tenant: "t".into(),
        name: "Grace".into(),
    };
    everything
        .create(&AppDocument::Customer(third.clone()))
        .await
        .unwrap();
    assert_eq!(customers.read("t", "c-3").await.unwrap(), third);
    assert_eq!(
        everything.read("t", "o-2").await.unwrap(),
        AppDocument::Order(AppOrder {
            id: "o-2".into(),
            tenant: "t".into(),
            total: 5.0,
        })
    );
}

pub async fn unique_keys_refuse_a_second_document_with_the_same_values(backend: &impl Backend) {
    let members = backend.repository::<Member>();
    let member = |id: &str, team: &str, email: &str| Member {
        id: id.into(),
        team: team.into(),
        email: email.into(),
    };
    members.create(&member("m1", "red", "ann@x")).await.unwrap();
    let err = members
        .create(&member("m2", "red", "ann@x"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), 409, "{err:?}");
    members
        .create(&member("m2", "blue", "ann@x"))
        .await
        .expect("unique keys hold within a partition only");
    members.create(&member("m3", "red", "bob@x")).await.unwrap();
    let err = members
        .upsert(&member("m3", "red", "ann@x"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), 409, "{err:?}");
    members
        .upsert(&member("m1", "red", "ann@x"))
        .await
        .expect("a document keeps its own values");
    assert_eq!(members.read("red", "m3").await.unwrap().email, "bob@x");
}

pub async fn sorting_by_a_composite_index_serves_it_and_its_reverse(backend: &impl Backend) {
    let products = seed_products(backend).await;
    let f = Product::FIELDS;
    // Product declares composite_index(price, id desc); it serves that order and its reverse.
    let served: Vec<String> = products
        .query()
        .cross_partition()
        .order_by(f.price.asc())
        .order_by(f.id.desc())
        .select(f.id)
        .all()
        .await
        .unwrap();
    assert_eq!(served, ["p7", "p8", "p1", "p5", "p3", "p4", "p2", "p6"]);
    let reversed: Vec<String> = products
        .query()
        .cross_partition()
        .order_by(f.price.desc())
        .order_by(f.id.asc())
        .select(f.id)
        .all()
        .await
        .unwrap();
    let mut expected = served.clone();
    expected.reverse();
    assert_eq!(reversed, expected);
}

pub async fn sorting_by_several_fields_needs_a_composite_index(backend: &impl Backend) {
    let products = seed_products(backend).await;
    let f = Product::FIELDS;
    let err = products
        .query()
        .cross_partition()
        .order_by(f.stock.asc())
        .order_by(f.name.asc())
        .all()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::BadRequest { message } if message.contains("composite index")),
        "{err:?}"
    );
}

pub async fn a_read_repository_reads_and_lists_page_by_page(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    for i in 0..7 {
        create_order(&orders, "contoso", &format!("o-{i}"), f64::from(i)).await;
    }
    let reader = orders.read_only();
    assert_eq!(reader.container(), orders.container());
    assert_eq!(reader.read("contoso", "o-3").await.unwrap().total, 3.0);
    assert!(reader.find("contoso", "none").await.unwrap().is_none());
    let mut listed = Vec::new();
    let mut continuation: Option<String> = None;
    loop {
        let page = reader
            .query()
            .partition("contoso")
            .select(Order::FIELDS.id)
            .page(3, continuation.as_deref())
            .await
            .unwrap();
        listed.extend(page.items);
        match page.continuation {
            Some(next) => continuation = Some(next),
            None => break,
        }
    }
    listed.sort();
    assert_eq!(listed, (0..7).map(|i| format!("o-{i}")).collect::<Vec<_>>());
}

/// The results of `query`, sorted.
async fn sorted<T: CosmosDocument>(query: Query<'_, T, Scoped, String>) -> Vec<String> {
    let mut found = query.all().await.unwrap();
    found.sort();
    found
}

pub async fn hierarchical_keys_scope_queries_to_a_prefix(backend: &impl Backend) {
    let sessions = backend.repository::<Session>();
    for (tenant, user, id) in [
        ("acme", "u1", "s1"),
        ("acme", "u2", "s2"),
        ("acme", "u2", "s3"),
        ("globex", "u1", "s4"),
        ("acmes", "u1", "s5"),
    ] {
        sessions
            .create(&Session {
                id: id.into(),
                tenant_id: tenant.into(),
                user_id: user.into(),
                active: true,
            })
            .await
            .unwrap();
    }
    let id = Session::FIELDS.id;
    assert_eq!(
        sorted(sessions.query().partition_prefix(("acme",)).select(id)).await,
        ["s1", "s2", "s3"]
    );
    assert_eq!(
        sorted(sessions.query().partition(("acme", "u2")).select(id)).await,
        ["s2", "s3"]
    );
    assert_eq!(
        sessions
            .query()
            .partition_prefix(("acme",))
            .count()
            .await
            .unwrap(),
        3
    );
    let sql = sessions
        .query()
        .partition_prefix(("acme",))
        .to_sql()
        .unwrap();
    assert_eq!(sql.text, "SELECT * FROM c WHERE c.tenantId = @p0");
    assert_eq!(sessions.read(("acme", "u2"), "s3").await.unwrap().id, "s3");
}

pub async fn aggregates_follow_cosmos_db_rules(backend: &impl Backend) {
    let products = seed_products(backend).await;
    let f = Product::FIELDS;
    let all = || products.query().cross_partition();
    let close = |got: Option<f64>, expected: f64, what: &str| {
        let got = got.unwrap_or_else(|| panic!("{what}: undefined"));
        assert!((got - expected).abs() < 1e-9, "{what}: {got} != {expected}");
    };
    // Across partitions, each range's aggregate combined.
    close(all().sum(f.price).await.unwrap(), 545.0, "sum of prices");
    close(all().avg(f.price).await.unwrap(), 68.125, "average price");
    assert_eq!(all().min(f.price).await.unwrap(), Some(4.0));
    assert_eq!(all().max(f.price).await.unwrap(), Some(350.0));
    close(
        all().sum(f.stock).await.unwrap(),
        173.0,
        "sum of an integer field",
    );
    assert_eq!(all().min(f.name).await.unwrap().as_deref(), Some("Brush"));
    assert_eq!(all().max(f.name).await.unwrap().as_deref(), Some("Shovel"));
    assert_eq!(
        all().min(f.first_seen).await.unwrap().as_deref(),
        Some("2026-01-01")
    );
    // With a filter, and in one partition.
    let on_sale = || all().filter(f.discontinued.eq(false));
    close(on_sale().sum(f.price).await.unwrap(), 170.0, "filtered sum");
    assert_eq!(on_sale().count().await.unwrap(), 6);
    let tools = || products.query().partition("tools");
    close(
        tools().sum(f.price).await.unwrap(),
        126.5,
        "sum in a partition",
    );
    close(
        tools().avg(f.price).await.unwrap(),
        126.5 / 3.0,
        "average in a partition",
    );
    assert_eq!(tools().min(f.price).await.unwrap(), Some(12.5));
    assert_eq!(tools().max(f.stock).await.unwrap(), Some(10));
    // Documents without the property are left out: three products have a discount.
    close(
        all().sum(f.discount).await.unwrap(),
        0.85,
        "sum of an optional field",
    );
    close(
        all().avg(f.discount).await.unwrap(),
        0.85 / 3.0,
        "average of the defined values",
    );
    assert_eq!(all().min(f.discount).await.unwrap(), Some(Some(0.1)));
    // Over no document: the sum is 0, the others undefined.
    let none = || all().filter(f.price.gt(1_000.0));
    assert_eq!(none().sum(f.price).await.unwrap(), Some(0.0));
    assert_eq!(none().avg(f.price).await.unwrap(), None);
    assert_eq!(none().max(f.price).await.unwrap(), None);
    assert_eq!(none().count().await.unwrap(), 0);
    // Charged like every other query.
    let charged = all().sum(f.price).with_meta().await.unwrap();
    assert_charged(backend, charged.request_charge, "sum");
}

pub async fn min_and_max_take_null_as_the_least_value(backend: &impl Backend) {
    let products = seed_products(backend).await;
    let f = Product::FIELDS;
    let all = || products.query().cross_partition();
    // Four products store `"note": null`, four a string.
    assert_eq!(all().min(f.note).await.unwrap(), Some(None));
    assert_eq!(
        all().max(f.note).await.unwrap(),
        Some(Some("petrol".to_owned()))
    );
    let without = || all().filter(f.note.is_null());
    assert_eq!(without().max(f.note).await.unwrap(), Some(None));
}

pub async fn distinct_leaves_out_repeated_values(backend: &impl Backend) {
    let products = seed_products(backend).await;
    let f = Product::FIELDS;
    let all = || products.query().cross_partition();
    let categories = all()
        .select(f.category)
        .order_by(f.category.asc())
        .distinct()
        .all()
        .await
        .unwrap();
    assert_eq!(categories, ["garden", "paint", "tools"]);
    // 25.0 twice: seven different prices of eight products.
    let mut prices = all().select(f.price).distinct().all().await.unwrap();
    prices.sort_by(f64::total_cmp);
    assert_eq!(prices, [4.0, 9.5, 12.5, 25.0, 30.0, 89.0, 350.0]);
    let pairs = all()
        .select((f.category, f.discontinued))
        .distinct()
        .all()
        .await
        .unwrap();
    assert_eq!(pairs.len(), 5, "{pairs:?}");
    // The limit counts distinct results.
    let first_two = all()
        .select(f.category)
        .order_by(f.category.asc())
        .limit(2)
        .distinct()
        .all()
        .await
        .unwrap();
    assert_eq!(first_two, ["garden", "paint"]);
    let in_tools = products
        .query()
        .partition("tools")
        .select(f.discontinued)
        .distinct()
        .all()
        .await
        .unwrap();
    assert_eq!(in_tools.len(), 2, "{in_tools:?}");
    let err = all().distinct().all().await.unwrap_err();
    assert!(
        matches!(&err, Error::BadRequest { message } if message.contains("select")),
        "{err:?}"
    );
}

pub async fn read_many_finds_documents_by_key(backend: &impl Backend) {
    let products = seed_products(backend).await;
    let many = products
        .read_many([
            ("tools", "p1"),
            ("garden", "p4"),
            ("tools", "p2"),
            ("tools", "p9"),
            ("paint", "p7"),
            ("tools", "p1"),
            ("garden", "p1"),
        ])
        .with_meta()
        .await
        .unwrap();
    assert_charged(backend, many.request_charge, "read_many");
    let found: Vec<&str> = many.value.found.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(found, ["p1", "p4", "p2", "p7"], "in the order asked, once");
    let missing: Vec<(String, &str)> = many
        .value
        .missing
        .iter()
        .map(|(key, id)| (key.to_string(), id.as_str()))
        .collect();
    assert_eq!(
        missing,
        [
            (r#"["tools"]"#.to_owned(), "p9"),
            (r#"["garden"]"#.to_owned(), "p1")
        ]
    );
    let read_only = products.read_only();
    let one = read_only.read_many([("paint", "p8")]).await.unwrap();
    assert_eq!(one.found.len(), 1);
    let err = products
        .read_many([("tools", "p1"), ("tools", "a/b")])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::BadRequest { .. }), "{err:?}");

    // More ids in one partition than one query takes.
    let orders = backend.repository::<Order>();
    let ids: Vec<String> = (0..130).map(|n| format!("o-{n:03}")).collect();
    for id in &ids[..120] {
        orders
            .create(&Order::new("contoso", id, 1.0))
            .await
            .unwrap();
    }
    let many = orders
        .read_many(ids.iter().map(|id| ("contoso", id.clone())))
        .await
        .unwrap();
    assert_eq!(many.found.len(), 120);
    assert_eq!(many.missing.len(), 10);
    assert!(
        many.found
            .iter()
            .zip(&ids)
            .all(|(order, id)| &order.id == id)
    );
}

pub async fn delete_partition_removes_every_document_of_one_key(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    for n in 0..130 {
        let order = Order::new("contoso", &format!("o-{n:03}"), 1.0);
        orders.create(&order).await.unwrap();
    }
    for n in 0..3 {
        let order = Order::new("fabrikam", &format!("o-{n:03}"), 1.0);
        orders.create(&order).await.unwrap();
    }
    let count = |customer: &'static str| {
        let orders = &orders;
        async move { orders.query().partition(customer).count().await.unwrap() }
    };
    // Bounded: a first call stops at its limit, a second finishes.
    let first = orders
        .delete_partition("contoso")
        .limit(100)
        .with_meta()
        .await
        .unwrap();
    assert_eq!((first.value.deleted, first.value.complete), (100, false));
    assert_charged(backend, first.request_charge, "delete_partition");
    assert_eq!(count("contoso").await, 30);
    let rest = orders.delete_partition("contoso").await.unwrap();
    assert_eq!((rest.deleted, rest.complete), (30, true));
    assert_eq!(count("contoso").await, 0);
    assert_eq!(count("fabrikam").await, 3, "another partition is untouched");
    let again = orders.delete_partition("contoso").await.unwrap();
    assert_eq!((again.deleted, again.complete), (0, true));

    // In a shared container, only the repository's own type goes.
    let app_orders = backend.repository::<AppOrder>();
    let customers = backend.repository::<AppCustomer>();
    for n in 0..3 {
        let order = AppOrder {
            id: format!("o-{n}"),
            tenant: "acme".into(),
            total: 1.0,
        };
        app_orders.create(&order).await.unwrap();
    }
    let customer = AppCustomer {
        id: "c-1".into(),
        tenant: "acme".into(),
        name: "Ada".into(),
    };
    customers.create(&customer).await.unwrap();
    let gone = app_orders.delete_partition("acme").await.unwrap();
    assert_eq!((gone.deleted, gone.complete), (3, true));
    assert!(customers.find("acme", "c-1").await.unwrap().is_some());
}

pub async fn session_tokens_carry_a_write_to_later_reads(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    let created = orders
        .create(&Order::new("contoso", "o-1", 1.0))
        .with_meta()
        .await
        .unwrap();
    assert_eq!(
        created.session_token.is_some(),
        backend.issues_session_tokens(),
        "{:?}",
        created.session_token
    );
    // The embedded store takes (and needs) none, so any token reads there.
    let token = created
        .session_token
        .unwrap_or_else(|| SessionToken::new("0:0#1"));
    let read = orders
        .read("contoso", "o-1")
        .session_token(token.clone())
        .with_meta()
        .await
        .unwrap();
    assert_eq!(read.value.id, "o-1");
    assert_eq!(
        read.session_token.is_some(),
        backend.issues_session_tokens()
    );
    let found = orders
        .find("contoso", "o-1")
        .session_token(token.clone())
        .await
        .unwrap();
    assert!(found.is_some());
    let f = Order::FIELDS;
    let in_query = orders
        .query()
        .partition("contoso")
        .session_token(token.clone())
        .select(f.id)
        .all()
        .await
        .unwrap();
    assert_eq!(in_query, ["o-1"]);
    let counted = orders
        .query()
        .cross_partition()
        .session_token(token.clone())
        .count()
        .await
        .unwrap();
    assert_eq!(counted, 1);
    // A later write moves the session on.
    let updated = orders
        .upsert(&Order::new("contoso", "o-1", 2.0))
        .with_meta()
        .await
        .unwrap();
    if backend.issues_session_tokens() {
        assert_ne!(updated.session_token, Some(token));
    }
}

pub async fn timestamps_sort_and_filter_in_time_order(backend: &impl Backend) {
    let events = backend.repository::<Event>();
    let at = |nanos: i64| {
        let base = 1_700_000_000_i64;
        let seconds = base + nanos.div_euclid(1_000_000_000);
        let nanos = nanos.rem_euclid(1_000_000_000) as u32;
        Timestamp::from_unix(seconds, nanos).unwrap()
    };
    // Times differing in their sub-second parts, which variable-width forms misorder.
    let written = [
        ("e-whole", "a", 0),
        ("e-half", "b", 500_000_000),
        ("e-twentieth", "a", 50_000_000),
        ("e-next", "b", 1_000_000_000),
        ("e-before", "a", -500_000_000),
        ("e-tick", "b", 100),
    ];
    for (id, stream, nanos) in written {
        let event = Event {
            id: id.into(),
            stream: stream.into(),
            at: at(nanos),
        };
        events.create(&event).await.unwrap();
    }
    let f = Event::FIELDS;
    let sorted = |filter: Option<Filter<Event>>| {
        let events = &events;
        async move {
            let query = events.query().cross_partition();
            let query = match filter {
                Some(filter) => query.filter(filter),
                None => query,
            };
            query.order_by(f.at.asc()).select(f.id).all().await.unwrap()
        }
    };
    assert_eq!(
        sorted(None).await,
        [
            "e-before",
            "e-whole",
            "e-tick",
            "e-twentieth",
            "e-half",
            "e-next"
        ]
    );
    assert_eq!(
        sorted(Some(f.at.gt(at(0)))).await,
        ["e-tick", "e-twentieth", "e-half", "e-next"]
    );
    assert_eq!(
        sorted(Some(f.at.between(at(100), at(500_000_000)))).await,
        ["e-tick", "e-twentieth", "e-half"]
    );
    let read = events.read("b", "e-half").await.unwrap();
    assert_eq!(read.at, at(500_000_000));
    assert_eq!(
        events.query().cross_partition().max(f.at).await.unwrap(),
        Some(at(1_000_000_000))
    );
}

pub async fn any_selects_documents_by_their_array_elements(backend: &impl Backend) {
    // Arrays of strings.
    let products = seed_products(backend).await;
    let f = Product::FIELDS;
    let steel = ids(&products, f.tags.any(|t| t.starts_with("st"))).await;
    assert_eq!(steel, ["p1", "p3", "p5"]);
    let power = ids(&products, f.tags.any(|t| t.eq("power"))).await;
    assert_eq!(power, ["p2", "p6"]);
    // EXISTS is true or false, never undefined: its negation takes the rest, empty arrays too.
    let no_power = ids(&products, f.tags.any(|t| t.eq("power")).not()).await;
    assert_eq!(no_power, ["p1", "p3", "p4", "p5", "p7", "p8"]);
    assert_eq!(ids(&products, f.tags.len().gt(1)).await, ["p1", "p5"]);
    assert_eq!(ids(&products, f.tags.len().eq(0)).await, ["p4", "p8"]);

    // Arrays of structs: one element must meet every condition.
    let carts = backend.repository::<Cart>();
    let line = |sku: &str, qty: u32, tags: &[&str]| Line {
        sku: sku.into(),
        qty,
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
    };
    let written = [
        ("c1", vec![line("x", 3, &[]), line("y", 1, &[])]),
        ("c2", vec![line("x", 1, &[])]),
        ("c3", vec![]),
        ("c4", vec![line("z", 5, &["gift"])]),
        (
            "c5",
            vec![line("x", 1, &[]), line("y", 3, &["gift", "fragile"])],
        ),
    ];
    for (n, (id, lines)) in written.into_iter().enumerate() {
        let cart = Cart {
            id: id.into(),
            customer: format!("k{}", n % 2),
            lines,
        };
        carts.create(&cart).await.unwrap();
    }
    let l = Cart::FIELDS.lines;
    let matching = |filter: Filter<Cart>| ids(&carts, filter);
    let big_x = l.any(|line| line.sku.eq("x").and(line.qty.gt(2_u32)));
    assert_eq!(
        matching(big_x).await,
        ["c1"],
        "c5 has an x and a big line, not a big x"
    );
    assert_eq!(
        matching(l.any(|line| line.qty.gt(2_u32))).await,
        ["c1", "c4", "c5"]
    );
    assert_eq!(matching(l.len().ge(2)).await, ["c1", "c5"]);
    let gift = l.any(|line| line.tags.any(|t| t.eq("gift")));
    assert_eq!(matching(gift).await, ["c4", "c5"], "an array in an array");
    let in_one = carts
        .query()
        .partition("k0")
        .filter(l.any(|line| line.sku.eq("x")))
        .count()
        .await
        .unwrap();
    assert_eq!(in_one, 2, "c1 and c5 of k0");
}

pub async fn group_by_counts_and_aggregates_each_group(backend: &impl Backend) {
    let products = seed_products(backend).await;
    let f = Product::FIELDS;
    let all = || products.query().cross_partition();
    let text = |s: &str| s.to_owned();
    assert_eq!(
        all().group_by(f.category).count().await.unwrap(),
        [(text("garden"), 3), (text("paint"), 2), (text("tools"), 3)]
    );
    assert_eq!(
        all().group_by(f.discontinued).count().await.unwrap(),
        [(false, 6), (true, 2)]
    );
    assert_eq!(
        all().group_by(f.category).sum(f.price).await.unwrap(),
        [
            (text("garden"), Some(405.0)),
            (text("paint"), Some(13.5)),
            (text("tools"), Some(126.5))
        ]
    );
    assert_eq!(
        all().group_by(f.category).max(f.stock).await.unwrap(),
        [
            (text("garden"), Some(12)),
            (text("paint"), Some(100)),
            (text("tools"), Some(10))
        ]
    );
    // A group none of whose documents holds the value: AVG undefined, SUM 0.
    let averages = all().group_by(f.category).avg(f.discount).await.unwrap();
    assert_eq!(averages[1], (text("paint"), None));
    let tools = averages[2].1.unwrap();
    assert!((tools - 0.3).abs() < 1e-9, "{averages:?}");
    let sums = all().group_by(f.category).sum(f.discount).await.unwrap();
    assert_eq!(sums[1], (text("paint"), Some(0.0)));
    // With a filter and in one partition.
    let on_sale = all()
        .filter(f.discontinued.eq(false))
        .group_by(f.category)
        .count()
        .with_meta()
        .await
        .unwrap();
    assert_eq!(
        on_sale.value,
        [(text("garden"), 2), (text("paint"), 2), (text("tools"), 2)]
    );
    assert_charged(backend, on_sale.request_charge, "group_by");
    let in_tools = products
        .query()
        .partition("tools")
        .group_by(f.discontinued)
        .min(f.price)
        .await
        .unwrap();
    assert_eq!(in_tools, [(false, Some(12.5)), (true, Some(25.0))]);
    // In one partition the service groups: a group whose documents lack the value averages to
    // undefined and sums to 0.
    let garden = || {
        products
            .query()
            .partition("garden")
            .group_by(f.discontinued)
    };
    assert_eq!(garden().count().await.unwrap(), [(false, 2), (true, 1)]);
    assert_eq!(
        garden().avg(f.discount).await.unwrap(),
        [(false, None), (true, Some(0.25))]
    );
    assert_eq!(
        garden().max(f.name).await.unwrap(),
        [(false, Some(text("Shovel"))), (true, Some(text("Mower")))]
    );
}

pub async fn a_group_without_the_value_sums_to_zero_in_one_partition(backend: &impl Backend) {
    let products = seed_products(backend).await;
    let f = Product::FIELDS;
    // Neither Hose nor Shovel has a discount: SUM over nothing is 0, as without GROUP BY.
    let sums = products
        .query()
        .partition("garden")
        .group_by(f.discontinued)
        .sum(f.discount)
        .await
        .unwrap();
    assert_eq!(sums, [(false, Some(0.0)), (true, Some(0.25))]);
}

pub async fn raw_sql_runs_with_parameters_and_literals(backend: &impl Backend) {
    let products = seed_products(backend).await;
    let mut prices: Vec<f64> = products
        .raw_query("SELECT VALUE c.price FROM c WHERE c.category = @category AND c.price > @min")
        .param("@category", "tools")
        .param("@min", 20.0)
        .partition("tools")
        .returning::<f64>()
        .all()
        .await
        .unwrap();
    prices.sort_by(f64::total_cmp);
    assert_eq!(prices, [25.0, 89.0]);
    let named = products
        .raw_query("SELECT * FROM c WHERE c.name = @name")
        .param("@name", "x\" OR true OR c.name = \"")
        .cross_partition()
        .all()
        .await
        .unwrap();
    assert!(named.is_empty(), "a parameter is a value, not SQL");

    // Literals, another alias, NOT on a boolean property, ORDER BY and TOP.
    let names: Vec<String> = products
        .raw_query(
            "SELECT TOP 1 VALUE p.name FROM products p \
             WHERE p.stock >= 1 AND NOT p.discontinued ORDER BY p.price DESC",
        )
        .partition("garden")
        .returning()
        .all()
        .await
        .unwrap();
    assert_eq!(names, ["Hose"]);
    let mut pairs: Vec<(String, String)> = products
        .raw_query("SELECT VALUE [c.id, c['first-seen']] FROM c WHERE c.id IN ('p1', 'p3')")
        .partition("tools")
        .returning()
        .all()
        .await
        .unwrap();
    pairs.sort();
    assert_eq!(
        pairs,
        [
            ("p1".to_owned(), "2026-01-01".to_owned()),
            ("p3".to_owned(), "2026-03-01".to_owned())
        ]
    );

    // Aggregates in one partition, and DISTINCT.
    let one = |sql: &'static str| {
        products
            .raw_query(sql)
            .partition("tools")
            .returning::<serde_json::Value>()
            .all()
    };
    assert_eq!(
        one("SELECT VALUE COUNT(1) FROM c WHERE c.price < 50")
            .await
            .unwrap(),
        [serde_json::json!(2)]
    );
    assert_eq!(
        one("SELECT VALUE SUM(c.stock) FROM c").await.unwrap(),
        [serde_json::json!(13)]
    );
    let mut discontinued = one("SELECT DISTINCT VALUE c.discontinued FROM c")
        .await
        .unwrap();
    discontinued.sort_by_key(|value| value.as_bool());
    assert_eq!(
        discontinued,
        [serde_json::json!(false), serde_json::json!(true)]
    );
}

/// Every document the change feed yields until it has nothing newer, as (id, total).
async fn changes(
    feed: cosmos_repo::change_feed::ChangeFeed<'_, Order, Scoped>,
) -> Vec<(String, f64)> {
    let mut changed: Vec<(String, f64)> = feed
        .stream(2)
        .map_ok(|order| (order.id, order.total))
        .try_collect()
        .await
        .unwrap();
    changed.sort_by(|a, b| a.0.cmp(&b.0));
    changed
}

pub async fn the_change_feed_has_each_change_once_at_its_latest_version(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    for (customer, id) in [("contoso", "o-1"), ("contoso", "o-2"), ("fabrikam", "o-3")] {
        orders.create(&Order::new(customer, id, 1.0)).await.unwrap();
    }
    orders
        .upsert(&Order::new("contoso", "o-1", 2.0))
        .await
        .unwrap();
    orders
        .upsert(&Order::new("contoso", "o-1", 3.0))
        .await
        .unwrap();
    orders.delete("fabrikam", "o-3").await.unwrap();
    let all = changes(orders.change_feed().cross_partition().from_beginning()).await;
    assert_eq!(
        all,
        [("o-1".to_owned(), 3.0), ("o-2".to_owned(), 1.0)],
        "each document once, at its latest version; a deleted one not at all"
    );
    let contoso = changes(orders.change_feed().partition("contoso")).await;
    assert_eq!(contoso, all, "the default start is the beginning");
    orders
        .create(&Order::new("fabrikam", "o-4", 1.0))
        .await
        .unwrap();
    let fabrikam = changes(orders.change_feed().partition("fabrikam")).await;
    assert_eq!(fabrikam, [("o-4".to_owned(), 1.0)]);
    // A page is at most the size asked for, and always has a continuation.
    let page = orders
        .change_feed()
        .cross_partition()
        .page(2)
        .await
        .unwrap();
    assert!(page.items.len() <= 2, "{}", page.items.len());
    assert!(page.continuation.is_some());
}

pub async fn a_change_feed_resumes_after_its_continuation(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    orders
        .create(&Order::new("contoso", "o-1", 1.0))
        .await
        .unwrap();
    orders
        .create(&Order::new("fabrikam", "o-2", 1.0))
        .await
        .unwrap();
    // Read to the end, keeping the continuation of the last page.
    let mut token = None;
    let mut read = 0;
    loop {
        let feed = orders.change_feed().cross_partition();
        let feed = match token.clone() {
            Some(token) => feed.from_continuation(token),
            None => feed.from_beginning(),
        };
        let page = feed.page(1).await.unwrap();
        token = page.continuation.clone();
        if page.items.is_empty() {
            break;
        }
        read += page.items.len();
    }
    assert_eq!(read, 2);
    let token = token.unwrap();
    let now = orders
        .change_feed()
        .cross_partition()
        .from_now()
        .page(10)
        .await
        .unwrap();
    assert!(now.items.is_empty(), "from now: nothing yet");
    let now = now.continuation.unwrap();
    orders
        .upsert(&Order::new("contoso", "o-1", 2.0))
        .await
        .unwrap();
    orders
        .create(&Order::new("fabrikam", "o-5", 1.0))
        .await
        .unwrap();
    let expected = [("o-1".to_owned(), 2.0), ("o-5".to_owned(), 1.0)];
    let after = changes(
        orders
            .change_feed()
            .cross_partition()
            .from_continuation(token.clone()),
    )
    .await;
    assert_eq!(
        after, expected,
        "exactly the changes after the continuation"
    );
    let since_now = changes(
        orders
            .change_feed()
            .cross_partition()
            .from_continuation(now),
    )
    .await;
    assert_eq!(since_now, expected, "exactly the changes after `from_now`");
    // A continuation belongs to its feed: another scope's is refused before any request.
    let err = orders
        .change_feed()
        .partition("contoso")
        .from_continuation(token)
        .page(10)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::BadRequest { .. }), "{err:?}");
    let err = orders
        .change_feed()
        .cross_partition()
        .from_continuation("made up")
        .page(10)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::BadRequest { .. }), "{err:?}");
}

pub async fn the_change_feed_of_a_shared_container_has_only_the_type(backend: &impl Backend) {
    let orders = backend.repository::<AppOrder>();
    let customers = backend.repository::<AppCustomer>();
    let order = AppOrder {
        id: "a-1".into(),
        tenant: "acme".into(),
        total: 5.0,
    };
    orders.create(&order).await.unwrap();
    let customer = AppCustomer {
        id: "c-1".into(),
        tenant: "acme".into(),
        name: "Ada".into(),
    };
    customers.create(&customer).await.unwrap();
    let changed: Vec<AppOrder> = orders
        .change_feed()
        .cross_partition()
        .stream(10)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(changed, [order]);
    let changed: Vec<AppCustomer> = customers
        .change_feed()
        .partition("acme")
        .stream(10)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(changed, [customer]);
    let both: Vec<AppDocument> = backend
        .repository::<AppDocument>()
        .change_feed()
        .cross_partition()
        .stream(10)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(both.len(), 2);
}

/// What the handlers of a processor's instances saw: every (instance, order id) handled, the
/// instance in a handler per feed range right now, and any range found in two handlers at once.
#[derive(Default)]
struct Handled {
    seen: Vec<(String, String)>,
    in_flight: std::collections::HashMap<String, String>,
    overlaps: Vec<String>,
}

/// A processor instance of `orders` named `instance`, recording into `handled`.
fn processor(
    orders: &Repository<Order>,
    leases: &Repository<Lease>,
    instance: &str,
    handled: &Arc<std::sync::Mutex<Handled>>,
) -> (
    ProcessorHandle<Order>,
    tokio::task::JoinHandle<cosmos_repo::Result<()>>,
) {
    let name = instance.to_owned();
    let handled = Arc::clone(handled);
    let processor = orders
        .change_feed_processor("summaries", leases.clone())
        .instance(instance)
        .poll_interval(Duration::from_millis(20))
        .lease_duration(Duration::from_millis(1_500))
        .batch_size(50)
        .build(move |batch: ChangeBatch<Order>| {
            let (name, handled) = (name.clone(), Arc::clone(&handled));
            async move {
                {
                    let mut handled = handled.lock().unwrap();
                    if let Some(other) = handled
                        .in_flight
                        .insert(batch.feed_range.clone(), name.clone())
                    {
                        handled
                            .overlaps
                            .push(format!("{} in {other} and {name}", batch.feed_range));
                    }
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
                let mut handled = handled.lock().unwrap();
                handled.in_flight.remove(&batch.feed_range);
                for order in batch.documents {
                    handled.seen.push((name.clone(), order.id));
                }
                Ok::<(), std::io::Error>(())
            }
        })
        .unwrap();
    let handle = processor.handle();
    (handle, tokio::spawn(processor.run()))
}

/// Waits (up to a minute) until the handlers have seen every id in `ids`.
async fn until_handled(
    handled: &std::sync::Mutex<Handled>,
    ids: &std::collections::BTreeSet<String>,
) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let missing = {
            let handled = handled.lock().unwrap();
            let seen: std::collections::BTreeSet<&String> =
                handled.seen.iter().map(|(_, id)| id).collect();
            ids.iter().filter(|id| !seen.contains(id)).count()
        };
        if missing == 0 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{missing} changes never handled"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Writes orders `from..to` across 20 customers, 16 at a time.
async fn write_orders(orders: &Repository<Order>, from: usize, to: usize) -> Vec<String> {
    let batch: Vec<Order> = (from..to)
        .map(|n| {
            Order::new(
                &format!("customer-{}", n % 20),
                &format!("o-{n:04}"),
                n as f64,
            )
        })
        .collect();
    let report = orders.upsert_all(&batch).await;
    assert!(report.is_success(), "{:?}", report.failures().next());
    batch.into_iter().map(|order| order.id).collect()
}

pub async fn three_processor_instances_handle_every_change_once_at_a_time(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    let leases = backend.repository::<Lease>();
    let handled = Arc::new(std::sync::Mutex::new(Handled::default()));
    let instances: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|name| processor(&orders, &leases, name, &handled))
        .collect();
    let started = std::time::Instant::now();
    let ids: std::collections::BTreeSet<String> =
        write_orders(&orders, 0, 1_000).await.into_iter().collect();
    until_handled(&handled, &ids).await;
    let took = started.elapsed();
    // One after the other: each hands its leases to those still running, the last frees them.
    let mut lease_charge = 0.0;
    for (handle, running) in instances {
        handle.stop();
        running.await.unwrap().unwrap();
        lease_charge += handle.lease_request_charge();
    }
    assert_charged(backend, lease_charge, "lease requests");
    let handled = std::mem::take(&mut *handled.lock().unwrap());
    assert!(handled.overlaps.is_empty(), "{:?}", handled.overlaps);
    let stored: Vec<Lease> = leases.query().partition("summaries").all().await.unwrap();
    let ranges: std::collections::BTreeSet<&String> =
        stored.iter().map(|l| &l.feed_range).collect();
    let feed_ranges = orders.feed_ranges().await.unwrap();
    assert_eq!(
        ranges,
        feed_ranges.iter().collect(),
        "a lease for each feed range"
    );
    assert_eq!(ranges.len(), stored.len(), "one lease per feed range");
    assert!(
        stored
            .iter()
            .all(|l| l.owner.is_none() && l.continuation.is_some()),
        "stopped instances release their leases, keeping the checkpoint: {stored:?}"
    );
    let repeats = handled.seen.len() - ids.len();
    println!(
        "1,000 changes over {} feed range(s) handled by 3 instances in {took:?} ({repeats} handled twice); lease requests charged {lease_charge} RU",
        stored.len()
    );
}

pub async fn a_crashed_instance_hands_over_with_no_change_missed(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    let leases = backend.repository::<Lease>();
    let handled = Arc::new(std::sync::Mutex::new(Handled::default()));
    let (first, first_running) = processor(&orders, &leases, "a", &handled);
    let (second, second_running) = processor(&orders, &leases, "b", &handled);
    let mut ids: std::collections::BTreeSet<String> =
        write_orders(&orders, 0, 300).await.into_iter().collect();
    until_handled(&handled, &ids).await;
    // "a" stops without releasing its leases (a crash): "b" takes them once they expire, from
    // their last checkpoint.
    first_running.abort();
    let _ = first_running.await;
    ids.extend(write_orders(&orders, 300, 600).await);
    until_handled(&handled, &ids).await;
    second.stop();
    second_running.await.unwrap().unwrap();
    drop(first);
    let handled = std::mem::take(&mut *handled.lock().unwrap());
    let after_crash: std::collections::BTreeSet<&String> = handled
        .seen
        .iter()
        .filter(|(instance, _)| instance == "b")
        .map(|(_, id)| id)
        .collect();
    assert!(
        (300..600).all(|n| after_crash.contains(&format!("o-{n:04}"))),
        "every change after the crash is handled by the instance left"
    );
    assert!(handled.overlaps.is_empty(), "{:?}", handled.overlaps);
    let stored: Vec<Lease> = leases.query().partition("summaries").all().await.unwrap();
    assert!(stored.iter().all(|l| l.owner.is_none()), "{stored:?}");
}

/// The owner of each lease of the `summaries` processor.
async fn lease_owners(leases: &Repository<Lease>) -> Vec<Option<String>> {
    let stored: Vec<Lease> = leases.query().partition("summaries").all().await.unwrap();
    stored.into_iter().map(|lease| lease.owner).collect()
}

/// Waits (up to 30 s) until `holds` is true of the leases' owners.
async fn until_owners(leases: &Repository<Lease>, holds: impl Fn(&[Option<String>]) -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let owners = lease_owners(leases).await;
        if holds(&owners) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "leases stayed {owners:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn a_joining_instance_gets_a_share_and_lag_counts_what_is_left(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    let leases = backend.repository::<Lease>();
    let handled = Arc::new(std::sync::Mutex::new(Handled::default()));
    let ids: std::collections::BTreeSet<String> =
        write_orders(&orders, 0, 40).await.into_iter().collect();
    let (first, first_running) = processor(&orders, &leases, "a", &handled);
    let is = |name: &str| Some(name.to_owned());
    until_owners(&leases, |owners| {
        !owners.is_empty() && owners.iter().all(|o| *o == is("a"))
    })
    .await;
    let ranges = lease_owners(&leases).await.len();
    let (second, second_running) = processor(&orders, &leases, "b", &handled);
    // Each gets half, rounded, when there are ranges to share.
    let share = ranges / 2;
    until_owners(&leases, |owners| {
        let of = |name| owners.iter().filter(|o| **o == is(name)).count();
        of("b") == share && of("a") == ranges - share
    })
    .await;
    until_handled(&handled, &ids).await;
    second.stop();
    second_running.await.unwrap().unwrap();
    first.stop();
    first_running.await.unwrap().unwrap();
    assert!(handled.lock().unwrap().overlaps.is_empty());
    // With every instance stopped, the lag is what was written since.
    write_orders(&orders, 40, 65).await;
    let lag = first.lag().await.unwrap();
    assert_eq!(lag.len(), ranges, "a lag per feed range");
    assert_eq!(
        lag.iter().map(|range| range.pending).sum::<u64>(),
        25,
        "{lag:?}"
    );
    assert!(lag.iter().all(|range| range.owner.is_none()));
}

pub async fn a_batch_whose_handler_fails_is_handled_again(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    let leases = backend.repository::<Lease>();
    let ids: std::collections::BTreeSet<String> =
        write_orders(&orders, 0, 10).await.into_iter().collect();
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = Arc::new(std::sync::Mutex::new(Handled::default()));
    let processor = orders
        .change_feed_processor("summaries", leases.clone())
        .instance("a")
        .poll_interval(Duration::from_millis(20))
        .lease_duration(Duration::from_millis(1_500))
        .build({
            let (calls, seen) = (Arc::clone(&calls), Arc::clone(&seen));
            move |batch: ChangeBatch<Order>| {
                let (calls, seen) = (Arc::clone(&calls), Arc::clone(&seen));
                async move {
                    if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                        return Err(std::io::Error::other("the first batch fails"));
                    }
                    let mut seen = seen.lock().unwrap();
                    for order in batch.documents {
                        seen.seen.push(("a".to_owned(), order.id));
                    }
                    Ok(())
                }
            }
        })
        .unwrap();
    let handle = processor.handle();
    let running = tokio::spawn(processor.run());
    until_handled(&seen, &ids).await;
    handle.stop();
    running.await.unwrap().unwrap();
    assert!(calls.load(std::sync::atomic::Ordering::SeqCst) >= 2);
    let lag = handle.lag().await.unwrap();
    assert!(
        lag.iter().all(|range| range.pending == 0),
        "checkpointed after success: {lag:?}"
    );
    // A read-only repository reads the change feed too.
    let read_only: Vec<Order> = orders
        .read_only()
        .change_feed()
        .cross_partition()
        .stream(100)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(read_only.len(), 10);
}

/// Eight articles in two topics, each vector made from its number.
pub async fn seed_articles(backend: &impl Backend) -> Repository<Article> {
    let articles = backend.repository::<Article>();
    for n in 0..8_u8 {
        let x = f32::from(n);
        let article = Article {
            id: format!("a{n}"),
            topic: if n % 2 == 0 { "even" } else { "odd" }.to_owned(),
            title: format!("article {n}"),
            body: None,
            embedding: vec![1.0, x, 8.0 - x],
            weights: vec![x, 1.0, 0.5],
            position: vec![x, x * 0.5, 1.0],
        };
        articles.create(&article).await.unwrap();
    }
    articles
}

/// The ids of `articles` ranked against `query` by brute force: each distance computed here,
/// nearest first (ties by id), with the scores.
fn ranked(
    articles: &[Article],
    vector: impl Fn(&Article) -> &Vec<f32>,
    query: &[f32],
    distance: cosmos_repo::model::VectorDistance,
) -> Vec<(String, f64)> {
    use cosmos_repo::model::VectorDistance;
    let mut scored: Vec<(String, f64)> = articles
        .iter()
        .map(|article| {
            let v = vector(article);
            let dot: f64 = v
                .iter()
                .zip(query)
                .map(|(a, b)| f64::from(*a) * f64::from(*b))
                .sum();
            let norm = |x: &[f32]| x.iter().map(|a| f64::from(*a).powi(2)).sum::<f64>().sqrt();
            let score = match distance {
                VectorDistance::Cosine => dot / (norm(v) * norm(query)),
                VectorDistance::DotProduct => dot,
                VectorDistance::Euclidean => v
                    .iter()
                    .zip(query)
                    .map(|(a, b)| (f64::from(*a) - f64::from(*b)).powi(2))
                    .sum::<f64>()
                    .sqrt(),
            };
            (article.id.clone(), score)
        })
        .collect();
    scored.sort_by(|a, b| {
        match distance {
            VectorDistance::Euclidean => a.1.total_cmp(&b.1),
            _ => b.1.total_cmp(&a.1),
        }
        .then_with(|| a.0.cmp(&b.0))
    });
    scored
}

pub async fn nearest_ranks_by_each_distance_function(backend: &impl Backend) {
    use cosmos_repo::query::Scored;
    let articles = seed_articles(backend).await;
    let all: Vec<Article> = articles.query().cross_partition().all().await.unwrap();
    let f = Article::FIELDS;
    let got = |found: Vec<Scored<Article>>| -> Vec<(String, f64)> {
        found
            .into_iter()
            .map(|s| (s.document.id, s.score))
            .collect()
    };
    let close = |got: &[(String, f64)], expected: &[(String, f64)]| {
        let ids =
            |list: &[(String, f64)]| list.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(got), ids(expected), "order: {got:?} vs {expected:?}");
        for ((_, a), (_, b)) in got.iter().zip(expected) {
            assert!((a - b).abs() < 1e-5, "scores: {got:?} vs {expected:?}");
        }
    };
    // Each function, against a document's own vector: that document first, with the score of
    // an exact match (cosine 1, Euclidean 0, dot product its squared length).
    let query = [1.0, 3.0, 5.0];
    let cosine = articles
        .query()
        .cross_partition()
        .nearest(f.embedding, &query)
        .limit(3);
    let found = got(cosine.all().await.unwrap());
    close(
        &found,
        &ranked(&all, |a| &a.embedding, &query, f.embedding.distance())[..3],
    );
    assert_eq!(found[0].0, "a3");
    assert!((found[0].1 - 1.0).abs() < 1e-6);
    let query = [3.0, 1.5, 1.0];
    let euclidean = articles
        .query()
        .cross_partition()
        .nearest(f.position, &query)
        .limit(4);
    let found = got(euclidean.all().await.unwrap());
    close(
        &found,
        &ranked(&all, |a| &a.position, &query, f.position.distance())[..4],
    );
    assert_eq!(found[0], ("a3".to_owned(), 0.0));
    let query = [2.0, 1.0, 0.5];
    let dot = articles
        .query()
        .cross_partition()
        .nearest(f.weights, &query)
        .limit(8);
    let found = got(dot.all().await.unwrap());
    close(
        &found,
        &ranked(&all, |a| &a.weights, &query, f.weights.distance()),
    );
    // With a filter and in one partition.
    let odd: Vec<Article> = all.iter().filter(|a| a.topic == "odd").cloned().collect();
    let query = [1.0, 0.0, 0.0];
    let filtered = articles
        .query()
        .partition("odd")
        .filter(f.title.ne("article 7"))
        .nearest(f.embedding, &query)
        .limit(2);
    let expected: Vec<(String, f64)> =
        ranked(&odd, |a| &a.embedding, &query, f.embedding.distance())
            .into_iter()
            .filter(|(id, _)| id != "a7")
            .take(2)
            .collect();
    close(&got(filtered.all().await.unwrap()), &expected);
    // Writes between queries count: a changed vector ranks anew, a deleted document is gone.
    let nearest_id = || async {
        let top = articles
            .query()
            .cross_partition()
            .nearest(f.embedding, &[9.0, 0.0, 1.0])
            .limit(1)
            .all()
            .await
            .unwrap();
        top.into_iter().next().map(|scored| scored.document.id)
    };
    let before = nearest_id().await;
    let mut moved = all.iter().find(|a| a.id == "a6").unwrap().clone();
    moved.embedding = vec![9.0, 0.0, 1.0];
    articles.upsert(&moved).await.unwrap();
    assert_eq!(nearest_id().await.as_deref(), Some("a6"));
    articles.delete("even", "a6").await.unwrap();
    assert_eq!(nearest_id().await, before);
    // A vector of the wrong length never leaves.
    let err = articles
        .query()
        .cross_partition()
        .nearest(f.embedding, &[1.0, 2.0])
        .limit(1)
        .all()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::BadRequest { message } if message.contains("has 2 numbers and `embedding` holds 3")),
        "{err:?}"
    );
}

/// Four articles with titles to search, for full-text filters.
pub async fn seed_titles(backend: &impl Backend) -> Repository<Article> {
    let articles = backend.repository::<Article>();
    let titles = [
        "Red running shoes",
        "Blue shoes, for running",
        "Red wine glasses",
        "A guide to wine",
    ];
    let embeddings = [
        [1.0, 0.0, 0.0],
        [0.0, 1.0, 0.0],
        [0.0, 0.0, 1.0],
        [1.0, 0.0, 0.0],
    ];
    for (n, (title, embedding)) in titles.iter().zip(embeddings).enumerate() {
        let article = Article {
            id: format!("t{n}"),
            topic: "shop".to_owned(),
            title: (*title).to_owned(),
            body: None,
            embedding: embedding.to_vec(),
            weights: vec![1.0, 0.0, 0.0],
            position: vec![1.0, 0.0, 0.0],
        };
        articles.create(&article).await.unwrap();
    }
    articles
}

pub async fn full_text_filters_match_words(backend: &impl Backend) {
    let articles = seed_titles(backend).await;
    let f = Article::FIELDS;
    let cases: Vec<(Filter<Article>, &[&str])> = vec![
        (f.title.full_text_contains("red"), &["t0", "t2"]),
        (f.title.full_text_contains("RED"), &["t0", "t2"]),
        (f.title.full_text_contains_all(["red", "running"]), &["t0"]),
        (
            f.title.full_text_contains_any(["blue", "wine"]),
            &["t1", "t2", "t3"],
        ),
        (
            f.title
                .full_text_contains("wine")
                .and(f.title.full_text_contains("red").not()),
            &["t3"],
        ),
    ];
    for (filter, expected) in cases {
        assert_eq!(ids(&articles, filter).await, expected);
    }
    let none: Vec<&str> = Vec::new();
    let err = articles
        .query()
        .cross_partition()
        .filter(f.title.full_text_contains_any(none))
        .all()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::BadRequest { .. }), "{err:?}");
}

pub async fn text_and_hybrid_ranking_order_by_relevance(backend: &impl Backend) {
    let articles = seed_titles(backend).await;
    let f = Article::FIELDS;
    let ids = |found: Vec<Article>| found.into_iter().map(|a| a.id).collect::<Vec<_>>();
    let ranked = |terms: &'static [&'static str]| {
        articles
            .query()
            .cross_partition()
            .rank_by_text(f.title, terms)
            .limit(4)
            .all()
    };
    // BM25: both wine titles hold the word once; the shorter ranks first; the rest score 0.
    assert_eq!(
        ids(ranked(&["wine"]).await.unwrap()),
        ["t2", "t3", "t0", "t1"]
    );
    // Both words beat one; of one, the shorter title first.
    assert_eq!(
        ids(ranked(&["red", "running"]).await.unwrap()),
        ["t0", "t2", "t1", "t3"]
    );
    // RRF of nearness to [1, 0, 0] (t0 and t3 first) and relevance to "wine" (t2, t3 first).
    let hybrid = || {
        articles.query().cross_partition().rank_hybrid(
            f.embedding,
            &[1.0, 0.0, 0.0],
            f.title,
            ["wine"],
        )
    };
    assert_eq!(
        ids(hybrid().limit(4).all().await.unwrap()),
        ["t0", "t3", "t2", "t1"]
    );
    assert_eq!(
        ids(hybrid().weights(0.0, 1.0).limit(2).all().await.unwrap()),
        ["t2", "t3"],
        "the text ranking alone"
    );
    let err = articles
        .query()
        .cross_partition()
        .rank_by_text(f.title, ["wine"])
        .weights(1.0, 1.0)
        .limit(1)
        .all()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::BadRequest { .. }), "{err:?}");
}

/// The error of a nearest-neighbour query on the seeded articles, in one partition or across:
/// what a store that cannot evaluate `VectorDistance` answers (pinned per tier).
pub async fn nearest_error(backend: &impl Backend, one_partition: bool) -> Error {
    let articles = seed_articles(backend).await;
    let query = if one_partition {
        articles.query().partition("odd")
    } else {
        articles.query().cross_partition()
    };
    query
        .nearest(Article::FIELDS.embedding, &[1.0, 3.0, 5.0])
        .limit(2)
        .all()
        .await
        .unwrap_err()
}

/// The error of a full-text filter on the seeded titles in one partition: what a store that
/// cannot evaluate `FullTextContains` answers (pinned per tier).
pub async fn full_text_error(backend: &impl Backend) -> Error {
    seed_titles(backend)
        .await
        .query()
        .partition("shop")
        .filter(Article::FIELDS.title.full_text_contains("red"))
        .all()
        .await
        .unwrap_err()
}
