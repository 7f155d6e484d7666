//! What the SDK store puts on the wire, recorded by a loopback fake gateway: every request for
//! a document names exactly the document asked for, no request leaves for an id Cosmos DB
//! refuses or a request path would turn into another resource, and bulk operations wait out
//! throttling.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cosmos_repo::prelude::*;
use cosmos_repo::{Cosmos, SessionToken};
use cosmos_repo_tests::Order;
use cosmos_repo_tests::fake::{self, FakeServer, Recorded, Reply, percent_decode};
use cosmos_repo_tests::scenarios::bad_ids;
use cosmos_repo_tests::server::connect_to_fake;

const DOCS: &str = "/dbs/db/colls/orders/docs";

/// A gateway with the `orders` container in which no document exists.
async fn empty_gateway() -> (FakeServer, Cosmos) {
    let gateway = fake::gateway(|request: &Recorded| {
        request
            .target
            .starts_with(DOCS)
            .then(|| Reply::cosmos_error(404, 0, "no documents in the fake gateway"))
    });
    let cosmos = connect_to_fake(&gateway.endpoint).await;
    // The first item request also fetches the container's metadata.
    let orders = cosmos.repository::<Order>();
    assert!(orders.find("contoso", "warm-up").await.unwrap().is_none());
    (gateway, cosmos)
}

#[tokio::test]
async fn no_request_leaves_for_a_bad_id() {
    let (gateway, cosmos) = empty_gateway().await;
    let orders = cosmos.repository::<Order>();
    let before = gateway.requests().len();
    for id in bad_ids() {
        let doc = Order::new("contoso", &id, 1.0);
        let results = [
            orders.create(&doc).await.err(),
            orders.upsert(&doc).await.err(),
            orders.replace(&doc).await.err(),
            orders.read("contoso", &id).await.err(),
            orders.find("contoso", &id).await.err(),
            orders.delete("contoso", &id).await.err(),
            orders.delete_doc(&doc).await.err(),
            orders
                .update("contoso", &id, |o| o.total += 1.0)
                .await
                .err(),
        ];
        for err in results {
            assert!(
                matches!(err, Some(Error::BadRequest { .. })),
                "{id:?}: {err:?}"
            );
        }
    }
    let sent: Vec<String> = gateway.requests()[before..]
        .iter()
        .map(|r| format!("{} {}", r.method, r.target))
        .collect();
    assert!(sent.is_empty(), "requests sent for bad ids: {sent:?}");
}

#[tokio::test]
async fn every_request_names_exactly_the_document_asked_for() {
    let (gateway, cosmos) = empty_gateway().await;
    let orders = cosmos.repository::<Order>();
    let mut ids: Vec<String> = [
        "o-1",
        " lead",
        "...",
        ".dot",
        "100%",
        "%2e%2e",
        "o%2Fx",
        "a b",
        "ünï😀",
        "a+b=c&d",
        "a;b",
        "a:b",
        "a@b",
        "[x]",
        "{x}",
        "a\"b",
        "a'b",
        "~tilde",
        "a\u{a0}",
    ]
    .map(str::to_owned)
    .into();
    ids.push("é".repeat(511));
    for id in &ids {
        let id = id.as_str();
        let before = gateway.requests().len();
        assert!(orders.read("contoso", id).await.unwrap_err().is_not_found());
        assert!(
            orders
                .delete("contoso", id)
                .await
                .unwrap_err()
                .is_not_found()
        );
        let replace = orders
            .replace(&Order::new("contoso", id, 1.0))
            .await
            .unwrap_err();
        assert!(replace.is_not_found(), "{replace:?}");
        let sent = &gateway.requests()[before..];
        let methods: Vec<&str> = sent.iter().map(|r| r.method.as_str()).collect();
        assert_eq!(methods, ["GET", "DELETE", "PUT"], "{id:?}: {sent:?}");
        for request in sent {
            let path = request.target.split('?').next().unwrap_or_default();
            assert_eq!(
                percent_decode(path),
                format!("{DOCS}/{id}"),
                "{} {}",
                request.method,
                request.target
            );
            assert_eq!(
                request
                    .headers
                    .get("x-ms-documentdb-partitionkey")
                    .map(String::as_str),
                Some(r#"["contoso"]"#),
                "{id:?}"
            );
        }
    }
}

#[tokio::test]
async fn no_request_leaves_for_a_foreign_continuation_or_an_empty_page() {
    let (gateway, cosmos) = empty_gateway().await;
    let orders = cosmos.repository::<Order>();
    let before = gateway.requests().len();
    let by_total = || {
        orders
            .query()
            .cross_partition()
            .filter(Order::FIELDS.total.gt(1.0))
    };
    for (what, result) in [
        ("garbage", by_total().page(10, Some("garbage")).await),
        (
            "made up",
            by_total().page(10, Some("0000000000000000.{}")).await,
        ),
        ("page size 0", by_total().page(0, None).await),
    ] {
        assert!(
            matches!(result, Err(Error::BadRequest { .. })),
            "{what}: {result:?}"
        );
    }
    assert_eq!(
        gateway.requests().len(),
        before,
        "{:?}",
        &gateway.requests()[before..]
    );
}

/// The SDK retries a throttled request 9 times and then gives up with 429; a bulk operation
/// keeps waiting out the service's retry-after until it goes through.
#[tokio::test]
async fn bulk_waits_out_throttling_beyond_the_sdk_retries() {
    const THROTTLED: usize = 25;
    let writes = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&writes);
    let gateway = fake::gateway(move |request: &Recorded| {
        if request.method != "POST" || !request.target.starts_with(DOCS) {
            return None;
        }
        if seen.fetch_add(1, Ordering::SeqCst) < THROTTLED {
            let mut reply = Reply::cosmos_error(429, 3200, "request rate is large");
            reply
                .headers
                .push(("x-ms-retry-after-ms".into(), "1".into()));
            return Some(reply);
        }
        let stored = serde_json::json!({
            "id": "o-1", "customerId": "contoso", "total": 1.0, "_etag": "\"e1\"",
        });
        Some(Reply::json(201, stored))
    });
    let cosmos = connect_to_fake(&gateway.endpoint).await;
    let orders = cosmos.repository::<Order>();
    let order = Order::new("contoso", "o-1", 1.0);
    let err = orders.upsert(&order).await.unwrap_err();
    assert!(
        matches!(err, Error::Throttled { retry_after: Some(wait), .. } if wait == std::time::Duration::from_millis(1)),
        "a single upsert gives up where the SDK does, with the wait the service asked for: {err:?}"
    );
    let gave_up_after = writes.load(Ordering::SeqCst);
    assert!(gave_up_after < THROTTLED, "{gave_up_after}");
    let report = orders.upsert_all(std::slice::from_ref(&order)).await;
    assert!(report.is_success(), "{:?}", report.outcomes);
    assert_eq!(writes.load(Ordering::SeqCst), THROTTLED + 1);
}

