use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "tokens", ttl = 0)]
struct Token {
    #[id]
    id: String,
    #[partition_key]
    user: String,
}

fn main() {}
