//! Connections to Cosmos DB-compatible servers for the conformance suite: the local
//! `@vercel/cosmosdb-server` (started by `scripts/test.sh`, or by the first test that needs it)
//! and, when `COSMOS_EMULATOR_ENDPOINT` is set, the official emulator.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use cosmos_repo::{Cosmos, CosmosConfig, CosmosConfigBuilder, Credential, EMULATOR_KEY};

use crate::{
    AppOrder, Article, Blob, Cart, Counter, Event, Member, Order, Product, Reading, Session,
    Shipment, Token,
};

/// The local server's endpoint: `COSMOS_TEST_ENDPOINT` when the test script started one, else a
/// server this process starts once (it stops when the process exits).
///
/// # Panics
///
/// When the server cannot be started: a missing server fails the suite, it never skips it.
pub fn local_endpoint() -> String {
    /// The endpoint, and the server when this process started it (it exits with the process).
    static SERVER: OnceLock<(String, Option<Child>)> = OnceLock::new();
    SERVER
        .get_or_init(|| match std::env::var("COSMOS_TEST_ENDPOINT") {
            Ok(endpoint) => (endpoint, None),
            Err(_) => {
                let (endpoint, child) = start_server();
                (endpoint, Some(child))
            }
        })
        .0
        .clone()
}

fn start_server() -> (String, Child) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("server");
    assert!(
        dir.join("node_modules").is_dir(),
        "the local Cosmos DB server is not installed: run ./scripts/test.sh, or `npm ci --prefix tests/server`"
    );
    let mut child = Command::new("node")
        .arg("launcher.js")
        .args(["--max-seconds", "1800"])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("could not run `node` to start the local server: {e}"));
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("reading the launcher's first line");
    let ready: serde_json::Value = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("the launcher said {line:?} instead of its endpoint: {e}"));
    let endpoint = ready["endpoint"]
        .as_str()
        .unwrap_or_else(|| panic!("no endpoint in {line:?}"))
        .to_owned();
    (endpoint, child)
}

/// Connects with `config` and the account key `key`, reading no environment.
pub async fn connect_with(config: CosmosConfigBuilder, key: &str) -> Cosmos {
    config
        .credential(Credential::Key(key.to_owned().into()))
        .emulator(true)
        .build_from(|_| None)
        .unwrap()
        .connect()
        .await
        .unwrap_or_else(|e| panic!("cannot use the server: {e:?}"))
}

/// Connects to the database `db` of a loopback fake gateway (see [`crate::fake::gateway`])
/// with the emulator key.
pub async fn connect_to_fake(endpoint: &str) -> Cosmos {
    let config = CosmosConfig::builder().endpoint(endpoint).database("db");
    connect_with(config, EMULATOR_KEY).await
}

/// A fresh database on the local server; see [`fresh_database`].
pub async fn local_database() -> Cosmos {
    fresh_database(&local_endpoint()).await
}

/// Connects to `endpoint` with the emulator key, in a database no other test uses, with the
/// containers of every test document created.
pub async fn fresh_database(endpoint: &str) -> Cosmos {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let database = format!(
        "t{}-{}-{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let config = CosmosConfig::builder()
        .endpoint(endpoint)
        .database(&database);
    with_test_containers(connect_with(config, EMULATOR_KEY).await).await
}

/// Creates the container of every test document in `cosmos`'s database, then hands it back.
pub async fn with_test_containers(cosmos: Cosmos) -> Cosmos {
    cosmos.ensure_container::<Order>().await.unwrap();
    cosmos.ensure_container::<Counter>().await.unwrap();
    cosmos.ensure_container::<Session>().await.unwrap();
    cosmos.ensure_container::<Reading>().await.unwrap();
    cosmos.ensure_container::<Product>().await.unwrap();
    cosmos.ensure_container::<Shipment>().await.unwrap();
    cosmos.ensure_container::<Blob>().await.unwrap();
    cosmos.ensure_container::<AppOrder>().await.unwrap();
    cosmos.ensure_container::<Member>().await.unwrap();
    cosmos.ensure_container::<Token>().await.unwrap();
    cosmos.ensure_container::<Event>().await.unwrap();
    cosmos.ensure_container::<Cart>().await.unwrap();
    cosmos.ensure_container::<Article>().await.unwrap();
    cosmos
        .ensure_container::<cosmos_repo::change_feed::Lease>()
        .await
        .unwrap();
    cosmos
}
