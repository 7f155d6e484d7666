//! Partition key values, and the traits that let key arguments be passed in borrowed form.
//!
//! A repository's methods take the partition key as `impl IntoPartitionKey<T::PartitionKey>`:
//! `"contoso"` or `&String` for a `String` key, `42` for an `i64` key, and a tuple such as
//! `("acme", "u1")` for a hierarchical key. A key of the wrong type does not compile.

use std::fmt;

use serde_json::Value;

/// One level of a partition key value.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum PartitionKeyValue {
    /// A string key.
    String(String),
    /// A numeric key. Cosmos DB stores numbers as 64-bit floats, so integers beyond 2^53 lose
    /// precision, in Cosmos DB as here.
    Number(f64),
    /// A boolean key.
    Bool(bool),
}

impl PartitionKeyValue {
    pub(crate) fn to_json(&self) -> Value {
        match self {
            PartitionKeyValue::String(value) => Value::from(value.as_str()),
            PartitionKeyValue::Number(value) => Value::from(*value),
            PartitionKeyValue::Bool(value) => Value::from(*value),
        }
    }
}

/// A partition key value: one level, or two or three for a hierarchical key.
///
/// # Examples
///
/// ```
/// use cosmos_repo::key::IntoPartitionKey;
///
/// let key = IntoPartitionKey::<(String, i64)>::into_partition_key(("acme", 7));
/// assert_eq!(key.to_string(), r#"["acme",7.0]"#);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct PartitionKey {
    values: Vec<PartitionKeyValue>,
}

impl PartitionKey {
    /// The levels of the key, outermost first.
    pub fn values(&self) -> &[PartitionKeyValue] {
        &self.values
    }

    /// The key as the JSON array Cosmos DB uses in its `x-ms-documentdb-partitionkey` header.
    pub fn to_json(&self) -> Value {
        Value::Array(self.values.iter().map(PartitionKeyValue::to_json).collect())
    }
}

impl fmt::Display for PartitionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_json(), f)
    }
}

/// A value that can stand for one level of a partition key of type `V`.
///
/// Implemented for `String` (and `str`) keys, integers, floats and `bool`, each for itself, and
/// for references to any of them. Implement it for a newtype to use that newtype as a key field:
///
/// ```
/// use cosmos_repo::key::{KeyComponent, PartitionKeyValue};
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct TenantId(String);
///
/// impl KeyComponent<TenantId> for TenantId {
///     fn key_value(&self) -> PartitionKeyValue {
///         PartitionKeyValue::String(self.0.clone())
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot stand for a partition key of type `{V}`",
    note = "partition keys are strings, numbers or bools: pass a `&str` or `String` for a `String` key, a number for a numeric key"
)]
pub trait KeyComponent<V> {
    /// The value of this level of the key.
    fn key_value(&self) -> PartitionKeyValue;
}

impl<V, X: KeyComponent<V> + ?Sized> KeyComponent<V> for &X {
    fn key_value(&self) -> PartitionKeyValue {
        (**self).key_value()
    }
}

impl KeyComponent<String> for String {
    fn key_value(&self) -> PartitionKeyValue {
        PartitionKeyValue::String(self.clone())
    }
}

impl KeyComponent<String> for str {
    fn key_value(&self) -> PartitionKeyValue {
        PartitionKeyValue::String(self.to_owned())
    }
}

impl KeyComponent<bool> for bool {
    fn key_value(&self) -> PartitionKeyValue {
        PartitionKeyValue::Bool(*self)
    }
}

macro_rules! number_components {
    ($($number:ty)*) => {$(
        impl KeyComponent<$number> for $number {
            fn key_value(&self) -> PartitionKeyValue {
                PartitionKeyValue::Number(*self as f64)
            }
        }
    )*};
}

number_components!(i8 i16 i32 i64 isize u8 u16 u32 u64 usize f32 f64);

/// A type that can be a document's partition key: a key component type, or a tuple of two or
/// three of them for a hierarchical key. Implemented automatically.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a partition key",
    note = "a #[partition_key] field is a `String`, an integer, a float, a `bool`, or a type implementing `KeyComponent` for itself"
)]
pub trait PartitionKeyType {}

