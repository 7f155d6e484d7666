//! [`Repository`]: every operation on documents of one type, and the requests it returns.

mod batch;
mod bulk;
mod delete_partition;
mod patch;
mod read_many;
mod read_only;
mod update;

use std::fmt;
use std::future::IntoFuture;
use std::marker::PhantomData;
use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

pub use self::batch::{Batch, BatchResponse, BatchResult};
pub use self::bulk::{Bulk, BulkReport};
pub use self::delete_partition::{DeletePartition, PartitionDeleted};
pub use self::patch::{Patch, PatchArray, PatchNumber, PatchOptional};
pub use self::read_many::ReadMany;
pub use self::read_only::ReadRepository;
pub use self::update::{TryUpdate, Update};
use crate::concurrency::{Etag, SessionToken};
use crate::document::CosmosDocument;
use crate::error::{Error, Result};
use crate::key::{IntoPartitionKey, PartitionKey};
use crate::limits;
use crate::memory::MemoryStore;
use crate::query::{Query, RawQuery, Target};
use crate::response::Response;
use crate::seam::{self, Action, Container, ItemOperation, ItemResult, Store};
use crate::trace::traced;

/// Typed access to the documents of type `T` in one container.
///
/// Point operations take the partition key first and the id second, as Cosmos DB does. Each
/// returns a request that is awaited for its result, or turned into a [`Response`] carrying the
/// request charge, activity id and etag with `.with_meta()`.
///
/// `Repository` is cheap to clone (two reference counts) and `Send + Sync`.
///
/// # Examples
///
/// ```
/// use cosmos_repo::prelude::*;
///
/// #[derive(Debug, Serialize, Deserialize, CosmosDocument)]
/// #[cosmos(container = "users")]
/// struct User {
///     #[id]
///     id: String,
///     #[partition_key]
///     tenant: String,
///     name: String,
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> cosmos_repo::Result<()> {
/// let users = Repository::<User>::in_memory();
/// users.upsert(&User { id: "u1".into(), tenant: "acme".into(), name: "Ada".into() }).await?;
/// assert_eq!(users.read("acme", "u1").await?.name, "Ada");
/// assert!(users.find("other-tenant", "u1").await?.is_none());
/// users.delete("acme", "u1").await?;
/// # Ok(())
/// # }
/// ```
pub struct Repository<T: CosmosDocument> {
    store: Arc<dyn Store>,
    container: Arc<str>,
    documents: PhantomData<fn() -> T>,
}

impl<T: CosmosDocument> Clone for Repository<T> {
    fn clone(&self) -> Self {
        Repository {
            store: Arc::clone(&self.store),
            container: Arc::clone(&self.container),
            documents: PhantomData,
        }
    }
}

impl<T: CosmosDocument> fmt::Debug for Repository<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Repository")
            .field("document", &std::any::type_name::<T>())
            .field("container", &self.container)
            .field("store", &self.store)
            .finish()
    }
}

impl<T: CosmosDocument> Repository<T> {
    /// A repository over a new, empty [`MemoryStore`] of its own.
    ///
    /// To let several repositories see the same documents, create one [`MemoryStore`] and call
    /// [`MemoryStore::repository`] on it.
    pub fn in_memory() -> Self {
        MemoryStore::new().repository()
    }

    /// A repository of `T` over `store`, in the container `T::CONTAINER`.
    pub(crate) fn from_store(store: Arc<dyn Store>) -> Self {
        Repository {
            store,
            container: Arc::from(T::CONTAINER),
            documents: PhantomData,
        }
    }

    /// The same repository on another container (by default the type's `CONTAINER`).
    ///
    /// # Examples
    ///
    /// ```
    /// # use cosmos_repo::prelude::*;
    /// # #[derive(Serialize, Deserialize, CosmosDocument)]
    /// # struct Order { #[id] id: String, #[partition_key] customer: String }
    /// let archive = Repository::<Order>::in_memory().with_container("orders-archive");
    /// assert_eq!(archive.container(), "orders-archive");
    /// ```
    pub fn with_container(self, container: impl Into<String>) -> Self {
        Repository {
            container: Arc::from(container.into()),
            ..self
        }
    }

