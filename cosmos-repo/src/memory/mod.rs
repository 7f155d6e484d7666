//! The embedded store, and its evaluator of queries and patches.

mod eval;
mod patch;
mod sql;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use self::eval::{Truth, eval};
use self::sql::Parsed;
use crate::ast::{Aggregate, Expr, NearestTo, Path, Rank, Select, SqlQuery};
use crate::concurrency::{Etag, yield_now};
use crate::error::{Error, Result};
use crate::hash::Fnv;
use crate::key::PartitionKey;
use crate::limits;
use crate::model::{ContainerModel, Discriminator, VectorDistance};
use crate::response::{Page, Response};
use crate::seam::{
    Action, ChangeScope, ChangeStart, Container, Feed, ItemKey, ItemOperation, ItemResult,
    QuerySpec, QueryText, Scope, Store, batch_failed,
};
use crate::values::{self, order};

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

/// One partition's documents, by id, ordered so queries can page by position.
type Partition = BTreeMap<String, Stored>;

/// One container: its partitions by key (as JSON, ordered so queries can page by position),
/// each locked on its own, so that writers of different partitions do not wait for each
/// other; and its default time to live as the model last declared it.
#[derive(Debug, Default)]
struct Collection {
    partitions: RwLock<BTreeMap<String, Arc<RwLock<Partition>>>>,
    default_ttl: Mutex<Option<i32>>,
    /// Counts the writes to the container, so that a vector table knows it is out of date.
    version: AtomicU64,
    /// The vectors of one embedding path, side by side, as the last nearest-neighbour query
    /// read them.
    vectors: Mutex<Option<Arc<VectorTable>>>,
}

/// Every document's vector at one path, laid out contiguously so that a nearest-neighbour
/// query compares them at memory speed; read again after the container changes.
#[derive(Debug)]
struct VectorTable {
    /// The container's write count when the table was read.
    version: u64,
    /// The `path_key` of the embedding path.
    key: u64,
    dimensions: usize,
    numbers: Vec<f32>,
    norms: Vec<f32>,
    /// Each row's document: partition key and id, in (partition key, id) order.
    rows: Vec<(String, String)>,
}

impl Collection {
    fn default_ttl(&self) -> Option<i32> {
        *self
            .default_ttl
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The partition of `key`, made empty if it is new.
    fn partition(&self, key: String) -> Arc<RwLock<Partition>> {
        let found = read(&self.partitions).get(&key).cloned();
        found.unwrap_or_else(|| Arc::clone(write(&self.partitions).entry(key).or_default()))
    }

    /// The partitions a query in `scope` reads, after `after_partition`, in key order: a range
    /// of them, since a key and the keys under its first levels share a prefix.
    fn in_scope(
        &self,
        scope: Scope<'_>,
        after_partition: Option<&str>,
    ) -> Vec<(String, Arc<RwLock<Partition>>)> {
        let (stem, only) = match scope {
            Scope::Partition(key) => {
                let only = key.to_string();
                (
                    only.strip_suffix(']').unwrap_or(&only).to_owned(),
                    Some(only),
                )
            }
            Scope::CrossPartition => (String::new(), None),
        };
        let in_partition = |pk: &str| {
            only.as_deref().is_none_or(|only| {
                pk == only
                    || pk
                        .strip_prefix(stem.as_str())
                        .is_some_and(|rest| rest.starts_with(','))
            })
        };
        let from = match after_partition {
            Some(pk) if pk > stem.as_str() => pk.to_owned(),
            _ => stem.clone(),
        };
        read(&self.partitions)
            .range(from..)
            .take_while(|(pk, _)| pk.starts_with(stem.as_str()))
            .filter(|(pk, _)| in_partition(pk))
            .map(|(pk, partition)| (pk.clone(), Arc::clone(partition)))
            .collect()
    }
}

/// A lock for reading; a poisoned one is taken as is: writes change partitions only by inserts
/// and removes (which a failed batch undoes before it returns), and nothing between those
/// panics, so no panic leaves them half changed.
fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

/// A lock for writing; see [`read`].
fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

/// What an operation does to its document.
enum Effect {
    /// Leaves it as it is (a read), answering its bytes and etag.
    Keep(Bytes, Option<Etag>),
    /// Stores this version, answering this status.
    Put(Stored, u16),
    /// Deletes it.
    Remove,
}

/// A stored document: the bytes reads return, the system properties the store itself needs,
/// and the parsed JSON, made on first use (by a query, a patch, a unique key or TTL), so that
/// writes and point reads never parse.
#[derive(Clone, Debug)]
struct Stored {
    bytes: Bytes,
    rid: String,
    etag: String,
    /// When it was written, in Unix seconds (`_ts`).
    ts: u64,
    /// Its place in the change feed: larger for each write, taken under the partition's
    /// write lock, so that within a partition it grows in the order writes land.
    lsn: u64,
    json: OnceLock<Value>,
    /// The embedding nearest-neighbour queries ranked it by, read once: a fingerprint of its
    /// path (`path_key`), and the numbers with their Euclidean norm (`None`: no vector of
    /// numbers there).
    vector: OnceLock<(u64, Option<Embedding>)>,
}

/// A stored vector, ready to compare.
#[derive(Clone, Debug)]
struct Embedding {
    numbers: Box<[f32]>,
    norm: f32,
}

impl Embedding {
    fn read(value: &Value) -> Option<Embedding> {
        let numbers: Box<[f32]> = value
            .as_array()?
            .iter()
            .map(|n| n.as_f64().map(|n| n as f32))
            .collect::<Option<_>>()?;
        let norm = dot(&numbers, &numbers).sqrt();
        Some(Embedding { numbers, norm })
    }
}

/// The dot product, eight lanes at a time so that the compiler can use vector instructions.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    lanes(a, b, |x, y| x * y)
}

/// The squared Euclidean distance, eight lanes at a time.
fn squared_distance(a: &[f32], b: &[f32]) -> f32 {
    lanes(a, b, |x, y| (x - y) * (x - y))
}

