//! The change feed, typed: the documents of a container as they change, and a processor that
//! several instances of a service run at once.
//!
//! [`Repository::change_feed`] reads the feed in latest-version mode, as Cosmos DB keeps it:
//! each changed document once, at its latest version (a document written three times since the
//! last read comes once); deleted documents do not appear. A type that shares its container
//! sees only its own documents. Within a partition key, changes come in the order they were
//! made; across partition keys there is no order.
//!
//! ```
//! use cosmos_repo::prelude::*;
//! use futures::TryStreamExt as _;
//!
//! #[derive(Debug, Serialize, Deserialize, CosmosDocument)]
//! struct Order { #[id] id: String, #[partition_key] customer: String, total: f64 }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> cosmos_repo::Result<()> {
//! let orders = Repository::<Order>::in_memory();
//! orders.upsert(&Order { id: "o-1".into(), customer: "contoso".into(), total: 5.0 }).await?;
//! // Every change so far, then resume from where that read ended.
//! let page = orders.change_feed().cross_partition().from_beginning().page(100).await?;
//! assert_eq!(page.items.len(), 1);
//! let token = page.continuation.clone().unwrap();
//! orders.upsert(&Order { id: "o-1".into(), customer: "contoso".into(), total: 7.5 }).await?;
//! let later: Vec<Order> = orders
//!     .change_feed()
//!     .cross_partition()
//!     .from_continuation(token)
//!     .stream(100)
//!     .try_collect()
//!     .await?;
//! assert_eq!(later[0].total, 7.5);
//! # Ok(()) }
//! ```

mod processor;

use std::marker::PhantomData;

use futures::Stream;
use serde::de::DeserializeOwned;

use crate::ast::SqlQuery;
use crate::document::CosmosDocument;
use crate::error::{Error, Result};
use crate::key::{IntoPartitionKey, PartitionKey};
use crate::query::{Binding, Page, Scoped, Target, Unscoped, decode_page};
use crate::repository::{ReadRepository, Repository};
use crate::seam::{ChangeScope, ChangeStart, Scope};
use crate::trace::traced;

pub use processor::{
    ChangeBatch, ChangeFeedProcessor, ChangeFeedProcessorBuilder, Lease, ProcessorHandle, RangeLag,
};

/// A read of a container's change feed, from [`Repository::change_feed`]: choose the partition
/// key or the whole container, then where to start, then read a [`page`](ChangeFeed::page) or
/// [`stream`](ChangeFeed::stream) the changed documents.
#[must_use = "a change feed read does nothing until it is run"]
pub struct ChangeFeed<'r, T: CosmosDocument, S = Unscoped> {
    target: Target<'r>,
    scope: S,
    start: Start,
    output: PhantomData<fn() -> T>,
}

/// Where a change feed read starts.
#[derive(Clone, Debug)]
enum Start {
    Beginning,
    Now,
    /// A continuation as handed out: bound to the feed that made it.
    Continuation(String),
}

impl<T: CosmosDocument> Repository<T> {
    /// Starts a read of this container's change feed (latest-version mode): see
    /// [`ChangeFeed`], and [`ChangeFeedProcessor`] to process it from many instances.
    pub fn change_feed(&self) -> ChangeFeed<'_, T> {
        ChangeFeed::new(self.target())
    }

    /// The container's feed ranges: parts of its partition key space that together cover it
    /// once, each with its own change feed. A [`ChangeFeedProcessor`] keeps one [`Lease`] per
    /// range. Opaque text: the embedded store divides every container into four.
    ///
    /// # Errors
    ///
    /// The store's errors (a missing container, for one).
    pub async fn feed_ranges(&self) -> Result<Vec<String>> {
        let target = self.target();
        target.store.feed_ranges(target.container).await
    }
}

impl<T: CosmosDocument> ReadRepository<T> {
    /// Starts a read of this container's change feed: see [`Repository::change_feed`].
    pub fn change_feed(&self) -> ChangeFeed<'_, T> {
        ChangeFeed::new(self.target())
    }
}

impl<'r, T: CosmosDocument> ChangeFeed<'r, T> {
    fn new(target: Target<'r>) -> Self {
        ChangeFeed {
            target,
            scope: Unscoped,
            start: Start::Beginning,
            output: PhantomData,
        }
    }