    /// Starts a typed query over this repository's documents; see [`Query`].
    pub fn query(&self) -> Query<'_, T> {
        Query::new(self.target())
    }

    /// Starts a query written in Cosmos DB SQL, for what [`query`](Repository::query) cannot
    /// say. Read [`RawQuery`]'s note on SQL injection first: pass values with
    /// [`param`](RawQuery::param), never with `format!`. The SQL is sent as written: for a type
    /// that shares its container (`#[cosmos(type = "...")]`), add its condition, such as
    /// `c.type = @type`, yourself.
    pub fn raw_query(&self, sql: impl Into<String>) -> RawQuery<'_, T> {
        RawQuery::new(self.target(), sql.into())
    }

    pub(crate) fn target(&self) -> Target<'_> {
        Target {
            store: self.store.as_ref(),
            container: self.seam_container(),
        }
    }

    /// The container as the store sees it.
    fn seam_container(&self) -> Container<'_> {
        Container {
            name: &self.container,
            partition_key_paths: T::PARTITION_KEY_PATHS,
            model: T::MODEL,
        }
    }

    /// The name of the container this repository reads and writes.
    pub fn container(&self) -> &str {
        &self.container
    }

    /// Creates `doc`; fails with [`Error::AlreadyExists`] if its id is taken in its partition.
    ///
    /// Resolves to the stored document, carrying its new etag.
    pub fn create<'a>(&'a self, doc: &'a T) -> Write<'a, T> {
        Write {
            repo: self,
            doc,
            upsert: false,
        }
    }

    /// Creates `doc`, or overwrites the document with its id in its partition.
    ///
    /// Resolves to the stored document, carrying its new etag.
    pub fn upsert<'a>(&'a self, doc: &'a T) -> Write<'a, T> {
        Write {
            repo: self,
            doc,
            upsert: true,
        }
    }

    /// Reads the document `id` under `partition_key`; fails with [`Error::NotFound`] if there
    /// is none.
    pub fn read<'a>(
        &'a self,
        partition_key: impl IntoPartitionKey<T::PartitionKey>,
        id: &'a str,
    ) -> Read<'a, T> {
        Read {
            repo: self,
            partition_key: partition_key.into_partition_key(),
            id,
            session_token: None,
        }
    }

    /// Reads the document `id` under `partition_key`, or `None` if there is none. Resolves
    /// like [`read`](Repository::read) otherwise; `.with_meta()` gives the request's metadata
    /// either way (status 404 for `None`).
    pub fn find<'a>(
        &'a self,
        partition_key: impl IntoPartitionKey<T::PartitionKey>,
        id: &'a str,
    ) -> Find<'a, T> {
        Find(self.read(partition_key, id))
    }

    /// Replaces the stored document with `doc`; fails with [`Error::NotFound`] if it is gone.
    ///
    /// When `doc` carries an etag (see `#[etag]`), it is sent as `If-Match`, and the replace
    /// fails with [`Error::PreconditionFailed`] if the document changed since `doc` was read.
    /// [`Replace::if_match`] and [`Replace::unconditional`] override that.
    ///
    /// Resolves to the stored document, carrying its new etag.
    pub fn replace<'a>(&'a self, doc: &'a T) -> Replace<'a, T> {
        Replace {
            repo: self,
            doc,
            if_match: doc.etag().cloned(),
        }
    }

    /// Deletes the document `id` under `partition_key`; fails with [`Error::NotFound`] if there
    /// is none.
    pub fn delete<'a>(
        &'a self,
        partition_key: impl IntoPartitionKey<T::PartitionKey>,
        id: &'a str,
    ) -> Delete<'a, T> {
        Delete {
            repo: self,
            partition_key: partition_key.into_partition_key(),
            id,
            if_match: None,
        }
    }

    /// Deletes `doc`, sending its etag (if it carries one) as `If-Match`: fails with
    /// [`Error::PreconditionFailed`] if the document changed since `doc` was read.
    pub fn delete_doc<'a>(&'a self, doc: &'a T) -> Delete<'a, T> {
        Delete {
            repo: self,
            partition_key: doc.partition_key(),
            id: doc.id(),
            if_match: doc.etag().cloned(),
        }
    }

    /// Reads the document, applies `change` to it and replaces it under `If-Match`; when
    /// another writer got there first (412), starts again from a fresh read after a jittered,
    /// exponentially growing pause, until the update's time budget (30 s by default, see
    /// [`Update::time_budget`]) is spent.
    ///
    /// Resolves to the stored document. `change` may run several times, each time on a fresh
    /// copy, and must not change the id or partition key.
    ///
    /// # Examples
    ///
    /// ```
    /// # use cosmos_repo::prelude::*;
    /// #[derive(Serialize, Deserialize, CosmosDocument)]
    /// struct Counter { #[id] id: String, #[partition_key] pk: String, value: u64 }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> cosmos_repo::Result<()> {
    /// let counters = Repository::<Counter>::in_memory();
    /// counters.create(&Counter { id: "hits".into(), pk: "site".into(), value: 0 }).await?;
    /// let counter = counters.update("site", "hits", |c| c.value += 1).await?;
    /// assert_eq!(counter.value, 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn update<'a, F>(
        &'a self,
        partition_key: impl IntoPartitionKey<T::PartitionKey>,
        id: &'a str,
        change: F,
    ) -> Update<'a, T, F>
    where
        F: FnMut(&mut T),
    {
        Update::new(self, partition_key.into_partition_key(), id, change)
    }

    /// [`update`](Repository::update) with a change that may refuse: when `change` returns
    /// `Err`, nothing is written and the update resolves to `Ok(Err(rejection))`. For business
    /// rules checked against the current document, such as "stock never goes below zero".
    ///
    /// # Examples
    ///
    /// ```
    /// # use cosmos_repo::prelude::*;
    /// #[derive(Serialize, Deserialize, CosmosDocument)]
    /// struct Stock { #[id] id: String, #[partition_key] site: String, left: u32 }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> cosmos_repo::Result<()> {
    /// let stock = Repository::<Stock>::in_memory();
    /// stock.create(&Stock { id: "s-1".into(), site: "north".into(), left: 1 }).await?;
    /// let take = |s: &mut Stock| match s.left.checked_sub(1) {
    ///     Some(left) => Ok(s.left = left),
    ///     None => Err("out of stock"),
    /// };
    /// assert_eq!(stock.try_update("north", "s-1", take).await?.unwrap().left, 0);
    /// assert_eq!(stock.try_update("north", "s-1", take).await?.err(), Some("out of stock"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn try_update<'a, F, E>(
        &'a self,
        partition_key: impl IntoPartitionKey<T::PartitionKey>,
        id: &'a str,
        change: F,
    ) -> TryUpdate<'a, T, F>
    where
        F: FnMut(&mut T) -> std::result::Result<(), E>,
    {
        TryUpdate::new(self, partition_key.into_partition_key(), id, change)
    }

    /// Starts a partial update of the document `id` under `partition_key`: typed `set`,
    /// `incr`, `remove` and `append` operations applied atomically by the store, without
    /// reading the document first. See [`Patch`].
    pub fn patch<'a>(
        &'a self,
        partition_key: impl IntoPartitionKey<T::PartitionKey>,
        id: &'a str,
    ) -> Patch<'a, T> {
        Patch::new(self, partition_key.into_partition_key(), id)
    }

    /// Starts a transactional batch in one partition: operations applied all or none. See
    /// [`Batch`].
    pub fn batch(&self, partition_key: impl IntoPartitionKey<T::PartitionKey>) -> Batch<'_, T> {
        Batch::new(self, partition_key.into_partition_key())
    }

    /// Upserts every document of `docs`, several at a time; see [`Bulk`].
    pub fn upsert_all<'a>(&'a self, docs: &'a [T]) -> Bulk<'a, T, T>
    where
        T: Send + Sync,
    {
        Bulk::writes(self, docs, false)
    }

    /// Creates every document of `docs`, several at a time; see [`Bulk`].
    pub fn create_all<'a>(&'a self, docs: &'a [T]) -> Bulk<'a, T, T>
    where
        T: Send + Sync,
    {
        Bulk::writes(self, docs, true)
    }

    /// Deletes every document named by `keys` (partition key, id), several at a time; see
    /// [`Bulk`].
    pub fn delete_all<'a, K, S>(&'a self, keys: impl IntoIterator<Item = (K, S)>) -> Bulk<'a, T, ()>
    where
        T: Send + Sync,
        K: IntoPartitionKey<T::PartitionKey>,
        S: Into<String>,
    {
        let keys = keys
            .into_iter()
            .map(|(key, id)| (key.into_partition_key(), id.into()))
            .collect();
        Bulk::deletes(self, keys)
    }

    /// Checks an id and key as Cosmos DB would: every operation that names a document comes
    /// through here, before any request.
    fn check_key(partition_key: &PartitionKey, id: &str) -> Result<()> {
        limits::check_id(id)?;
        limits::check_partition_key(partition_key)
    }

    /// Executes one operation on the document `operation.id` under `partition_key`, after
    /// checking its id and key.
    async fn execute(
        &self,
        partition_key: &PartitionKey,
        operation: ItemOperation<'_>,
    ) -> Result<ItemResult> {
        Self::check_key(partition_key, operation.id)?;
        self.store
            .execute(self.seam_container(), partition_key, operation)
            .await
    }

    /// Writes `doc` by `action` (create, upsert or replace), which is given its body.
    async fn write(
        &self,
        doc: &T,
        action: fn(&RawValue) -> Action<'_>,
        if_match: Option<&Etag>,
    ) -> Result<Response<T>> {
        let partition_key = doc.partition_key();
        Self::check_key(&partition_key, doc.id())?;
        let body = encode(doc, &partition_key)?;
        let operation = ItemOperation {
            id: doc.id(),
            action: action(&body),
            if_match,
        };
        decode(self.execute(&partition_key, operation).await?)
    }
}

