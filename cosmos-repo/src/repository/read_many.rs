//! Reading many documents by key at once: one query per partition key (a point read where the
//! partition holds one of them), run a few at a time.

use std::collections::{HashMap, HashSet};

use futures::{StreamExt as _, TryStreamExt as _};
use serde_json::Value;

use super::Repository;
use crate::ast::{Expr, Path, Select};
use crate::document::CosmosDocument;
use crate::error::{Error, Result};
use crate::key::{IntoPartitionKey, PartitionKey};
use crate::query::Fetch;
use crate::query::{Run, Text};
use crate::response::Response;
use crate::seam::{Action, ItemOperation, QuerySpec};

/// Ids per query: Cosmos DB caps a query's parameters; 100 keeps every query well inside.
const IDS_PER_QUERY: usize = 100;

/// Partitions read at once.
const CONCURRENCY: usize = 8;

/// The documents [`Repository::read_many`] found, in the order they were asked for, and the
/// keys of those it did not.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ReadMany<T> {
    /// The documents found, in the order of the keys asked for (each once).
    pub found: Vec<T>,
    /// The partition key and id of each document asked for and not found (each once).
    pub missing: Vec<(PartitionKey, String)>,
}

impl<T: CosmosDocument + Send + Sync> Repository<T> {
    /// Reads the documents named by `keys` (partition key and id): one query per partition
    /// key, or a point read where only one document of a partition is asked for, a few
    /// partitions at a time. Resolves to the documents found, in the order asked for, and the
    /// keys not found; `.with_meta()` adds the request charge of every request summed. A type
    /// that shares its container finds only its own documents. Ids and keys are checked before
    /// any request, as for every other operation.
    ///
    /// # Errors
    ///
    /// [`Error::BadRequest`] for an invalid id or partition key (before any request); the
    /// errors of a query or read otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use cosmos_repo::prelude::*;
    ///
    /// #[derive(Debug, Serialize, Deserialize, CosmosDocument)]
    /// struct Order { #[id] id: String, #[partition_key] customer: String }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> cosmos_repo::Result<()> {
    /// let orders = Repository::<Order>::in_memory();
    /// for (customer, id) in [("contoso", "o-1"), ("contoso", "o-2"), ("fabrikam", "o-3")] {
    ///     orders.create(&Order { id: id.into(), customer: customer.into() }).await?;
    /// }
    /// let many = orders
    ///     .read_many([("contoso", "o-2"), ("fabrikam", "o-3"), ("contoso", "o-9")])
    ///     .await?;
    /// let ids: Vec<&str> = many.found.iter().map(|o| o.id.as_str()).collect();
    /// assert_eq!(ids, ["o-2", "o-3"]);
    /// assert_eq!(many.missing.len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn read_many<K, S>(&self, keys: impl IntoIterator<Item = (K, S)>) -> Fetch<'_, ReadMany<T>>
    where
        K: IntoPartitionKey<T::PartitionKey>,
        S: Into<String>,
    {
        let mut seen = HashSet::new();
        let asked: Vec<(PartitionKey, String)> = keys
            .into_iter()
            .map(|(key, id)| (key.into_partition_key(), id.into()))
            .filter(|(key, id)| seen.insert((key.to_string(), id.clone())))
            .collect();
        let checked = asked
            .iter()
            .try_for_each(|(key, id)| Self::check_key(key, id));
        Fetch::new("read_many", &self.container, async move {
            checked?;
            let mut partitions: Vec<(&PartitionKey, Vec<&str>)> = Vec::new();
            for (key, id) in &asked {
                match partitions.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, ids)) => ids.push(id),
                    None => partitions.push((key, vec![id])),
                }
            }
            let mut reads = Vec::new();
            for (key, ids) in &partitions {
                for ids in ids.chunks(IDS_PER_QUERY) {
                    reads.push(self.read_in(key, ids));
                }
            }
            let results: Vec<Response<Vec<T>>> = futures::stream::iter(reads)
                .buffer_unordered(CONCURRENCY)
                .try_collect()
                .await?;
            let request_charge = results.iter().map(|r| r.request_charge).sum();
            let mut by_key: HashMap<(String, String), T> = results
                .into_iter()
                .flat_map(|read| read.value)
                .map(|doc| ((doc.partition_key().to_string(), doc.id().to_owned()), doc))
                .collect();
            let (mut found, mut missing) = (Vec::new(), Vec::new());
            for (key, id) in asked {
                match by_key.remove(&(key.to_string(), id.clone())) {
                    Some(doc) => found.push(doc),
                    None => missing.push((key, id)),
                }
            }
            Ok(Response::new(
                ReadMany { found, missing },
                request_charge,
                None,
                None,
                200,
            ))
        })
    }

    /// The documents of `ids` under `partition_key` that exist: a point read for one id, a
    /// query for several.
    async fn read_in(
        &self,
        partition_key: &PartitionKey,
        ids: &[&str],
    ) -> Result<Response<Vec<T>>> {
        if let [id] = ids {
            let read = ItemOperation {
                id,
                action: Action::Read(None),
                if_match: None,
            };
            return match self.execute(partition_key, read).await {
                Ok(found) => super::decode::<T>(found).map(|r| r.map(|doc| vec![doc])),
                Err(Error::NotFound { .. }) => Ok(Response::new(Vec::new(), 0.0, None, None, 404)),
                Err(err) => Err(err),
            };
        }
        let ids = ids.iter().map(|id| Value::from(*id)).collect();
        let run = Run {
            target: self.target(),
            scope: Some(partition_key.clone()),
            session_token: None,
            text: Text::Typed(Box::new(QuerySpec {
                filter: Some(Expr::In(Path::root("id"), ids)),
                order_by: Vec::new(),
                offset: None,
                limit: None,
                select: Select::Documents,
                distinct: false,
            })),
        };
        run.all().await
    }
}
