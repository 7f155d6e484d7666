use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize, CosmosDocument)]
struct Order {
    #[id]
    id: String,
    #[partition_key]
    #[serde(skip_deserializing)]
    customer: String,
}

fn main() {}