/// Serializes a document for a store, refusing what Cosmos DB cannot hold exactly (see
/// [`limits::to_document`]) before anything is sent, so that no write fails after storing.
/// A document of a type that shares its container also carries its discriminator.
fn encode<T: CosmosDocument>(doc: &T, partition_key: &PartitionKey) -> Result<Box<RawValue>> {
    let body = limits::to_document(doc, doc.id(), partition_key, T::PARTITION_KEY_PATHS)?;
    let Some(discriminator) = T::MODEL.discriminator else {
        return Ok(body);
    };
    let json = body.get();
    let rest = json.strip_prefix('{').unwrap_or(json);
    let separator = if rest.trim_start().starts_with('}') {
        ""
    } else {
        ","
    };
    let tagged = format!(
        "{{{}:{}{separator}{rest}",
        Value::from(discriminator.property),
        Value::from(discriminator.value)
    );
    RawValue::from_string(tagged).map_err(|source| Error::Serialization {
        action: "serialize",
        type_name: std::any::type_name::<T>(),
        source,
    })
}

/// Deserializes the document of a store's answer.
fn decode<T: DeserializeOwned>(response: ItemResult) -> Result<Response<T>> {
    response.try_map(|body| decode_body(body.as_ref()))
}

fn decode_body<T: DeserializeOwned>(body: Option<&Bytes>) -> Result<T> {
    let body = body.ok_or_else(|| Error::Unsupported {
        message: "the store returned no document; content response on write must stay enabled"
            .to_owned(),
    })?;
    seam::decode(body)
}

