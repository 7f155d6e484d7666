use std::marker::PhantomData;

use futures::{Stream, TryStreamExt as _};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::field::{Field, TextField, VectorField};
use super::filter::{Filter, OrderBy};
use super::run::{Fetch, Run, Scoped, Target, Text, Unscoped, decode_page, feed};
use crate::ast::{Aggregate, NearestTo, Path, Rank, Select, SqlQuery};
use crate::concurrency::SessionToken;
use crate::document::CosmosDocument;
use crate::error::{Error, Result};
use crate::key::{IntoPartitionKey, KeyPrefix};
use crate::limits;
use crate::response::Page;
use crate::seam::QuerySpec;
use crate::sql;
use crate::values;

/// A typed query over the documents of a [`Repository`](crate::Repository), made by [`Repository::query`](crate::Repository::query).
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
    target: Target<'r>,
    scope: S,
    filter: Option<Filter<T>>,
    order_by: Vec<(Path, bool)>,
    offset: Option<u64>,
    limit: Option<u64>,
    select: Select,
    distinct: bool,
    session_token: Option<SessionToken>,
    output: PhantomData<fn() -> P>,
}

impl<'r, T: CosmosDocument> Query<'r, T> {
    pub(crate) fn new(target: Target<'r>) -> Self {
        Query {
            target,
            scope: Unscoped,
            filter: None,
            order_by: Vec::new(),
            offset: None,
            limit: None,
            select: Select::Documents,
            distinct: false,
            session_token: None,
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

    /// Reads every partition under the first levels of a hierarchical key, typed as a prefix
    /// of the key tuple: `.partition_prefix(("acme",))` for a `(tenant, user)` key. The
    /// prefix's conditions are also added to the SQL.
    pub fn partition_prefix(
        self,
        prefix: impl KeyPrefix<T::PartitionKey>,
    ) -> Query<'r, T, Scoped, P> {
        self.scoped(Scoped(Some(prefix.into_prefix())))
    }

    /// Reads every partition: a fan-out, charged per partition.
    pub fn cross_partition(self) -> Query<'r, T, Scoped, P> {
        self.scoped(Scoped(None))
    }

    fn scoped(self, scope: Scoped) -> Query<'r, T, Scoped, P> {
        Query {
            target: self.target,
            scope,
            filter: self.filter,
            order_by: self.order_by,
            offset: self.offset,
            limit: self.limit,
            select: self.select,
            distinct: self.distinct,
            session_token: self.session_token,
            output: PhantomData,
        }
    }
}

impl<'r, T: CosmosDocument, S, P> Query<'r, T, S, P> {
    /// Reads as of `token` at least (read-your-writes across instances): see
    /// [`SessionToken`]. The embedded store is strongly consistent and needs none.
    pub fn session_token(mut self, token: SessionToken) -> Self {
        self.session_token = Some(token);
        self
    }

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

    pub(crate) fn returning<U>(self, select: Select) -> Query<'r, T, S, U> {
        Query {
            target: self.target,
            scope: self.scope,
            filter: self.filter,
            order_by: self.order_by,
            offset: self.offset,
            limit: self.limit,
            select,
            distinct: self.distinct,
            session_token: self.session_token,
            output: PhantomData,
        }
    }
}

impl<'r, T: CosmosDocument, P> Query<'r, T, Scoped, P> {}

