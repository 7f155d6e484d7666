//! Running a query, typed or raw: its scope, the paging loop every terminal operation shares,
//! and the request type those operations return.

use std::future::{Future, IntoFuture};

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{Stream, TryStreamExt as _};
use serde::de::DeserializeOwned;

use super::continuation::{self, Binding};
use crate::ast::SqlQuery;
use crate::concurrency::SessionToken;
use crate::error::{Error, Result};
use crate::key::PartitionKey;
use crate::response::{Page, Response};
use crate::seam::{self, Container, Feed, QuerySpec, QueryText, Scope, Store};
use crate::sql;
use crate::trace::traced;

/// A query that has not said which partitions it reads yet: call `partition` or
/// `cross_partition`. Only then can it run, so a fan-out over every partition is always
/// written down.
#[derive(Debug)]
pub struct Unscoped;

/// A query that reads one partition, or every partition.
#[derive(Debug)]
pub struct Scoped(pub(crate) Option<PartitionKey>);

/// Where a query runs: the store and container of the repository that made it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Target<'r> {
    pub store: &'r dyn Store,
    pub container: Container<'r>,
}

/// What a query says, owned.
#[derive(Clone, Debug)]
pub(crate) enum Text {
    Typed(Box<QuerySpec>),
    Sql(SqlQuery),
}

/// A scoped query, ready to run page by page.
#[derive(Debug)]
pub(crate) struct Run<'r> {
    pub target: Target<'r>,
    pub scope: Option<PartitionKey>,
    pub text: Text,
    /// The results see at least the writes of this session token.
    pub session_token: Option<SessionToken>,
}

/// The page size `all` uses.
const DEFAULT_PAGE_SIZE: u32 = 1000;

/// The documents a query of `target` in `scope` reads, as of `session_token`.
pub(crate) fn feed<'a>(
    target: Target<'a>,
    scope: &'a Option<PartitionKey>,
    session_token: Option<&'a SessionToken>,
) -> Feed<'a> {
    Feed {
        container: target.container,
        scope: match scope {
            Some(key) => Scope::Partition(key),
            None => Scope::CrossPartition,
        },
        session_token,
    }
}

