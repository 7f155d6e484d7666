// A vector attribute needs its number of dimensions.
use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize, CosmosDocument)]
struct Article {
    #[id]
    id: String,
    #[partition_key]
    topic: String,
    #[cosmos(vector(distance = "cosine"))]
    embedding: Vec<f32>,
}

fn main() {}