impl<'r, T: CosmosDocument, P: DeserializeOwned + Send + 'r> Query<'r, T, Scoped, P> {
    /// The query as the stores take it, checked as Cosmos DB would check it.
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
            distinct: self.distinct,
        })
    }

    fn run(self) -> Result<Run<'r>> {
        Ok(Run {
            text: Text::Typed(Box::new(self.spec()?)),
            target: self.target,
            scope: self.scope.0,
            session_token: self.session_token,
        })
    }

    /// The query as Cosmos DB SQL with its parameters, as the SDK store sends it.
    ///
    /// # Errors
    ///
    /// [`Error::Serialization`](crate::Error::Serialization) if a value in a condition did not
    /// serialize to JSON; [`Error::BadRequest`](crate::Error::BadRequest) for a value Cosmos DB
    /// cannot hold.
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
        if let Some(key) = &self.scope.0 {
            limits::check_partition_key(key)?;
        }
        let parts = sql::Parts {
            filter: self.filter.as_ref().map(Filter::expr).transpose()?,
            order_by: &self.order_by,
            offset: self.offset,
            limit: self.limit,
            select: &self.select,
            distinct: self.distinct,
        };
        Ok(sql::render_parts(
            &feed(self.target, &self.scope.0, None),
            &parts,
        ))
    }

    /// One page of at most `page_size` results, after `continuation` (`None` for the first).
    /// The page carries its request charge and activity id.
    ///
    /// # Errors
    ///
    /// [`Error::BadRequest`](crate::Error::BadRequest) for a page size of 0, a continuation
    /// this query did not produce (checked before any request) or a query the store rejects;
    /// [`Error::Serialization`](crate::Error::Serialization) when a result does not decode.
    pub async fn page(self, page_size: u32, continuation: Option<&str>) -> Result<Page<P>> {
        decode_page(self.run()?.page(page_size, continuation).await?)
    }

    /// Every result, fetched page by page; `.with_meta()` adds the request charge summed over
    /// the pages.
    pub fn all(self) -> Fetch<'r, Vec<P>> {
        let (container, run) = (self.target.container.name, self.run());
        Fetch::new("query.all", container, async move { run?.all().await })
    }

    /// The first result, if any.
    pub fn first(self) -> Fetch<'r, Option<P>> {
        let container = self.target.container.name;
        let run = self.limit(1).run();
        Fetch::new("query.first", container, async move { run?.first().await })
    }

    /// Whether any document matches.
    pub fn exists(self) -> Fetch<'r, bool> {
        let container = self.target.container.name;
        let run = self.select_as::<Value>().limit(1).run();
        Fetch::new("query.exists", container, async move {
            let first = run?.first::<Value>().await?;
            Ok(first.map(|found| found.is_some()))
        })
    }

    /// How many documents match the filter in the query's scope (sorting, offset and limit
    /// do not apply). Across partitions the count is summed per partition range, which the
    /// SDK cannot do in one query.
    pub fn count(self) -> Fetch<'r, u64> {
        self.aggregate("query.count", Aggregate::Count(None), |count| {
            Ok(count.as_ref().and_then(Value::as_u64).unwrap_or(0))
        })
    }

    /// The sum of a number field over the matching documents (`SUM`); 0 when none match.
    /// `None` when a matching document holds something other than a number there (`null` for
    /// an `Option` field's `None`, unless it is skipped when serializing): Cosmos DB's SUM is
    /// then undefined. Documents without the field are left out. Across partitions, each
    /// partition range's sum is added up.
    pub fn sum<V: NumberField>(self, field: Field<T, V>) -> Fetch<'r, Option<f64>> {
        self.aggregate("query.sum", Aggregate::Sum(*field.path()), number)
    }

    /// The average of a number field over the matching documents that hold it (`AVG`);
    /// `None` when none does, or when one holds something other than a number. Across
    /// partitions, from each partition range's sum and count.
    pub fn avg<V: NumberField>(self, field: Field<T, V>) -> Fetch<'r, Option<f64>> {
        self.aggregate("query.avg", Aggregate::Avg(*field.path()), number)
    }

    /// The smallest value of a field over the matching documents that hold it (`MIN`), in
    /// Cosmos DB's order (`null`, booleans, numbers, strings); `None` when none does.
    pub fn min<V: DeserializeOwned + Send + 'r>(self, field: Field<T, V>) -> Fetch<'r, Option<V>> {
        self.aggregate("query.min", Aggregate::Min(*field.path()), decode)
    }

    /// The largest value of a field over the matching documents that hold it (`MAX`), in
    /// Cosmos DB's order; `None` when none does.
    pub fn max<V: DeserializeOwned + Send + 'r>(self, field: Field<T, V>) -> Fetch<'r, Option<V>> {
        self.aggregate("query.max", Aggregate::Max(*field.path()), decode)
    }

    fn aggregate<O: Send + 'r>(
        self,
        name: &'static str,
        aggregate: Aggregate,
        output: fn(Option<Value>) -> Result<O>,
    ) -> Fetch<'r, O> {
        let (target, spec, scope) = (self.target, self.spec(), self.scope.0);
        let session_token = self.session_token;
        Fetch::new(name, target.container.name, async move {
            let filter = spec?.filter;
            let feed = feed(target, &scope, session_token.as_ref());
            target
                .store
                .aggregate(feed, filter.as_ref(), &aggregate)
                .await?
                .try_map(output)
        })
    }

    /// Groups the matching documents by the value of `key` (`GROUP BY`), for a count or an
    /// aggregate per group, as `(key, result)` pairs in Cosmos DB's order of the keys.
    /// Documents without the key are in no group; sorting, offset and limit do not apply. In
    /// one partition the service groups (`SELECT c.status AS k, COUNT(1) AS v FROM c WHERE ...
    /// GROUP BY c.status`). SDK 1.0 refuses GROUP BY across partitions and over feed ranges,
    /// so there each matching document's key, and the aggregated value, are read (never the
    /// document) and grouped by cosmos-repo with Cosmos DB's rules.
    ///
    /// # Examples
    ///
    /// ```
    /// use cosmos_repo::prelude::*;
    ///
    /// #[derive(Serialize, Deserialize, CosmosDocument)]
    /// struct Order { #[id] id: String, #[partition_key] customer: String, status: String, total: f64 }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> cosmos_repo::Result<()> {
    /// let orders = Repository::<Order>::in_memory();
    /// for (id, status, total) in [("o-1", "paid", 10.0), ("o-2", "open", 5.0), ("o-3", "paid", 2.5)] {
    ///     let order = Order { id: id.into(), customer: "contoso".into(), status: status.into(), total };
    ///     orders.create(&order).await?;
    /// }
    /// let f = Order::FIELDS;
    /// let counts = orders.query().cross_partition().group_by(f.status).count().await?;
    /// assert_eq!(counts, [("open".to_owned(), 1), ("paid".to_owned(), 2)]);
    /// let sums = orders.query().cross_partition().group_by(f.status).sum(f.total).await?;
    /// assert_eq!(sums, [("open".to_owned(), Some(5.0)), ("paid".to_owned(), Some(12.5))]);
    /// # Ok(()) }
    /// ```
    pub fn group_by<K: DeserializeOwned + Send + 'r>(self, key: Field<T, K>) -> Grouped<'r, T, K> {
        let mut query = self.returning::<Value>(Select::Documents);
        query.order_by.clear();
        (query.offset, query.limit) = (None, None);
        Grouped {
            query,
            key: *key.path(),
            output: PhantomData,
        }
    }

    /// Only different results (`SELECT DISTINCT VALUE`), of a projection made with
    /// [`select`](Query::select). Values compare as Cosmos DB compares them (`1` equals `1.0`,
    /// objects whatever their property order). The service leaves out repeats within what it
    /// can see; across partitions (which SDK 1.0 does not merge) cosmos-repo leaves out the
    /// rest, so a distinct query runs to the end with [`Distinct::all`], and its `limit` and
    /// `offset` apply to the distinct results.
    pub fn distinct(mut self) -> Distinct<'r, T, P> {
        let (limit, offset) = (self.limit.take(), self.offset.take());
        self.distinct = true;
        Distinct {
            query: self,
            limit,
            offset,
        }
    }

    /// The results as a stream that fetches a page of `page_size` at a time, when the
    /// previous one is used up: memory stays bounded by the page size. A `page_size` of 0
    /// yields [`Error::BadRequest`](crate::Error::BadRequest).
    pub fn stream(self, page_size: u32) -> impl Stream<Item = Result<P>> + 'r {
        futures::stream::once(futures::future::ready(self.run()))
            .map_ok(move |run| run.stream(page_size))
            .try_flatten()
    }

    /// The results as a stream of pages of `page_size`, each with its request charge,
    /// activity id and continuation (to resume from later with [`page`](Query::page)).
    pub fn pages(self, page_size: u32) -> impl Stream<Item = Result<Page<P>>> + 'r {
        futures::stream::once(futures::future::ready(self.run()))
            .map_ok(move |run| run.pages(page_size))
            .try_flatten()
    }
}

