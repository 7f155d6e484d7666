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
    let orders = Repository::<Order>::in_memory();
    let _ = orders.patch("contoso", "o-1").append(Order::FIELDS.status, "vip");
}
