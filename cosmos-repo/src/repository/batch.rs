//! Transactional batches: several operations in one partition, applied all or none.

use std::future::IntoFuture;

use bytes::Bytes;
use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use super::{Repository, decode_body, encode};
use crate::concurrency::Etag;
use crate::document::CosmosDocument;
use crate::error::{Error, Result};
use crate::key::PartitionKey;
use crate::limits::{self, MAX_DOCUMENT_BYTES};
use crate::response::Response;
use crate::seam::{Action, ItemOperation, ItemResult};
use crate::trace::traced;

/// The most operations Cosmos DB runs in one transactional batch.
pub const MAX_BATCH_OPERATIONS: usize = 100;

/// One planned operation, its document already serialized and checked.
enum Planned {
    Create(String, Box<RawValue>),
    Upsert(String, Box<RawValue>),
    Replace(String, Box<RawValue>, Option<Etag>),
    Delete(String),
    Read(String),
}

impl Planned {
    fn operation(&self) -> ItemOperation<'_> {
        let (id, action, if_match) = match self {
            Planned::Create(id, body) => (id, Action::Create(body), None),
            Planned::Upsert(id, body) => (id, Action::Upsert(body), None),
            Planned::Replace(id, body, if_match) => (id, Action::Replace(body), if_match.as_ref()),
            Planned::Delete(id) => (id, Action::Delete, None),
            Planned::Read(id) => (id, Action::Read(None), None),
        };
        ItemOperation {
            id,
            action,
            if_match,
        }
    }
}

/// A transactional batch in one partition, from [`Repository::batch`]: creates, upserts,
/// replaces, deletes and reads that the store applies in order, all or none.
///
/// Documents of other types that share the repository's container (and its partition key type)
/// can join the batch. At most 100 operations and 2 MB of documents, checked before anything is
/// sent. If an operation fails, nothing of the batch is applied and the batch fails with
/// [`Error::BatchFailed`] naming the operation and why.
///
/// # Examples
///
/// ```
/// use cosmos_repo::prelude::*;
///
/// #[derive(Debug, Serialize, Deserialize, CosmosDocument)]
/// struct Order { #[id] id: String, #[partition_key] customer: String, total: f64 }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> cosmos_repo::Result<()> {
/// let orders = Repository::<Order>::in_memory();
/// let order = |id: &str| Order { id: id.into(), customer: "contoso".into(), total: 1.0 };
/// orders.create(&order("o-9")).await?;
///
/// let done = orders.batch("contoso").create(&order("o-1")).upsert(&order("o-2")).delete("o-9").await?;
/// assert_eq!(done.results.len(), 3);
/// assert_eq!(done.results[0].status, 201);
///
/// // A create of a taken id fails the batch, and the upsert before it is undone.
/// let err = orders.batch("contoso").upsert(&order("o-3")).create(&order("o-1")).await.unwrap_err();
/// assert!(matches!(err, Error::BatchFailed { index: 1, status: 409, .. }));
/// assert!(orders.find("contoso", "o-3").await?.is_none());
/// # Ok(())
/// # }
/// ```
#[must_use = "a batch does nothing until it is awaited"]
pub struct Batch<'a, T: CosmosDocument> {
    repo: &'a Repository<T>,
    partition_key: PartitionKey,
    planned: Result<Vec<Planned>>,
}

impl<'a, T: CosmosDocument> Batch<'a, T> {
    pub(super) fn new(repo: &'a Repository<T>, partition_key: PartitionKey) -> Self {
        Batch {
            repo,
            partition_key,
            planned: Ok(Vec::new()),
        }
    }

    fn plan(mut self, planned: impl FnOnce(&PartitionKey) -> Result<Planned>) -> Self {
        let partition_key = &self.partition_key;
        self.planned = self.planned.and_then(|mut all| {
            all.push(planned(partition_key)?);
            Ok(all)
        });
        self
    }

    /// A document's id and body, checked to belong to this batch's partition.
    fn body<U>(doc: &U, partition_key: &PartitionKey) -> Result<(String, Box<RawValue>)>
    where
        U: CosmosDocument<PartitionKey = T::PartitionKey>,
    {
        if doc.partition_key() != *partition_key {
            return Err(Error::BadRequest {
                message: format!(
                    "document `{}` has partition key {} but the batch is for {partition_key}; a transactional batch holds one partition",
                    doc.id(),
                    doc.partition_key()
                ),
            });
        }
        limits::check_id(doc.id())?;
        Ok((doc.id().to_owned(), encode(doc, partition_key)?))
    }

    /// Creates `doc`; the batch fails if its id is taken.
    pub fn create<U>(self, doc: &U) -> Self
    where
        U: CosmosDocument<PartitionKey = T::PartitionKey>,
    {
        self.plan(|key| Self::body(doc, key).map(|(id, body)| Planned::Create(id, body)))
    }

    /// Creates or overwrites `doc`.
    pub fn upsert<U>(self, doc: &U) -> Self
    where
        U: CosmosDocument<PartitionKey = T::PartitionKey>,
    {
        self.plan(|key| Self::body(doc, key).map(|(id, body)| Planned::Upsert(id, body)))
    }

