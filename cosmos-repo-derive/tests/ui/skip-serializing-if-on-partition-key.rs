use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize, CosmosDocument)]
struct Order {
    #[id]
    id: String,
    #[partition_key]
    #[serde(skip_serializing_if = "String::is_empty")]
    customer: String,
}

fn main() {}
