// A vector has at least one dimension.
use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize, CosmosDocument)]
struct Article {
    #[id]
    id: String,
    #[partition_key]
    topic: String,
    #[cosmos(vector(dimensions = 0, distance = "cosine"))]
    embedding: Vec<f32>,
}

fn main() {}
