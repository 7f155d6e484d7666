use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;

use futures::{Stream, TryStreamExt as _};

use super::filter::Invalid;
use super::run::{Fetch, Run, Scoped, Target, Text, Unscoped, decode_page};
use crate::ast::SqlQuery;
use crate::concurrency::SessionToken;
use crate::document::CosmosDocument;
use crate::error::{Error, Result};
use crate::key::IntoPartitionKey;
use crate::limits;
use crate::response::Page;

/// A query written in Cosmos DB SQL, made by [`Repository::raw_query`](crate::Repository::raw_query), for what the typed
/// [`Query`](super::Query) cannot say.
///
/// # SQL injection
///
/// The text is sent as written. Never build it with `format!` from values a user controls:
/// put `@name` placeholders in the text and pass the values with [`param`](RawQuery::param),
/// which sends them apart from the SQL, where they cannot change its meaning.
///
/// The embedded store runs the SQL the typed builder writes (what [`Query::to_sql`] shows),
/// and the same with literals and another alias, so unit tests can run the raw queries a service
/// sends: `SELECT [DISTINCT] [TOP n] * | VALUE c.x | VALUE [c.x, ...] | VALUE COUNT(1) | SUM(c.x)
/// | AVG | MIN | MAX FROM c [WHERE ...] [ORDER BY ...] [OFFSET n LIMIT m]`, with comparisons,
/// `IN`, `BETWEEN`, `AND`/`OR`/`NOT`, `STARTSWITH`, `ENDSWITH`, `CONTAINS`, `ARRAY_CONTAINS`,
/// `IS_DEFINED`, `IS_NULL`, `ARRAY_LENGTH` and `EXISTS(SELECT VALUE x FROM x IN c.xs WHERE ...)`.
/// Anything else (`JOIN`, `GROUP BY`, other functions, projections of named properties) is
/// [`Error::Unsupported`], naming the construct; Cosmos DB runs it.
///
/// [`Query::to_sql`]: super::Query::to_sql
///
/// # Examples
///
/// ```no_run
/// use cosmos_repo::prelude::*;
///
/// #[derive(Serialize, Deserialize, CosmosDocument)]
/// #[cosmos(container = "orders")]
/// struct Order { #[id] id: String, #[partition_key] customer: String, total: f64 }
///
/// # async fn run(orders: Repository<Order>) -> cosmos_repo::Result<()> {
/// let totals: Vec<f64> = orders
///     .raw_query("SELECT VALUE c.total FROM c WHERE c.customer = @customer AND c.total > @min")
///     .param("@customer", "contoso")
///     .param("@min", 100.0)
///     .partition("contoso")
///     .returning::<f64>()
///     .all()
///     .await?;
/// # Ok(()) }
/// ```
#[must_use = "a query does nothing until it is run"]
pub struct RawQuery<'r, T: CosmosDocument, S = Unscoped, P = T> {
    target: Target<'r>,
    sql: Result<SqlQuery, Invalid>,
    scope: S,
    session_token: Option<SessionToken>,
    output: PhantomData<fn() -> (T, P)>,
}

impl<'r, T: CosmosDocument> RawQuery<'r, T> {
    pub(crate) fn new(target: Target<'r>, text: String) -> Self {
        RawQuery {
            target,
            sql: Ok(SqlQuery {
                text,
                parameters: Vec::new(),
            }),
            scope: Unscoped,
            session_token: None,
            output: PhantomData,
        }
    }
}

impl<'r, T: CosmosDocument, S, P> RawQuery<'r, T, S, P> {
    /// Binds `value` to the placeholder `name` (such as `"@min"`) in the SQL text.
    pub fn param(mut self, name: impl Into<String>, value: impl Serialize) -> Self {
        let name = name.into();
        self.sql = self.sql.and_then(|mut sql| {
            let value = Invalid::check(&value)?;
            sql.parameters.push((name, value));
            Ok(sql)
        });
        self
    }

    /// Reads as of `token` at least: see [`SessionToken`].
    pub fn session_token(mut self, token: SessionToken) -> Self {
        self.session_token = Some(token);
        self
    }

    /// Decodes each result as `U` instead of `T`, e.g. for `SELECT VALUE c.total`.
    pub fn returning<U: DeserializeOwned>(self) -> RawQuery<'r, T, S, U> {
        RawQuery {
            target: self.target,
            sql: self.sql,
            scope: self.scope,
            session_token: self.session_token,
            output: PhantomData,
        }
    }
}

impl<'r, T: CosmosDocument, P> RawQuery<'r, T, Unscoped, P> {
    /// Runs in one partition.
    pub fn partition(
        self,
        partition_key: impl IntoPartitionKey<T::PartitionKey>,
    ) -> RawQuery<'r, T, Scoped, P> {
        self.scoped(Scoped(Some(partition_key.into_partition_key())))
    }

    /// Runs across every partition.
    pub fn cross_partition(self) -> RawQuery<'r, T, Scoped, P> {
        self.scoped(Scoped(None))
    }

    fn scoped(self, scope: Scoped) -> RawQuery<'r, T, Scoped, P> {
        RawQuery {
            target: self.target,
            sql: self.sql,
            scope,
            session_token: self.session_token,
            output: PhantomData,
        }
    }
}

impl<'r, T: CosmosDocument, P: DeserializeOwned + Send + 'r> RawQuery<'r, T, Scoped, P> {
    fn run(&self) -> Result<Run<'r>> {
        let sql = self.sql.as_ref().map_err(Error::from)?;
        if let Some(key) = &self.scope.0 {
            limits::check_partition_key(key)?;
        }
        Ok(Run {
            target: self.target,
            scope: self.scope.0.clone(),
            text: Text::Sql(sql.clone()),
            session_token: self.session_token.clone(),
        })
    }

    /// One page of at most `page_size` results, after `continuation`, with its request charge
    /// and activity id.
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] on the embedded store; [`Error::BadRequest`] when Cosmos DB
    /// rejects the SQL, for a page size of 0 or a continuation this query did not produce;
    /// [`Error::Serialization`] for a parameter or a result that does not convert.
    pub async fn page(&self, page_size: u32, continuation: Option<&str>) -> Result<Page<P>> {
        decode_page(self.run()?.page(page_size, continuation).await?)
    }

    /// Every result, fetched page by page; `.with_meta()` adds the request charge summed over
    /// the pages.
    pub fn all(&self) -> Fetch<'r, Vec<P>> {
        let run = self.run();
        Fetch::new("raw_query.all", self.target.container.name, async move {
            run?.all().await
        })
    }

    /// The results as a stream of pages of `page_size`, each with its request charge,
    /// activity id and continuation.
    pub fn pages(&self, page_size: u32) -> impl Stream<Item = Result<Page<P>>> + 'r {
        futures::stream::once(futures::future::ready(self.run()))
            .map_ok(move |run| run.pages(page_size))
            .try_flatten()
    }
}
