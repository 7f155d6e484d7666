//! Least privilege: a read-only listing, as an API gateway granted only the Cosmos DB Built-in
//! Data Reader role would serve it. A `ReadRepository` has reads, queries and paging and no
//! write method, so the service cannot even compile a write its role would refuse.
//!
//! It lists one customer's orders page by page, resuming from each page's continuation token
//! (what an HTTP API hands its clients as a `next` link). On the embedded store it first
//! writes a few orders to list; against Cosmos DB it lists what is there.
//!
//! Environment: as the quickstart (`COSMOS_ENDPOINT`, `COSMOS_DATABASE`, credential
//! variables), plus `READER_CUSTOMER` (default `contoso`) and `READER_PAGE_SIZE` (default 3).
//!
//! ```sh
//! cargo run -p examples --example reader
//! COSMOS_ENDPOINT=https://myaccount.documents.azure.com:443/ COSMOS_DATABASE=shop \
//!     cargo run -p examples --example reader
//! ```

use std::process::ExitCode;

use cosmos_repo::prelude::*;
use examples::{Order, Store, report};

#[tokio::main]
async fn main() -> ExitCode {
    report(run().await)
}

async fn run() -> cosmos_repo::Result<()> {
    let customer = std::env::var("READER_CUSTOMER").unwrap_or_else(|_| "contoso".into());
    let page_size = std::env::var("READER_PAGE_SIZE")
        .ok()
        .and_then(|size| size.parse().ok())
        .unwrap_or(3);
    let store = Store::from_env().await?;
    store.prepare::<Order>().await?;
    if let Store::Embedded(_) | Store::Cosmos { emulator: true, .. } = &store {
        seed(&store.repository::<Order>(), &customer).await?;
    }

    let orders = store.read_repository::<Order>();
    let mut continuation: Option<String> = None;
    let (mut listed, mut pages, mut charge) = (0, 0, 0.0);
    loop {
        let page = orders
            .query()
            .partition(customer.as_str())
            .order_by(Order::FIELDS.id.asc())
            .page(page_size, continuation.as_deref())
            .await?;
        pages += 1;
        charge += page.request_charge;
        for order in &page.items {
            listed += 1;
            println!(
                "page {pages}: {} {} {}",
                order.id, order.status, order.total
            );
        }
        match page.continuation {
            Some(next) => continuation = Some(next),
            None => break,
        }
    }
    println!("listed {listed} orders of {customer} in {pages} pages ({charge} RU)");
    Ok(())
}

/// Seven orders to list, written with a normal repository (a writer's job, not the reader's).
async fn seed(orders: &Repository<Order>, customer: &str) -> cosmos_repo::Result<()> {
    let docs: Vec<Order> = (1..=7)
        .map(|i| Order {
            id: format!("o-{i:03}"),
            customer_id: customer.to_owned(),
            status: if i % 2 == 0 { "paid" } else { "open" }.into(),
            total: f64::from(i) * 10.0,
            etag: None,
        })
        .collect();
    let report = orders.upsert_all(&docs).await;
    match report.failures().next() {
        Some((index, err)) => Err(cosmos_repo::Error::Unsupported {
            message: format!("seeding order {index} failed: {err}"),
        }),
        None => Ok(()),
    }
}
