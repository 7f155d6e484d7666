use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize, CosmosDocument)]
#[serde(rename_all = "camelCase")]
struct Order {
    #[id]
    order_id: String,
    #[partition_key]
    customer: String,
}

fn main() {}
