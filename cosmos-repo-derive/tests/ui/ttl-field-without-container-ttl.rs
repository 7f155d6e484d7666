use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "tokens")]
struct Token {
    #[id]
    id: String,
    #[partition_key]
    user: String,
    #[cosmos(ttl)]
    ttl: Option<i32>,
}

fn main() {}
