//! Deleting every document of one partition key: SDK 1.0 has no delete-by-partition-key
//! operation, so the ids are read a page at a time and each page deleted in one transactional
//! batch, up to a bound per call; a later call resumes with what is left.

use std::future::IntoFuture;

use futures::future::BoxFuture;

use super::{Repository, await_value};
use crate::ast::{Path, Select};
use crate::document::CosmosDocument;
use crate::error::{Error, Result};
use crate::key::{IntoPartitionKey, PartitionKey};
use crate::query::{Run, Text};
use crate::response::Response;
use crate::seam::{Action, ItemOperation, QuerySpec};
use crate::trace::traced;

/// Documents per batch: Cosmos DB's limit on a transactional batch's operations.
const PER_BATCH: u64 = 100;

/// Rounds in a row that may delete nothing because another writer deleted first.
const RACES: u32 = 5;

/// What [`Repository::delete_partition`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PartitionDeleted {
    /// How many documents this call deleted.
    pub deleted: u64,
    /// Whether the partition holds none of the repository's documents now; `false` when the
    /// call stopped at its limit with documents left (call again to go on).
    pub complete: bool,
}

/// A delete of a partition's documents, from [`Repository::delete_partition`].
#[must_use = "a request does nothing until it is awaited"]
pub struct DeletePartition<'a, T: CosmosDocument> {
    repo: &'a Repository<T>,
    partition_key: PartitionKey,
    limit: u64,
}

impl<T: CosmosDocument> Repository<T> {
    /// Deletes every document of `partition_key` (of this repository's type, when several share
    /// the container): the ids are read a page at a time and each page deleted in one
    /// transactional batch of up to 100. Resolves to how many were deleted, and whether the
    /// partition is now empty of them. [`limit`](DeletePartition::limit) bounds one call; a
    /// later call resumes with what is left. A document another writer deleted first is not
    /// counted.
    ///
    /// # Errors
    ///
    /// [`Error::BadRequest`] for an invalid partition key (before any request), and the errors
    /// of a query or batch.
    ///
    /// # Examples
    ///
    /// ```
    /// use cosmos_repo::prelude::*;
    ///
    /// #[derive(Serialize, Deserialize, CosmosDocument)]
    /// struct Order { #[id] id: String, #[partition_key] customer: String }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> cosmos_repo::Result<()> {
    /// let orders = Repository::<Order>::in_memory();
    /// for n in 0..250 {
    ///     orders.create(&Order { id: format!("o-{n}"), customer: "contoso".into() }).await?;
    /// }
    /// let first = orders.delete_partition("contoso").limit(200).await?;
    /// assert_eq!((first.deleted, first.complete), (200, false));
    /// let rest = orders.delete_partition("contoso").await?;
    /// assert_eq!((rest.deleted, rest.complete), (50, true));
    /// # Ok(()) }
    /// ```
    pub fn delete_partition(
        &self,
        partition_key: impl IntoPartitionKey<T::PartitionKey>,
    ) -> DeletePartition<'_, T> {
        DeletePartition {
            repo: self,
            partition_key: partition_key.into_partition_key(),
            limit: u64::MAX,
        }
    }
}

impl<'a, T: CosmosDocument> DeletePartition<'a, T> {
    /// Deletes at most `n` documents in this call (the rest stay for a later one).
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = n;
        self
    }

    /// Runs the delete; resolves to what was deleted, with the request charge of every query
    /// and batch summed.
    ///
    /// # Errors
    ///
    /// As [`Repository::delete_partition`].
    pub async fn with_meta(self) -> Result<Response<PartitionDeleted>> {
        let repo = self.repo;
        traced("delete_partition", &repo.container, None, self.run()).await
    }

    async fn run(self) -> Result<Response<PartitionDeleted>> {
        let (repo, key) = (self.repo, &self.partition_key);
        crate::limits::check_partition_key(key)?;
        let (mut deleted, mut charge, mut races) = (0, 0.0, 0);
        loop {
            let want = PER_BATCH.min(self.limit - deleted);
            if want == 0 {
                let left = repo.ids_in(key, 1).await?;
                charge += left.request_charge;
                let done = PartitionDeleted {
                    deleted,
                    complete: left.value.is_empty(),
                };
                return Ok(Response::new(done, charge, None, None, 200));
            }
            let ids = repo.ids_in(key, want).await?;
            charge += ids.request_charge;
            if ids.value.is_empty() {
                let done = PartitionDeleted {
                    deleted,
                    complete: true,
                };
                return Ok(Response::new(done, charge, None, None, 200));
            }
            let operations: Vec<ItemOperation<'_>> = ids
                .value
                .iter()
                .map(|id| ItemOperation {
                    id,
                    action: Action::Delete,
                    if_match: None,
                })
                .collect();
            let batch = repo
                .store
                .execute_batch(repo.seam_container(), key, &operations)
                .await;
            match batch {
                Ok(done) => {
                    deleted += operations.len() as u64;
                    charge += done.request_charge;
                    races = 0;
                }
                // Another writer deleted one of them first: read the ids again.
                Err(Error::BatchFailed { status: 404, .. }) if races < RACES => races += 1,
                Err(err) => return Err(err),
            }
        }
    }
}

await_value!(['a, T] DeletePartition<'a, T> => PartitionDeleted where T: CosmosDocument + Send + Sync);

impl<T: CosmosDocument> Repository<T> {
    /// Up to `n` ids of the repository's documents under `partition_key`.
    async fn ids_in(&self, partition_key: &PartitionKey, n: u64) -> Result<Response<Vec<String>>> {
        let run = Run {
            target: self.target(),
            scope: Some(partition_key.clone()),
            session_token: None,
            text: Text::Typed(Box::new(QuerySpec {
                filter: None,
                order_by: Vec::new(),
                offset: None,
                limit: Some(n),
                select: Select::Value(Path::root("id")),
                distinct: false,
            })),
        };
        run.all().await
    }
}
