//! Every terminal operation runs in a `cosmos_repo` span that ends up holding its operation,
//! container, status, request charge and duration, queries included.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cosmos_repo::prelude::*;
use cosmos_repo_tests::Order;
use futures::TryStreamExt as _;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// The fields of every span, by span.
#[derive(Clone, Default)]
struct Spans(Arc<Mutex<Vec<HashMap<String, String>>>>);

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl Subscriber for Spans {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut spans = self.0.lock().unwrap();
        let mut fields = HashMap::from([("name".to_owned(), span.metadata().name().to_owned())]);
        span.record(&mut Fields(&mut fields));
        spans.push(fields);
        Id::from_u64(spans.len() as u64)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut spans = self.0.lock().unwrap();
        let index = span.into_u64() as usize - 1;
        values.record(&mut Fields(&mut spans[index]));
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, _: &Event<'_>) {}

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

#[test]
fn every_terminal_operation_is_traced() {
    let spans = Spans::default();
    let _guard = tracing::subscriber::set_default(spans.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let orders = Repository::<Order>::in_memory();
        let order = Order::new("contoso", "o-1", 1.0);
        orders.create(&order).await.unwrap();
        orders.read("contoso", "o-1").await.unwrap();
        orders.find("contoso", "none").await.unwrap();
        orders
            .patch("contoso", "o-1")
            .set(Order::FIELDS.total, 2.0)
            .await
            .unwrap();
        orders.batch("contoso").read("o-1").await.unwrap();
        orders.upsert_all(std::slice::from_ref(&order)).await;
        let query = || orders.query().partition("contoso");
        query().all().await.unwrap();
        query().first().await.unwrap();
        query().count().await.unwrap();
        query().exists().await.unwrap();
        let _: Vec<_> = query().pages(10).try_collect().await.unwrap();
        orders.delete("contoso", "nowhere").await.unwrap_err();
    });
    let spans = spans.0.lock().unwrap();
    let ops: Vec<&str> = spans
        .iter()
        .filter(|span| span["name"] == "cosmos_repo")
        .map(|span| span["op"].as_str())
        .collect();
    for op in [
        "create",
        "read",
        "patch",
        "batch",
        "upsert_all",
        "query.all",
        "query.first",
        "query.count",
        "query.exists",
        "query.page",
        "delete",
    ] {
        assert!(ops.contains(&op), "no span for {op}: {ops:?}");
    }
    for span in spans.iter().filter(|span| span["name"] == "cosmos_repo") {
        assert_eq!(span["container"], "orders", "{span:?}");
        for field in ["status", "duration_ms"] {
            assert!(span.contains_key(field), "{field} missing: {span:?}");
        }
    }
    let failed = spans
        .iter()
        .find(|span| span.get("op").map(String::as_str) == Some("delete"))
        .unwrap();
    assert_eq!(failed["status"], "404");
    let read = spans
        .iter()
        .find(|span| span.get("op").map(String::as_str) == Some("read"))
        .unwrap();
    assert_eq!(
        (read["status"].as_str(), read["request_charge"].as_str()),
        ("200", "0.0")
    );
}

#[test]
fn change_feed_reads_and_processor_batches_are_traced() {
    let spans = Spans::default();
    let _guard = tracing::subscriber::set_default(spans.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = cosmos_repo::MemoryStore::new();
        let orders = store.repository::<Order>();
        for id in ["o-1", "o-2"] {
            orders
                .create(&Order::new("contoso", id, 1.0))
                .await
                .unwrap();
        }
        orders
            .change_feed()
            .cross_partition()
            .page(10)
            .await
            .unwrap();
        let handled = Arc::new(Mutex::new(0));
        let processor = orders
            .change_feed_processor("traced", store.repository())
            .instance("a")
            .poll_interval(std::time::Duration::from_millis(10))
            .build({
                let handled = Arc::clone(&handled);
                move |batch: cosmos_repo::change_feed::ChangeBatch<Order>| {
                    *handled.lock().unwrap() += batch.documents.len();
                    async { Ok::<(), std::io::Error>(()) }
                }
            })
            .unwrap();
        let handle = processor.handle();
        let running = tokio::spawn(processor.run());
        while *handled.lock().unwrap() < 2 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        handle.stop();
        running.await.unwrap().unwrap();
    });
    let spans = spans.0.lock().unwrap();
    let op = |op: &str| {
        spans
            .iter()
            .filter(|span| {
                span["name"] == "cosmos_repo" && span.get("op").map(String::as_str) == Some(op)
            })
            .cloned()
            .collect::<Vec<_>>()
    };
    let page = op("change_feed.page");
    assert_eq!(page.len(), 1, "{page:?}");
    assert_eq!(page[0]["container"], "orders");
    assert_eq!(page[0]["status"], "200");
    let batches = op("change_feed.batch");
    assert!(!batches.is_empty(), "no batch span");
    let documents: usize = batches
        .iter()
        .map(|span| span["documents"].parse::<usize>().unwrap())
        .sum();
    assert_eq!(documents, 2, "{batches:?}");
    assert!(
        batches
            .iter()
            .all(|span| span["container"] == "orders" && span.contains_key("feed_range"))
    );
}
