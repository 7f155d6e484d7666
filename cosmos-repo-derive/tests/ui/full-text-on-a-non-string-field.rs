// Full-text search indexes text: a String (or Option<String>) field.
use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize, CosmosDocument)]
struct Article {
    #[id]
    id: String,
    #[partition_key]
    topic: String,
    #[cosmos(full_text)]
    views: u64,
}

fn main() {}