#[tokio::test]
async fn read_many_sends_one_query_per_partition_and_a_read_for_a_lone_id() {
    let stored = |id: &str| {
        serde_json::json!({
            "id": id, "customerId": "contoso", "total": 1.0, "_etag": "\"1\"",
        })
    };
    let page = serde_json::json!({
        "_rid": "x",
        "Documents": [stored("o-1"), stored("o-3")],
        "_count": 2,
    });
    let gateway = fake::gateway(move |request: &Recorded| {
        if !request.target.starts_with(DOCS) {
            return None;
        }
        let is_query = request
            .headers
            .get("content-type")
            .is_some_and(|t| t.starts_with("application/query+json"));
        Some(if is_query {
            Reply::json(200, page.clone())
        } else {
            Reply::cosmos_error(404, 0, "no such document")
        })
    });
    let orders = connect_to_fake(&gateway.endpoint)
        .await
        .repository::<Order>();
    let before = gateway.requests().len();
    let many = orders
        .read_many([
            ("contoso", "o-1"),
            ("contoso", "o-2"),
            ("contoso", "o-3"),
            ("contoso", "o-4"),
            ("fabrikam", "o-5"),
        ])
        .await
        .unwrap();
    let found: Vec<&str> = many.found.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(found, ["o-1", "o-3"]);
    assert_eq!(many.missing.len(), 3);
    let sent: Vec<Recorded> = gateway.requests()[before..]
        .iter()
        .filter(|r| r.target.starts_with(DOCS))
        .cloned()
        .collect();
    let queries = sent.iter().filter(|r| r.method == "POST").count();
    let reads: Vec<&str> = sent
        .iter()
        .filter(|r| r.method == "GET")
        .map(|r| r.target.as_str())
        .collect();
    assert_eq!(queries, 1, "one query for contoso's four ids: {sent:?}");
    assert_eq!(
        reads,
        [format!("{DOCS}/o-5")],
        "a point read for fabrikam's one"
    );
}

#[tokio::test]
async fn a_session_token_given_to_a_read_or_query_is_sent() {
    let (gateway, cosmos) = empty_gateway().await;
    let orders = cosmos.repository::<Order>();
    let token = SessionToken::new("0:-1#42");
    let before = gateway.requests().len();
    let found = orders
        .find("contoso", "o-1")
        .session_token(token.clone())
        .await
        .unwrap();
    assert!(found.is_none());
    let _ = orders
        .raw_query("SELECT * FROM c")
        .session_token(token.clone())
        .partition("contoso")
        .all()
        .await;
    let sent: Vec<Option<String>> = gateway.requests()[before..]
        .iter()
        .filter(|r| r.target.starts_with(DOCS))
        .map(|r| r.headers.get("x-ms-session-token").cloned())
        .collect();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(
        sent.iter().all(|t| t.as_deref() == Some(token.as_str())),
        "{sent:?}"
    );
}
