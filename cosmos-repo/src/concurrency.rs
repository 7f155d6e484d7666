//! ETags, and the randomness and yielding that spread out concurrent work.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::future::Future;
use std::hash::BuildHasher;
use std::pin::Pin;
use std::task::{Context, Poll};

use serde::{Deserialize, Serialize};

/// A document version tag (Cosmos DB's `_etag`), changed by every write.
///
/// Sent as `If-Match`, it makes a write succeed only if the document has not changed since that
/// version was read; otherwise the write fails with [`Error::PreconditionFailed`].
///
/// [`Error::PreconditionFailed`]: crate::Error::PreconditionFailed
///
/// # Examples
///
/// ```
/// use cosmos_repo::Etag;
///
/// let etag = Etag::new("\"00000000-0000-0000-0000-000000000001\"");
/// assert_eq!(etag.as_str(), "\"00000000-0000-0000-0000-000000000001\"");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Etag(String);

impl Etag {
    /// Wraps an etag as the server sent it, quotes included.
    pub fn new(value: impl Into<String>) -> Self {
        Etag(value.into())
    }

    /// The etag as the server sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Etag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Etag {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A session token (Cosmos DB's `x-ms-session-token`): which writes a read must see.
///
/// Every response from Cosmos DB carries one ([`Response::session_token`]). Passed to a later
/// read or query ([`Read::session_token`], `Query::session_token`), possibly in another
/// instance of the service, it makes that read see at least the writes the token came from:
/// read-your-writes for a user across instances, on an account with session consistency. The
/// embedded store is strongly consistent, issues none and needs none.
///
/// [`Response::session_token`]: crate::Response::session_token
/// [`Read::session_token`]: crate::Read::session_token
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionToken(String);

impl SessionToken {
    /// Wraps a token as the service sent it (for one kept elsewhere, such as in a cookie).
    pub fn new(value: impl Into<String>) -> Self {
        SessionToken(value.into())
    }

    /// The token as the service sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A random number in `0..bound` (`bound` > 0), different on every call.
pub(crate) fn jitter(attempt: u32, bound: u64) -> u64 {
    RandomState::new().hash_one(attempt) % bound
}

/// Returns `Pending` once, waking itself: lets other tasks run, as awaiting I/O would.
pub(crate) fn yield_now() -> impl Future<Output = ()> {
    YieldNow { yielded: false }
}

struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            Poll::Ready(())
        } else {
            self.yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}
