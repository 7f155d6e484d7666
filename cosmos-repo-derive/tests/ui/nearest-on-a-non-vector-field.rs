// Nearness is measured on vector fields only: a text field does not rank.
use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize, CosmosDocument)]
struct Article {
    #[id]
    id: String,
    #[partition_key]
    topic: String,
    title: String,
    #[cosmos(vector(dimensions = 3, distance = "cosine"))]
    embedding: Vec<f32>,
}

fn main() {
    let articles = Repository::<Article>::in_memory();
    let _ = articles
        .query()
        .cross_partition()
        .nearest(Article::FIELDS.title, &[1.0, 0.0, 0.0]);
}
