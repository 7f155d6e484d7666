use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize, CosmosDocument)]
struct Order {
    #[id]
    id: String,
    #[partition_key]
    customer: String,
    status: String,
}

fn main() {
    let _ = Order::FIELDS.status.any(|s| s.eq("open"));
}
