use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize, CosmosDocument)]
struct Event {
    #[id]
    id: String,
    #[partition_key]
    tenant: String,
    #[partition_key]
    region: String,
    #[partition_key]
    user: String,
    #[partition_key]
    day: String,
}

fn main() {}