impl<'r, T: CosmosDocument, P> Query<'r, T, Scoped, P> {
    /// Ranks the matching documents by nearness of their `field` (a `#[cosmos(vector(...))]`
    /// field) to `vector`, nearest first, each with its score (`VectorDistance`: cosine
    /// similarity or dot product, larger is nearer; Euclidean distance, smaller is nearer).
    /// Give the number wanted with [`limit`](Nearest::limit) (TOP): Cosmos DB needs one. A
    /// vector of another length than the field's is refused before any request.
    ///
    /// # Examples
    ///
    /// ```
    /// use cosmos_repo::prelude::*;
    ///
    /// #[derive(Serialize, Deserialize, CosmosDocument)]
    /// struct Doc {
    ///     #[id] id: String,
    ///     #[partition_key] topic: String,
    ///     #[cosmos(vector(dimensions = 2, distance = "cosine"))]
    ///     embedding: Vec<f32>,
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> cosmos_repo::Result<()> {
    /// let docs = Repository::<Doc>::in_memory();
    /// for (id, embedding) in [("east", [1.0, 0.0]), ("north", [0.0, 1.0])] {
    ///     docs.create(&Doc { id: id.into(), topic: "t".into(), embedding: embedding.to_vec() }).await?;
    /// }
    /// let near = docs.query().cross_partition().nearest(Doc::FIELDS.embedding, &[0.9, 0.1]).limit(1);
    /// let found = near.all().await?;
    /// assert_eq!(found[0].document.id, "east");
    /// assert!(found[0].score > 0.99);
    /// # Ok(()) }
    /// ```
    pub fn nearest(self, field: VectorField<T>, vector: &[f32]) -> Nearest<'r, T> {
        let select = Select::Nearest(NearestTo {
            path: *field.path(),
            vector: vector.to_vec(),
            distance: field.distance(),
        });
        Nearest(Checked::new(self, select, wrong_length(&field, vector)))
    }
}

