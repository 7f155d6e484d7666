//! Typed partial updates, applied atomically by the store.

use std::future::IntoFuture;

use futures::future::BoxFuture;
use serde::Serialize;

use super::{Repository, await_value, decode};
use crate::ast::Path;
use crate::concurrency::Etag;
use crate::document::CosmosDocument;
use crate::error::{Error, Result};
use crate::key::PartitionKey;
use crate::query::{Field, Invalid, Operand};
use crate::response::Response;
use crate::seam::{Action, ItemOperation, PatchOp};
use crate::trace::traced;

/// The most operations Cosmos DB applies in one patch.
pub const MAX_PATCH_OPERATIONS: usize = 10;

/// A field type [`Patch::incr`] can add to: a number.
#[diagnostic::on_unimplemented(
    message = "`incr` needs a number field, and `{Self}` is not a number",
    note = "increment integer and float fields; use `set` for other types"
)]
pub trait PatchNumber: Serialize {}

macro_rules! patch_numbers {
    ($($number:ty),*) => {$(impl PatchNumber for $number {})*};
}

patch_numbers!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);

/// A field type [`Patch::append`] can add to: a `Vec`.
#[diagnostic::on_unimplemented(
    message = "`append` needs a `Vec` field, and `{Self}` is not a `Vec`",
    note = "append to `Vec<T>` fields; use `set` to replace other values"
)]
pub trait PatchArray {
    /// The element type.
    type Item: Serialize;
}

impl<T: Serialize> PatchArray for Vec<T> {
    type Item = T;
}

/// A field type [`Patch::remove`] can remove: an `Option`, whose absence the model allows.
#[diagnostic::on_unimplemented(
    message = "`remove` needs an `Option` field, and `{Self}` is not an `Option`",
    note = "a required field cannot be removed; make it an `Option` (with `#[serde(default)]`) or `set` it"
)]
pub trait PatchOptional {}

impl<T> PatchOptional for Option<T> {}

/// A partial update of one document, from [`Repository::patch`]: typed operations that the
/// store applies atomically and server-side (no read first, no lost update), then resolves to
/// the stored document.
///
/// Values are typed by their field, as in queries. At most 10 operations (Cosmos DB's limit),
/// checked before anything is sent. The id and partition key cannot be patched.
///
/// # Examples
///
/// ```
/// use cosmos_repo::prelude::*;
///
/// #[derive(Debug, Serialize, Deserialize, CosmosDocument)]
/// struct Order {
///     #[id]
///     id: String,
///     #[partition_key]
///     customer: String,
///     status: String,
///     version: u32,
///     note: Option<String>,
///     tags: Vec<String>,
///     #[etag]
///     #[serde(rename = "_etag", default, skip_serializing)]
///     etag: Option<Etag>,
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> cosmos_repo::Result<()> {
/// let orders = Repository::<Order>::in_memory();
/// let order = Order {
///     id: "o-1".into(), customer: "contoso".into(), status: "new".into(), version: 1,
///     note: Some("fragile".into()), tags: vec![], etag: None,
/// };
/// let stored = orders.create(&order).await?;
/// let f = Order::FIELDS;
/// let patched = orders
///     .patch("contoso", "o-1")
///     .set(f.status, "paid")
///     .incr(f.version, 1)
///     .remove(f.note)
///     .append(f.tags, "vip")
///     .if_match(stored.etag.unwrap())
///     .await?;
/// assert_eq!((patched.status.as_str(), patched.version), ("paid", 2));
/// assert_eq!((patched.note, patched.tags), (None, vec!["vip".to_owned()]));
/// # Ok(())
/// # }
/// ```
#[must_use = "a request does nothing until it is awaited"]
pub struct Patch<'a, T: CosmosDocument> {
    repo: &'a Repository<T>,
    partition_key: PartitionKey,
    id: &'a str,
    operations: std::result::Result<Vec<PatchOp>, Invalid>,
    if_match: Option<Etag>,
}

impl<'a, T: CosmosDocument> Patch<'a, T> {
    pub(super) fn new(repo: &'a Repository<T>, partition_key: PartitionKey, id: &'a str) -> Self {
        Patch {
            repo,
            partition_key,
            id,
            operations: Ok(Vec::new()),
            if_match: None,
        }
    }

