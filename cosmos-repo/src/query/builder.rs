use std::marker::PhantomData;

use futures::{Stream, TryStreamExt as _};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::continuation::{self, Binding};
use super::expr::{Path, SqlQuery};
use super::field::Field;
use super::filter::{Filter, OrderBy};
use super::sql;
use crate::document::CosmosDocument;
use crate::error::{Error, Result};
use crate::key::{IntoPartitionKey, PartitionKey};
use crate::limits;
use crate::repository::Repository;
use crate::response::Response;
use crate::store::{QueryRequest, QuerySpec, Scope, Select};

/// One page of query results.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Page<T> {
    /// The results on this page, at most the requested page size.
    pub items: Vec<T>,
    /// Pass to [`Query::page`] for the next page; `None` when there are no more. A page may
    /// be empty and still have a continuation.
    pub continuation: Option<String>,
    /// The request units (RU) charged for this page, summed over its requests.
    pub request_charge: f64,
}

impl<T> Page<T> {
    pub(crate) fn new(items: Vec<T>, continuation: Option<String>, request_charge: f64) -> Self {
        Page {
            items,
            continuation,
            request_charge,
        }
    }
}

/// A query that has not said which partitions it reads yet: call [`Query::partition`] or
/// [`Query::cross_partition`]. Only then can it run, so a fan-out over every partition is
/// always written down.
#[derive(Debug)]
pub struct Unscoped;

/// A query that reads one partition, or every partition.
#[derive(Debug)]
pub struct Scoped(pub(crate) Option<PartitionKey>);

/// A typed query over the documents of a [`Repository`], made by [`Repository::query`].
///
/// Conditions come from the document's typed fields (`T::FIELDS`), so the property names follow
/// serde's renames and the values must have the field's type. Values are always sent as
/// parameters (`@p0`, `@p1`, ...), never spliced into the SQL.
///
/// # Examples
///
/// ```
/// use cosmos_repo::prelude::*;
///
/// #[derive(Debug, Clone, Serialize, Deserialize, CosmosDocument)]
/// #[serde(rename_all = "camelCase")]
/// struct Order {
///     #[id]
///     id: String,
///     #[partition_key]
///     customer_id: String,
///     total: f64,
///     tags: Vec<String>,
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> cosmos_repo::Result<()> {
/// let orders = Repository::<Order>::in_memory();
/// for (id, total) in [("o-1", 10.0), ("o-2", 250.0), ("o-3", 99.5)] {
///     let tags = vec!["gift".to_owned()];
///     orders.create(&Order { id: id.into(), customer_id: "contoso".into(), total, tags }).await?;
/// }
/// let fields = Order::FIELDS;
/// let big = orders
///     .query()
///     .partition("contoso")
///     .filter(fields.total.gt(50.0).and(fields.tags.array_contains("gift")))
///     .order_by(fields.total.desc())
///     .all()
///     .await?;
/// assert_eq!(big.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(), ["o-2", "o-3"]);
///
/// let totals: Vec<f64> = orders.query().cross_partition().select(fields.total).all().await?;
/// assert_eq!(totals.len(), 3);
/// assert_eq!(orders.query().cross_partition().count().await?, 3);
/// # Ok(()) }
/// ```
#[must_use = "a query does nothing until it is run"]
pub struct Query<'r, T: CosmosDocument, S = Unscoped, P = T> {
    repo: &'r Repository<T>,
    scope: S,
    filter: Option<Filter<T>>,
    order_by: Vec<(Path, bool)>,
    offset: Option<u64>,
    limit: Option<u64>,
    select: Select,
    output: PhantomData<fn() -> P>,
}

impl<'r, T: CosmosDocument> Query<'r, T> {
    pub(crate) fn new(repo: &'r Repository<T>) -> Self {
        Query {
            repo,
            scope: Unscoped,
            filter: None,
            order_by: Vec::new(),
            offset: None,
            limit: None,
            select: Select::Documents,
            output: PhantomData,
        }
    }
}

impl<'r, T: CosmosDocument, P> Query<'r, T, Unscoped, P> {
    /// Reads one partition. The partition-key condition is also added to the SQL.
    pub fn partition(
        self,
        partition_key: impl IntoPartitionKey<T::PartitionKey>,
    ) -> Query<'r, T, Scoped, P> {
        self.scoped(Scoped(Some(partition_key.into_partition_key())))
    }

    /// Reads every partition: a fan-out, charged per partition.
    pub fn cross_partition(self) -> Query<'r, T, Scoped, P> {
        self.scoped(Scoped(None))
    }

    fn scoped(self, scope: Scoped) -> Query<'r, T, Scoped, P> {
        Query {
            repo: self.repo,
            scope,
            filter: self.filter,
            order_by: self.order_by,
            offset: self.offset,
            limit: self.limit,
            select: self.select,
            output: PhantomData,
        }
    }
}

impl<'r, T: CosmosDocument, S, P> Query<'r, T, S, P> {
    /// Keeps documents matching `filter`; several calls must all match.
    pub fn filter(mut self, filter: Filter<T>) -> Self {
        self.filter = Some(match self.filter.take() {
            Some(existing) => existing.and(filter),
            None => filter,
        });
        self
    }

