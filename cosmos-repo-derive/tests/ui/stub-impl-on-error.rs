use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize, CosmosDocument)]
struct Order {
    #[partition_key]
    customer: String,
}

fn orders() -> Repository<Order> {
    Repository::in_memory()
}

fn main() {}