fn lanes(a: &[f32], b: &[f32], term: impl Fn(f32, f32) -> f32) -> f32 {
    let mut sums = [0.0_f32; 8];
    let ((chunks_a, rest_a), (chunks_b, rest_b)) = (a.as_chunks::<8>(), b.as_chunks::<8>());
    for (x, y) in chunks_a.iter().zip(chunks_b) {
        for lane in 0..8 {
            sums[lane] += term(x[lane], y[lane]);
        }
    }
    let rest: f32 = rest_a.iter().zip(rest_b).map(|(x, y)| term(*x, *y)).sum();
    sums.iter().sum::<f32>() + rest
}

impl Stored {
    fn etag(&self) -> Option<&str> {
        Some(&self.etag)
    }

    /// The document as JSON; `null` if the stored bytes are not JSON, which the write path
    /// rules out.
    fn json(&self) -> &Value {
        self.json
            .get_or_init(|| serde_json::from_slice(&self.bytes).unwrap_or(Value::Null))
    }

    /// Whether the document's time to live has run out at `now` (Unix seconds): its own `ttl`
    /// if it has one, else the container's default; neither counts while TTL is off.
    fn expired(&self, default_ttl: Option<i32>, now: u64) -> bool {
        let Some(default_ttl) = default_ttl else {
            return false;
        };
        let ttl = self
            .json()
            .get("ttl")
            .and_then(Value::as_i64)
            .unwrap_or(i64::from(default_ttl));
        ttl > 0 && self.ts.saturating_add(ttl.unsigned_abs()) <= now
    }

    /// Whether the document is of the type `discriminator` names (any document, without one).
    fn is_of(&self, discriminator: Option<&Discriminator>) -> bool {
        discriminator
            .is_none_or(|d| self.json().get(d.property).and_then(Value::as_str) == Some(d.value))
    }
}

#[derive(Debug, Default)]
struct Inner {
    /// Container name -> its documents.
    containers: RwLock<HashMap<String, Arc<Collection>>>,
    /// Numbers every request; the source of etags, resource ids and activity ids.
    sequence: AtomicU64,
    /// Seconds added to the system clock by [`MemoryStore::advance_time`].
    clock_offset: AtomicU64,
}

impl MemoryStore {
    /// A new, empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The container `name`, made empty if it is new.
    fn collection(&self, name: &str) -> Arc<Collection> {
        let found = read(&self.inner.containers).get(name).cloned();
        found.unwrap_or_else(|| {
            Arc::clone(
                write(&self.inner.containers)
                    .entry(name.to_owned())
                    .or_default(),
            )
        })
    }

    /// The container `name`, if anything was ever written to it.
    fn existing(&self, name: &str) -> Option<Arc<Collection>> {
        read(&self.inner.containers).get(name).cloned()
    }

    /// Moves the store's clock forward by `by` (whole seconds, as Cosmos DB's `_ts`), so that
    /// time to live can be tested without waiting: documents whose time ran out disappear from
    /// reads and queries, and are freed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use cosmos_repo::prelude::*;
    /// use cosmos_repo::MemoryStore;
    ///
    /// #[derive(Serialize, Deserialize, CosmosDocument)]
    /// #[cosmos(container = "sessions", ttl = 60)]
    /// struct Session { #[id] id: String, #[partition_key] user: String }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> cosmos_repo::Result<()> {
    /// let store = MemoryStore::new();
    /// let sessions = store.repository::<Session>();
    /// sessions.create(&Session { id: "s1".into(), user: "ann".into() }).await?;
    /// store.advance_time(Duration::from_secs(59));
    /// assert!(sessions.find("ann", "s1").await?.is_some());
    /// store.advance_time(Duration::from_secs(1));
    /// assert!(sessions.find("ann", "s1").await?.is_none());
    /// # Ok(())
    /// # }
    /// ```
    pub fn advance_time(&self, by: std::time::Duration) {
        self.inner
            .clock_offset
            .fetch_add(by.as_secs(), Ordering::Relaxed);
        let now = self.now();
        let collections: Vec<Arc<Collection>> =
            read(&self.inner.containers).values().cloned().collect();
        for collection in collections {
            let ttl = collection.default_ttl();
            for partition in read(&collection.partitions).values() {
                write(partition).retain(|_, doc| !doc.expired(ttl, now));
            }
        }
    }

    /// The store's clock, in Unix seconds.
    fn now(&self) -> u64 {
        let system = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        system + self.inner.clock_offset.load(Ordering::Relaxed)
    }

