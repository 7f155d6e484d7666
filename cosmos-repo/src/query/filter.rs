use std::error::Error as _;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Not;

use serde::Serialize;
use serde_json::Value;

use crate::ast::{Expr, Path};
use crate::error::Error;
use crate::limits;

/// A value that cannot go into a query: serde failed on it, or Cosmos DB cannot hold it exactly
/// (a NaN, an integer beyond 2^53). Kept as text so that filters can be cloned; it becomes an
/// [`Error`] when the query runs, before any request.
#[derive(Clone, Debug)]
pub(crate) enum Invalid {
    /// serde's error on a value of this type.
    Serialize {
        type_name: &'static str,
        message: String,
    },
    /// What Cosmos DB cannot hold, and the fix.
    Refused(String),
}

impl Invalid {
    /// A query value as JSON, checked as documents are (see [`limits::to_json`]).
    pub(crate) fn check<V: Serialize + ?Sized>(value: &V) -> Result<Value, Invalid> {
        limits::to_json(value, &"a query value").map_err(|err| match err {
            Error::BadRequest { message } => Invalid::Refused(message),
            other => Invalid::Serialize {
                type_name: std::any::type_name::<V>(),
                message: other
                    .source()
                    .map_or_else(|| other.to_string(), ToString::to_string),
            },
        })
    }
}

impl From<&Invalid> for Error {
    fn from(invalid: &Invalid) -> Self {
        match invalid {
            Invalid::Serialize { type_name, message } => Error::Serialization {
                action: "serialize",
                type_name,
                source: serde::ser::Error::custom(message),
            },
            Invalid::Refused(message) => Error::BadRequest {
                message: message.clone(),
            },
        }
    }
}

/// A condition on documents of type `D`, built from its typed fields and combined with
/// [`and`](Filter::and), [`or`](Filter::or) and [`not`](Filter::not).
///
/// # Examples
///
/// ```
/// use cosmos_repo::prelude::*;
///
/// #[derive(Serialize, Deserialize, CosmosDocument)]
/// struct Order {
///     #[id]
///     id: String,
///     #[partition_key]
///     customer: String,
///     total: f64,
///     status: String,
/// }
///
/// let big_or_open = Order::FIELDS.total.gt(100.0).or(Order::FIELDS.status.eq("open"));
/// let not_cancelled = Order::FIELDS.status.eq("cancelled").not();
/// # let _ = (big_or_open, not_cancelled);
/// ```
pub struct Filter<D> {
    expr: Result<Expr, Invalid>,
    doc: PhantomData<fn() -> D>,
}

impl<D> Filter<D> {
    pub(crate) fn new(expr: Result<Expr, Invalid>) -> Self {
        Filter {
            expr,
            doc: PhantomData,
        }
    }

    /// Both conditions hold.
    pub fn and(self, other: Filter<D>) -> Filter<D> {
        self.combine(other, |a, b| Expr::And(Box::new(a), Box::new(b)))
    }

    /// At least one condition holds.
    pub fn or(self, other: Filter<D>) -> Filter<D> {
        self.combine(other, |a, b| Expr::Or(Box::new(a), Box::new(b)))
    }

    /// The condition does not hold. As in Cosmos DB, a document for which the condition is
    /// undefined (say, a comparison with a missing field) matches neither it nor its negation.
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Filter<D> {
        Filter::new(self.expr.map(|e| Expr::Not(Box::new(e))))
    }

    fn combine(self, other: Filter<D>, join: impl FnOnce(Expr, Expr) -> Expr) -> Filter<D> {
        Filter::new(self.expr.and_then(|a| Ok(join(a, other.expr?))))
    }

    /// The condition, owned, or the value in it that did not serialize.
    pub(crate) fn into_expr(self) -> Result<Expr, Invalid> {
        self.expr
    }

    /// The condition, or the error of a value in it that did not serialize.
    pub(crate) fn expr(&self) -> Result<&Expr, Error> {
        self.expr.as_ref().map_err(Error::from)
    }
}

impl<D> Clone for Filter<D> {
    fn clone(&self) -> Self {
        Filter::new(self.expr.clone())
    }
}

impl<D> Not for Filter<D> {
    type Output = Filter<D>;

    fn not(self) -> Filter<D> {
        Filter::not(self)
    }
}

impl<D> fmt::Debug for Filter<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Filter").field(&self.expr).finish()
    }
}

/// A sort key: a field, ascending or descending. Made by [`Field::asc`](super::Field::asc) and
/// [`Field::desc`](super::Field::desc).
pub struct OrderBy<D> {
    pub(crate) path: Path,
    pub(crate) descending: bool,
    doc: PhantomData<fn() -> D>,
}

impl<D> OrderBy<D> {
    pub(crate) fn new(path: Path, descending: bool) -> Self {
        OrderBy {
            path,
            descending,
            doc: PhantomData,
        }
    }
}

impl<D> fmt::Debug for OrderBy<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OrderBy")
            .field("path", &self.path.segments())
            .field("descending", &self.descending)
            .finish()
    }
}
