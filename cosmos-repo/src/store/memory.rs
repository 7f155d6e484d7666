use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{ItemKey, QueryRequest, QuerySpec, Scope, Select, Store, WriteMode};
use crate::concurrency::{Etag, yield_now};
use crate::document::CosmosDocument;
use crate::error::{Error, Result};
use crate::query::Page;
use crate::query::expr::{Truth, order};
use crate::repository::Repository;
use crate::response::Response;

/// The embedded store: documents kept in memory with Cosmos DB's semantics for point operations.
///
/// - Documents are stored as JSON with the system properties Cosmos DB adds (`_rid`, `_self`,
///   `_etag`, `_attachments`, `_ts`); `_etag` changes on every write.
/// - 404, 409 and 412 arise exactly where Cosmos DB gives them. What Cosmos DB refuses is
///   refused before any store sees it, so here too: invalid ids (empty, over 1,023 bytes, with
///   `/`, `\`, `?`, `#` or control characters, dot segments, a trailing space), partition key
///   values over 2,048 bytes or not exact as doubles, documents over 2 MB or nested deeper than
///   124 levels, and NaN, infinite or beyond-2^53 numbers anywhere in a document.
/// - Partitions are kept apart: one id may exist under two partition keys.
/// - Containers spring into being on first use (Cosmos DB answers 404 for a missing container).
/// - Queries evaluate the query builder's conditions directly, with Cosmos DB's semantics for
///   missing properties, `null` and values of different types; results come in partition key,
///   then id order unless sorted (ties in that order too). A continuation resumes after the
///   last row returned, by its sort values and key: a document written between pages may be
///   seen or not, but one that did not change is seen exactly once.
/// - Every operation yields to the executor once, as a network call would, so concurrent code
///   meets the interleavings it meets against a real service.
///
/// Cloning is cheap and shares the documents; each [`MemoryStore::new`] starts empty. It is safe
/// to use from many tasks and threads at once.
///
/// # Examples
///
/// ```
/// use cosmos_repo::prelude::*;
/// use cosmos_repo::MemoryStore;
///
/// #[derive(Serialize, Deserialize, CosmosDocument)]
/// struct Customer { #[id] id: String, #[partition_key] region: String }
///
/// #[derive(Serialize, Deserialize, CosmosDocument)]
/// struct Invoice { #[id] id: String, #[partition_key] customer: String }
///
/// let store = MemoryStore::new();
/// let customers = store.repository::<Customer>();
/// let invoices = store.repository::<Invoice>();
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

/// Partition key (as JSON) -> id -> document, both ordered so queries can page by position.
type Partitions = BTreeMap<String, BTreeMap<String, Value>>;

#[derive(Debug, Default)]
struct Inner {
    /// Container name -> its partitions.
    containers: RwLock<HashMap<String, Partitions>>,
    /// Numbers every request; the source of etags, resource ids and activity ids.
    sequence: AtomicU64,
}

impl MemoryStore {
    /// A new, empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A repository of `T` over this store, in the container `T::CONTAINER`.
    pub fn repository<T: CosmosDocument>(&self) -> Repository<T> {
        Repository::from_store(Arc::new(self.clone()))
    }

