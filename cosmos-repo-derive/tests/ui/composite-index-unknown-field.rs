use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "orders", composite_index(status, totl desc))]
struct Order {
    #[id]
    id: String,
    #[partition_key]
    customer: String,
    status: String,
    total: f64,
}

fn main() {}