    /// Replaces the stored document with `doc`, under `If-Match` with `doc`'s etag when it
    /// carries one; the batch fails if the document is gone or changed.
    pub fn replace<U>(self, doc: &U) -> Self
    where
        U: CosmosDocument<PartitionKey = T::PartitionKey>,
    {
        let etag = doc.etag().cloned();
        self.plan(|key| Self::body(doc, key).map(|(id, body)| Planned::Replace(id, body, etag)))
    }

    /// Deletes the document `id`; the batch fails if there is none.
    pub fn delete(self, id: &str) -> Self {
        self.plan(|_| limits::check_id(id).map(|()| Planned::Delete(id.to_owned())))
    }

    /// Reads the document `id` (its result carries it); the batch fails if there is none.
    pub fn read(self, id: &str) -> Self {
        self.plan(|_| limits::check_id(id).map(|()| Planned::Read(id.to_owned())))
    }

    /// Runs the batch; resolves to one result per operation, in order.
    ///
    /// # Errors
    ///
    /// [`Error::BatchFailed`] when an operation failed (nothing was applied);
    /// [`Error::BatchMaybeApplied`] when the batch failed in flight and its retry failed (the
    /// first attempt may have applied it);
    /// [`Error::BadRequest`] before anything is sent for an empty batch, over 100 operations
    /// or 2 MB, a document of another partition or an invalid id.
    pub async fn execute(self) -> Result<BatchResponse> {
        let repo = self.repo;
        let batch = async {
            let planned = self.planned?;
            let operations = checked(&planned, &self.partition_key)?;
            let response = repo
                .store
                .execute_batch(repo.seam_container(), &self.partition_key, &operations)
                .await?;
            Ok(response.map(|results| results.into_iter().map(BatchResult::from).collect()))
        };
        let response: Response<Vec<BatchResult>> =
            traced("batch", &repo.container, None, batch).await?;
        Ok(BatchResponse {
            results: response.value,
            request_charge: response.request_charge,
            activity_id: response.activity_id,
        })
    }
}

/// The operations, checked against Cosmos DB's limits for a batch.
fn checked<'p>(
    planned: &'p [Planned],
    partition_key: &PartitionKey,
) -> Result<Vec<ItemOperation<'p>>> {
    let refused = |message: String| Err(Error::BadRequest { message });
    if planned.is_empty() {
        return refused("a transactional batch needs at least one operation".to_owned());
    }
    if planned.len() > MAX_BATCH_OPERATIONS {
        return refused(format!(
            "a transactional batch holds at most {MAX_BATCH_OPERATIONS} operations, this one has {}; split it (each part is atomic on its own) or use `upsert_all`",
            planned.len()
        ));
    }
    let bytes: usize = planned
        .iter()
        .map(|planned| match planned {
            Planned::Create(_, body) | Planned::Upsert(_, body) | Planned::Replace(_, body, _) => {
                body.get().len()
            }
            Planned::Delete(_) | Planned::Read(_) => 0,
        })
        .sum();
    if bytes > MAX_DOCUMENT_BYTES {
        return refused(format!(
            "a transactional batch carries at most {MAX_DOCUMENT_BYTES} bytes (2 MB) of documents, this one {bytes}; split it"
        ));
    }
    limits::check_partition_key(partition_key)?;
    Ok(planned.iter().map(Planned::operation).collect())
}

impl<'a, T: CosmosDocument + Send + Sync> IntoFuture for Batch<'a, T> {
    type Output = Result<BatchResponse>;
    type IntoFuture = BoxFuture<'a, Result<BatchResponse>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.execute())
    }
}

/// What a transactional batch did: one result per operation, in the batch's order.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct BatchResponse {
    /// One result per operation.
    pub results: Vec<BatchResult>,
    /// The request charge of the whole batch, in RU.
    pub request_charge: f64,
    /// The service's activity id of the batch request.
    pub activity_id: Option<String>,
}

/// What one operation of a transactional batch did.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct BatchResult {
    /// Its HTTP status: 201 for a create, 200 for an upsert, replace or read, 204 for a delete.
    pub status: u16,
    /// The document's etag after the operation (none after a delete).
    pub etag: Option<Etag>,
    /// Its share of the request charge, in RU, where the store reports one.
    pub request_charge: f64,
    body: Option<Bytes>,
}

impl BatchResult {
    /// The document the operation wrote or read, as `U` (any type with the document's
    /// shape); `None` for a delete.
    ///
    /// # Errors
    ///
    /// [`Error::Serialization`] if the document does not deserialize as a `U`.
    pub fn document<U: DeserializeOwned>(&self) -> Result<Option<U>> {
        self.body
            .as_ref()
            .map(|body| decode_body(Some(body)))
            .transpose()
    }
}

impl From<ItemResult> for BatchResult {
    fn from(result: ItemResult) -> Self {
        BatchResult {
            status: result.status,
            etag: result.etag,
            request_charge: result.request_charge,
            body: result.value,
        }
    }
}