impl MemoryStore {
    /// A repository of `T` over this store, in the container `T::CONTAINER`.
    pub fn repository<T: CosmosDocument>(&self) -> Repository<T> {
        Repository::from_store(Arc::new(self.clone()))
    }
}

/// Makes a request awaitable for its value: `.await` gives what `.with_meta().await` gives,
/// without the metadata.
macro_rules! await_value {
    ([$($generics:tt)*] $request:ty => $output:ty where $($bounds:tt)*) => {
        impl<$($generics)*> IntoFuture for $request where $($bounds)* {
            type Output = Result<$output>;
            type IntoFuture = BoxFuture<'a, Result<$output>>;

            fn into_future(self) -> Self::IntoFuture {
                Box::pin(async move { self.with_meta().await.map(Response::into_value) })
            }
        }
    };
}

pub(crate) use await_value;

/// A create or upsert, from [`Repository::create`] or [`Repository::upsert`].
#[must_use = "a request does nothing until it is awaited"]
pub struct Write<'a, T: CosmosDocument> {
    repo: &'a Repository<T>,
    doc: &'a T,
    upsert: bool,
}

impl<T: CosmosDocument> Write<'_, T> {
    /// Sends the request; resolves to the stored document and the request's metadata.
    ///
    /// # Errors
    ///
    /// [`Error::AlreadyExists`] for a create whose id is taken; [`Error::BadRequest`] for an
    /// invalid id; [`Error::Serialization`] if the document does not serialize to a JSON object.
    pub async fn with_meta(self) -> Result<Response<T>> {
        let (op, action): (_, fn(&RawValue) -> Action<'_>) = if self.upsert {
            ("upsert", |body| Action::Upsert(body))
        } else {
            ("create", |body| Action::Create(body))
        };
        let write = self.repo.write(self.doc, action, None);
        traced(op, &self.repo.container, Some(self.doc.id()), write).await
    }
}

await_value!(['a, T] Write<'a, T> => T where T: CosmosDocument + Send + Sync);

/// A replace, from [`Repository::replace`].
#[must_use = "a request does nothing until it is awaited"]
pub struct Replace<'a, T: CosmosDocument> {
    repo: &'a Repository<T>,
    doc: &'a T,
    if_match: Option<Etag>,
}

