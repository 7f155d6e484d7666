use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "orders", ttl = 3600)]
struct Order {
    #[id]
    id: String,
    #[partition_key]
    customer: String,
}

fn main() {}
