use std::fmt;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::Value;
use tracing::Instrument;

use crate::concurrency::{DEFAULT_UPDATE_ATTEMPTS, Etag};
use crate::document::CosmosDocument;
use crate::error::{Error, Result};
use crate::key::{IntoPartitionKey, PartitionKey};
use crate::limits;
use crate::query::{Query, RawQuery};
use crate::response::Response;
use crate::store::{ItemKey, MemoryStore, Store, WriteMode};

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
        Query::new(self)
    }

    /// Starts a query written in Cosmos DB SQL, for what [`query`](Repository::query) cannot
    /// say. Read [`RawQuery`]'s note on SQL injection first: pass values with
    /// [`param`](RawQuery::param), never with `format!`.
    pub fn raw_query(&self, sql: impl Into<String>) -> RawQuery<'_, T> {
        RawQuery::new(self, sql.into())
    }

    pub(crate) fn store(&self) -> &dyn Store {
        self.store.as_ref()
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
        }
    }

    /// Reads the document `id` under `partition_key`, or `None` if there is none.
    ///
    /// # Errors
    ///
    /// Any error of [`Repository::read`] but [`Error::NotFound`].
    pub async fn find(
        &self,
        partition_key: impl IntoPartitionKey<T::PartitionKey>,
        id: &str,
    ) -> Result<Option<T>> {
        match self.read(partition_key, id).with_meta().await {
            Ok(found) => Ok(Some(found.value)),
            Err(Error::NotFound { .. }) => Ok(None),
            Err(err) => Err(err),
        }
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
    /// another writer got there first (412), starts again from a fresh read, up to
    /// [`Update::max_attempts`] times (10 by default).
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
    /// let counter = counters.update("site", "hits", |c| c.value += 1).max_attempts(50).await?;
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
        Update {
            repo: self,
            partition_key: partition_key.into_partition_key(),
            id,
            change,
            max_attempts: DEFAULT_UPDATE_ATTEMPTS,
        }
    }

    /// Where a document is, after checking its id and key as Cosmos DB would: every operation
    /// that names a document comes through here, before any request.
    fn key<'a>(&'a self, partition_key: &'a PartitionKey, id: &'a str) -> Result<ItemKey<'a>> {
        limits::check_id(id)?;
        limits::check_partition_key(partition_key)?;
        Ok(ItemKey {
            container: &self.container,
            partition_key,
            id,
        })
    }

    /// Runs `request` in a `cosmos_repo` tracing span that ends up holding its request charge.
    async fn traced<R>(
        &self,
        op: &'static str,
        id: &str,
        request: impl Future<Output = Result<Response<R>>>,
    ) -> Result<Response<R>> {
        let span = tracing::debug_span!(
            "cosmos_repo",
            op,
            container = %self.container,
            id,
            request_charge = tracing::field::Empty,
        );
        let result = request.instrument(span.clone()).await;
        match &result {
            Ok(response) => {
                span.record("request_charge", response.request_charge);
            }
            Err(err) => tracing::debug!(parent: &span, error = %err, "request failed"),
        }
        result
    }

    async fn write(&self, doc: &T, mode: WriteMode<'_>) -> Result<Response<T>> {
        let partition_key = doc.partition_key();
        let key = self.key(&partition_key, doc.id())?;
        let body = encode(doc, &partition_key)?;
        decode(self.store.write(key, body, mode).await?)
    }
}

/// Serializes a document for a store, refusing what Cosmos DB cannot hold exactly (see
/// [`limits`]) before anything is sent, so that no write fails after storing.
fn encode<T: CosmosDocument>(doc: &T, partition_key: &PartitionKey) -> Result<Value> {
    let name = format_args!("document `{}`", doc.id());
    let body = limits::to_json(doc, &name)?;
    limits::check_stored_key(&body, doc.id(), partition_key, T::PARTITION_KEY_PATHS)?;
    limits::check_document_size(&body, &name)?;
    Ok(body)
}