impl<T: CosmosDocument> Replace<'_, T> {
    /// Replaces only if the stored document's etag is `etag`, instead of the document's own.
    pub fn if_match(self, etag: Etag) -> Self {
        Replace {
            if_match: Some(etag),
            ..self
        }
    }

    /// Replaces whatever the stored document's etag, overwriting concurrent changes.
    pub fn unconditional(self) -> Self {
        Replace {
            if_match: None,
            ..self
        }
    }

    /// Sends the request; resolves to the stored document and the request's metadata.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if the document is gone; [`Error::PreconditionFailed`] if its etag
    /// differs from the one sent.
    pub async fn with_meta(self) -> Result<Response<T>> {
        let write = self.repo.write(
            self.doc,
            |body| Action::Replace(body),
            self.if_match.as_ref(),
        );
        traced("replace", &self.repo.container, Some(self.doc.id()), write).await
    }
}

await_value!(['a, T] Replace<'a, T> => T where T: CosmosDocument + Send + Sync);

/// A point read, from [`Repository::read`].
#[must_use = "a request does nothing until it is awaited"]
pub struct Read<'a, T: CosmosDocument> {
    repo: &'a Repository<T>,
    partition_key: PartitionKey,
    id: &'a str,
    session_token: Option<SessionToken>,
}

impl<T: CosmosDocument> Read<'_, T> {
    /// Reads the document as of `token` at least (read-your-writes across instances): see
    /// [`SessionToken`]. The embedded store is strongly consistent and needs none.
    pub fn session_token(mut self, token: SessionToken) -> Self {
        self.session_token = Some(token);
        self
    }

    /// Sends the request; resolves to the document and the request's metadata.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if there is no such document; [`Error::Serialization`] if it does not
    /// deserialize as a `T`.
    pub async fn with_meta(self) -> Result<Response<T>> {
        let read = async {
            let operation = ItemOperation {
                id: self.id,
                action: Action::Read(self.session_token.as_ref()),
                if_match: None,
            };
            decode(self.repo.execute(&self.partition_key, operation).await?)
        };
        traced("read", &self.repo.container, Some(self.id), read).await
    }
}

await_value!(['a, T] Read<'a, T> => T where T: CosmosDocument + Send + Sync);

/// A point read that finds nothing without failing, from [`Repository::find`].
#[must_use = "a request does nothing until it is awaited"]
pub struct Find<'a, T: CosmosDocument>(Read<'a, T>);

impl<T: CosmosDocument> Find<'_, T> {
    /// Reads the document as of `token` at least: see [`Read::session_token`].
    pub fn session_token(self, token: SessionToken) -> Self {
        Find(self.0.session_token(token))
    }

    /// Sends the request; resolves to the document, or `None` with status 404, and the
    /// request's metadata.
    ///
    /// # Errors
    ///
    /// Any error of [`Read::with_meta`] but [`Error::NotFound`].
    pub async fn with_meta(self) -> Result<Response<Option<T>>> {
        match self.0.with_meta().await {
            Ok(found) => Ok(found.map(Some)),
            Err(Error::NotFound { .. }) => Ok(Response::new(None, 0.0, None, None, 404)),
            Err(err) => Err(err),
        }
    }
}

await_value!(['a, T] Find<'a, T> => Option<T> where T: CosmosDocument + Send + Sync);

/// A delete, from [`Repository::delete`] or [`Repository::delete_doc`].
#[must_use = "a request does nothing until it is awaited"]
pub struct Delete<'a, T: CosmosDocument> {
    repo: &'a Repository<T>,
    partition_key: PartitionKey,
    id: &'a str,
    if_match: Option<Etag>,
}

impl<T: CosmosDocument> Delete<'_, T> {
    /// Deletes only if the stored document's etag is `etag`.
    pub fn if_match(self, etag: Etag) -> Self {
        Delete {
            if_match: Some(etag),
            ..self
        }
    }

    /// Sends the request; resolves to the request's metadata.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if there is no such document; [`Error::PreconditionFailed`] if its
    /// etag differs from the one sent.
    pub async fn with_meta(self) -> Result<Response<()>> {
        let delete = async {
            let operation = ItemOperation {
                id: self.id,
                action: Action::Delete,
                if_match: self.if_match.as_ref(),
            };
            let deleted = self.repo.execute(&self.partition_key, operation).await?;
            Ok(deleted.map(|_| ()))
        };
        traced("delete", &self.repo.container, Some(self.id), delete).await
    }
}

await_value!(['a, T] Delete<'a, T> => () where T: CosmosDocument + Send + Sync);
