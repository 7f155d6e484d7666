use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize, CosmosFields)]
struct Tenant {
    name: String,
}

#[derive(Serialize, Deserialize, CosmosDocument)]
struct Order {
    #[id]
    id: String,
    #[partition_key]
    #[cosmos(nested)]
    tenant: Tenant,
}

fn main() {}
