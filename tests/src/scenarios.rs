//! Repository behaviour every store must show. Each scenario panics on a deviation.

use std::sync::Arc;

use cosmos_repo::prelude::*;

use crate::{Backend, Counter, Order, Reading, Session};

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
                        .max_attempts(1000)
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

pub async fn invalid_ids_are_bad_requests(backend: &impl Backend) {
    let orders = backend.repository::<Order>();
    for id in ["", "a/b", "a\\b", "a?b", "a#b"] {
        let err = orders
            .create(&Order::new("contoso", id, 1.0))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::BadRequest { .. }),
            "id {id:?}: {err:?}"
        );
    }
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
    assert!(created.activity_id.is_some());
    assert!(created.request_charge >= 0.0);
    let read = orders.read("contoso", "o-1").with_meta().await.unwrap();
    assert_eq!(read.etag, created.etag);
    let deleted = orders.delete("contoso", "o-1").with_meta().await.unwrap();
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
