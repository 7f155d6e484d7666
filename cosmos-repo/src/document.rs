use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::concurrency::Etag;
use crate::key::{PartitionKey, PartitionKeyType};
use crate::model::{ContainerModel, ContainerSpec};

/// A struct stored as a document in a Cosmos DB container.
///
/// Implemented by `#[derive(CosmosDocument)]`; the implementation carries data only (container
/// name, partition key paths and type, accessors), and all behaviour lives in [`Repository`].
///
/// [`Repository`]: crate::Repository
///
/// # Deriving
///
/// ```
/// use cosmos_repo::prelude::*;
///
/// #[derive(Serialize, Deserialize, CosmosDocument)]
/// #[cosmos(container = "sessions")]
/// #[serde(rename_all = "camelCase")]
/// struct Session {
///     #[id]
///     id: String,
///     #[partition_key]
///     tenant_id: String,
///     #[partition_key]
///     user_id: String,
///     #[etag]
///     #[serde(rename = "_etag", default, skip_serializing)]
///     etag: Option<Etag>,
/// }
///
/// assert_eq!(Session::CONTAINER, "sessions");
/// assert_eq!(Session::PARTITION_KEY_PATHS, ["/tenantId", "/userId"]);
/// ```
///
/// The derive accepts structs with named fields, generic or not. Property names are the ones
/// serde writes: `#[serde(rename = "...")]` and `#[serde(rename_all = "...")]` (serialize side)
/// are honoured exactly as serde applies them, and raw identifiers lose their `r#`.
///
/// It also generates a `{Name}Fields` struct, with the struct's visibility, holding one typed
/// `Field` per stored field (each with its field's visibility), reached as
/// `Name::FIELDS`.
///
/// ## Container attributes
///
/// - `#[cosmos(container = "orders")]`: the container the documents live in. Without it, the
///   container is named after the type, exactly as written (`Order` is stored in `"Order"`).
/// - `#[cosmos(crate = "path")]`: where generated code finds this crate, for users who rename or
///   re-export it. Defaults to `::cosmos_repo`.
/// - `#[cosmos(type = "order")]`: the type shares its container with others; every write stores
///   `"type": "order"` and every read and query of the type sees only its own documents.
///   `#[cosmos(discriminator = "kind")]` names another property for it.
/// - `#[cosmos(ttl = 86400)]`: the container's default time to live in seconds (`-1`: on, with
///   no default, for documents that set their own).
/// - `#[cosmos(composite_index(status, total desc))]` (repeatable): a composite index over the
///   named fields, which Cosmos DB needs to sort by several properties.
/// - `#[cosmos(unique_key(tenant, email))]` (repeatable): no two documents of a partition share
///   these values.
///
/// These shape the container that `Cosmos::ensure_container` creates and `verify_container`
/// checks ([`model::container_definition`](crate::model::container_definition) gives it as
/// JSON); the embedded store keeps them too.
///
/// `#[serde(deny_unknown_fields)]` is refused: Cosmos DB adds system properties (`_rid`,
/// `_self`, `_etag`, `_attachments`, `_ts`) to every stored document.
///
/// ## Field attributes
///
/// - `#[id]` on exactly one field: a `String`, or a newtype implementing `AsRef<str>`. It must
///   serialize as `id`, the property Cosmos DB reads the id from.
/// - `#[partition_key]` on one to three fields. One field gives a plain key; two or three give a
///   hierarchical key, in field order, and the key type is then a tuple. Key fields are `String`,
///   integers, floats or `bool`, or your own types implementing [`KeyComponent`] for themselves.
/// - `#[etag]` on at most one field, of type `Option<Etag>`, written as
///   `#[etag] #[serde(rename = "_etag", default, skip_serializing)] etag: Option<Etag>`. Reads and
///   writes fill it, and [`Repository::replace`] and [`Repository::delete_doc`] send it as
///   `If-Match`, so a write based on a stale copy fails with [`Error::PreconditionFailed`].
/// - `#[cosmos(ttl)]` on at most one `Option<i32>` field stored as `ttl`: the document's own time
///   to live in seconds (the container needs `#[cosmos(ttl = ...)]`).
/// - `#[cosmos(exclude_from_index)]`: the field's property is left out of the index.
///
/// A field of chrono's `DateTime` or `NaiveDateTime`, or time's `OffsetDateTime`,
/// `PrimitiveDateTime` or `UtcDateTime` (or an `Option` of one), stored in the type's own serde
/// form, gets a warning: Cosmos DB compares those forms as text, not as time. Make it a
/// [`Timestamp`](crate::Timestamp), or choose its stored form with `#[serde(with = "...")]`.
///
/// [`KeyComponent`]: crate::key::KeyComponent
/// [`Repository::replace`]: crate::Repository::replace
/// [`Repository::delete_doc`]: crate::Repository::delete_doc
/// [`Error::PreconditionFailed`]: crate::Error::PreconditionFailed
/// [`Error::BadRequest`]: crate::Error::BadRequest
///
/// ## Several types in one container
///
/// Document types that share a container each declare `#[cosmos(container = "app", type =
/// "...")]`. An internally tagged enum of them is a document too, whose repository reads,
/// queries and writes them all:
///
/// ```
/// use cosmos_repo::prelude::*;
///
/// #[derive(Debug, Serialize, Deserialize, CosmosDocument)]
/// #[cosmos(container = "app", type = "order")]
/// struct Order { #[id] id: String, #[partition_key] tenant: String, total: f64 }
///
/// #[derive(Debug, Serialize, Deserialize, CosmosDocument)]
/// #[cosmos(container = "app", type = "customer")]
/// struct Customer { #[id] id: String, #[partition_key] tenant: String, name: String }
///
/// #[derive(Debug, Serialize, Deserialize, CosmosDocument)]
/// #[cosmos(container = "app")]
/// #[serde(tag = "type")]
/// enum AppDocument {
///     #[serde(rename = "order")]
///     Order(Order),
///     #[serde(rename = "customer")]
///     Customer(Customer),
/// }
/// ```
///
/// The variants' types must live in the enum's container, share its partition key, and declare
/// the variant's tag as their `type`; each mistake is a compile error.
///
/// Key fields cannot carry a serde attribute that omits them from the stored document or stores
/// them in another form: `flatten`, `skip`, `skip_serializing`, `skip_serializing_if`,
/// `skip_deserializing`, `with`, `serialize_with`, `deserialize_with`. A key type's own
/// `Serialize` must write the value its [`KeyComponent`] gives (and an id's, the `&str` its
/// `AsRef` gives): every write checks that the stored `id` and key properties are the values the
/// repository sends, and refuses the write with [`Error::BadRequest`] if not.
/// Every mistake is reported at the attribute or field concerned, with the fix.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a Cosmos document",
    note = "add `#[derive(CosmosDocument)]` with one `#[id]` field and at least one `#[partition_key]` field"
)]
pub trait CosmosDocument: Serialize + DeserializeOwned {
    /// The partition key's type: the key field's type, or a tuple of them for a hierarchical key.
    type PartitionKey: PartitionKeyType;