    /// Sorts by `key`; several calls sort by the first, then the next, and so on.
    pub fn order_by(mut self, key: OrderBy<T>) -> Self {
        self.order_by.push((key.path, key.descending));
        self
    }

    /// Returns at most `n` results (`TOP n`, or `LIMIT n` with an offset).
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }

    /// Skips the first `n` results (`OFFSET n LIMIT ...`). Cosmos DB supports it; the local
    /// test server does not (see the tests' server notes).
    pub fn offset(mut self, n: u64) -> Self {
        self.offset = Some(n);
        self
    }

    /// Returns only the given fields: one field gives its values, a tuple of fields gives
    /// tuples (`SELECT VALUE c.total`, `SELECT VALUE [c.id, c.total]`). Documents where a
    /// selected field is missing are skipped.
    pub fn select<Q: Projection<T>>(self, projection: Q) -> Query<'r, T, S, Q::Output> {
        self.returning(projection.select().0)
    }

    /// Returns whole documents decoded as `U`, a type with a subset of `T`'s fields.
    pub fn select_as<U: DeserializeOwned>(self) -> Query<'r, T, S, U> {
        self.returning(Select::Documents)
    }

    fn returning<U>(self, select: Select) -> Query<'r, T, S, U> {
        Query {
            repo: self.repo,
            scope: self.scope,
            filter: self.filter,
            order_by: self.order_by,
            offset: self.offset,
            limit: self.limit,
            select,
            output: PhantomData,
        }
    }
}

impl<'r, T: CosmosDocument, P: DeserializeOwned> Query<'r, T, Scoped, P> {
    /// The query as the stores take it.
    fn spec(&self) -> Result<QuerySpec> {
        if let Some(key) = &self.scope.0 {
            limits::check_partition_key(key)?;
        }
        let filter = self.filter.as_ref().map(Filter::expr).transpose()?.cloned();
        Ok(QuerySpec {
            filter,
            order_by: self.order_by.clone(),
            offset: self.offset,
            limit: self.limit,
            select: self.select.clone(),
        })
    }

    fn request<'a>(&'a self, spec: &'a QuerySpec) -> QueryRequest<'a> {
        QueryRequest {
            container: self.repo.container(),
            partition_key_paths: T::PARTITION_KEY_PATHS,
            scope: match &self.scope.0 {
                Some(key) => Scope::Partition(key),
                None => Scope::CrossPartition,
            },
            spec,
        }
    }

    /// One page from the store, its continuation checked against this query on the way in and
    /// bound to it on the way out.
    async fn fetch(
        &self,
        spec: &QuerySpec,
        page_size: u32,
        continuation: Option<&str>,
    ) -> Result<Page<Value>> {
        continuation::check_page_size(page_size)?;
        let request = self.request(spec);
        let binding = Binding::of(self.repo.container(), request.scope, &sql::render(&request));
        let store_token = binding.open(continuation)?;
        let mut page = self
            .repo
            .store()
            .query_page(request, page_size, store_token)
            .await?;
        page.continuation = binding.seal(page.continuation.take());
        Ok(page)
    }

    /// The query as Cosmos DB SQL with its parameters, as the SDK store sends it.
    ///
    /// # Errors
    ///
    /// [`Error::Serialization`] if a value in a condition did not serialize to JSON.
    ///
    /// # Examples
    ///
    /// ```
    /// use cosmos_repo::prelude::*;
    ///
    /// #[derive(Serialize, Deserialize, CosmosDocument)]
    /// struct Order { #[id] id: String, #[partition_key] customer: String, total: f64 }
    ///
    /// let orders = Repository::<Order>::in_memory();
    /// let sql = orders.query().partition("contoso").filter(Order::FIELDS.total.gt(10.0)).to_sql()?;
    /// assert_eq!(sql.text, "SELECT * FROM c WHERE c.customer = @p0 AND c.total > @p1");
    /// # Ok::<(), cosmos_repo::Error>(())
    /// ```
    pub fn to_sql(&self) -> Result<SqlQuery> {
        let spec = self.spec()?;
        Ok(sql::render(&self.request(&spec)))
    }

    /// One page of at most `page_size` results, after `continuation` (`None` for the first).
    ///
    /// # Errors
    ///
    /// [`Error::BadRequest`] for a page size of 0, a continuation this query did not produce
    /// (checked before any request) or a query the store rejects; [`Error::Serialization`]
    /// when a result does not decode.
    pub async fn page(self, page_size: u32, continuation: Option<&str>) -> Result<Page<P>> {
        let spec = self.spec()?;
        decode_page(self.fetch(&spec, page_size, continuation).await?)
    }

    /// Every result, fetched page by page.
    ///
    /// # Errors
    ///
    /// As [`page`](Query::page).
    pub async fn all(self) -> Result<Vec<P>> {
        self.all_with_meta().await.map(Response::into_value)
    }

