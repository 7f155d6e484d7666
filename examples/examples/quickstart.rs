//! Quickstart: upsert an order and read it back by partition key and id.
//!
//! Runs on the embedded in-memory store when `COSMOS_ENDPOINT` is unset:
//!
//! ```sh
//! cargo run -p examples --example quickstart
//! ```
//!
//! It says which store it uses. Connecting to Cosmos DB from `COSMOS_ENDPOINT` is not in this
//! release yet; with the variable set, the example stops with an error saying so rather than
//! silently using the embedded store.

use std::process::ExitCode;

use cosmos_repo::prelude::*;
use examples::Order;

#[tokio::main]
async fn main() -> ExitCode {
    if let Ok(endpoint) = std::env::var("COSMOS_ENDPOINT") {
        eprintln!(
            "error: COSMOS_ENDPOINT is set ({endpoint}), but this release of cosmos-repo cannot connect to Cosmos DB yet; unset it to run on the embedded store"
        );
        return ExitCode::FAILURE;
    }
    println!("store: embedded (in-memory; set COSMOS_ENDPOINT to use Cosmos DB)");
    match run(Repository::<Order>::in_memory()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            let mut source = std::error::Error::source(&err);
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

async fn run(orders: Repository<Order>) -> cosmos_repo::Result<()> {
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
    Ok(())
}
