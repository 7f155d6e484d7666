// The distance function is one Cosmos DB computes; a near miss gets a suggestion.
use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize, CosmosDocument)]
struct Article {
    #[id]
    id: String,
    #[partition_key]
    topic: String,
    #[cosmos(vector(dimensions = 3, distance = "cosin"))]
    embedding: Vec<f32>,
}

fn main() {}
