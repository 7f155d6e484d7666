use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize, CosmosDocument)]
struct Order {
    #[id]
    id: String,
    #[partition_key]
    customer: String,
    #[cosmos(container = "lines")]
    lines: Vec<String>,
}

fn main() {}
