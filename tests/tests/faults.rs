//! Faults on the wire, against the loopback gateway: a write whose connection drops is never
//! reported as done, and an unavailable service surfaces as an error, not as a result.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cosmos_repo::prelude::*;
use cosmos_repo_tests::Order;
use cosmos_repo_tests::fake::{self, DROP, Recorded, Reply};
use cosmos_repo_tests::server::connect_to_fake;

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