    /// The documents, for reading. A poisoned lock is taken as is: every write changes them by
    /// one insert or remove, so a panic cannot leave them half changed.
    fn read_containers(&self) -> RwLockReadGuard<'_, HashMap<String, Partitions>> {
        self.inner
            .containers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The documents, for writing.
    fn write_containers(&self) -> RwLockWriteGuard<'_, HashMap<String, Partitions>> {
        self.inner
            .containers
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn next(&self) -> u64 {
        self.inner.sequence.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn response<T>(&self, value: T, etag: Option<Etag>) -> Response<T> {
        let activity_id = format!("00000000-0000-0000-0000-{:012x}", self.next());
        Response::new(value, 0.0, Some(activity_id), etag)
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn write(
        &self,
        key: ItemKey<'_>,
        mut item: Value,
        mode: WriteMode<'_>,
    ) -> Result<Response<Value>> {
        yield_now().await;
        let Value::Object(body) = &mut item else {
            return Err(Error::BadRequest {
                message: "a document must be a JSON object".to_owned(),
            });
        };
        let etag = Etag::new(format!("\"00000000-0000-0000-0000-{:012x}\"", self.next()));

        let mut containers = self.write_containers();
        let partition = containers
            .entry(key.container.to_owned())
            .or_default()
            .entry(key.partition_key.to_string())
            .or_default();
        let existing = partition.get(key.id);
        match (mode, existing) {
            (WriteMode::Create, Some(_)) => return Err(key.already_exists()),
            (WriteMode::Replace { .. }, None) => return Err(key.not_found()),
            (
                WriteMode::Replace {
                    if_match: Some(expected),
                },
                Some(current),
            ) if etag_of(current) != Some(expected.as_str()) => {
                return Err(key.precondition_failed());
            }
            _ => {}
        }
        let rid = existing
            .and_then(|current| current.get("_rid").cloned())
            .unwrap_or_else(|| Value::from(format!("{:016x}", self.next())));
        stamp(body, key.container, rid, &etag);
        partition.insert(key.id.to_owned(), item.clone());
        drop(containers);
        Ok(self.response(item, Some(etag)))
    }

    async fn read(&self, key: ItemKey<'_>) -> Result<Response<Value>> {
        yield_now().await;
        let containers = self.read_containers();
        let item = containers
            .get(key.container)
            .and_then(|partitions| partitions.get(&key.partition_key.to_string()))
            .and_then(|partition| partition.get(key.id))
            .cloned()
            .ok_or_else(|| key.not_found())?;
        drop(containers);
        let etag = etag_of(&item).map(Etag::new);
        Ok(self.response(item, etag))
    }

    async fn delete(&self, key: ItemKey<'_>, if_match: Option<&Etag>) -> Result<Response<()>> {
        yield_now().await;
        let mut containers = self.write_containers();
        let partition = containers
            .get_mut(key.container)
            .and_then(|partitions| partitions.get_mut(&key.partition_key.to_string()))
            .ok_or_else(|| key.not_found())?;
        let current = partition.get(key.id).ok_or_else(|| key.not_found())?;
        if let Some(expected) = if_match
            && etag_of(current) != Some(expected.as_str())
        {
            return Err(key.precondition_failed());
        }
        partition.remove(key.id);
        drop(containers);
        Ok(self.response((), None))
    }

    async fn query_page(
        &self,
        request: QueryRequest<'_>,
        page_size: u32,
        continuation: Option<&str>,
    ) -> Result<Page<Value>> {
        yield_now().await;
        let cursor = continuation.map(Cursor::parse).transpose()?;
        let spec = request.spec;
        let containers = self.read_containers();
        let empty = Partitions::new();
        let partitions = containers.get(request.container).unwrap_or(&empty);
        let matches = |doc: &Value| {
            spec.filter
                .as_ref()
                .is_none_or(|f| f.eval(doc) == Truth::True)
        };
        let page_size = page_size.max(1) as usize;
        let limit = spec.limit.map_or(usize::MAX, |l| l as usize);
        let taken = cursor.as_ref().map_or(0, |c| c.taken as usize);
        let want = page_size.min(limit.saturating_sub(taken));
        let sort_keys = |doc: &'_ Value| -> Vec<Option<Value>> {
            spec.order_by
                .iter()
                .map(|(path, _)| path.lookup(doc).cloned())
                .collect()
        };

        // Rows in scope, in the query's order: by its sort keys, ties (and unsorted queries)
        // by (partition key, id). A continuation resumes after the last row returned, by
        // value, so writes between pages neither skip nor repeat rows that did not change.
        let (rows, more) = if spec.order_by.is_empty() {
            let after = cursor
                .as_ref()
                .map(|c| (c.partition_key.as_str(), c.id.as_str()));
            let mut found = in_scope(partitions, request.scope, after)
                .filter(|(_, _, doc)| matches(doc))
                .skip(if after.is_some() { 0 } else { offset(spec) });
            let rows: Vec<_> = found.by_ref().take(want).collect();
            let more = found.next().is_some();
            (rows, more)
        } else {
            let mut sorted: Vec<_> = in_scope(partitions, request.scope, None)
                .filter(|(_, _, doc)| matches(doc))
                .map(|row| (sort_keys(row.2), row))
                .collect();
            let compare = |a: &[Option<Value>], b: &[Option<Value>]| {
                spec.order_by
                    .iter()
                    .zip(a.iter().zip(b))
                    .map(|((_, descending), (a, b))| {
                        let ordering = order(a.as_ref(), b.as_ref());
                        if *descending {
                            ordering.reverse()
                        } else {
                            ordering
                        }
                    })
                    .find(|ordering| ordering.is_ne())
                    .unwrap_or(std::cmp::Ordering::Equal)
            };
            // Stable: rows with equal keys keep their (partition key, id) order.
            sorted.sort_by(|(a, _), (b, _)| compare(a, b));
            let start = match &cursor {
                Some(c) => {
                    let last = c.sort_keys();
                    let after = (c.partition_key.as_str(), c.id.as_str());
                    sorted.partition_point(|(keys, (pk, id, _))| {
                        compare(keys, &last)
                            .then_with(|| (pk.as_str(), id.as_str()).cmp(&after))
                            .is_le()
                    })
                }
                None => offset(spec).min(sorted.len()),
            };
            let stop = (start + want).min(sorted.len());
            let more = stop < sorted.len();
            let rows = sorted.drain(start..stop).map(|(_, row)| row).collect();
            (rows, more)
        };
        let next = rows
            .last()
            .filter(|_| more && taken + rows.len() < limit)
            .map(|(pk, id, doc)| Cursor {
                sort_values: sort_keys(doc)
                    .into_iter()
                    .map(Option::into_iter)
                    .map(Iterator::collect)
                    .collect(),
                partition_key: (*pk).clone(),
                id: (*id).clone(),
                taken: (taken + rows.len()) as u64,
            });
        let docs: Vec<&Value> = rows.into_iter().map(|(_, _, doc)| doc).collect();
        let items = docs
            .into_iter()
            .filter_map(|doc| project(&spec.select, doc))
            .collect();
        drop(containers);
        Ok(Page::new(items, next.map(|c| c.token()), 0.0))
    }

    async fn count(&self, request: QueryRequest<'_>) -> Result<Response<u64>> {
        yield_now().await;
        let containers = self.read_containers();
        let count = containers.get(request.container).map_or(0, |partitions| {
            in_scope(partitions, request.scope, None)
                .filter(|(_, _, doc)| {
                    request
                        .spec
                        .filter
                        .as_ref()
                        .is_none_or(|f| f.eval(doc) == Truth::True)
                })
                .count() as u64
        });
        drop(containers);
        Ok(self.response(count, None))
    }
}

/// Where the next page of a query starts: after this row, by its sort values, then its
/// (partition key, id). The query layer binds the token to its query before it leaves.
#[derive(Serialize, Deserialize)]
struct Cursor {
    /// The last row's value for each sort key: `[]` when undefined, `[value]` otherwise.
    sort_values: Vec<Vec<Value>>,
    partition_key: String,
    id: String,
    /// Rows returned so far, for the query's limit.
    taken: u64,
}

impl Cursor {
    fn parse(token: &str) -> Result<Cursor> {
        serde_json::from_str(token).map_err(|_| Error::BadRequest {
            message: format!(
                "`{token}` is not a continuation of the embedded store; pass back the continuation a page of the same query returned"
            ),
        })
    }

