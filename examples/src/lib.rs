//! The document model shared by the runnable scenarios in `examples/`.

use cosmos_repo::prelude::*;

/// An order, stored in the `orders` container and partitioned by customer.
#[derive(Debug, Clone, Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "orders")]
#[serde(rename_all = "camelCase")]
pub struct Order {
    /// The order number.
    #[id]
    pub id: String,
    /// The customer, the partition key.
    #[partition_key]
    pub customer_id: String,
    /// Where the order stands.
    pub status: String,
    /// The order total.
    pub total: f64,
    /// The version this copy was read at.
    #[etag]
    #[serde(rename = "_etag", default, skip_serializing)]
    pub etag: Option<Etag>,
}
