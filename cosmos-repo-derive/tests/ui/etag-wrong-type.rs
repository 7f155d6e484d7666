use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize, CosmosDocument)]
struct Order {
    #[id]
    id: String,
    #[partition_key]
    customer: String,
    #[etag]
    #[serde(rename = "_etag", default, skip_serializing)]
    etag: String,
}

fn main() {}
