use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "app", type = "order")]
struct Order {
    #[id]
    id: String,
    #[partition_key]
    tenant: String,
}

#[derive(Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "app")]
#[serde(tag = "type")]
enum AppDocument {
    Order(Order),
}

fn main() {}
