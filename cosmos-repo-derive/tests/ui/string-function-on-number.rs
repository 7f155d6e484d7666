use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize, CosmosDocument)]
struct Order {
    #[id]
    id: String,
    #[partition_key]
    customer: String,
    total: f64,
}

fn main() {
    let _ = Order::FIELDS.total.starts_with("1");
}
