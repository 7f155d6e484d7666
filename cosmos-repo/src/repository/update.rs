//! Read-modify-write with optimistic concurrency, retried under a time budget.

use std::convert::Infallible;
use std::future::IntoFuture;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;

use super::{Repository, await_value, decode, encode};
use crate::concurrency::jitter;
use crate::document::CosmosDocument;
use crate::error::{Error, Result};
use crate::key::PartitionKey;
use crate::response::Response;
use crate::seam::{Action, ItemOperation};
use crate::trace::traced;

/// How long an update keeps retrying by default.
const DEFAULT_TIME_BUDGET: Duration = Duration::from_secs(30);

/// The longest pause between two attempts.
const MAX_PAUSE: Duration = Duration::from_millis(500);

/// When an update stops retrying.
#[derive(Clone, Copy, Debug)]
struct Retry {
    budget: Duration,
    max_attempts: Option<u32>,
}

impl Retry {
    /// The pause before attempt `attempt + 1` ("full jitter"): a random wait below a ceiling
    /// that doubles with each attempt from 1 ms, so writers contending for one document spread
    /// out instead of colliding again in lockstep. `None` once the budget or the bound is spent.
    fn pause(&self, attempt: u32, started: Instant) -> Option<Duration> {
        if self.max_attempts.is_some_and(|max| attempt >= max) {
            return None;
        }
        let ceiling = Duration::from_millis(1 << attempt.min(16)).min(MAX_PAUSE);
        let pause = Duration::from_micros(jitter(attempt, ceiling.as_micros() as u64 + 1));
        (started.elapsed() + pause < self.budget).then_some(pause)
    }
}

/// A read-modify-write with retries, from [`Repository::update`].
#[must_use = "a request does nothing until it is awaited"]
pub struct Update<'a, T: CosmosDocument, F> {
    inner: TryUpdate<'a, T, F>,
}

impl<'a, T: CosmosDocument, F: FnMut(&mut T)> Update<'a, T, F> {
    pub(super) fn new(
        repo: &'a Repository<T>,
        partition_key: PartitionKey,
        id: &'a str,
        change: F,
    ) -> Self {
        Update {
            inner: TryUpdate::new(repo, partition_key, id, change),
        }
    }

    /// How long to keep retrying after losing races to concurrent writers (30 s by default),
    /// pauses included. The first attempt always runs.
    pub fn time_budget(self, budget: Duration) -> Self {
        Update {
            inner: self.inner.time_budget(budget),
        }
    }

    /// Gives up after `attempts` read-modify-write cycles (at least 1), even within the time
    /// budget. No bound by default.
    pub fn max_attempts(self, attempts: u32) -> Self {
        Update {
            inner: self.inner.max_attempts(attempts),
        }
    }

    /// Runs the update; resolves to the stored document, with the request charge summed over
    /// every request made.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if there is no such document; [`Error::UpdateConflict`] if every
    /// attempt within the budget lost to a concurrent writer; [`Error::Unsupported`] if
    /// `change` altered the id or the partition key.
    pub async fn with_meta(self) -> Result<Response<T>> {
        let TryUpdate {
            repo,
            partition_key,
            id,
            mut change,
            retry,
        } = self.inner;
        let infallible = |doc: &mut T| {
            change(doc);
            Ok::<(), Infallible>(())
        };
        let updated = TryUpdate {
            repo,
            partition_key,
            id,
            change: infallible,
            retry,
        };
        let response = updated.with_meta().await?;
        response.try_map(|result| result.map_err(|never: Infallible| match never {}))
    }
}

await_value!(['a, T, F] Update<'a, T, F> => T where T: CosmosDocument + Send + Sync, F: FnMut(&mut T) + Send + 'a);

/// A read-modify-write whose change may refuse, from [`Repository::try_update`].
#[must_use = "a request does nothing until it is awaited"]
pub struct TryUpdate<'a, T: CosmosDocument, F> {
    repo: &'a Repository<T>,
    partition_key: PartitionKey,
    id: &'a str,
    change: F,
    retry: Retry,
}

impl<'a, T: CosmosDocument, F> TryUpdate<'a, T, F> {
    pub(super) fn new(
        repo: &'a Repository<T>,
        partition_key: PartitionKey,
        id: &'a str,
        change: F,
    ) -> Self {
        TryUpdate {
            repo,
            partition_key,
            id,
            change,
            retry: Retry {
                budget: DEFAULT_TIME_BUDGET,
                max_attempts: None,
            },
        }
    }

    /// As [`Update::time_budget`].
    pub fn time_budget(mut self, budget: Duration) -> Self {
        self.retry.budget = budget;
        self
    }

    /// As [`Update::max_attempts`].
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.retry.max_attempts = Some(attempts.max(1));
        self
    }
}

impl<T: CosmosDocument, F, E> TryUpdate<'_, T, F>
where
    F: FnMut(&mut T) -> std::result::Result<(), E>,
{
    /// Runs the update; resolves to the stored document, or to the change's rejection with
    /// nothing written, with the request charge summed over every request made.
    ///
    /// # Errors
    ///
    /// As [`Update::with_meta`].
    pub async fn with_meta(mut self) -> Result<Response<std::result::Result<T, E>>> {
        let repo = self.repo;
        let update = async {
            let started = Instant::now();
            let mut charge = 0.0;
            let mut attempt = 0;
            loop {
                attempt += 1;
                let read = ItemOperation {
                    id: self.id,
                    action: Action::Read(None),
                    if_match: None,
                };
                let current = decode::<T>(repo.execute(&self.partition_key, read).await?)?;
                charge += current.request_charge;
                let etag = current.etag.clone();
                let mut doc = current.value;
                if let Err(rejection) = (self.change)(&mut doc) {
                    return Ok(Response::new(
                        Err(rejection),
                        charge,
                        current.activity_id,
                        etag,
                        current.status,
                    ));
                }
                if doc.id() != self.id || doc.partition_key() != self.partition_key {
                    return Err(Error::Unsupported {
                        message: format!(
                            "the change given to `update` altered the id or partition key of document `{}`; create a new document and delete the old one instead",
                            self.id
                        ),
                    });
                }
                let body = encode(&doc, &self.partition_key)?;
                let replace = ItemOperation {
                    id: self.id,
                    action: Action::Replace(&body),
                    if_match: etag.as_ref(),
                };
                match repo.execute(&self.partition_key, replace).await {
                    Ok(stored) => {
                        let mut stored = decode::<T>(stored)?;
                        stored.request_charge += charge;
                        return Ok(stored.map(Ok));
                    }
                    Err(Error::PreconditionFailed { .. }) => {
                        match self.retry.pause(attempt, started) {
                            Some(pause) => futures_timer::Delay::new(pause).await,
                            None => {
                                return Err(Error::UpdateConflict {
                                    container: repo.container.to_string(),
                                    partition_key: self.partition_key.clone(),
                                    id: self.id.to_owned(),
                                    attempts: attempt,
                                });
                            }
                        }
                    }
                    Err(err) => return Err(err),
                }
            }
        };
        traced("update", &repo.container, Some(self.id), update).await
    }
}

impl<'a, T, F, E> IntoFuture for TryUpdate<'a, T, F>
where
    T: CosmosDocument + Send + Sync,
    F: FnMut(&mut T) -> std::result::Result<(), E> + Send + 'a,
    E: Send + 'a,
{
    type Output = Result<std::result::Result<T, E>>;
    type IntoFuture = BoxFuture<'a, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { self.with_meta().await.map(Response::into_value) })
    }
}
