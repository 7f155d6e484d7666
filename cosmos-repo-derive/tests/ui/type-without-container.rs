use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize, CosmosDocument)]
#[cosmos(type = "order")]
struct Order {
    #[id]
    id: String,
    #[partition_key]
    tenant: String,
}

fn main() {}
