use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "orders")]
#[serde(tag = "type")]
enum Order {
    Open { id: String },
}

fn main() {}
