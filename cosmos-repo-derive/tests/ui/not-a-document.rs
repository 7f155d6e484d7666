use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize)]
struct Order {
    id: String,
}

fn orders() -> Repository<Order> {
    Repository::in_memory()
}

fn main() {}
