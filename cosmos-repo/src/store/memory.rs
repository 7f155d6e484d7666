use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::{ItemKey, Store, WriteMode};
use crate::concurrency::{Etag, yield_now};
use crate::document::CosmosDocument;
use crate::error::{Error, Result};
use crate::repository::Repository;
use crate::response::Response;

/// The embedded store: documents kept in memory with Cosmos DB's semantics for point operations.
///
/// - Documents are stored as JSON with the system properties Cosmos DB adds (`_rid`, `_self`,
///   `_etag`, `_attachments`, `_ts`); `_etag` changes on every write.
/// - 404, 409 and 412 arise exactly where Cosmos DB gives them, and ids are validated as Cosmos
///   DB validates them (1 to 255 characters, none of `/`, `\`, `?`, `#`; the repository checks
///   them before any store sees them).
/// - Partitions are kept apart: one id may exist under two partition keys.
/// - Containers spring into being on first use (Cosmos DB answers 404 for a missing container).
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

/// Partition key (as JSON) -> id -> document.
type Partitions = HashMap<String, BTreeMap<String, Value>>;

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
        if body.get("id").and_then(Value::as_str) != Some(key.id) {
            return Err(Error::BadRequest {
                message: format!("the document's `id` property must be `{}`", key.id),
            });
        }
        let etag = Etag::new(format!("\"00000000-0000-0000-0000-{:012x}\"", self.next()));

        let mut containers = self
            .inner
            .containers
            .write()
            .unwrap_or_else(PoisonError::into_inner);
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
        let containers = self
            .inner
            .containers
            .read()
            .unwrap_or_else(PoisonError::into_inner);
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
        let mut containers = self
            .inner
            .containers
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let partition = containers
            .get_mut(key.container)
            .and_then(|partitions| partitions.get_mut(&key.partition_key.to_string()))
            .ok_or_else(|| key.not_found())?;
        let current = partition.get(key.id).ok_or_else(|| key.not_found())?;
        if let Some(expected) = if_match {
            if etag_of(current) != Some(expected.as_str()) {
                return Err(key.precondition_failed());
            }
        }
        partition.remove(key.id);
        drop(containers);
        Ok(self.response((), None))
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
