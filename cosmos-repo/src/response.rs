//! What every operation answers: its result with the request's metadata.

use crate::concurrency::{Etag, SessionToken};

/// A result together with the metadata of the request(s) that produced it.
///
/// Returned by `.with_meta()` on any request, e.g.
/// `orders.read("contoso", "o-100").with_meta().await`.
///
/// # Examples
///
/// ```
/// # use cosmos_repo::prelude::*;
/// # #[derive(Serialize, Deserialize, CosmosDocument)]
/// # struct Order { #[id] id: String, #[partition_key] customer: String }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> cosmos_repo::Result<()> {
/// let orders = Repository::<Order>::in_memory();
/// let order = Order { id: "o-1".into(), customer: "contoso".into() };
/// let created = orders.create(&order).with_meta().await?;
/// println!("{} RU, etag {:?}", created.request_charge, created.etag);
/// let order: Order = created.into_value();
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Response<T> {
    /// The result.
    pub value: T,
    /// The request charge in request units (RU), summed over every request the operation made.
    /// The embedded store charges nothing and reports 0.
    pub request_charge: f64,
    /// The service's activity id of the last request, for support cases and log correlation.
    pub activity_id: Option<String>,
    /// The document's etag after the operation, when there is a document.
    pub etag: Option<Etag>,
    /// The HTTP status of the last request (`200`, `201`, `204`, ...): how Cosmos DB answered
    /// it, such as `201` for a create and `200` for an upsert that overwrote.
    pub status: u16,
    /// The session token of the last request, to read this write (or a later state) from
    /// another instance: see [`SessionToken`]. `None` on the embedded store, which is strongly
    /// consistent, and for results made of several requests.
    pub session_token: Option<SessionToken>,
}

impl<T> Response<T> {
    pub(crate) fn new(
        value: T,
        request_charge: f64,
        activity_id: Option<String>,
        etag: Option<Etag>,
        status: u16,
    ) -> Self {
        Response {
            value,
            request_charge,
            activity_id,
            etag,
            status,
            session_token: None,
        }
    }

    /// The response with the session token of its request. (Only the SDK store has sessions.)
    #[cfg_attr(not(feature = "cosmos"), allow(dead_code))]
    pub(crate) fn with_session_token(mut self, session_token: Option<SessionToken>) -> Self {
        self.session_token = session_token;
        self
    }

    /// The result, without the metadata.
    pub fn into_value(self) -> T {
        self.value
    }

    /// Converts the result, keeping the metadata.
    ///
    /// # Errors
    ///
    /// `f`'s error, when it fails.
    pub fn try_map<U, E>(self, f: impl FnOnce(T) -> Result<U, E>) -> Result<Response<U>, E> {
        Ok(Response {
            value: f(self.value)?,
            request_charge: self.request_charge,
            activity_id: self.activity_id,
            etag: self.etag,
            status: self.status,
            session_token: self.session_token,
        })
    }

    /// Converts the result, keeping the metadata.
    pub(crate) fn map<U>(self, f: impl FnOnce(T) -> U) -> Response<U> {
        Response {
            value: f(self.value),
            request_charge: self.request_charge,
            activity_id: self.activity_id,
            etag: self.etag,
            status: self.status,
            session_token: self.session_token,
        }
    }
}

/// One page of query results.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Page<T> {
    /// The results on this page, at most the requested page size.
    pub items: Vec<T>,
    /// Pass to `page` for the next page; `None` when there are no more. A page may be empty
    /// and still have a continuation.
    pub continuation: Option<String>,
    /// The request units (RU) charged for this page, summed over its requests.
    pub request_charge: f64,
    /// The service's activity id of the page's last request.
    pub activity_id: Option<String>,
}

impl<T> Page<T> {
    pub(crate) fn new(
        items: Vec<T>,
        continuation: Option<String>,
        request_charge: f64,
        activity_id: Option<String>,
    ) -> Self {
        Page {
            items,
            continuation,
            request_charge,
            activity_id,
        }
    }
}
