//! Faults on the wire, against the loopback gateway: a write or batch whose connection drops is
//! never reported as done (nor as not applied), an unavailable service surfaces as an error,
//! not as a result, and a service that stops answering ends the operation in its time limit.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cosmos_repo::prelude::*;
use cosmos_repo::{CosmosConfig, EMULATOR_KEY};
use cosmos_repo_tests::Order;
use cosmos_repo_tests::fake::{self, DROP, HANG, Recorded, Reply};
use cosmos_repo_tests::server::{connect_to_fake, connect_with};

const DOCS: &str = "/dbs/db/colls/orders/docs";

#[tokio::test]
async fn a_create_whose_connection_drops_is_not_reported_as_created() {
    // The first create's connection drops after the request was read (it may have landed);
    // any later one finds the document there.
    let creates = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&creates);
    let gateway = fake::gateway(move |request: &Recorded| {
        (request.method == "POST" && request.target.starts_with(DOCS)).then(|| {
            if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                DROP
            } else {
                Reply::cosmos_error(409, 0, "Resource with specified id already exists")
            }
        })
    });
    let orders = connect_to_fake(&gateway.endpoint)
        .await
        .repository::<Order>();
    let result = orders.create(&Order::new("contoso", "o-1", 1.0)).await;
    let attempts = creates.load(Ordering::SeqCst);
    match (&result, attempts) {
        // Not retried: the failure is reported as what it is.
        (Err(Error::Transport { .. }), 1) => {}
        // Retried by the SDK after the drop (SDK 1.0 does): the 409 may be the first
        // attempt's own document, and the error says so.
        (Err(Error::MaybeApplied { attempts, .. }), n) if n > 1 && *attempts == n => {}
        (other, n) => panic!("after a dropped connection and {n} attempts: {other:?}"),
    }
    assert!(
        result.is_err(),
        "a write that may not have landed is never a success"
    );
}

#[tokio::test]
async fn an_unavailable_service_surfaces_as_an_error() {
    let gateway = fake::gateway(|request: &Recorded| {
        request
            .target
            .starts_with(DOCS)
            .then(|| Reply::cosmos_error(503, 0, "service unavailable"))
    });
    let orders = connect_to_fake(&gateway.endpoint)
        .await
        .repository::<Order>();
    let before = gateway.requests().len();
    let err = orders.read("contoso", "o-1").await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    let source = std::error::Error::source(&err)
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(
        source.contains("503"),
        "the cause names the status: {source}"
    );
    let attempts = gateway.requests().len() - before;
    assert!(attempts >= 1, "{attempts}");
    let err = orders
        .upsert(&Order::new("contoso", "o-1", 1.0))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
}

#[tokio::test]
async fn a_batch_whose_connection_drops_is_not_reported_as_unapplied() {
    // The first batch's connection drops after the request was read (it may have been
    // applied); any later one fails at its first create, as it would after the first landed.
    let batches = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&batches);
    let gateway = fake::gateway(move |request: &Recorded| {
        let batch = request.headers.contains_key("x-ms-cosmos-is-batch-request");
        (batch && request.target.starts_with(DOCS)).then(|| {
            if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                DROP
            } else {
                Reply::json(
                    207,
                    serde_json::json!([
                        { "statusCode": 409, "requestCharge": 1.0 },
                        { "statusCode": 424, "requestCharge": 0.0 },
                    ]),
                )
            }
        })
    });
    let orders = connect_to_fake(&gateway.endpoint)
        .await
        .repository::<Order>();
    let result = orders
        .batch("contoso")
        .create(&Order::new("contoso", "o-1", 1.0))
        .create(&Order::new("contoso", "o-2", 2.0))
        .await;
    let attempts = batches.load(Ordering::SeqCst);
    match (&result, attempts) {
        (Err(Error::Transport { .. }), 1) => {}
        (
            Err(Error::BatchMaybeApplied {
                attempts,
                index: 0,
                operation: "create",
                source,
                ..
            }),
            n,
        ) if n > 1 && *attempts == n => {
            assert!(
                matches!(**source, Error::AlreadyExists { .. }),
                "{source:?}"
            );
        }
        (other, n) => panic!("after a dropped connection and {n} attempts: {other:?}"),
    }
    let message = result.unwrap_err().to_string();
    assert!(!message.contains("nothing of the batch"), "{message}");
}

#[tokio::test]
async fn a_service_that_stops_answering_times_out_with_the_activity_id() {
    let gateway =
        fake::gateway(|request: &Recorded| request.target.starts_with(DOCS).then_some(HANG));
    let config = CosmosConfig::builder()
        .endpoint(&gateway.endpoint)
        .database("db")
        .operation_timeout(Duration::from_secs(1));
    let orders = connect_with(config, EMULATOR_KEY)
        .await
        .repository::<Order>();

    let started = Instant::now();
    let err = orders.read("contoso", "o-1").await.unwrap_err();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "the limit is 1 s: {took:?}");
    let Error::Timeout {
        activity_id,
        attempts,
        ..
    } = &err
    else {
        panic!("{err:?}");
    };
    // The activity id is the one the requests carried, so support can find them.
    let sent: Vec<String> = gateway
        .requests()
        .iter()
        .filter(|r| r.target.starts_with(DOCS))
        .filter_map(|r| r.headers.get("x-ms-activity-id").cloned())
        .collect();
    assert!(
        !sent.is_empty() && sent.len() <= *attempts,
        "{attempts} {sent:?}"
    );
    assert!(
        sent.iter().all(|id| id == activity_id),
        "{activity_id} {sent:?}"
    );
    assert_eq!(err.status(), 408);
    let message = err.to_string();
    assert!(message.contains(activity_id.as_str()), "{message}");

    let err = orders
        .upsert(&Order::new("contoso", "o-1", 1.0))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(
        err.to_string().contains("may or may not have been applied"),
        "{err}"
    );
}