impl<'r, T: CosmosDocument, P> Query<'r, T, Scoped, P> {
    /// Ranks the matching documents by BM25 relevance of `field`'s text to `terms`, best first
    /// (`ORDER BY RANK FullTextScore(...)`). The field must be `#[cosmos(full_text)]`; give the
    /// number wanted with [`limit`](Ranked::limit). SDK 1.0 cannot run it (see
    /// [`Ranked`]); the embedded store can.
    pub fn rank_by_text<V: TextField, S: AsRef<str>>(
        self,
        field: Field<T, V>,
        terms: impl IntoIterator<Item = S>,
    ) -> Ranked<'r, T> {
        let terms: Vec<String> = terms.into_iter().map(|t| t.as_ref().to_owned()).collect();
        let invalid = terms
            .is_empty()
            .then(|| "FullTextScore needs at least one term to rank by".to_owned());
        Ranked::new(self, Rank::Text(*field.path(), terms), invalid)
    }

    /// Ranks the matching documents by reciprocal rank fusion (`RRF`) of their nearness to
    /// `vector` and the BM25 relevance of `text`'s text to `terms`, best first; weigh the two
    /// with [`weights`](Ranked::weights). Give the number wanted with
    /// [`limit`](Ranked::limit). SDK 1.0 cannot run it (see [`Ranked`]); the embedded store
    /// can.
    pub fn rank_hybrid<V: TextField, S: AsRef<str>>(
        self,
        field: VectorField<T>,
        vector: &[f32],
        text: Field<T, V>,
        terms: impl IntoIterator<Item = S>,
    ) -> Ranked<'r, T> {
        let terms: Vec<String> = terms.into_iter().map(|t| t.as_ref().to_owned()).collect();
        let invalid = wrong_length(&field, vector).or_else(|| {
            terms
                .is_empty()
                .then(|| "FullTextScore needs at least one term to rank by".to_owned())
        });
        let rank = Rank::Hybrid {
            vector: NearestTo {
                path: *field.path(),
                vector: vector.to_vec(),
                distance: field.distance(),
            },
            text: (*text.path(), terms),
            weights: None,
        };
        Ranked::new(self, rank, invalid)
    }
}