    fn next(&self) -> u64 {
        self.inner.sequence.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn activity_id(&self) -> String {
        format!("00000000-0000-0000-0000-{:012x}", self.next())
    }

    fn response<T>(&self, value: T, etag: Option<Etag>, status: u16) -> Response<T> {
        Response::new(value, 0.0, Some(self.activity_id()), etag, status)
    }

    /// Applies `operations` to one partition in order; on the first failure, undoes what the
    /// others did and answers its index and error. Holds the partition's write lock
    /// throughout, so no reader sees a batch half applied.
    fn apply(
        &self,
        container: Container<'_>,
        partition_key: &PartitionKey,
        operations: &[ItemOperation<'_>],
    ) -> std::result::Result<Vec<ItemResult>, (usize, Error)> {
        let now = self.now();
        let collection = self.collection(container.name);
        let ttl = container.model.default_ttl;
        *collection
            .default_ttl
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = ttl;
        let partition = collection.partition(partition_key.to_string());
        let mut partition = write(&partition);
        if ttl.is_some() {
            partition.retain(|_, doc| !doc.expired(ttl, now));
        }
        let mut undo: Vec<(&str, Option<Stored>)> = Vec::new();
        let mut results = Vec::with_capacity(operations.len());
        for (index, operation) in operations.iter().enumerate() {
            let key = container.key(partition_key, operation.id);
            let current = partition.get(operation.id);
            let result = match self
                .apply_one(container, key, *operation, current)
                .and_then(|effect| unique(container, key, &effect, &partition).map(|()| effect))
            {
                Ok(Effect::Keep(bytes, etag)) => self.response(Some(bytes), etag, 200),
                Ok(Effect::Put(doc, status)) => {
                    let etag = doc.etag().map(Etag::new);
                    let bytes = doc.bytes.clone();
                    undo.push((operation.id, partition.insert(operation.id.to_owned(), doc)));
                    self.response(Some(bytes), etag, status)
                }
                Ok(Effect::Remove) => {
                    undo.push((operation.id, partition.remove(operation.id)));
                    self.response(None, None, 204)
                }
                Err(err) => {
                    for (id, before) in undo.into_iter().rev() {
                        match before {
                            Some(doc) => partition.insert(id.to_owned(), doc),
                            None => partition.remove(id),
                        };
                    }
                    return Err((index, err));
                }
            };
            results.push(result);
        }
        if !undo.is_empty() {
            collection.version.fetch_add(1, Ordering::Relaxed);
        }
        Ok(results)
    }

    /// What one operation does to the partition.
    fn apply_one(
        &self,
        container: Container<'_>,
        key: ItemKey<'_>,
        operation: ItemOperation<'_>,
        current: Option<&Stored>,
    ) -> Result<Effect> {
        // Another type's document is not there for this type, but for its id.
        let discriminator = container.model.discriminator;
        let current = match (operation.action, current) {
            (Action::Create(_) | Action::Upsert(_), current) => current,
            (_, current) => current.filter(|doc| doc.is_of(discriminator.as_ref())),
        };
        if let (Some(expected), Some(current)) = (operation.if_match, current)
            && current.etag() != Some(expected.as_str())
        {
            return Err(key.precondition_failed());
        }
        let (body, status) = match (operation.action, current) {
            (Action::Create(_), Some(_)) => return Err(key.already_exists()),
            (Action::Create(body), None) => (Body::Sent(body.get()), 201),
            (Action::Upsert(body), existing) => (
                Body::Sent(body.get()),
                if existing.is_some() { 200 } else { 201 },
            ),
            (Action::Replace(_) | Action::Read(_) | Action::Delete | Action::Patch(_), None) => {
                return Err(key.not_found());
            }
            (Action::Replace(body), Some(_)) => (Body::Sent(body.get()), 200),
            (Action::Read(_), Some(doc)) => {
                return Ok(Effect::Keep(doc.bytes.clone(), doc.etag().map(Etag::new)));
            }
            (Action::Delete, Some(_)) => return Ok(Effect::Remove),
            (Action::Patch(changes), Some(doc)) => {
                let mut doc = doc.json().clone();
                patch::apply(&mut doc, changes)?;
                (Body::Patched(doc), 200)
            }
        };
        let rid = current
            .map(|doc| doc.rid.clone())
            .unwrap_or_else(|| format!("{:016x}", self.next()));
        let etag = format!("\"00000000-0000-0000-0000-{:012x}\"", self.next());
        let ts = self.now();
        let system = SystemProperties {
            self_link: format!("colls/{}/docs/{rid}/", key.container),
            rid,
            etag,
            ts,
        };
        let what = format_args!("document `{}`", key.id);
        let (bytes, json) = match body {
            // The text as sent, with the system properties appended, when it has none of its own.
            Body::Sent(text) if text.trim_start().starts_with('{') && !mentions_system(text) => {
                (appended(text, &system.members()), OnceLock::new())
            }
            body => {
                let mut json = match body {
                    Body::Sent(text) => parse(text)?,
                    Body::Patched(json) => json,
                };
                let Value::Object(map) = &mut json else {
                    return Err(Error::BadRequest {
                        message: "a document must be a JSON object".to_owned(),
                    });
                };
                system.stamp(map);
                let bytes = serde_json::to_vec(&json).map_err(|source| Error::Serialization {
                    action: "serialize",
                    type_name: "serde_json::Value",
                    source,
                })?;
                (bytes, OnceLock::from(json))
            }
        };
        limits::check_document_size(bytes.len(), &what)?;
        let stored = Stored {
            bytes: Bytes::from(bytes),
            rid: system.rid,
            etag: system.etag,
            ts,
            lsn: self.next(),
            json,
            vector: OnceLock::new(),
        };
        Ok(Effect::Put(stored, status))
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn execute(
        &self,
        container: Container<'_>,
        partition_key: &PartitionKey,
        operation: ItemOperation<'_>,
    ) -> Result<ItemResult> {
        yield_now().await;
        let mut results = self
            .apply(container, partition_key, &[operation])
            .map_err(|(_, err)| err)?;
        Ok(results.remove(0))
    }

    async fn execute_batch(
        &self,
        container: Container<'_>,
        partition_key: &PartitionKey,
        operations: &[ItemOperation<'_>],
    ) -> Result<Response<Vec<ItemResult>>> {
        yield_now().await;
        let results =
            self.apply(container, partition_key, operations)
                .map_err(|(index, err)| match operations.get(index) {
                    Some(failed) => batch_failed(index, failed.action, err),
                    None => err,
                })?;
        Ok(self.response(results, None, 200))
    }

    async fn query_page(
        &self,
        feed: Feed<'_>,
        text: QueryText<'_>,
        page_size: u32,
        continuation: Option<&str>,
    ) -> Result<Page<Bytes>> {
        yield_now().await;
        let parsed;
        let spec = match text {
            QueryText::Typed(spec, _) => spec,
            QueryText::Sql(sql) => match sql::parse(sql)? {
                Parsed::Rows(spec) if spec.distinct => {
                    return self
                        .distinct_page(feed, spec, page_size, continuation)
                        .await;
                }
                Parsed::Rows(spec) => {
                    parsed = spec;
                    &parsed
                }
                Parsed::Aggregate(filter, aggregate) => {
                    let result = self.aggregate(feed, filter.as_ref(), &aggregate).await?;
                    let items = result
                        .value
                        .map(|value| Bytes::from(as_written(value).to_string()));
                    return Ok(Page::new(
                        items.into_iter().collect(),
                        None,
                        0.0,
                        result.activity_id,
                    ));
                }
            },
        };
        let cursor = continuation.map(Cursor::parse).transpose()?;
        check_order_by(&feed.container.model, spec)?;
        check_full_text(&feed.container.model, spec.filter.as_ref())?;
        if let Select::Nearest(to) = &spec.select {
            let nearest = self.nearest(feed, spec, to);
            return Ok(Page::new(nearest, None, 0.0, Some(self.activity_id())));
        }
        if let Select::Ranked(rank) = &spec.select {
            let ranked = self.ranked(feed, spec, rank);
            return Ok(Page::new(ranked, None, 0.0, Some(self.activity_id())));
        }
        let now = self.now();
        let collection = self.existing(feed.container.name);
        let live = Live {
            ttl: collection.as_ref().and_then(|c| c.default_ttl()),
            now,
        };
        // Unsorted pages resume in the partition of the last row returned; sorted ones read
        // every partition in scope. Each partition is locked for reading while the page is made.
        let resume = cursor
            .as_ref()
            .filter(|_| spec.order_by.is_empty())
            .map(|c| c.partition_key.as_str());
        let in_scope_partitions = collection
            .as_ref()
            .map(|c| c.in_scope(feed.scope, resume))
            .unwrap_or_default();
        let partitions: Vec<(String, RwLockReadGuard<'_, Partition>)> = in_scope_partitions
            .iter()
            .map(|(pk, partition)| (pk.clone(), read(partition)))
            .collect();
        let discriminator = feed.container.model.discriminator;
        let matches = |doc: &Stored| {
            doc.is_of(discriminator.as_ref())
                && spec
                    .filter
                    .as_ref()
                    .is_none_or(|f| eval(f, doc.json()) == Truth::True)
        };
        let page_size = page_size.max(1) as usize;
        let limit = spec.limit.map_or(usize::MAX, |l| l as usize);
        let taken = cursor.as_ref().map_or(0, |c| c.taken as usize);
        let want = page_size.min(limit.saturating_sub(taken));
        let sort_keys = |doc: &'_ Stored| -> Vec<Option<Value>> {
            spec.order_by
                .iter()
                .map(|(path, _)| path.lookup(doc.json()).cloned())
                .collect()
        };

        // Rows in scope, in the query's order: by its sort keys, ties (and unsorted queries)
        // by (partition key, id). A continuation resumes after the last row returned, by
        // value, so writes between pages neither skip nor repeat rows that did not change.
        let (rows, more) = if spec.order_by.is_empty() {
            let after = cursor
                .as_ref()
                .map(|c| (c.partition_key.as_str(), c.id.as_str()));
            let mut found = in_scope(&partitions, after, live)
                .filter(|(_, _, doc)| matches(doc))
                .skip(if after.is_some() { 0 } else { offset(spec) });
            let rows: Vec<_> = found.by_ref().take(want).collect();
            let more = found.next().is_some();
            (rows, more)
        } else {
            let mut sorted: Vec<_> = in_scope(&partitions, None, live)
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
        let items = rows
            .into_iter()
            .filter_map(|(_, _, doc)| project(&spec.select, doc))
            .collect();
        Ok(Page::new(
            items,
            next.map(|c| c.token()),
            0.0,
            Some(self.activity_id()),
        ))
    }

    async fn aggregate(
        &self,
        feed: Feed<'_>,
        filter: Option<&Expr>,
        aggregate: &Aggregate,
    ) -> Result<Response<Option<Value>>> {
        yield_now().await;
        check_full_text(&feed.container.model, filter)?;
        let result = self.scan(feed, filter, |matching| {
            values::fold(aggregate, matching.map(|doc| held(aggregate, doc.json())))
        });
        Ok(self.response(result, None, 200))
    }

    async fn changes(
        &self,
        container: Container<'_>,
        scope: ChangeScope<'_>,
        start: ChangeStart<'_>,
        max_items: u32,
    ) -> Result<Page<Bytes>> {
        yield_now().await;
        let mut seen = match start {
            ChangeStart::Continuation(token) => FeedPosition::parse(token)?,
            ChangeStart::Beginning | ChangeStart::Now => FeedPosition::default(),
        };
        let now = self.now();
        let collection = self.existing(container.name);
        let ttl = collection.as_ref().and_then(|c| c.default_ttl());
        let partitions = collection
            .as_ref()
            .map(|c| {
                let query_scope = match scope {
                    ChangeScope::Partition(key) => Scope::Partition(key),
                    ChangeScope::Container | ChangeScope::Range(_) => Scope::CrossPartition,
                };
                c.in_scope(query_scope, None)
            })
            .unwrap_or_default()
            .into_iter()
            .filter(|(pk, _)| match scope {
                ChangeScope::Range(range) => feed_range_of(pk) == range,
                ChangeScope::Partition(_) | ChangeScope::Container => true,
            });
        let partitions: Vec<(String, Arc<RwLock<Partition>>)> = partitions.collect();
        // (LSN, partition index, bytes) of every change after the position; only the first
        // `max_items` by LSN are kept, and only their partitions' positions move.
        let mut changed: Vec<(u64, usize, Bytes)> = Vec::new();
        for (index, (pk, partition)) in partitions.iter().enumerate() {
            let partition = read(partition);
            if let ChangeStart::Now = start {
                let last = partition.values().map(|doc| doc.lsn).max().unwrap_or(0);
                seen.after.insert(pk.clone(), last);
                continue;
            }
            let after = seen.after.get(pk).copied().unwrap_or(0);
            changed.extend(
                partition
                    .values()
                    .filter(|doc| doc.lsn > after && !doc.expired(ttl, now))
                    .filter(|doc| doc.is_of(container.model.discriminator.as_ref()))
                    .map(|doc| (doc.lsn, index, doc.bytes.clone())),
            );
        }
        let keep = (max_items.max(1) as usize).min(changed.len());
        if keep < changed.len() {
            changed.select_nth_unstable_by_key(keep, |(lsn, _, _)| *lsn);
            changed.truncate(keep);
        }
        changed.sort_unstable_by_key(|(lsn, _, _)| *lsn);
        for (lsn, index, _) in &changed {
            seen.after.insert(partitions[*index].0.clone(), *lsn);
        }
        let items = changed.into_iter().map(|(_, _, bytes)| bytes).collect();
        Ok(Page::new(
            items,
            Some(seen.token()),
            0.0,
            Some(self.activity_id()),
        ))
    }

    async fn feed_ranges(&self, _container: Container<'_>) -> Result<Vec<String>> {
        yield_now().await;
        Ok((0..FEED_RANGES).map(feed_range_name).collect())
    }

    async fn group(
        &self,
        feed: Feed<'_>,
        filter: Option<&Expr>,
        key: &Path,
        aggregate: &Aggregate,
    ) -> Result<Response<Vec<(Value, Option<Value>)>>> {
        yield_now().await;
        check_full_text(&feed.container.model, filter)?;
        let groups = self.scan(feed, filter, |matching| {
            let rows = matching.filter_map(|doc| {
                let key = key.lookup(doc.json())?.clone();
                Some((key, held(aggregate, doc.json()).cloned()))
            });
            values::group(aggregate, rows)
        });
        Ok(self.response(groups, None, 200))
    }
}

impl MemoryStore {
    /// The documents matching the query, nearest to its vector first, with their scores
    /// (`{"document": ..., "score": ...}`), at most its limit: every distance computed exactly
    /// (in `f32`, as the vectors are stored), over the container's vector table. Documents
    /// whose property is not a vector of the query's length have no score and are left out;
    /// equal scores keep the (partition key, id) order.
    fn nearest(&self, feed: Feed<'_>, spec: &QuerySpec, to: &NearestTo) -> Vec<Bytes> {
        let Some(collection) = self.existing(feed.container.name) else {
            return Vec::new();
        };
        let table = self.vector_table(&collection, to);
        let query = Embedding {
            norm: dot(&to.vector, &to.vector).sqrt(),
            numbers: to.vector.clone().into_boxed_slice(),
        };
        let mut scored: Vec<(f32, usize)> = table
            .numbers
            .chunks_exact(table.dimensions.max(1))
            .zip(&table.norms)
            .enumerate()
            .filter_map(|(row, (numbers, norm))| {
                Some((distance(to.distance, numbers, *norm, &query)?, row))
            })
            .collect();
        let nearer = |a: &(f32, usize), b: &(f32, usize)| {
            let by_score = match to.distance {
                VectorDistance::Euclidean => a.0.total_cmp(&b.0),
                VectorDistance::Cosine | VectorDistance::DotProduct => b.0.total_cmp(&a.0),
            };
            by_score.then(a.1.cmp(&b.1))
        };
        scored.sort_unstable_by(nearer);
        // Best first, the rows whose documents the query selects, up to its limit.
        let limit = spec.limit.map_or(usize::MAX, |limit| limit as usize);
        let in_scope: HashSet<String> = collection
            .in_scope(feed.scope, None)
            .into_iter()
            .map(|(pk, _)| pk)
            .collect();
        let (ttl, now) = (collection.default_ttl(), self.now());
        let partitions = read(&collection.partitions);
        let mut found = Vec::new();
        for (score, row) in scored {
            if found.len() >= limit {
                break;
            }
            let (pk, id) = &table.rows[row];
            let Some(partition) = partitions.get(pk).filter(|_| in_scope.contains(pk)) else {
                continue;
            };
            let partition = read(partition);
            let Some(doc) = partition.get(id) else {
                continue;
            };
            let selected = !doc.expired(ttl, now)
                && doc.is_of(feed.container.model.discriminator.as_ref())
                && spec
                    .filter
                    .as_ref()
                    .is_none_or(|f| eval(f, doc.json()) == Truth::True);
            if selected {
                let document = String::from_utf8_lossy(&doc.bytes);
                found.push(Bytes::from(format!(
                    "{{\"document\":{document},\"score\":{}}}",
                    Value::from(f64::from(score))
                )));
            }
        }
        found
    }

    /// The container's table of vectors at `to.path` of `to`'s length, read again when the
    /// container changed since (or another path or length is asked for).
    fn vector_table(&self, collection: &Collection, to: &NearestTo) -> Arc<VectorTable> {
        let key = path_key(&to.path);
        let version = collection.version.load(Ordering::Relaxed);
        let mut cached = collection
            .vectors
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(table) = cached.as_ref().filter(|table| {
            table.version == version && table.key == key && table.dimensions == to.vector.len()
        }) {
            return Arc::clone(table);
        }
        let mut table = VectorTable {
            version,
            key,
            dimensions: to.vector.len(),
            numbers: Vec::new(),
            norms: Vec::new(),
            rows: Vec::new(),
        };
        for (pk, partition) in collection.in_scope(Scope::CrossPartition, None) {
            for (id, doc) in read(&partition).iter() {
                if let Some(embedding) = embedding(to, key, doc)
                    && embedding.numbers.len() == table.dimensions
                {
                    table.numbers.extend_from_slice(&embedding.numbers);
                    table.norms.push(embedding.norm);
                    table.rows.push((pk.clone(), id.clone()));
                }
            }
        }
        let table = Arc::new(table);
        *cached = Some(Arc::clone(&table));
        table
    }
}

impl MemoryStore {
    /// The documents matching the query, best ranked first, at most its limit: by BM25
    /// relevance of a text to the terms (`FullTextScore`), or by reciprocal rank fusion of a
    /// vector ranking and a text ranking (`RRF`, k = 60, each ranking weighted). Ties keep the
    /// (partition key, id) order.
    fn ranked(&self, feed: Feed<'_>, spec: &QuerySpec, rank: &Rank) -> Vec<Bytes> {
        let limit = spec.limit.map_or(usize::MAX, |limit| limit as usize);
        self.scan(feed, spec.filter.as_ref(), |matching| {
            let docs: Vec<&Stored> = matching.collect();
            let scores = match rank {
                Rank::Text(path, terms) => bm25(&docs, path, terms),
                Rank::Hybrid {
                    vector,
                    text,
                    weights,
                } => {
                    let query = Embedding {
                        norm: dot(&vector.vector, &vector.vector).sqrt(),
                        numbers: vector.vector.clone().into_boxed_slice(),
                    };
                    let key = path_key(&vector.path);
                    let nearness: Vec<Option<f64>> = docs
                        .iter()
                        .map(|doc| score(vector, key, &query, doc))
                        .collect();
                    let by_vector = match vector.distance {
                        VectorDistance::Euclidean => ranks(&nearness, false),
                        _ => ranks(&nearness, true),
                    };
                    let relevance: Vec<Option<f64>> = bm25(&docs, &text.0, &text.1)
                        .into_iter()
                        .map(Some)
                        .collect();
                    let by_text = ranks(&relevance, true);
                    let [w_vector, w_text] = weights.unwrap_or([1.0, 1.0]);
                    let fuse = |rank: Option<usize>, weight: f64| {
                        rank.map_or(0.0, |rank| weight / (60.0 + rank as f64))
                    };
                    by_vector
                        .iter()
                        .zip(&by_text)
                        .map(|(v, t)| fuse(*v, w_vector) + fuse(*t, w_text))
                        .collect()
                }
            };
            let mut order: Vec<usize> = (0..docs.len()).collect();
            order.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]).then(a.cmp(b)));
            order
                .into_iter()
                .take(limit)
                .map(|i| docs[i].bytes.clone())
                .collect()
        })
    }
}

/// Each document's BM25 relevance (k1 = 1.2, b = 0.75) of its text at `path` to the words of
/// `terms`, over `docs` as the corpus; 0 without the text.
fn bm25(docs: &[&Stored], path: &Path, terms: &[String]) -> Vec<f64> {
    const K1: f64 = 1.2;
    const B: f64 = 0.75;
    let texts: Vec<Vec<String>> = docs
        .iter()
        .map(|doc| {
            path.lookup(doc.json())
                .and_then(Value::as_str)
                .map(|text| eval::words(text).collect())
                .unwrap_or_default()
        })
        .collect();
    let mut query: Vec<String> = terms.iter().flat_map(|term| eval::words(term)).collect();
    query.sort();
    query.dedup();
    let n = texts.len() as f64;
    let average = (texts.iter().map(Vec::len).sum::<usize>() as f64 / n.max(1.0)).max(1.0);
    let mut scores = vec![0.0; texts.len()];
    for word in &query {
        let df = texts.iter().filter(|text| text.contains(word)).count() as f64;
        let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
        for (text, score) in texts.iter().zip(&mut scores) {
            let tf = text.iter().filter(|w| *w == word).count() as f64;
            let length = text.len() as f64;
            *score += idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * length / average));
        }
    }
    scores
}

