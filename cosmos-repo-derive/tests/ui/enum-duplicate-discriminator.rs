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
#[cosmos(container = "app", type = "refund")]
struct Refund {
    #[id]
    id: String,
    #[partition_key]
    tenant: String,
}

#[derive(Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "app")]
#[serde(tag = "type")]
enum AppDocument {
    #[serde(rename = "order")]
    Order(Order),
    #[serde(rename = "order")]
    Refund(Refund),
}

fn main() {}
