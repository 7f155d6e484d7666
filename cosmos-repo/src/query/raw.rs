use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::builder::{Page, Scoped, Unscoped, decode_page};
use super::continuation::{self, Binding};
use super::expr::SqlQuery;
use super::filter::Invalid;
use crate::document::CosmosDocument;
use crate::error::{Error, Result};
use crate::key::IntoPartitionKey;
use crate::limits;
use crate::repository::Repository;
use crate::store::Scope;

/// A query written in Cosmos DB SQL, made by [`Repository::raw_query`], for what the typed
/// [`Query`](super::Query) cannot say.
///
/// # SQL injection
///
/// The text is sent as written. Never build it with `format!` from values a user controls:
/// put `@name` placeholders in the text and pass the values with [`param`](RawQuery::param),
/// which sends them apart from the SQL, where they cannot change its meaning.
///
/// Only the SDK store runs raw SQL; the embedded store answers [`Error::Unsupported`], since it
/// evaluates typed queries without parsing SQL.
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
    repo: &'r Repository<T>,
    sql: Result<SqlQuery, Invalid>,
    scope: S,
    output: PhantomData<fn() -> P>,
}

impl<'r, T: CosmosDocument> RawQuery<'r, T> {
    pub(crate) fn new(repo: &'r Repository<T>, text: String) -> Self {
        RawQuery {
            repo,
            sql: Ok(SqlQuery {
                text,
                parameters: Vec::new(),
            }),
            scope: Unscoped,
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

    /// Decodes each result as `U` instead of `T`, e.g. for `SELECT VALUE c.total`.
    pub fn returning<U: DeserializeOwned>(self) -> RawQuery<'r, T, S, U> {
        RawQuery {
            repo: self.repo,
            sql: self.sql,
            scope: self.scope,
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
            repo: self.repo,
            sql: self.sql,
            scope,
            output: PhantomData,
        }
    }
}

impl<T: CosmosDocument, P: DeserializeOwned> RawQuery<'_, T, Scoped, P> {
    /// One page of at most `page_size` results, after `continuation`.
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] on the embedded store; [`Error::BadRequest`] when Cosmos DB
    /// rejects the SQL; [`Error::Serialization`] for a parameter or a result that does not
    /// convert.
    pub async fn page(&self, page_size: u32, continuation: Option<&str>) -> Result<Page<P>> {
        let sql = self.sql.as_ref().map_err(Error::from)?;
        let scope = match &self.scope.0 {
            Some(key) => {
                limits::check_partition_key(key)?;
                Scope::Partition(key)
            }
            None => Scope::CrossPartition,
        };
        continuation::check_page_size(page_size)?;
        let binding = Binding::of(self.repo.container(), scope, sql);
        let store_token = binding.open(continuation)?;
        let mut page = self
            .repo
            .store()
            .raw_query_page(self.repo.container(), scope, sql, page_size, store_token)
            .await?;
        page.continuation = binding.seal(page.continuation.take());
        decode_page(page)
    }

    /// Every result, fetched page by page.
    ///
    /// # Errors
    ///
    /// As [`page`](RawQuery::page).
    pub async fn all(&self) -> Result<Vec<P>> {
        let mut items = Vec::new();
        let mut continuation: Option<String> = None;
        loop {
            let page = self.page(1000, continuation.as_deref()).await?;
            items.extend(page.items);
            match page.continuation {
                Some(next) => continuation = Some(next),
                None => return Ok(items),
            }
        }
    }
}