/// Each score's rank from 1 (best first: the largest when `larger_first`), `None` for none.
fn ranks(scores: &[Option<f64>], larger_first: bool) -> Vec<Option<usize>> {
    let mut order: Vec<usize> = (0..scores.len()).filter(|i| scores[*i].is_some()).collect();
    order.sort_by(|a, b| {
        let (x, y) = (
            scores[*a].unwrap_or_default(),
            scores[*b].unwrap_or_default(),
        );
        let by_score = if larger_first {
            y.total_cmp(&x)
        } else {
            x.total_cmp(&y)
        };
        by_score.then(a.cmp(b))
    });
    let mut ranks = vec![None; scores.len()];
    for (rank, index) in order.into_iter().enumerate() {
        ranks[index] = Some(rank + 1);
    }
    ranks
}

/// A fingerprint of a property path, to tell the path a document's vector was cached for.
fn path_key(path: &Path) -> u64 {
    let mut hash = Fnv::default();
    for name in path.segments() {
        hash.write(name.as_bytes());
    }
    hash.0
}

/// The vector `doc` holds at `to.path` (whose `path_key` is `key`), read once and kept with
/// the document; `None` when it holds no vector of numbers there.
fn embedding<'d>(
    to: &NearestTo,
    key: u64,
    doc: &'d Stored,
) -> Option<std::borrow::Cow<'d, Embedding>> {
    let read = || Embedding::read(to.path.lookup(doc.json())?);
    match doc.vector.get_or_init(|| (key, read())) {
        (cached, embedding) if *cached == key => embedding.as_ref().map(std::borrow::Cow::Borrowed),
        _ => read().map(std::borrow::Cow::Owned),
    }
}