    /// Every result, with the request charge summed over all pages.
    ///
    /// # Errors
    ///
    /// As [`page`](Query::page).
    pub async fn all_with_meta(self) -> Result<Response<Vec<P>>> {
        let spec = self.spec()?;
        let mut items = Vec::new();
        let mut charge = 0.0;
        let mut continuation: Option<String> = None;
        loop {
            let page = self
                .fetch(&spec, DEFAULT_PAGE_SIZE, continuation.as_deref())
                .await?;
            charge += page.request_charge;
            items.extend(decode_items::<P>(page.items)?);
            match page.continuation {
                Some(next) => continuation = Some(next),
                None => return Ok(Response::new(items, charge, None, None)),
            }
        }
    }

    /// The first result, if any.
    ///
    /// # Errors
    ///
    /// As [`page`](Query::page).
    pub async fn first(self) -> Result<Option<P>> {
        let mut continuation: Option<String> = None;
        let query = self.limit(1);
        let spec = query.spec()?;
        loop {
            let page = query.fetch(&spec, 1, continuation.as_deref()).await?;
            let page = decode_page::<P>(page)?;
            if let Some(first) = page.items.into_iter().next() {
                return Ok(Some(first));
            }
            match page.continuation {
                Some(next) => continuation = Some(next),
                None => return Ok(None),
            }
        }
    }

    /// Whether any document matches.
    ///
    /// # Errors
    ///
    /// As [`page`](Query::page).
    pub async fn exists(self) -> Result<bool> {
        Ok(self.select_as::<Value>().first().await?.is_some())
    }

    /// How many documents match the filter in the query's scope (sorting, offset and limit
    /// do not apply). Across partitions the count is summed per partition range, which the
    /// SDK cannot do in one query.
    ///
    /// # Errors
    ///
    /// As [`page`](Query::page).
    pub async fn count(self) -> Result<u64> {
        let spec = self.spec()?;
        Ok(self.repo.store().count(self.request(&spec)).await?.value)
    }

    /// The results as a stream that fetches a page of `page_size` at a time, when the
    /// previous one is used up: memory stays bounded by the page size. A `page_size` of 0
    /// yields [`Error::BadRequest`].
    pub fn stream(self, page_size: u32) -> impl Stream<Item = Result<P>> + 'r
    where
        P: 'r,
    {
        let start = self.spec().map(|spec| (self, spec));
        futures::stream::try_unfold(Streaming::Start(start), move |state| async move {
            let (query, spec, continuation) = match state {
                Streaming::Start(start) => {
                    let (query, spec) = start?;
                    (query, spec, None)
                }
                Streaming::Next(_, _, None) => return Ok::<_, Error>(None),
                Streaming::Next(query, spec, Some(next)) => (query, spec, Some(next)),
            };
            let page = query
                .fetch(&spec, page_size, continuation.as_deref())
                .await?;
            let page = decode_page::<P>(page)?;
            let items = futures::stream::iter(page.items.into_iter().map(Ok::<P, Error>));
            Ok(Some((
                items,
                Streaming::Next(query, spec, page.continuation),
            )))
        })
        .try_flatten()
    }
}

/// The state of [`Query::stream`] between pages.
enum Streaming<'r, T: CosmosDocument, P> {
    Start(Result<(Query<'r, T, Scoped, P>, QuerySpec)>),
    Next(Query<'r, T, Scoped, P>, QuerySpec, Option<String>),
}

/// The page size `all` uses.
const DEFAULT_PAGE_SIZE: u32 = 1000;

pub(crate) fn decode_page<P: DeserializeOwned>(page: Page<Value>) -> Result<Page<P>> {
    let items = decode_items(page.items)?;
    Ok(Page::new(items, page.continuation, page.request_charge))
}

fn decode_items<P: DeserializeOwned>(items: Vec<Value>) -> Result<Vec<P>> {
    items
        .into_iter()
        .map(|item| {
            serde_json::from_value(item).map_err(|source| Error::Serialization {
                action: "deserialize",
                type_name: std::any::type_name::<P>(),
                source,
            })
        })
        .collect()
}

/// What [`Query::select`] can return: one field, or a tuple of up to four fields.
pub trait Projection<D> {
    /// The Rust type of each result.
    type Output: DeserializeOwned;

    #[doc(hidden)]
    fn select(&self) -> Selection;
}

/// The paths a [`Projection`] selects. Not public API.
#[doc(hidden)]
pub struct Selection(Select);

impl<D, V: DeserializeOwned> Projection<D> for Field<D, V> {
    type Output = V;

    fn select(&self) -> Selection {
        Selection(Select::Value(*self.path()))
    }
}

macro_rules! tuple_projection {
    ($($field:ident: $value:ident),+) => {
        impl<D, $($value: DeserializeOwned),+> Projection<D> for ($(Field<D, $value>,)+) {
            type Output = ($($value,)+);

            fn select(&self) -> Selection {
                let ($($field,)+) = self;
                Selection(Select::Array(vec![$(*$field.path()),+]))
            }
        }
    };
}

tuple_projection!(a: A, b: B);
tuple_projection!(a: A, b: B, c: C);
tuple_projection!(a: A, b: B, c: C, d: D2);
