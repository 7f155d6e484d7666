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
    let _ = orders.query().cross_partition().sum(Order::FIELDS.status);
}