impl<T: KeyComponent<T>> PartitionKeyType for T {}

impl<A: KeyComponent<A>, B: KeyComponent<B>> PartitionKeyType for (A, B) {}

impl<A: KeyComponent<A>, B: KeyComponent<B>, C: KeyComponent<C>> PartitionKeyType for (A, B, C) {}

/// A partition key argument for a key of type `K`, by value or by reference.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a partition key of type `{K}`",
    note = "pass the key in the document's partition key type: a `&str` or `String` for a `String` key, a number for a numeric key, a tuple such as `(\"acme\", \"u1\")` for a hierarchical key"
)]
pub trait IntoPartitionKey<K> {
    /// Converts the argument into a key value.
    fn into_partition_key(self) -> PartitionKey;
}

impl<K, X: KeyComponent<K>> IntoPartitionKey<K> for X {
    fn into_partition_key(self) -> PartitionKey {
        PartitionKey {
            values: vec![self.key_value()],
        }
    }
}

impl<A, B, X: KeyComponent<A>, Y: KeyComponent<B>> IntoPartitionKey<(A, B)> for (X, Y) {
    fn into_partition_key(self) -> PartitionKey {
        PartitionKey {
            values: vec![self.0.key_value(), self.1.key_value()],
        }
    }
}

impl<A, B, C, X, Y, Z> IntoPartitionKey<(A, B, C)> for (X, Y, Z)
where
    X: KeyComponent<A>,
    Y: KeyComponent<B>,
    Z: KeyComponent<C>,
{
    fn into_partition_key(self) -> PartitionKey {
        PartitionKey {
            values: vec![self.0.key_value(), self.1.key_value(), self.2.key_value()],
        }
    }
}

/// The leading levels of a hierarchical partition key of type `K`, for queries that read every
/// partition under them: `("acme",)` for a key `(String, String)`, `("acme",)` or
/// `("acme", "eu")` for a key of three levels.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a prefix of the partition key `{K}`",
    note = "a prefix is a tuple of the key's first levels, fewer than all of them, such as `(\"acme\",)` for a `(String, String)` key; a single-level key has no prefix: use `partition`"
)]
pub trait KeyPrefix<K> {
    /// Converts the argument into the key's first levels.
    fn into_prefix(self) -> PartitionKey;
}

impl<A, B, X: KeyComponent<A>> KeyPrefix<(A, B)> for (X,) {
    fn into_prefix(self) -> PartitionKey {
        PartitionKey {
            values: vec![self.0.key_value()],
        }
    }
}

impl<A, B, C, X: KeyComponent<A>> KeyPrefix<(A, B, C)> for (X,) {
    fn into_prefix(self) -> PartitionKey {
        PartitionKey {
            values: vec![self.0.key_value()],
        }
    }
}

impl<A, B, C, X: KeyComponent<A>, Y: KeyComponent<B>> KeyPrefix<(A, B, C)> for (X, Y) {
    fn into_prefix(self) -> PartitionKey {
        PartitionKey {
            values: vec![self.0.key_value(), self.1.key_value()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrowed_and_owned_keys_agree() {
        let owned = String::from("contoso");
        let a = IntoPartitionKey::<String>::into_partition_key("contoso");
        let b = IntoPartitionKey::<String>::into_partition_key(&owned);
        let c = IntoPartitionKey::<String>::into_partition_key(owned.clone());
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert_eq!(a.to_string(), r#"["contoso"]"#);
    }

    #[test]
    fn hierarchical_and_scalar_keys_render_as_json_arrays() {
        let key = IntoPartitionKey::<(String, String, bool)>::into_partition_key(("a", "b", true));
        assert_eq!(key.to_json(), serde_json::json!(["a", "b", true]));
        let key = IntoPartitionKey::<i64>::into_partition_key(42);
        assert_eq!(key.values(), [PartitionKeyValue::Number(42.0)]);
    }
}