/// Why `vector` cannot be compared with `field`'s vectors, if it cannot.
fn wrong_length<T>(field: &VectorField<T>, vector: &[f32]) -> Option<String> {
    (vector.len() != field.dimensions() as usize).then(|| {
        format!(
            "the vector has {} numbers and `{}` holds {}: embed the query with the model that made the documents' vectors",
            vector.len(),
            field.name(),
            field.dimensions()
        )
    })
}

/// A query ranked by full-text relevance or by a hybrid of vector and text, made by
/// [`Query::rank_by_text`] or [`Query::rank_hybrid`]: give it a [`limit`](Ranked::limit).
///
/// SDK 1.0 refuses full-text and hybrid ranking, so through it such a query fails with
/// [`Error::Unsupported`] before anything is sent; the embedded store ranks with BM25
/// (k1 = 1.2, b = 0.75, whole words) and reciprocal rank fusion (k = 60).
#[must_use = "a query does nothing until it is run"]
pub struct Ranked<'r, T: CosmosDocument>(Checked<'r, T>);

/// A query ordered by what it selects (nearness or rank), with the reason it is refused, if it
/// is: it runs only once given a limit.
struct Checked<'r, T: CosmosDocument> {
    query: Query<'r, T, Scoped, Value>,
    invalid: Option<String>,
}

impl<'r, T: CosmosDocument> Checked<'r, T> {
    fn new<P>(query: Query<'r, T, Scoped, P>, select: Select, invalid: Option<String>) -> Self {
        let mut query = query.returning::<Value>(select);
        query.order_by.clear();
        query.offset = None;
        Checked { query, invalid }
    }

    fn limit(mut self, k: u64) -> Self {
        self.query.limit = Some(k);
        self
    }

    fn refused(&self) -> Result<()> {
        match &self.invalid {
            Some(message) => Err(Error::BadRequest {
                message: message.clone(),
            }),
            None => Ok(()),
        }
    }

    fn to_sql(&self) -> Result<SqlQuery> {
        self.refused()?;
        self.query.to_sql()
    }

    /// Every result, read as `U`, in a span named `op`.
    fn all<U: DeserializeOwned + Send + 'r>(self, op: &'static str) -> Fetch<'r, Vec<U>>
    where
        T: Send + 'r,
    {
        let container = self.query.target.container.name;
        let run = self.refused().and_then(|()| self.query.run());
        Fetch::new(op, container, async move { run?.all::<U>().await })
    }
}

impl<'r, T: CosmosDocument> Ranked<'r, T> {
    fn new<P>(query: Query<'r, T, Scoped, P>, rank: Rank, invalid: Option<String>) -> Self {
        Ranked(Checked::new(query, Select::Ranked(Box::new(rank)), invalid))
    }

    /// Weighs the vector ranking and the text ranking of a hybrid ranking (both 1 by
    /// default). A text-only ranking has nothing to weigh: it is refused when run.
    pub fn weights(mut self, vector: f64, text: f64) -> Self {
        let hybrid = match &mut self.0.query.select {
            Select::Ranked(rank) => match &mut **rank {
                Rank::Hybrid { weights, .. } => Some(weights),
                Rank::Text(..) => None,
            },
            _ => None,
        };
        match hybrid {
            Some(weights) => *weights = Some([vector, text]),
            None => {
                self.0.invalid = Some(
                    "weights apply to a hybrid ranking (rank_hybrid), not to rank_by_text"
                        .to_owned(),
                );
            }
        }
        self
    }

    /// The `k` best ranked documents (`TOP k`).
    pub fn limit(self, k: u64) -> RankedTop<'r, T> {
        RankedTop(self.0.limit(k))
    }
}

/// A ranked query with its limit, ready to run.
#[must_use = "a query does nothing until it is run"]
pub struct RankedTop<'r, T: CosmosDocument>(Checked<'r, T>);

impl<'r, T: CosmosDocument + Send + 'r> RankedTop<'r, T> {
    /// The query's SQL and parameters.
    ///
    /// # Errors
    ///
    /// [`Error::BadRequest`] for a vector of the wrong length, no terms, or an invalid filter
    /// value.
    pub fn to_sql(&self) -> Result<SqlQuery> {
        self.0.to_sql()
    }

    /// The best ranked documents, best first.
    pub fn all(self) -> Fetch<'r, Vec<T>> {
        self.0.all("query.ranked")
    }
}

