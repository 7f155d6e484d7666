use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize, CosmosDocument)]
struct Order {
    #[id]
    #[serde(skip)]
    id: String,
    #[partition_key]
    customer: String,
}

fn main() {}