/// `VectorDistance` between a stored vector (`numbers`, whose Euclidean norm is `norm`) and
/// `query`; `None` for cosine when either has no direction.
fn distance(
    function: VectorDistance,
    numbers: &[f32],
    norm: f32,
    query: &Embedding,
) -> Option<f32> {
    Some(match function {
        VectorDistance::DotProduct => dot(numbers, &query.numbers),
        VectorDistance::Euclidean => squared_distance(numbers, &query.numbers).sqrt(),
        VectorDistance::Cosine => {
            let norms = norm * query.norm;
            if norms <= 0.0 {
                return None;
            }
            dot(numbers, &query.numbers) / norms
        }
    })
}

/// `VectorDistance` between `doc`'s vector at `to.path` (whose `path_key` is `key`) and
/// `query`, with `to`'s function; `None` when the document holds no vector of numbers of the
/// query's length (or, for cosine, one without a direction).
fn score(to: &NearestTo, key: u64, query: &Embedding, doc: &Stored) -> Option<f64> {
    let embedding = embedding(to, key, doc)?;
    if embedding.numbers.len() != query.numbers.len() {
        return None;
    }
    distance(to.distance, &embedding.numbers, embedding.norm, query).map(f64::from)
}

/// What `doc` holds for `aggregate`: the value at its path, or the document for `COUNT(1)`.
fn held<'d>(aggregate: &Aggregate, doc: &'d Value) -> Option<&'d Value> {
    match aggregate.path() {
        Some(path) => path.lookup(doc),
        None => Some(doc),
    }
}

