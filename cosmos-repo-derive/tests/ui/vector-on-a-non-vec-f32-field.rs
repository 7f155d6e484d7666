// A vector field holds the embedding as `Vec<f32>`.
use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize, CosmosDocument)]
struct Article {
    #[id]
    id: String,
    #[partition_key]
    topic: String,
    #[cosmos(vector(dimensions = 3, distance = "cosine"))]
    embedding: Vec<f64>,
}

fn main() {}