/// A nearest-neighbour query, made by [`Query::nearest`]: give it a [`limit`](Nearest::limit).
#[must_use = "a query does nothing until it is run"]
pub struct Nearest<'r, T: CosmosDocument>(Checked<'r, T>);

/// A document and its score against the vector of a [`Query::nearest`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Scored<T> {
    /// The document.
    pub document: T,
    /// Its `VectorDistance` to the query's vector.
    pub score: f64,
}

impl<'r, T: CosmosDocument + Send + 'r> Nearest<'r, T> {
    /// The `k` nearest documents (`TOP k`).
    pub fn limit(self, k: u64) -> NearestTop<'r, T> {
        NearestTop(self.0.limit(k))
    }
}

/// A nearest-neighbour query with its limit, ready to run.
#[must_use = "a query does nothing until it is run"]
pub struct NearestTop<'r, T: CosmosDocument>(Checked<'r, T>);

impl<'r, T: CosmosDocument + Send + 'r> NearestTop<'r, T> {
    /// The query's SQL and parameters, as sent to Cosmos DB.
    ///
    /// # Errors
    ///
    /// [`Error::BadRequest`] for a vector of the wrong length, or an invalid filter value.
    pub fn to_sql(&self) -> Result<SqlQuery> {
        self.0.to_sql()
    }

    /// The nearest documents, nearest first, with their scores.
    pub fn all(self) -> Fetch<'r, Vec<Scored<T>>> {
        self.0.all("query.nearest")
    }
}

/// A query for different results only, made by [`Query::distinct`].
///
/// # Examples
///
/// ```
/// use cosmos_repo::prelude::*;
///
/// #[derive(Serialize, Deserialize, CosmosDocument)]
/// struct Order { #[id] id: String, #[partition_key] customer: String, status: String }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> cosmos_repo::Result<()> {
/// let orders = Repository::<Order>::in_memory();
/// for (id, status) in [("o-1", "paid"), ("o-2", "open"), ("o-3", "paid")] {
///     orders.create(&Order { id: id.into(), customer: "contoso".into(), status: status.into() }).await?;
/// }
/// let f = Order::FIELDS;
/// let query = orders.query().cross_partition().select(f.status).order_by(f.status.asc());
/// assert_eq!(query.distinct().all().await?, ["open", "paid"]);
/// # Ok(()) }
/// ```
#[must_use = "a query does nothing until it is run"]
pub struct Distinct<'r, T: CosmosDocument, P> {
    query: Query<'r, T, Scoped, P>,
    limit: Option<u64>,
    offset: Option<u64>,
}

impl<'r, T: CosmosDocument, P: DeserializeOwned + Send + 'r> Distinct<'r, T, P> {
    /// The query as Cosmos DB SQL with its parameters, as the SDK store sends it (its limit
    /// and offset apply afterwards, to the distinct results).
    ///
    /// # Errors
    ///
    /// As [`Query::to_sql`].
    pub fn to_sql(&self) -> Result<SqlQuery> {
        self.query.to_sql()
    }

    /// Every distinct result, in the query's order (the first of repeats kept); `.with_meta()`
    /// adds the request charge summed over the pages.
    pub fn all(self) -> Fetch<'r, Vec<P>> {
        let container = self.query.target.container.name;
        let (skip, take) = (self.offset.unwrap_or(0), self.limit.unwrap_or(u64::MAX));
        let run = match self.query.select {
            Select::Documents => Err(Error::BadRequest {
                message: "distinct() compares projections: call select(...) with the fields to compare first".to_owned(),
            }),
            _ => self.query.run(),
        };
        Fetch::new("query.distinct", container, async move {
            let rows = run?.all::<Value>().await?;
            rows.try_map(|rows| {
                let mut seen = std::collections::HashSet::new();
                rows.into_iter()
                    .filter(|row| seen.insert(values::distinct_key(row)))
                    .skip(usize::try_from(skip).unwrap_or(usize::MAX))
                    .take(usize::try_from(take).unwrap_or(usize::MAX))
                    .map(decode_value)
                    .collect()
            })
        })
    }
}

