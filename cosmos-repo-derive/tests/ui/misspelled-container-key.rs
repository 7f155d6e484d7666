use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize, CosmosDocument)]
#[cosmos(contaner = "orders")]
struct Order {
    #[id]
    id: String,
    #[partition_key]
    customer: String,
}

fn main() {}
