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
    let orders = Repository::<Order>::in_memory();
    let _ = orders.patch("contoso", "o-1").set(Order::FIELDS.total, "12.5");
}