    fn token(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    fn sort_keys(&self) -> Vec<Option<Value>> {
        self.sort_values
            .iter()
            .map(|value| value.first().cloned())
            .collect()
    }
}

fn offset(spec: &QuerySpec) -> usize {
    spec.offset.map_or(0, |offset| offset as usize)
}

/// Every document of a container in scope, in (partition key, id) order, from `after` on.
fn in_scope<'a>(
    partitions: &'a Partitions,
    scope: Scope<'_>,
    after: Option<(&str, &str)>,
) -> impl Iterator<Item = (&'a String, &'a String, &'a Value)> + 'a {
    let only = match scope {
        Scope::Partition(key) => Some(key.to_string()),
        Scope::CrossPartition => None,
    };
    let after = after.map(|(pk, id)| (pk.to_owned(), id.to_owned()));
    let after_partition = after.as_ref().map(|(pk, _)| pk.clone());
    partitions
        .iter()
        .filter(move |(pk, _)| only.as_ref().is_none_or(|only| only == *pk))
        .filter(move |(pk, _)| after_partition.as_ref().is_none_or(|a| *pk >= a))
        .flat_map(|(pk, docs)| docs.iter().map(move |(id, doc)| (pk, id, doc)))
        .skip_while(move |(pk, id, _)| {
            after
                .as_ref()
                .is_some_and(|(a, b)| (pk.as_str(), id.as_str()) <= (a.as_str(), b.as_str()))
        })
}

fn project(select: &Select, doc: &Value) -> Option<Value> {
    match select {
        Select::Documents => Some(doc.clone()),
        Select::Value(path) => path.lookup(doc).cloned(),
        Select::Array(paths) => paths
            .iter()
            .map(|path| path.lookup(doc).cloned())
            .collect::<Option<Vec<_>>>()
            .map(Value::Array),
    }
}

fn etag_of(item: &Value) -> Option<&str> {
    item.get("_etag").and_then(Value::as_str)
}

/// Sets the system properties Cosmos DB maintains on every stored document.
fn stamp(body: &mut Map<String, Value>, container: &str, rid: Value, etag: &Etag) {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let self_link = format!(
        "colls/{container}/docs/{}/",
        rid.as_str().unwrap_or_default()
    );
    body.insert("_rid".to_owned(), rid);
    body.insert("_self".to_owned(), Value::from(self_link));
    body.insert("_etag".to_owned(), Value::from(etag.as_str()));
    body.insert("_attachments".to_owned(), Value::from("attachments/"));
    body.insert("_ts".to_owned(), Value::from(seconds));
}
