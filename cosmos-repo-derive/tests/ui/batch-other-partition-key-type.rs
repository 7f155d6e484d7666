use cosmos_repo::prelude::*;

#[derive(Serialize, Deserialize, CosmosDocument)]
struct Order {
    #[id]
    id: String,
    #[partition_key]
    customer: String,
}

#[derive(Serialize, Deserialize, CosmosDocument)]
struct Reading {
    #[id]
    id: String,
    #[partition_key]
    sensor: i64,
}

fn main() {
    let orders = Repository::<Order>::in_memory();
    let reading = Reading { id: "r-1".into(), sensor: 7 };
    let _ = orders.batch("contoso").create(&reading);
}
