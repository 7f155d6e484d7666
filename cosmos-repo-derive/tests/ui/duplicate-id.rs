use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize, CosmosDocument)]
struct Order {
    #[id]
    id: String,
    #[id]
    #[partition_key]
    customer: String,
}

fn main() {}
