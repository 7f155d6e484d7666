use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize, CosmosDocument)]
#[serde(deny_unknown_fields)]
struct Order {
    #[id]
    id: String,
    #[partition_key]
    customer: String,
}

fn main() {}