    /// The generated struct of typed field paths.
    type Fields;

    /// The name of the container the documents are stored in.
    const CONTAINER: &'static str;

    /// The partition key paths, one per level, as JSON paths such as `"/customerId"`.
    const PARTITION_KEY_PATHS: &'static [&'static str];

    /// The typed field paths of this document.
    const FIELDS: Self::Fields;

    /// What the type says about its container: discriminator, time to live, indexes, unique
    /// keys. Nothing by default.
    const MODEL: ContainerModel = ContainerModel::NONE;

    /// The document's id.
    fn id(&self) -> &str;

    /// The document's partition key value.
    fn partition_key(&self) -> PartitionKey;

    /// The etag the document was read with, if the type has an `#[etag]` field and it is set.
    fn etag(&self) -> Option<&Etag> {
        None
    }
}

/// The value of an `#[id]` field.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a document id",
    note = "an `#[id]` field is a `String`, or a newtype that implements `AsRef<str>`"
)]
pub trait DocumentId {
    /// The id as Cosmos DB stores it.
    fn as_id(&self) -> &str;
}

impl<T: AsRef<str> + ?Sized> DocumentId for T {
    fn as_id(&self) -> &str {
        self.as_ref()
    }
}

impl ContainerSpec {
    /// The container of document type `T`, as `T` declares it.
    pub fn of<T: CosmosDocument>() -> ContainerSpec {
        ContainerSpec {
            name: T::CONTAINER,
            partition_key_paths: T::PARTITION_KEY_PATHS,
            model: T::MODEL,
            document: std::any::type_name::<T>(),
        }
    }
}
