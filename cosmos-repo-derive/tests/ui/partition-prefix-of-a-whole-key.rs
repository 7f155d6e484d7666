use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize, CosmosDocument)]
struct Session {
    #[id]
    id: String,
    #[partition_key]
    tenant: String,
    #[partition_key]
    user: String,
}

fn main() {
    let sessions = Repository::<Session>::in_memory();
    let _ = sessions.query().partition_prefix(("acme", "u1"));
}
