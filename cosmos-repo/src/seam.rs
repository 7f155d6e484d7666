//! The seam between [`Repository`](crate::Repository) and where documents live.
//!
//! An item operation is a value ([`ItemOperation`]: what to do to which document, under which
//! precondition); a store executes one, or several in one partition atomically. Queries are
//! their own request. Stores move documents as JSON bytes; typing is the repository's job. This
//! module is the bottom of the crate's layers: it imports nothing that imports it.

use std::fmt;

use async_trait::async_trait;
use bytes::Bytes;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::ast::{Aggregate, Expr, Path, Select, SqlQuery};
use crate::concurrency::{Etag, SessionToken};
use crate::error::{Error, Result};
use crate::key::PartitionKey;
use crate::model::ContainerModel;
use crate::response::{Page, Response};

/// A container as a repository knows it: its name, and what its document type says about it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Container<'a> {
    pub name: &'a str,
    /// The partition key paths, e.g. `["/customerId"]`.
    pub partition_key_paths: &'static [&'static str],
    pub model: ContainerModel,
}

impl<'a> Container<'a> {
    /// Where document `id` under `partition_key` is in this container.
    pub fn key(&self, partition_key: &'a PartitionKey, id: &'a str) -> ItemKey<'a> {
        ItemKey {
            container: self.name,
            partition_key,
            id,
        }
    }
}

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

/// What an operation does to its document. Bodies are serialized documents, checked against
/// Cosmos DB's limits before they get here.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Action<'a> {
    /// Fails with 409 if the document exists.
    Create(&'a RawValue),
    /// Creates or overwrites.
    Upsert(&'a RawValue),
    /// Fails with 404 if the document is missing.
    Replace(&'a RawValue),
    /// Sees at least the writes of the session token, where the store has sessions (only the
    /// SDK store has).
    Read(#[cfg_attr(not(feature = "cosmos"), allow(dead_code))] Option<&'a SessionToken>),
    Delete,
    /// Applies the changes atomically, server-side; fails with 404 if the document is missing.
    Patch(&'a [PatchOp]),
}

impl Action<'_> {
    /// The operation's name in errors, spans and batch results.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Create(_) => "create",
            Action::Upsert(_) => "upsert",
            Action::Replace(_) => "replace",
            Action::Read(_) => "read",
            Action::Delete => "delete",
            Action::Patch(_) => "patch",
        }
    }
}

/// One operation on one document of a partition: the unit a store executes, alone or in a
/// transactional batch.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ItemOperation<'a> {
    pub id: &'a str,
    pub action: Action<'a>,
    /// Fails the operation with 412 unless the stored document's etag is this one.
    pub if_match: Option<&'a Etag>,
}

/// One change of a patch, on a property path.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum PatchOp {
    /// Sets the property, creating it if missing (its parent must exist).
    Set(Path, Value),
    /// Adds a number to a number property (created if missing); 400 on any other type.
    Incr(Path, Value),
    /// Removes the property; 400 if it is missing.
    Remove(Path),
    /// Appends to an array property; 400 if it is not an array.
    Append(Path, Value),
}

/// A store's answer to one item operation: the stored document's bytes (none for a delete), with
/// its etag, status and charge.
pub(crate) type ItemResult = Response<Option<Bytes>>;

/// Which partitions a query reads.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Scope<'a> {
    Partition(&'a PartitionKey),
    CrossPartition,
}

/// A query built by the typed builder, store-independent: the embedded store evaluates it, the
/// SDK store renders it as SQL.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct QuerySpec {
    pub filter: Option<Expr>,
    /// Sort keys, `true` for descending.
    pub order_by: Vec<(Path, bool)>,
    pub offset: Option<u64>,
    pub limit: Option<u64>,
    pub select: Select,
    /// `SELECT DISTINCT`: the service may leave out repeated results, and the query layer
    /// leaves out what is left of them (stores need not).
    pub distinct: bool,
}

/// What a query says: typed, or SQL text for stores that parse SQL.
#[derive(Clone, Copy, Debug)]
pub(crate) enum QueryText<'a> {
    /// A typed query, and its SQL as rendered for the binding of its continuations (so that
    /// a store that sends SQL does not render it again).
    Typed(&'a QuerySpec, &'a SqlQuery),
    Sql(&'a SqlQuery),
}