    /// Reads the changes of one partition key.
    pub fn partition(
        self,
        partition_key: impl IntoPartitionKey<T::PartitionKey>,
    ) -> ChangeFeed<'r, T, Scoped> {
        self.scoped(Scoped(Some(partition_key.into_partition_key())))
    }

    /// Reads the changes of every partition key.
    pub fn cross_partition(self) -> ChangeFeed<'r, T, Scoped> {
        self.scoped(Scoped(None))
    }

    fn scoped(self, scope: Scoped) -> ChangeFeed<'r, T, Scoped> {
        ChangeFeed {
            target: self.target,
            scope,
            start: self.start,
            output: PhantomData,
        }
    }
}

impl<'r, T: CosmosDocument + DeserializeOwned + Send + 'r> ChangeFeed<'r, T, Scoped> {
    /// Starts with the oldest change Cosmos DB keeps: every document as it is now (the
    /// default).
    pub fn from_beginning(mut self) -> Self {
        self.start = Start::Beginning;
        self
    }

    /// Starts after the changes made so far: only later writes are read.
    pub fn from_now(mut self) -> Self {
        self.start = Start::Now;
        self
    }

    /// Resumes after the changes a page ended at: pass the page's `continuation`. A token of
    /// another feed (another container or scope), or one altered or made up, is refused with
    /// [`Error::BadRequest`] before any request.
    pub fn from_continuation(mut self, token: impl Into<String>) -> Self {
        self.start = Start::Continuation(token.into());
        self
    }

    /// Reads one page: at most `max_items` changed documents, and the continuation to read on
    /// from, which a change feed page always has (an empty page: no changes since).
    ///
    /// # Errors
    ///
    /// [`Error::BadRequest`] for a continuation of another feed;
    /// [`Error::Serialization`] when a document does not decode
    /// as `T`; the store's errors otherwise.
    pub async fn page(self, max_items: u32) -> Result<Page<T>> {
        let feed = Feed {
            target: self.target,
            scope: self.scope.0,
        };
        let start = self.start;
        traced(
            "change_feed.page",
            self.target.container.name,
            None,
            async move { feed.page(&start, max_items).await },
        )
        .await
    }

    /// The changed documents from the start point until the feed has nothing newer, a page of
    /// `page_size` at a time, then the stream ends. Keep the last page's continuation with
    /// [`page`](ChangeFeed::page) to resume later, or run a [`ChangeFeedProcessor`] to follow
    /// the feed as it grows.
    pub fn stream(self, page_size: u32) -> impl Stream<Item = Result<T>> + Send + 'r {
        let feed = Feed {
            target: self.target,
            scope: self.scope.0,
        };
        let pages = futures::stream::try_unfold(Some(self.start), move |start| {
            let feed = feed.clone();
            async move {
                let Some(start) = start else {
                    return Ok::<_, Error>(None);
                };
                let page: Page<T> = feed.page(&start, page_size).await?;
                let next = page
                    .continuation
                    .clone()
                    .filter(|_| !page.items.is_empty())
                    .map(Start::Continuation);
                let documents = page.items.into_iter().map(Ok::<T, Error>);
                Ok(Some((futures::stream::iter(documents), next)))
            }
        });
        futures::TryStreamExt::try_flatten(pages)
    }
}

/// A change feed's store and scope, owned, to read page after page.
#[derive(Clone)]
struct Feed<'r> {
    target: Target<'r>,
    scope: Option<PartitionKey>,
}

impl Feed<'_> {
    /// What continuations of this feed are bound to.
    fn binding(&self) -> Binding {
        let scope = match &self.scope {
            Some(key) => Scope::Partition(key),
            None => Scope::CrossPartition,
        };
        Binding::of(self.target.container.name, scope, &change_feed_text())
    }

    async fn page<T: DeserializeOwned>(&self, start: &Start, max_items: u32) -> Result<Page<T>> {
        crate::query::check_page_size(max_items)?;
        let binding = self.binding();
        let start = match start {
            Start::Beginning => ChangeStart::Beginning,
            Start::Now => ChangeStart::Now,
            Start::Continuation(token) => {
                ChangeStart::Continuation(binding.open(Some(token))?.unwrap_or_default())
            }
        };
        let scope = match &self.scope {
            Some(key) => {
                crate::limits::check_partition_key(key)?;
                ChangeScope::Partition(key)
            }
            None => ChangeScope::Container,
        };
        let mut page = self
            .target
            .store
            .changes(self.target.container, scope, start, max_items)
            .await?;
        page.continuation = binding.seal(page.continuation.take());
        decode_page(page)
    }
}

/// The text continuations of a change feed are bound with, beside the container and scope.
fn change_feed_text() -> SqlQuery {
    SqlQuery {
        text: "change feed, latest version".to_owned(),
        parameters: Vec::new(),
    }
}
