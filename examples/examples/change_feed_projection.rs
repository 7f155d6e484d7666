//! A change feed projection: two instances of a change feed processor share the `orders`
//! container's feed ranges and keep a summary per customer (order count and revenue) in the
//! `summaries` container up to date as orders are written and changed. Leases live in the
//! `leases` container. It checks that the summaries match the orders, then stops both
//! instances, which release their leases.
//!
//! Runs on the embedded in-memory store when `COSMOS_ENDPOINT` is unset:
//!
//! ```sh
//! cargo run -p examples --example change_feed_projection
//! ```
//!
//! With `COSMOS_ENDPOINT` (and `COSMOS_DATABASE`) it runs on Cosmos DB or an emulator, as the
//! quickstart does; run it again and the processors resume from their leases.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use cosmos_repo::change_feed::{ChangeBatch, Lease};
use cosmos_repo::prelude::*;
use examples::{Order, Store, report};

/// What the projection keeps per customer. Each order's latest total is kept by id, so that
/// handling a change twice (delivery is at least once) changes nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "summaries")]
#[serde(rename_all = "camelCase")]
struct CustomerSummary {
    /// The customer, also the partition key.
    #[id]
    id: String,
    #[partition_key]
    customer_id: String,
    /// The latest total of each order, by id.
    totals: BTreeMap<String, f64>,
    /// The sum of `totals`.
    revenue: f64,
    #[etag]
    #[serde(rename = "_etag", default, skip_serializing)]
    etag: Option<Etag>,
}

impl CustomerSummary {
    fn record(&mut self, order: &Order) {
        self.totals.insert(order.id.clone(), order.total);
        self.revenue = self.totals.values().sum();
    }
}

/// Folds one changed order into its customer's summary: an update (retried on a lost race),
/// or a create for a new customer.
async fn project(
    summaries: &Repository<CustomerSummary>,
    order: &Order,
) -> cosmos_repo::Result<()> {
    let customer = order.customer_id.as_str();
    loop {
        match summaries
            .update(customer, customer, |s| s.record(order))
            .await
        {
            Ok(_) => return Ok(()),
            Err(cosmos_repo::Error::NotFound { .. }) => {
                let mut summary = CustomerSummary {
                    id: customer.to_owned(),
                    customer_id: customer.to_owned(),
                    ..CustomerSummary::default()
                };
                summary.record(order);
                match summaries.create(&summary).await {
                    // Another instance created it first: update it instead.
                    Err(cosmos_repo::Error::AlreadyExists { .. }) => continue,
                    created => return created.map(drop),
                }
            }
            Err(err) => return Err(err),
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    report(run().await)
}

async fn run() -> cosmos_repo::Result<()> {
    let store = Store::from_env().await?;
    store.prepare::<Order>().await?;
    store.prepare::<CustomerSummary>().await?;
    store.prepare::<Lease>().await?;
    let orders = store.repository::<Order>();
    let summaries = store.repository::<CustomerSummary>();

    let mut instances = Vec::new();
    for name in ["projector-1", "projector-2"] {
        let summaries = summaries.clone();
        let processor = orders
            .change_feed_processor("customer-summaries", store.repository::<Lease>())
            .instance(name)
            .poll_interval(Duration::from_millis(50))
            .lease_duration(Duration::from_secs(5))
            .build(move |batch: ChangeBatch<Order>| {
                let summaries = summaries.clone();
                async move {
                    for order in &batch.documents {
                        project(&summaries, order).await?;
                    }
                    Ok::<(), cosmos_repo::Error>(())
                }
            })?;
        let handle = processor.handle();
        instances.push((handle, tokio::spawn(processor.run())));
    }

    // Orders come in, and some change.
    let customers = ["contoso", "fabrikam", "northwind", "tailspin"];
    let mut expected: BTreeMap<String, f64> = BTreeMap::new();
    for n in 0..40_u32 {
        let customer = customers[n as usize % customers.len()];
        let order = Order {
            id: format!("order-{n:02}"),
            customer_id: customer.to_owned(),
            status: "open".to_owned(),
            total: f64::from(10 + n),
            etag: None,
        };
        orders.upsert(&order).await?;
    }
    for n in (0..40_u32).step_by(5) {
        let customer = customers[n as usize % customers.len()];
        orders
            .update(customer, &format!("order-{n:02}"), |order| {
                order.status = "paid".to_owned();
                order.total += 0.5;
            })
            .await?;
    }
    for n in 0..40_u32 {
        let bonus = if n % 5 == 0 { 0.5 } else { 0.0 };
        *expected
            .entry(customers[n as usize % customers.len()].to_owned())
            .or_default() += f64::from(10 + n) + bonus;
    }

    // The projection catches up.
    let started = Instant::now();
    loop {
        let found: Vec<CustomerSummary> = summaries.query().cross_partition().all().await?;
        let revenue: BTreeMap<String, f64> =
            found.iter().map(|s| (s.id.clone(), s.revenue)).collect();
        if revenue == expected {
            for summary in &found {
                println!(
                    "{}: {} orders, revenue {}",
                    summary.id,
                    summary.totals.len(),
                    summary.revenue
                );
            }
            println!("the summaries caught up in {:?}", started.elapsed());
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            return Err(cosmos_repo::Error::Unsupported {
                message: format!(
                    "the summaries did not catch up: {revenue:?}, expected {expected:?}"
                ),
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    for (handle, running) in instances {
        handle.stop();
        running
            .await
            .map_err(|e| cosmos_repo::Error::Unsupported {
                message: format!("a processor instance panicked: {e}"),
            })??;
        println!(
            "{} stopped; its lease requests cost {} RU",
            handle.instance(),
            handle.lease_request_charge()
        );
    }
    Ok(())
}
