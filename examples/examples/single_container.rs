//! Single-container design: orders and customers of a tenant in one `app` container, told apart
//! by their `type` property, written together in one transactional batch (all or nothing), and
//! read back both as their own types and as one enum of them.
//!
//! Environment: as the quickstart.
//!
//! ```sh
//! cargo run -p examples --example single_container
//! ```

use std::process::ExitCode;

use cosmos_repo::prelude::*;
use examples::{Store, report};

/// An order of a tenant (`"type": "order"`).
#[derive(Debug, Clone, Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "app", type = "order")]
struct TenantOrder {
    #[id]
    id: String,
    #[partition_key]
    tenant: String,
    customer: String,
    total: f64,
}

/// A customer of a tenant (`"type": "customer"`).
#[derive(Debug, Clone, Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "app", type = "customer")]
struct Customer {
    #[id]
    id: String,
    #[partition_key]
    tenant: String,
    name: String,
}

/// Every document of the container.
#[derive(Debug, Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "app")]
#[serde(tag = "type")]
enum AppDocument {
    #[serde(rename = "order")]
    Order(TenantOrder),
    #[serde(rename = "customer")]
    Customer(Customer),
}

#[tokio::main]
async fn main() -> ExitCode {
    report(run().await)
}

async fn run() -> cosmos_repo::Result<()> {
    let store = Store::from_env().await?;
    store.prepare::<AppDocument>().await?;
    let customers = store.repository::<Customer>();
    let orders = store.repository::<TenantOrder>();

    let ada = Customer {
        id: "c-ada".into(),
        tenant: "acme".into(),
        name: "Ada".into(),
    };
    let order = TenantOrder {
        id: "o-1".into(),
        tenant: "acme".into(),
        customer: ada.id.clone(),
        total: 99.0,
    };
    // A new customer and her first order, in one atomic write.
    let done = customers.batch("acme").upsert(&ada).upsert(&order).await?;
    println!(
        "batch: {} operations, statuses {:?}, {} RU",
        done.results.len(),
        done.results.iter().map(|r| r.status).collect::<Vec<_>>(),
        done.request_charge
    );

    // Each type sees only its own documents.
    let only_orders = orders.query().partition("acme").count().await?;
    let only_customers = customers.query().partition("acme").count().await?;
    println!("orders: {only_orders}, customers: {only_customers}");
    if customers.find("acme", "o-1").await?.is_some() {
        return Err(cosmos_repo::Error::Unsupported {
            message: "a customer repository read an order".into(),
        });
    }

    // The enum reads them all.
    let everything = store.repository::<AppDocument>();
    for document in everything.query().partition("acme").all().await? {
        match document {
            AppDocument::Order(o) => println!("order {} of {} for {}", o.id, o.customer, o.total),
            AppDocument::Customer(c) => println!("customer {} named {}", c.id, c.name),
        }
    }
    Ok(())
}
