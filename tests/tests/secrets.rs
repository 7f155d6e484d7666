//! No key or token ever shows: not in the Debug or Display of configurations, connections,
//! credentials and errors, and not in `tracing` output at any level, through every operation
//! and failure against the loopback gateway.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use cosmos_repo::{Cosmos, CosmosConfig, Credential};
use cosmos_repo_tests::Order;
use cosmos_repo_tests::fake::{self, Recorded, Reply, StaticToken};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// A key that is not the emulator's, so that no other text can contain it by chance.
const KEY: &str = "c2VjcmV0LWtleS10aGF0LW11c3QtbmV2ZXItYmUtbG9nZ2VkLWFueXdoZXJlLTAxMjM0NTY3ODk=";

/// Every span, field and event message, as text.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<String>>);

struct Text<'a>(&'a mut String);

impl Visit for Text<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
}

impl Subscriber for Captured {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut text = self.0.lock().unwrap();
        let _ = write!(text, "\nspan {}", span.metadata().name());
        span.record(&mut Text(&mut text));
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, values: &Record<'_>) {
        values.record(&mut Text(&mut self.0.lock().unwrap()));
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut text = self.0.lock().unwrap();
        let _ = write!(text, "\nevent {}", event.metadata().target());
        event.record(&mut Text(&mut text));
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// Runs every kind of operation, and some failures, against a gateway that refuses writes of
/// `o-denied` and knows no `o-missing`; answers every Debug and Display met on the way.
async fn exercise(cosmos: &Cosmos, config: &CosmosConfig) -> String {
    let mut seen = format!("{config:?}\n{cosmos:?}\n{:?}\n", config.credential());
    let orders = cosmos.repository::<Order>();
    let _ = writeln!(seen, "{orders:?}");
    for result in [
        orders.read("contoso", "o-missing").await.map(|_| ()),
        orders
            .create(&Order::new("contoso", "o-denied", 1.0))
            .await
            .map(|_| ()),
        orders.query().partition("contoso").all().await.map(|_| ()),
        cosmos.verify_container::<Order>().await,
    ] {
        if let Err(err) = result {
            let _ = writeln!(seen, "{err}\n{err:?}");
            let mut source = std::error::Error::source(&err);
            while let Some(cause) = source {
                let _ = writeln!(seen, "{cause}\n{cause:?}");
                source = cause.source();
            }
        }
    }
    seen
}

fn gateway() -> fake::FakeServer {
    fake::gateway(|request: &Recorded| {
        let path = request.target.split('?').next().unwrap_or_default();
        if request.method == "POST"
            && path.ends_with("/docs")
            && !request.headers.contains_key("x-ms-documentdb-isquery")
            && !request
                .headers
                .get("content-type")
                .is_some_and(|t| t.contains("query"))
        {
            return Some(Reply::cosmos_error(403, 5301, "no role"));
        }
        if path.starts_with("/dbs/db/colls/orders/docs") {
            return Some(Reply::cosmos_error(404, 0, "not found"));
        }
        None
    })
}

#[test]
fn keys_and_tokens_never_show() {
    let captured = Captured::default();
    let _guard = tracing::subscriber::set_default(captured.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let token = fake::token_with_oid("11111111-2222-3333-4444-555555555555");
    let mut shown = String::new();
    runtime.block_on(async {
        let gateway = gateway();
        for credential in [
            Credential::Key(KEY.to_owned().into()),
            Credential::Token(Arc::new(StaticToken(Some(token.clone())))),
        ] {
            let config = CosmosConfig::builder()
                .endpoint(&gateway.endpoint)
                .database("db")
                .credential(credential)
                .build_from(|_| None)
                .unwrap();
            let cosmos = config.connect().await.unwrap();
            shown.push_str(&exercise(&cosmos, &config).await);
        }
        assert!(
            gateway.requests().iter().any(|r| r
                .headers
                .get("authorization")
                .is_some_and(|a| a.contains("aad"))),
            "the token was sent"
        );
    });
    let logs = captured.0.lock().unwrap().clone();
    assert!(logs.contains("span cosmos_repo"), "the logs were captured");
    assert!(
        shown.contains("403") && shown.contains("not found"),
        "{shown}"
    );
    // The token's signature part stands for the token: the JWT header and payload also
    // appear in nothing else.
    let token_parts: Vec<&str> = token.split('.').collect();
    for (what, text) in [("Debug/Display", &shown), ("tracing output", &logs)] {
        assert!(!text.contains(KEY), "the key shows in the {what}");
        if let Some(at) = text.find(&token) {
            panic!(
                "the token shows in the {what}: ...{}...",
                &text[at.saturating_sub(200)..at]
            );
        }
        assert!(
            !text.contains(token_parts[1]),
            "the token's payload shows in the {what}"
        );
    }
}