/// The matching documents grouped by a key, made by [`Query::group_by`]: one count or
/// aggregate per group.
#[must_use = "a query does nothing until it is run"]
pub struct Grouped<'r, T: CosmosDocument, K> {
    query: Query<'r, T, Scoped, Value>,
    key: Path,
    output: PhantomData<fn() -> K>,
}

impl<'r, T: CosmosDocument, K: DeserializeOwned + Send + 'r> Grouped<'r, T, K> {
    /// How many documents each group holds.
    pub fn count(self) -> Fetch<'r, Vec<(K, u64)>> {
        self.fold("query.group_by.count", Aggregate::Count(None), |count| {
            Ok(count.as_ref().and_then(Value::as_u64).unwrap_or(0))
        })
    }

    /// The sum of a number field in each group, with [`Query::sum`]'s rules.
    pub fn sum<V: NumberField>(self, field: Field<T, V>) -> Fetch<'r, Vec<(K, Option<f64>)>> {
        self.fold("query.group_by.sum", Aggregate::Sum(*field.path()), number)
    }

    /// The average of a number field in each group, with [`Query::avg`]'s rules.
    pub fn avg<V: NumberField>(self, field: Field<T, V>) -> Fetch<'r, Vec<(K, Option<f64>)>> {
        self.fold("query.group_by.avg", Aggregate::Avg(*field.path()), number)
    }

    /// The smallest value of a field in each group, with [`Query::min`]'s rules.
    pub fn min<V: DeserializeOwned + Send + 'r>(
        self,
        field: Field<T, V>,
    ) -> Fetch<'r, Vec<(K, Option<V>)>> {
        self.fold("query.group_by.min", Aggregate::Min(*field.path()), decode)
    }

    /// The largest value of a field in each group, with [`Query::max`]'s rules.
    pub fn max<V: DeserializeOwned + Send + 'r>(
        self,
        field: Field<T, V>,
    ) -> Fetch<'r, Vec<(K, Option<V>)>> {
        self.fold("query.group_by.max", Aggregate::Max(*field.path()), decode)
    }

    /// The store's groups, each result read by `output`.
    fn fold<O: Send + 'r>(
        self,
        name: &'static str,
        aggregate: Aggregate,
        output: fn(Option<Value>) -> Result<O>,
    ) -> Fetch<'r, Vec<(K, O)>> {
        let (target, spec, scope) = (self.query.target, self.query.spec(), self.query.scope.0);
        let (key, session_token) = (self.key, self.query.session_token);
        Fetch::new(name, target.container.name, async move {
            let filter = spec?.filter;
            let feed = feed(target, &scope, session_token.as_ref());
            target
                .store
                .group(feed, filter.as_ref(), &key, &aggregate)
                .await?
                .try_map(|groups| {
                    groups
                        .into_iter()
                        .map(|(key, result)| Ok((decode_value(key)?, output(result)?)))
                        .collect()
                })
        })
    }
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

/// A field type [`Query::sum`] and [`Query::avg`] can add up: a number, or an `Option` of one.
#[diagnostic::on_unimplemented(
    message = "`sum` and `avg` need a number field, and `{Self}` is not a number",
    note = "add up integer and float fields; `min`, `max` and `count` take fields of any type"
)]
pub trait NumberField {}

macro_rules! number_fields {
    ($($number:ty),*) => {$(
        impl NumberField for $number {}
        impl NumberField for Option<$number> {}
    )*};
}

number_fields!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);

/// An aggregate's number; `None` when undefined.
fn number(value: Option<Value>) -> Result<Option<f64>> {
    Ok(value.as_ref().and_then(Value::as_f64))
}

/// An aggregate's value as the field's type; `None` when undefined.
fn decode<V: DeserializeOwned>(value: Option<Value>) -> Result<Option<V>> {
    value.map(decode_value).transpose()
}

fn decode_value<V: DeserializeOwned>(value: Value) -> Result<V> {
    serde_json::from_value(value).map_err(|source| Error::Serialization {
        action: "deserialize",
        type_name: std::any::type_name::<V>(),
        source,
    })
}