/// Deserializes a stored document, first setting `_etag` from the response when the store's
/// body lacks it, so that an `#[etag]` field always ends up with the current etag.
fn decode<T: CosmosDocument>(mut response: Response<Value>) -> Result<Response<T>> {
    if let (Value::Object(body), Some(etag)) = (&mut response.value, &response.etag) {
        body.entry("_etag")
            .or_insert_with(|| Value::from(etag.as_str()));
    }
    response.try_map(|body| {
        serde_json::from_value(body).map_err(|source| Error::Serialization {
            action: "deserialize",
            type_name: std::any::type_name::<T>(),
            source,
        })
    })
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
        let (op, mode) = if self.upsert {
            ("upsert", WriteMode::Upsert)
        } else {
            ("create", WriteMode::Create)
        };
        self.repo
            .traced(op, self.doc.id(), self.repo.write(self.doc, mode))
            .await
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
        let mode = WriteMode::Replace {
            if_match: self.if_match.as_ref(),
        };
        self.repo
            .traced("replace", self.doc.id(), self.repo.write(self.doc, mode))
            .await
    }
}

await_value!(['a, T] Replace<'a, T> => T where T: CosmosDocument + Send + Sync);

/// A point read, from [`Repository::read`].
#[must_use = "a request does nothing until it is awaited"]
pub struct Read<'a, T: CosmosDocument> {
    repo: &'a Repository<T>,
    partition_key: PartitionKey,
    id: &'a str,
}

impl<T: CosmosDocument> Read<'_, T> {
    /// Sends the request; resolves to the document and the request's metadata.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if there is no such document; [`Error::Serialization`] if it does not
    /// deserialize as a `T`.
    pub async fn with_meta(self) -> Result<Response<T>> {
        let request = async {
            let key = self.repo.key(&self.partition_key, self.id)?;
            decode(self.repo.store.read(key).await?)
        };
        self.repo.traced("read", self.id, request).await
    }
}

await_value!(['a, T] Read<'a, T> => T where T: CosmosDocument + Send + Sync);

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
        let request = async {
            let key = self.repo.key(&self.partition_key, self.id)?;
            self.repo.store.delete(key, self.if_match.as_ref()).await
        };
        self.repo.traced("delete", self.id, request).await
    }
}

await_value!(['a, T] Delete<'a, T> => () where T: CosmosDocument + Send + Sync);

/// A read-modify-write with retries, from [`Repository::update`].
#[must_use = "a request does nothing until it is awaited"]
pub struct Update<'a, T: CosmosDocument, F> {
    repo: &'a Repository<T>,
    partition_key: PartitionKey,
    id: &'a str,
    change: F,
    max_attempts: u32,
}

impl<T: CosmosDocument, F: FnMut(&mut T)> Update<'_, T, F> {
    /// How many read-modify-write cycles to try before giving up with
    /// [`Error::UpdateConflict`] (at least 1; 10 by default).
    pub fn max_attempts(self, attempts: u32) -> Self {
        Update {
            max_attempts: attempts.max(1),
            ..self
        }
    }

    /// Runs the update; resolves to the stored document, with the request charge summed over
    /// every request made.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if there is no such document; [`Error::UpdateConflict`] if every
    /// attempt lost to a concurrent writer; [`Error::Unsupported`] if `change` altered the id or
    /// the partition key.
    pub async fn with_meta(mut self) -> Result<Response<T>> {
        let repo = self.repo;
        let request = async {
            let key = repo.key(&self.partition_key, self.id)?;
            let mut charge = 0.0;
            for attempt in 1..=self.max_attempts {
                let current = decode::<T>(repo.store.read(key).await?)?;
                charge += current.request_charge;
                let etag = current.etag;
                let mut doc = current.value;
                (self.change)(&mut doc);
                if doc.id() != self.id || doc.partition_key() != self.partition_key {
                    return Err(Error::Unsupported {
                        message: format!(
                            "the change given to `update` altered the id or partition key of document `{}`; create a new document and delete the old one instead",
                            self.id
                        ),
                    });
                }
                let mode = WriteMode::Replace {
                    if_match: etag.as_ref(),
                };
                match repo
                    .store
                    .write(key, encode(&doc, &self.partition_key)?, mode)
                    .await
                {
                    Ok(stored) => {
                        let mut stored = decode::<T>(stored)?;
                        stored.request_charge += charge;
                        return Ok(stored);
                    }
                    Err(Error::PreconditionFailed { .. }) => repo.store.backoff(attempt).await,
                    Err(err) => return Err(err),
                }
            }
            Err(Error::UpdateConflict {
                container: repo.container.to_string(),
                partition_key: self.partition_key.clone(),
                id: self.id.to_owned(),
                attempts: self.max_attempts,
            })
        };
        repo.traced("update", self.id, request).await
    }
}

await_value!(['a, T, F] Update<'a, T, F> => T where T: CosmosDocument + Send + Sync, F: FnMut(&mut T) + Send + 'a);
