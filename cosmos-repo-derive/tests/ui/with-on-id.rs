use cosmos_repo::prelude::*;

mod prefixed {
    pub fn serialize<S: serde::Serializer>(id: &str, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("order-{id}"))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
        let id: String = serde::Deserialize::deserialize(deserializer)?;
        Ok(id.trim_start_matches("order-").to_owned())
    }
}

#[derive(Serialize, Deserialize, CosmosDocument)]
struct Order {
    #[id]
    #[serde(with = "prefixed")]
    id: String,
    #[partition_key]
    customer: String,
}

fn main() {}
