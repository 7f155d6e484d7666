//! Quickstart: upsert an order, read it back by partition key and id, and query it with a typed
//! filter.
//!
//! Runs on the embedded in-memory store when `COSMOS_ENDPOINT` is unset:
//!
//! ```sh
//! cargo run -p examples --example quickstart
//! ```
//!
//! With `COSMOS_ENDPOINT` set it connects to Cosmos DB, configured only from the environment
//! (`COSMOS_DATABASE` too, `COSMOS_CONTAINER` optionally), passwordless with a managed identity in
//! Azure or `az login` on a developer machine (see `cosmos_repo::Credential` for the order):
//!
//! ```sh
//! COSMOS_ENDPOINT=https://myaccount.documents.azure.com:443/ COSMOS_DATABASE=shop \
//!     cargo run -p examples --example quickstart
//! ```
//!
//! On an emulator (the official one, or `./scripts/local-server.sh`) it creates the database
//! and container if needed; elsewhere it only checks they exist, as an identity with a
//! data-plane role cannot create them:
//!
//! ```sh
//! COSMOS_ENDPOINT=https://127.0.0.1:8081/ COSMOS_DATABASE=quickstart \
//!     COSMOS_KEY=C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU9DXjfvwYIhYlTPQ0byOWrXH2dw6tgYrDnThZ9HXp3Acv+Ww== \
//!     cargo run -p examples --example quickstart
//! ```

use std::process::ExitCode;

use cosmos_repo::prelude::*;
use examples::{Order, Store, report};

#[tokio::main]
async fn main() -> ExitCode {
    report(run().await)
}

async fn run() -> cosmos_repo::Result<()> {
    let store = Store::from_env().await?;
    store.prepare::<Order>().await?;
    let orders = store.repository::<Order>();
    let order = Order {
        id: "o-100".into(),
        customer_id: "contoso".into(),
        status: "paid".into(),
        total: 42.5,
        etag: None,
    };
    let stored = orders.upsert(&order).with_meta().await?;
    println!(
        "upserted {} for {} in container `{}` ({} RU, etag {})",
        stored.value.id,
        stored.value.customer_id,
        orders.container(),
        stored.request_charge,
        stored.etag.as_ref().map_or("-", Etag::as_str),
    );
    let read = orders.read("contoso", "o-100").await?;
    println!(
        "read back {}: status {}, total {}",
        read.id, read.status, read.total
    );
    let f = Order::FIELDS;
    let paid = orders
        .query()
        .partition("contoso")
        .filter(f.status.eq("paid").and(f.total.gt(10.0)))
        .order_by(f.total.desc());
    println!("query: {}", paid.to_sql()?.text);
    let paid = paid.all().with_meta().await?;
    println!(
        "paid orders over 10 for contoso: {} ({} RU)",
        paid.value.len(),
        paid.request_charge
    );
    Ok(())
}
