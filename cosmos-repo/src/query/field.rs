use std::fmt;
use std::marker::PhantomData;

/// The typed path of one stored field of document type `D`, whose Rust type is `V`.
///
/// The derive generates one per stored field, reached through the document's `FIELDS` constant.
/// Its name is the JSON property serde writes, so it follows `#[serde(rename)]` and
/// `#[serde(rename_all)]`.
///
/// # Examples
///
/// ```
/// use cosmos_repo::prelude::*;
///
/// #[derive(Serialize, Deserialize, CosmosDocument)]
/// #[serde(rename_all = "camelCase")]
/// struct User {
///     #[id]
///     id: String,
///     #[partition_key]
///     tenant_id: String,
///     #[serde(rename = "mail")]
///     email: String,
/// }
///
/// assert_eq!(User::FIELDS.tenant_id.name(), "tenantId");
/// assert_eq!(User::FIELDS.email.name(), "mail");
/// ```
pub struct Field<D, V> {
    name: &'static str,
    types: PhantomData<fn() -> (D, V)>,
}

impl<D, V> Field<D, V> {
    #[doc(hidden)]
    pub const fn new(name: &'static str) -> Self {
        Field {
            name,
            types: PhantomData,
        }
    }

    /// The JSON property name of the field in a stored document.
    pub const fn name(&self) -> &'static str {
        self.name
    }
}

impl<D, V> Clone for Field<D, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<D, V> Copy for Field<D, V> {}

impl<D, V> fmt::Debug for Field<D, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Field").field(&self.name).finish()
    }
}
