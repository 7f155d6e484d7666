//! Repositories that cannot write: least privilege in the type system.

use std::fmt;

use super::{Find, Read, ReadMany, Repository};
use crate::document::CosmosDocument;
use crate::key::IntoPartitionKey;
use crate::memory::MemoryStore;
use crate::query::{Fetch, Query, RawQuery, Target};

/// Read access to the documents of type `T` in one container: point reads, queries and paging,
/// and no method that writes. For a service granted only the Cosmos DB Built-in Data Reader
/// role, whose writes Cosmos DB would refuse with 403: with a `ReadRepository` they do not
/// compile.
///
/// Made by `Cosmos::read_repository`, [`MemoryStore::read_repository`] or
/// [`Repository::read_only`]. Cheap to clone, `Send + Sync`.
///
/// # Examples
///
/// ```
/// use cosmos_repo::prelude::*;
/// use cosmos_repo::MemoryStore;
///
/// #[derive(Debug, Serialize, Deserialize, CosmosDocument)]
/// struct Order { #[id] id: String, #[partition_key] customer: String, total: f64 }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> cosmos_repo::Result<()> {
/// let store = MemoryStore::new();
/// store.repository::<Order>()
///     .create(&Order { id: "o-1".into(), customer: "contoso".into(), total: 5.0 })
///     .await?;
///
/// let orders = store.read_repository::<Order>();
/// assert_eq!(orders.read("contoso", "o-1").await?.total, 5.0);
/// let page = orders.query().partition("contoso").page(10, None).await?;
/// assert_eq!(page.items.len(), 1);
/// # Ok(()) }
/// ```
pub struct ReadRepository<T: CosmosDocument> {
    inner: Repository<T>,
}

impl<T: CosmosDocument> Clone for ReadRepository<T> {
    fn clone(&self) -> Self {
        ReadRepository {
            inner: self.inner.clone(),
        }
    }
}

impl<T: CosmosDocument> fmt::Debug for ReadRepository<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReadRepository").field(&self.inner).finish()
    }
}

impl<T: CosmosDocument> ReadRepository<T> {
    /// The same repository on another container (by default the type's `CONTAINER`).
    pub fn with_container(self, container: impl Into<String>) -> Self {
        ReadRepository {
            inner: self.inner.with_container(container),
        }
    }

    /// The name of the container this repository reads.
    pub fn container(&self) -> &str {
        self.inner.container()
    }

    pub(crate) fn target(&self) -> Target<'_> {
        self.inner.target()
    }

    /// As [`Repository::read`].
    pub fn read<'a>(
        &'a self,
        partition_key: impl IntoPartitionKey<T::PartitionKey>,
        id: &'a str,
    ) -> Read<'a, T> {
        self.inner.read(partition_key, id)
    }

    /// As [`Repository::find`].
    pub fn find<'a>(
        &'a self,
        partition_key: impl IntoPartitionKey<T::PartitionKey>,
        id: &'a str,
    ) -> Find<'a, T> {
        self.inner.find(partition_key, id)
    }

    /// As [`Repository::read_many`].
    pub fn read_many<K, S>(&self, keys: impl IntoIterator<Item = (K, S)>) -> Fetch<'_, ReadMany<T>>
    where
        T: Send + Sync,
        K: IntoPartitionKey<T::PartitionKey>,
        S: Into<String>,
    {
        self.inner.read_many(keys)
    }

    /// As [`Repository::query`].
    pub fn query(&self) -> Query<'_, T> {
        self.inner.query()
    }

    /// As [`Repository::raw_query`]; the SQL is sent as written, so a statement that writes is
    /// still refused by a Data Reader role, not by the compiler.
    pub fn raw_query(&self, sql: impl Into<String>) -> RawQuery<'_, T> {
        self.inner.raw_query(sql)
    }
}

impl<T: CosmosDocument> Repository<T> {
    /// A read-only view of this repository, to hand to code that must not write.
    pub fn read_only(&self) -> ReadRepository<T> {
        ReadRepository {
            inner: self.clone(),
        }
    }
}

impl MemoryStore {
    /// A read-only repository of `T` over this store, in the container `T::CONTAINER`.
    pub fn read_repository<T: CosmosDocument>(&self) -> ReadRepository<T> {
        self.repository().read_only()
    }
}
