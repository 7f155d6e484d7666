// Not public API. Used by generated code.

pub use serde;

pub use crate::document::DocumentId;
pub use crate::key::IntoPartitionKey;
pub use crate::query::{CosmosFields, Field, Path, VectorField};

use crate::document::CosmosDocument;
use crate::model::ContainerModel;

/// Compiles only when `T`'s partition key type is `K`: every variant of a document enum shares
/// its container's key.
pub fn same_key<T: CosmosDocument<PartitionKey = K>, K>() {}

/// `a == b`, in a `const`.
pub const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// `a == b` for partition key paths, in a `const`.
pub const fn paths_eq(a: &[&str], b: &[&str]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if !str_eq(a[i], b[i]) {
            return false;
        }
        i += 1;
    }
    true
}

/// Whether `model` marks its documents with `property` = `value`.
pub const fn discriminates(model: &ContainerModel, property: &str, value: &str) -> bool {
    match model.discriminator {
        Some(discriminator) => {
            str_eq(discriminator.property, property) && str_eq(discriminator.value, value)
        }
        None => false,
    }
}