impl MemoryStore {
    /// `with` the live documents of the feed (of its type) that match `filter`, each
    /// partition locked for reading meanwhile.
    fn scan<R>(
        &self,
        feed: Feed<'_>,
        filter: Option<&Expr>,
        with: impl FnOnce(&mut dyn Iterator<Item = &Stored>) -> R,
    ) -> R {
        let now = self.now();
        let Some(collection) = self.existing(feed.container.name) else {
            return with(&mut std::iter::empty());
        };
        let live = Live {
            ttl: collection.default_ttl(),
            now,
        };
        let in_scope_partitions = collection.in_scope(feed.scope, None);
        let partitions: Vec<(String, RwLockReadGuard<'_, Partition>)> = in_scope_partitions
            .iter()
            .map(|(pk, partition)| (pk.clone(), read(partition)))
            .collect();
        let mut matching = in_scope(&partitions, None, live)
            .map(|(_, _, doc)| doc)
            .filter(|doc| doc.is_of(feed.container.model.discriminator.as_ref()))
            .filter(|doc| filter.is_none_or(|f| eval(f, doc.json()) == Truth::True));
        with(&mut matching)
    }

    /// A page of a raw `SELECT DISTINCT` query: every result in the query's order, repeats
    /// left out (the first kept, values compared as Cosmos DB compares them), then the query's
    /// offset and limit, paged by position.
    async fn distinct_page(
        &self,
        feed: Feed<'_>,
        spec: QuerySpec,
        page_size: u32,
        continuation: Option<&str>,
    ) -> Result<Page<Bytes>> {
        let taken = continuation
            .map(Cursor::parse)
            .transpose()?
            .map_or(0, |cursor| cursor.taken as usize);
        let every = QuerySpec {
            distinct: false,
            offset: None,
            limit: None,
            ..spec.clone()
        };
        let all = self
            .query_page(
                feed,
                QueryText::Typed(&every, &SqlQuery::default()),
                u32::MAX,
                None,
            )
            .await?;
        let mut seen = HashSet::new();
        let mut distinct = all
            .items
            .into_iter()
            .filter(|item| {
                let value: Value = serde_json::from_slice(item).unwrap_or_default();
                seen.insert(values::distinct_key(&value))
            })
            .skip(offset(&spec))
            .take(spec.limit.map_or(usize::MAX, |limit| limit as usize))
            .skip(taken);
        let items: Vec<Bytes> = distinct.by_ref().take(page_size.max(1) as usize).collect();
        let next = distinct.next().is_some().then(|| {
            Cursor {
                sort_values: Vec::new(),
                partition_key: String::new(),
                id: String::new(),
                taken: (taken + items.len()) as u64,
            }
            .token()
        });
        Ok(Page::new(items, next, 0.0, all.activity_id))
    }
}

/// How many feed ranges the embedded store divides each container's partition keys into, so
/// that change feed processors share its partitions as they share Cosmos DB's.
const FEED_RANGES: u64 = 4;

fn feed_range_name(index: u64) -> String {
    format!("memory-{index}-of-{FEED_RANGES}")
}

/// The feed range of the partition whose key is `pk` (as JSON): by a hash stable across runs.
fn feed_range_of(pk: &str) -> String {
    let mut hash = Fnv::default();
    hash.write(pk.as_bytes());
    feed_range_name(hash.0 % FEED_RANGES)
}

/// Where a change feed read is: the last change read from each partition, by its key.
#[derive(Default, Serialize, Deserialize)]
struct FeedPosition {
    after: BTreeMap<String, u64>,
}

impl FeedPosition {
    fn parse(token: &str) -> Result<FeedPosition> {
        serde_json::from_str(token).map_err(|_| Error::BadRequest {
            message: format!(
                "`{token}` is not a change feed continuation of the embedded store; pass back the continuation a change feed page returned"
            ),
        })
    }

