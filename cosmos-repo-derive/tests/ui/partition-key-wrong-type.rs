use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize, CosmosDocument)]
struct Order {
    #[id]
    id: String,
    #[partition_key]
    customer: String,
}

async fn read(orders: Repository<Order>) -> cosmos_repo::Result<Order> {
    orders.read(42, "o-1").await
}

fn main() {}
