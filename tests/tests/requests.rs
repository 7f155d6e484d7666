//! What the SDK store puts on the wire for ids: every request it sends, recorded by a loopback
//! fake gateway, names exactly the document asked for, and no request leaves for an id Cosmos
//! DB refuses or a request path would turn into another resource.

use cosmos_repo::prelude::*;
use cosmos_repo::{Cosmos, CosmosConfig, EMULATOR_KEY};
use cosmos_repo_tests::Order;
use cosmos_repo_tests::fake::{self, FakeServer, Recorded, Reply, percent_decode};
use cosmos_repo_tests::scenarios::bad_ids;
use cosmos_repo_tests::server::connect_with;

const DOCS: &str = "/dbs/db/colls/orders/docs";

/// A gateway with the `orders` container in which no document exists.
async fn empty_gateway() -> (FakeServer, Cosmos) {
    let gateway = fake::gateway(|request: &Recorded| {
        request
            .target
            .starts_with(DOCS)
            .then(|| Reply::cosmos_error(404, 0, "no documents in the fake gateway"))
    });
    let config = CosmosConfig::builder()
        .endpoint(&gateway.endpoint)
        .database("db");
    let cosmos = connect_with(config, EMULATOR_KEY).await;
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