    fn push<V: Serialize + ?Sized>(
        mut self,
        value: &V,
        operation: impl FnOnce(serde_json::Value) -> PatchOp,
    ) -> Self {
        self.operations = self.operations.and_then(|mut operations| {
            operations.push(operation(Invalid::check(value)?));
            Ok(operations)
        });
        self
    }

    /// Sets `field` to `value`, adding the property if the document lacks it.
    pub fn set<V: Serialize>(self, field: Field<T, V>, value: impl Operand<V>) -> Self {
        let path = *field.path();
        self.push(&value.into_operand(), |value| PatchOp::Set(path, value))
    }

    /// Adds `by` to the number `field` (negative to subtract). Fails with
    /// [`Error::BadRequest`] if the stored property is not a number.
    pub fn incr<V: PatchNumber>(self, field: Field<T, V>, by: V) -> Self {
        let path = *field.path();
        self.push(&by, |by| PatchOp::Incr(path, by))
    }

    /// Removes the optional `field` from the document. Fails with [`Error::BadRequest`] if the
    /// stored document lacks it.
    pub fn remove<V: PatchOptional>(mut self, field: Field<T, V>) -> Self {
        let path = *field.path();
        if let Ok(operations) = &mut self.operations {
            operations.push(PatchOp::Remove(path));
        }
        self
    }

    /// Appends `item` to the `Vec` field. Fails with [`Error::BadRequest`] if the stored
    /// property is not an array.
    pub fn append<V: PatchArray>(self, field: Field<T, V>, item: impl Operand<V::Item>) -> Self {
        let path = *field.path();
        self.push(&item.into_operand(), |item| PatchOp::Append(path, item))
    }

    /// Applies the patch only if the stored document's etag is `etag`; otherwise fails with
    /// [`Error::PreconditionFailed`].
    pub fn if_match(self, etag: Etag) -> Self {
        Patch {
            if_match: Some(etag),
            ..self
        }
    }

    /// The operations, checked as Cosmos DB checks them, before anything is sent.
    fn checked(&self) -> Result<&[PatchOp]> {
        let operations = self.operations.as_ref().map_err(Error::from)?;
        let refused = |message: String| Error::BadRequest {
            message: format!("patch of document `{}` refused: {message}", self.id),
        };
        if operations.is_empty() {
            return Err(refused("it has no operations".to_owned()));
        }
        if operations.len() > MAX_PATCH_OPERATIONS {
            return Err(refused(format!(
                "it has {} operations, over Cosmos DB's limit of {MAX_PATCH_OPERATIONS}; split it, or read and replace the document",
                operations.len()
            )));
        }
        let keys = std::iter::once(Path::root("id"))
            .chain(T::PARTITION_KEY_PATHS.iter().map(|path| Path::parse(path)));
        for key in keys {
            let touches = |path: &Path| {
                let (a, b) = (path.segments(), key.segments());
                a.starts_with(b) || b.starts_with(a)
            };
            if operations
                .iter()
                .any(|operation| touches(target(operation)))
            {
                return Err(refused(format!(
                    "`{}` is the id or partition key, which a patch cannot change; create a new document and delete the old one instead",
                    key.pointer()
                )));
            }
        }
        Ok(operations)
    }

    /// Sends the patch; resolves to the stored document and the request's metadata.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if there is no such document; [`Error::PreconditionFailed`] if its
    /// etag differs from the one given to [`if_match`](Patch::if_match); [`Error::BadRequest`]
    /// for more than 10 operations, an operation on the id or partition key, or one the stored
    /// document does not allow (such as `incr` on a property that is not a number). Nothing is
    /// applied when any operation fails.
    pub async fn with_meta(self) -> Result<Response<T>> {
        let patch = async {
            let operation = ItemOperation {
                id: self.id,
                action: Action::Patch(self.checked()?),
                if_match: self.if_match.as_ref(),
            };
            decode(self.repo.execute(&self.partition_key, operation).await?)
        };
        traced("patch", &self.repo.container, Some(self.id), patch).await
    }
}

fn target(operation: &PatchOp) -> &Path {
    match operation {
        PatchOp::Set(path, _)
        | PatchOp::Incr(path, _)
        | PatchOp::Remove(path)
        | PatchOp::Append(path, _) => path,
    }
}

await_value!(['a, T] Patch<'a, T> => T where T: CosmosDocument + Send + Sync);
