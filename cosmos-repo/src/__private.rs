// Not public API. Used by generated code.

pub use serde;

pub use crate::document::DocumentId;
pub use crate::key::IntoPartitionKey;
pub use crate::query::{CosmosFields, Field, Path};
