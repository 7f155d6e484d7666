use cosmos_repo::prelude::*;

#[derive(CosmosDocument)]
union Order {
    id: u64,
    total: f64,
}

fn main() {}
