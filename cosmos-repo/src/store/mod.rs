//! The seam between [`Repository`](crate::Repository) and where documents live. Stores work on
//! JSON; typing is the repository's job.

mod memory;

use std::fmt;

use async_trait::async_trait;
use serde_json::Value;

pub use memory::MemoryStore;

use crate::concurrency::{Etag, yield_backoff};
use crate::error::{Error, Result};
use crate::key::PartitionKey;
use crate::query::Page;
use crate::query::SqlQuery;
use crate::query::expr::{Expr, Path};
use crate::response::Response;

/// Where one document is, or is to be.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ItemKey<'a> {
    pub container: &'a str,
    pub partition_key: &'a PartitionKey,
    pub id: &'a str,
}

impl ItemKey<'_> {
    pub fn not_found(&self) -> Error {
        Error::NotFound {
            container: self.container.to_owned(),
            partition_key: self.partition_key.clone(),
            id: self.id.to_owned(),
        }
    }

    pub fn already_exists(&self) -> Error {
        Error::AlreadyExists {
            container: self.container.to_owned(),
            partition_key: self.partition_key.clone(),
            id: self.id.to_owned(),
        }
    }

    pub fn precondition_failed(&self) -> Error {
        Error::PreconditionFailed {
            container: self.container.to_owned(),
            partition_key: self.partition_key.clone(),
            id: self.id.to_owned(),
        }
    }
}

/// How a write treats an existing document.
#[derive(Clone, Copy, Debug)]
pub(crate) enum WriteMode<'a> {
    /// Fails with 409 if the document exists.
    Create,
    /// Creates or overwrites.
    Upsert,
    /// Fails with 404 if the document is missing, and with 412 if its etag differs.
    Replace { if_match: Option<&'a Etag> },
}

/// Which partitions a query reads.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Scope<'a> {
    Partition(&'a PartitionKey),
    CrossPartition,
}

/// What a query returns for each matching document.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Select {
    /// The whole document.
    Documents,
    /// The value at one path (`SELECT VALUE c.x`).
    Value(Path),
    /// The values at several paths, as an array (`SELECT VALUE [c.x, c.y]`).
    Array(Vec<Path>),
}

/// A query, store-independent: the embedded store evaluates it, the SDK store renders SQL.
#[derive(Clone, Debug)]
pub(crate) struct QuerySpec {
    pub filter: Option<Expr>,
    /// Sort keys, `true` for descending.
    pub order_by: Vec<(Path, bool)>,
    pub offset: Option<u64>,
    pub limit: Option<u64>,
    pub select: Select,
}

/// A query against one container.
#[derive(Clone, Copy, Debug)]
pub(crate) struct QueryRequest<'a> {
    pub container: &'a str,
    /// The container's partition key paths, e.g. `["/customerId"]`.
    pub partition_key_paths: &'static [&'static str],
    pub scope: Scope<'a>,
    pub spec: &'a QuerySpec,
}

/// A place documents are stored. Item responses carry the stored document, system properties
/// included.
#[async_trait]
pub(crate) trait Store: Send + Sync + fmt::Debug {
    async fn write(
        &self,
        key: ItemKey<'_>,
        item: Value,
        mode: WriteMode<'_>,
    ) -> Result<Response<Value>>;

    async fn read(&self, key: ItemKey<'_>) -> Result<Response<Value>>;

    async fn delete(&self, key: ItemKey<'_>, if_match: Option<&Etag>) -> Result<Response<()>>;

    /// One page of results: at most `page_size` items after `continuation`, and the
    /// continuation of the next page if there may be one.
    async fn query_page(
        &self,
        request: QueryRequest<'_>,
        page_size: u32,
        continuation: Option<&str>,
    ) -> Result<Page<Value>>;

    /// One page of a query written in SQL. Only a store that speaks SQL runs it.
    async fn raw_query_page(
        &self,
        _container: &str,
        _scope: Scope<'_>,
        _sql: &SqlQuery,
        _page_size: u32,
        _continuation: Option<&str>,
    ) -> Result<Page<Value>> {
        Err(Error::Unsupported {
            message: "raw SQL queries need Cosmos DB: the embedded store runs typed queries (`Repository::query`) without parsing SQL".to_owned(),
        })
    }

    /// How many documents match the query's filter in its scope.
    async fn count(&self, request: QueryRequest<'_>) -> Result<Response<u64>>;

    /// Waits before attempt `attempt + 1` of a write that lost a race to a concurrent writer.
    async fn backoff(&self, attempt: u32) {
        yield_backoff(attempt).await;
    }
}
