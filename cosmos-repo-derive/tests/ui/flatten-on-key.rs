use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize)]
struct Customer {
    customer: String,
}

#[derive(Serialize, Deserialize, CosmosDocument)]
struct Order {
    #[id]
    id: String,
    #[partition_key]
    #[serde(flatten)]
    customer: Customer,
}

fn main() {}