/// The documents a query reads: a container, and one partition or all.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Feed<'a> {
    pub container: Container<'a>,
    pub scope: Scope<'a>,
    /// The results see at least the writes of this session token, where the store has
    /// sessions (only the SDK store has).
    #[cfg_attr(not(feature = "cosmos"), allow(dead_code))]
    pub session_token: Option<&'a SessionToken>,
}

/// The documents a change feed read covers.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ChangeScope<'a> {
    /// One partition key (or a prefix of a hierarchical one).
    Partition(&'a PartitionKey),
    /// The whole container.
    Container,
    /// One of the store's feed ranges, as `Store::feed_ranges` named it.
    Range(&'a str),
}

/// Where a change feed read starts.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ChangeStart<'a> {
    /// With the oldest change the store keeps.
    Beginning,
    /// After the changes made so far.
    Now,
    /// After the changes a page with this store token ended at.
    Continuation(&'a str),
}

/// A place documents are stored.
#[async_trait]
pub(crate) trait Store: Send + Sync + fmt::Debug {
    /// Executes one operation on a document of `container` under `partition_key`. When the
    /// container's model has a discriminator, a document of another type counts as missing.
    async fn execute(
        &self,
        container: Container<'_>,
        partition_key: &PartitionKey,
        operation: ItemOperation<'_>,
    ) -> Result<ItemResult>;

    /// Executes `operations` in order, all or nothing: one result per operation, or
    /// [`Error::BatchFailed`] naming the first that failed, with nothing applied (or
    /// [`Error::BatchMaybeApplied`] when an earlier attempt failed in flight).
    async fn execute_batch(
        &self,
        container: Container<'_>,
        partition_key: &PartitionKey,
        operations: &[ItemOperation<'_>],
    ) -> Result<Response<Vec<ItemResult>>>;

    /// One page of results: at most `page_size` items after `continuation`, and the
    /// continuation of the next page if there may be one.
    async fn query_page(
        &self,
        feed: Feed<'_>,
        text: QueryText<'_>,
        page_size: u32,
        continuation: Option<&str>,
    ) -> Result<Page<Bytes>>;

    /// The aggregate over the documents matching `filter` in the feed; `None` where Cosmos DB
    /// answers `undefined` (see `values::fold`).
    async fn aggregate(
        &self,
        feed: Feed<'_>,
        filter: Option<&Expr>,
        aggregate: &Aggregate,
    ) -> Result<Response<Option<Value>>>;

    /// One page of the change feed in latest-version mode: documents written after `start`
    /// (each once, at its latest version; deleted ones not at all), of the container's type,
    /// at most `max_items`, and the store token to read on from, which a change feed always
    /// has. Within a partition key, changes come in the order they were made.
    async fn changes(
        &self,
        container: Container<'_>,
        scope: ChangeScope<'_>,
        start: ChangeStart<'_>,
        max_items: u32,
    ) -> Result<Page<Bytes>>;

    /// The container's feed ranges: parts of its partition key space that together cover it
    /// once, each readable on its own (`ChangeScope::Range`).
    async fn feed_ranges(&self, container: Container<'_>) -> Result<Vec<String>>;

    /// The documents matching `filter` that hold a value at `key`, grouped by it: each group's
    /// key and aggregate (`None` where undefined), in Cosmos DB's order of the keys.
    async fn group(
        &self,
        feed: Feed<'_>,
        filter: Option<&Expr>,
        key: &Path,
        aggregate: &Aggregate,
    ) -> Result<Response<Vec<(Value, Option<Value>)>>>;
}

/// The error of a batch whose operation `index` failed with `cause`.
pub(crate) fn batch_failed(index: usize, action: Action<'_>, cause: Error) -> Error {
    Error::BatchFailed {
        index,
        operation: action.name(),
        status: cause.status(),
        source: Box::new(cause),
    }
}

/// Deserializes a document or query result a store handed out.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(json: &[u8]) -> Result<T> {
    // Stores hand out UTF-8 text: checked once here, serde_json need not check each string.
    let decoded = match std::str::from_utf8(json) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(json),
    };
    decoded.map_err(|source| Error::Serialization {
        action: "deserialize",
        type_name: std::any::type_name::<T>(),
        source,
    })
}
