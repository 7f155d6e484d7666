use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize, CosmosDocument)]
enum Order {
    Open { id: String },
}

fn main() {}
