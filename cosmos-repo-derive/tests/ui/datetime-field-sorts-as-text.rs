// A chrono `DateTime` field is stored in a form with a varying number of fractional digits, which
// Cosmos DB compares as text; the derive warns (an error here, under deny) and names the fix.
#![deny(deprecated)]

use cosmos_repo::prelude::*;

/// Stands in for chrono, which this suite does not build: the derive reads the type's name.
mod chrono {
    #[derive(serde::Serialize, serde::Deserialize)]
    pub struct DateTime<Tz>(pub Tz);
    #[derive(serde::Serialize, serde::Deserialize)]
    pub struct Utc;
}

#[derive(Serialize, Deserialize, CosmosDocument)]
struct Event {
    #[id]
    id: String,
    #[partition_key]
    sensor: String,
    created_at: chrono::DateTime<chrono::Utc>,
}

fn main() {}