impl Run<'_> {
    /// One page from the store, its continuation checked against this query on the way in and
    /// bound to it on the way out.
    pub(crate) async fn page(
        &self,
        page_size: u32,
        continuation: Option<&str>,
    ) -> Result<Page<Bytes>> {
        let page = self.fetch(page_size, continuation);
        traced("query.page", self.target.container.name, None, page).await
    }

    async fn fetch(&self, page_size: u32, continuation: Option<&str>) -> Result<Page<Bytes>> {
        continuation::check_page_size(page_size)?;
        let feed = feed(self.target, &self.scope, self.session_token.as_ref());
        let rendered;
        let text = match &self.text {
            Text::Typed(spec) => {
                rendered = sql::render(&feed, spec);
                QueryText::Typed(spec, &rendered)
            }
            Text::Sql(sql) => QueryText::Sql(sql),
        };
        let binding = match text {
            QueryText::Typed(_, sql) | QueryText::Sql(sql) => {
                Binding::of(feed.container.name, feed.scope, sql)
            }
        };
        let store_token = binding.open(continuation)?;
        let mut page = self
            .target
            .store
            .query_page(feed, text, page_size, store_token)
            .await?;
        page.continuation = binding.seal(page.continuation.take());
        Ok(page)
    }

    /// Every result, fetched page by page, with the request charge summed.
    pub(crate) async fn all<P: DeserializeOwned>(&self) -> Result<Response<Vec<P>>> {
        let mut items = Vec::new();
        let (mut charge, mut activity_id) = (0.0, None);
        let mut continuation: Option<String> = None;
        loop {
            let page = decode_page::<P>(
                self.page(DEFAULT_PAGE_SIZE, continuation.as_deref())
                    .await?,
            )?;
            charge += page.request_charge;
            activity_id = page.activity_id.or(activity_id);
            items.extend(page.items);
            match page.continuation {
                Some(next) => continuation = Some(next),
                None => return Ok(Response::new(items, charge, activity_id, None, 200)),
            }
        }
    }

    /// The first result, if any, reading pages of one until there is one or none is left.
    pub(crate) async fn first<P: DeserializeOwned>(&self) -> Result<Response<Option<P>>> {
        let (mut charge, mut activity_id) = (0.0, None);
        let mut continuation: Option<String> = None;
        loop {
            let page = decode_page::<P>(self.page(1, continuation.as_deref()).await?)?;
            charge += page.request_charge;
            activity_id = page.activity_id.or(activity_id);
            let first = page.items.into_iter().next();
            match (first, page.continuation) {
                (None, Some(next)) => continuation = Some(next),
                (first, _) => return Ok(Response::new(first, charge, activity_id, None, 200)),
            }
        }
    }

    /// The pages of the results, each fetched when the previous one is used up.
    pub(crate) fn pages<'s, P: DeserializeOwned + 's>(
        self,
        page_size: u32,
    ) -> impl Stream<Item = Result<Page<P>>> + 's
    where
        Self: 's,
    {
        futures::stream::try_unfold(Some((self, None)), move |state| async move {
            let Some((run, continuation)) = state else {
                return Ok::<_, Error>(None);
            };
            let page: Page<P> =
                decode_page(run.page(page_size, Option::as_deref(&continuation)).await?)?;
            let next = page.continuation.clone().map(|next| (run, Some(next)));
            Ok(Some((page, next)))
        })
    }

    /// The results, a page of `page_size` at a time: memory stays bounded by the page size.
    pub(crate) fn stream<'s, P: DeserializeOwned + 's>(
        self,
        page_size: u32,
    ) -> impl Stream<Item = Result<P>> + 's
    where
        Self: 's,
    {
        self.pages(page_size)
            .map_ok(|page: Page<P>| futures::stream::iter(page.items.into_iter().map(Ok)))
            .try_flatten()
    }
}

pub(crate) fn decode_page<P: DeserializeOwned>(page: Page<Bytes>) -> Result<Page<P>> {
    let items = page
        .items
        .iter()
        .map(|item| seam::decode(item))
        .collect::<Result<_>>()?;
    Ok(Page::new(
        items,
        page.continuation,
        page.request_charge,
        page.activity_id,
    ))
}

/// A query's terminal operation, from `all`, `first`, `exists` or `count`: await it for the
/// result, or call [`with_meta`](Fetch::with_meta) first for the request charge and activity id
/// as well, as with point operations.
#[must_use = "a query does nothing until it is awaited"]
pub struct Fetch<'r, O> {
    operation: BoxFuture<'r, Result<Response<O>>>,
}

impl<'r, O: Send + 'r> Fetch<'r, O> {
    pub(crate) fn new(
        op: &'static str,
        container: &'r str,
        operation: impl Future<Output = Result<Response<O>>> + Send + 'r,
    ) -> Self {
        Fetch {
            operation: Box::pin(traced(op, container, None, operation)),
        }
    }

    /// Runs the query; resolves to the result with the request charge summed over every page
    /// fetched, and the last page's activity id.
    ///
    /// # Errors
    ///
    /// [`Error::BadRequest`] for a page size of 0, a continuation this query did not produce
    /// (checked before any request) or a query the store rejects; [`Error::Serialization`]
    /// when a result does not decode.
    pub async fn with_meta(self) -> Result<Response<O>> {
        self.operation.await
    }
}

impl<'r, O: Send + 'r> IntoFuture for Fetch<'r, O> {
    type Output = Result<O>;
    type IntoFuture = BoxFuture<'r, Result<O>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { self.operation.await.map(Response::into_value) })
    }
}
