use cosmos_repo::prelude::*;
use cosmos_repo::MemoryStore;

#[derive(Serialize, Deserialize, CosmosDocument)]
struct Order {
    #[id]
    id: String,
    #[partition_key]
    customer: String,
}

fn main() {
    let orders = MemoryStore::new().read_repository::<Order>();
    let order = Order { id: "o-1".into(), customer: "contoso".into() };
    let _ = orders.create(&order);
}
