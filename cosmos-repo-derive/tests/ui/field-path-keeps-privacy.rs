mod model {
    use cosmos_repo::prelude::*;

    #[derive(Serialize, Deserialize, CosmosDocument)]
    pub struct User {
        #[id]
        pub id: String,
        #[partition_key]
        pub tenant: String,
        password_hash: String,
    }
}

use cosmos_repo::CosmosDocument;

fn main() {
    let _ = model::User::FIELDS.tenant;
    let _ = model::User::FIELDS.password_hash;
}
