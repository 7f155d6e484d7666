use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "orders", throughput = 400)]
struct Order {
    #[id]
    id: String,
    #[partition_key]
    customer: String,
}

fn main() {}