    fn token(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
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

/// Which documents are still alive: those whose time to live has not run out at `now`.
#[derive(Clone, Copy)]
struct Live {
    ttl: Option<i32>,
    now: u64,
}

/// Every live document of the locked `partitions` (in key order), in (partition key, id)
/// order, after `after`.
fn in_scope<'a>(
    partitions: &'a [(String, RwLockReadGuard<'_, Partition>)],
    after: Option<(&str, &str)>,
    live: Live,
) -> impl Iterator<Item = (&'a String, &'a String, &'a Stored)> + 'a {
    let after = after.map(|(pk, id)| (pk.to_owned(), id.to_owned()));
    partitions
        .iter()
        .flat_map(move |(pk, docs)| {
            // Resume inside the partition of the last row returned, after its id.
            let from = match &after {
                Some((last_pk, last_id)) if last_pk == pk => Bound::Excluded(last_id.clone()),
                _ => Bound::Unbounded,
            };
            docs.range((from, Bound::Unbounded))
                .map(move |(id, doc)| (pk, id, doc))
        })
        .filter(move |(_, _, doc)| !doc.expired(live.ttl, live.now))
}

/// Cosmos DB's unique keys: no two documents of a partition share the values of a key's paths
/// (a missing property counts as a value of its own, as `null` does).
fn unique(
    container: Container<'_>,
    key: ItemKey<'_>,
    effect: &Effect,
    partition: &BTreeMap<String, Stored>,
) -> Result<()> {
    let Effect::Put(doc, _) = effect else {
        return Ok(());
    };
    for paths in container.model.unique_keys {
        let values = |doc: &Stored| -> Vec<Option<Value>> {
            paths
                .iter()
                .map(|path| {
                    path.trim_start_matches('/')
                        .split('/')
                        .try_fold(doc.json(), |value, name| value.get(name))
                        .cloned()
                })
                .collect()
        };
        let mine = values(doc);
        if partition
            .iter()
            .any(|(id, other)| id != key.id && values(other) == mine)
        {
            return Err(Error::UniqueKeyViolation {
                container: key.container.to_owned(),
                partition_key: key.partition_key.clone(),
                id: key.id.to_owned(),
                paths: paths.iter().map(|path| (*path).to_owned()).collect(),
            });
        }
    }
    Ok(())
}

/// Cosmos DB serves ORDER BY on several properties only from a composite index over them, in
/// that order and with those directions (or all reversed), and refuses the query otherwise.
/// Cosmos DB's rule that a full-text function reads only paths in the container's full-text
/// policy (`#[cosmos(full_text)]`).
fn check_full_text(model: &ContainerModel, filter: Option<&Expr>) -> Result<()> {
    let Some(filter) = filter else {
        return Ok(());
    };
    match filter {
        Expr::FullText(path, how, _) => {
            let pointer = path.pointer();
            if model
                .full_text_paths
                .iter()
                .any(|text| text.path == pointer)
            {
                Ok(())
            } else {
                Err(Error::BadRequest {
                    message: format!(
                        "{} reads `{pointer}`, which the container's full-text policy does not hold: mark the field #[cosmos(full_text)] (Cosmos DB refuses it too)",
                        how.function()
                    ),
                })
            }
        }
        Expr::And(a, b) | Expr::Or(a, b) => {
            check_full_text(model, Some(a))?;
            check_full_text(model, Some(b))
        }
        Expr::Not(a) => check_full_text(model, Some(a)),
        _ => Ok(()),
    }
}

fn check_order_by(model: &ContainerModel, spec: &QuerySpec) -> Result<()> {
    if spec.order_by.len() < 2 {
        return Ok(());
    }
    let wanted: Vec<(String, bool)> = spec
        .order_by
        .iter()
        .map(|(path, descending)| (path.pointer(), *descending))
        .collect();
    let served = model.composite_indexes.iter().any(|index| {
        index.len() == wanted.len()
            && [false, true].into_iter().any(|reversed| {
                index
                    .iter()
                    .zip(&wanted)
                    .all(|(indexed, (path, descending))| {
                        indexed.path == path && (indexed.descending != reversed) == *descending
                    })
            })
    });
    if served {
        return Ok(());
    }
    let fields: Vec<String> = wanted
        .iter()
        .map(|(path, descending)| {
            format!(
                "{}{}",
                path.trim_start_matches('/'),
                if *descending { " desc" } else { "" }
            )
        })
        .collect();
    Err(Error::BadRequest {
        message: format!(
            "the order by query does not have a corresponding composite index that it can be served from (as Cosmos DB answers); declare it on the type: #[cosmos(composite_index({}))]",
            fields.join(", ")
        ),
    })
}

/// What a query returns for `doc`: its bytes, or the selected values as JSON; `None` when a
/// selected value is undefined.
fn project(select: &Select, doc: &Stored) -> Option<Bytes> {
    let value = match select {
        Select::Documents | Select::Nearest(_) | Select::Ranked(_) => {
            return Some(doc.bytes.clone());
        }
        Select::Value(path) => path.lookup(doc.json())?.clone(),
        Select::Array(paths) => Value::Array(
            paths
                .iter()
                .map(|path| path.lookup(doc.json()).cloned())
                .collect::<Option<Vec<_>>>()?,
        ),
    };
    Some(Bytes::from(value.to_string()))
}

/// A number as Cosmos DB writes it: integral values without a fraction (`SUM` of integers is
/// `13`, not `13.0`), so that they deserialize as integers too.
fn as_written(value: Value) -> Value {
    match value.as_f64() {
        Some(n) if n.fract() == 0.0 && n.abs() <= limits::MAX_SAFE_INTEGER as f64 => {
            Value::from(n as i64)
        }
        _ => value,
    }
}

/// A document body as JSON; the repository serialized it, so only a store bug fails here.
fn parse(body: &str) -> Result<Value> {
    serde_json::from_str(body).map_err(|e| Error::BadRequest {
        message: format!("a document body is not JSON: {e}"),
    })
}

/// What a write stores: the text a repository sent, or a patched document.
enum Body<'a> {
    Sent(&'a str),
    Patched(Value),
}

/// The system properties Cosmos DB maintains on every stored document.
const SYSTEM_PROPERTIES: [&str; 5] = ["_rid", "_self", "_etag", "_attachments", "_ts"];

/// Whether `text` may hold a system property of its own (then it is parsed, and they are
/// overwritten); a false alarm only costs the parse.
fn mentions_system(text: &str) -> bool {
    [
        "\"_rid\"",
        "\"_self\"",
        "\"_etag\"",
        "\"_attachments\"",
        "\"_ts\"",
    ]
    .iter()
    .any(|quoted| text.contains(quoted))
}

/// The system properties of one version of a document.
struct SystemProperties {
    rid: String,
    self_link: String,
    etag: String,
    ts: u64,
}

impl SystemProperties {
    fn values(&self) -> [Value; 5] {
        [
            Value::from(self.rid.as_str()),
            Value::from(self.self_link.as_str()),
            Value::from(self.etag.as_str()),
            Value::from("attachments/"),
            Value::from(self.ts),
        ]
    }

    /// Sets them on a document.
    fn stamp(&self, body: &mut Map<String, Value>) {
        for (name, value) in SYSTEM_PROPERTIES.into_iter().zip(self.values()) {
            body.insert(name.to_owned(), value);
        }
    }

    /// Them as JSON members to append to a document's text (`"_rid":...,"_ts":...`).
    fn members(&self) -> String {
        let mut members = String::new();
        for (name, value) in SYSTEM_PROPERTIES.into_iter().zip(self.values()) {
            if !members.is_empty() {
                members.push(',');
            }
            members.push('"');
            members.push_str(name);
            members.push_str("\":");
            members.push_str(&value.to_string());
        }
        members
    }
}

/// The JSON object `text` with `members` appended.
fn appended(text: &str, members: &str) -> Vec<u8> {
    let open = text.trim_end().strip_suffix('}').unwrap_or(text).trim_end();
    let mut bytes = Vec::with_capacity(open.len() + members.len() + 2);
    bytes.extend_from_slice(open.as_bytes());
    if !open.ends_with('{') {
        bytes.push(b',');
    }
    bytes.extend_from_slice(members.as_bytes());
    bytes.push(b'}');
    bytes
}
