//! Bulk writes and deletes: many independent operations, several in flight at a time.

use std::future::IntoFuture;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::{Stream, StreamExt as _};
use serde_json::value::RawValue;

use super::Repository;
use crate::concurrency::jitter;
use crate::document::CosmosDocument;
use crate::error::{Error, Result};
use crate::key::PartitionKey;
use crate::response::Response;
use crate::seam::{Action, ItemOperation};
use crate::trace::traced;

/// Operations in flight at once by default.
const DEFAULT_CONCURRENCY: usize = 16;

/// How long one operation may wait out throttling (429) in total before it is reported as
/// [`Error::Throttled`].
const THROTTLE_BUDGET: Duration = Duration::from_secs(60);

/// One operation of a bulk, by the position of its input.
type Operation<'a, O> = Box<dyn Fn(usize) -> BoxFuture<'a, Result<Response<O>>> + Send + Sync + 'a>;

/// Many independent writes or deletes, from [`Repository::upsert_all`],
/// [`Repository::create_all`] or [`Repository::delete_all`]: at most
/// [`concurrency`](Bulk::concurrency) in flight at once (16 by default), each waiting out
/// throttling (429) as long as the service's retry-after says.
///
/// Awaited, it resolves to a [`BulkReport`] with one outcome per input, in input order: a failed
/// operation does not stop the others. [`stream`](Bulk::stream) shows progress instead, each
/// outcome as it completes. Unlike a [`Batch`](super::Batch), a bulk is not atomic.
///
/// # Examples
///
/// ```
/// use cosmos_repo::prelude::*;
///
/// #[derive(Serialize, Deserialize, CosmosDocument)]
/// struct Reading { #[id] id: String, #[partition_key] sensor: String, celsius: f64 }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> cosmos_repo::Result<()> {
/// let readings = Repository::<Reading>::in_memory();
/// let batch: Vec<Reading> = (0..100)
///     .map(|i| Reading { id: format!("r-{i}"), sensor: format!("s-{}", i % 4), celsius: 20.0 })
///     .collect();
/// let report = readings.create_all(&batch).concurrency(8).await;
/// assert!(report.is_success());
///
/// // Creating them again fails for each, and reports each.
/// let again = readings.create_all(&batch[..3]).await;
/// assert_eq!(again.failures().count(), 3);
/// # Ok(())
/// # }
/// ```
#[must_use = "a bulk does nothing until it is awaited or streamed"]
pub struct Bulk<'a, T: CosmosDocument, O> {
    repo: &'a Repository<T>,
    operation: Operation<'a, O>,
    len: usize,
    concurrency: usize,
    op: &'static str,
}

impl<'a, T: CosmosDocument + Send + Sync> Bulk<'a, T, T> {
    pub(super) fn writes(repo: &'a Repository<T>, docs: &'a [T], create: bool) -> Self {
        let action: fn(&RawValue) -> Action<'_> = if create {
            |body| Action::Create(body)
        } else {
            |body| Action::Upsert(body)
        };
        Bulk {
            repo,
            operation: Box::new(move |index| {
                Box::pin(throttled(move || repo.write(&docs[index], action, None)))
            }),
            len: docs.len(),
            concurrency: DEFAULT_CONCURRENCY,
            op: if create { "create_all" } else { "upsert_all" },
        }
    }
}

impl<'a, T: CosmosDocument + Send + Sync> Bulk<'a, T, ()> {
    pub(super) fn deletes(repo: &'a Repository<T>, keys: Vec<(PartitionKey, String)>) -> Self {
        let len = keys.len();
        Bulk {
            repo,
            operation: Box::new(move |index| {
                let (partition_key, id) = &keys[index];
                let (partition_key, id) = (partition_key.clone(), id.clone());
                Box::pin(throttled(move || {
                    let (partition_key, id) = (partition_key.clone(), id.clone());
                    async move {
                        let operation = ItemOperation {
                            id: &id,
                            action: Action::Delete,
                            if_match: None,
                        };
                        let deleted = repo.execute(&partition_key, operation).await?;
                        Ok(deleted.map(|_| ()))
                    }
                }))
            }),
            len,
            concurrency: DEFAULT_CONCURRENCY,
            op: "delete_all",
        }
    }
}

impl<'a, T: CosmosDocument, O: Send + 'a> Bulk<'a, T, O> {
    /// At most `n` operations in flight at once (at least 1; 16 by default).
    pub fn concurrency(self, n: usize) -> Self {
        Bulk {
            concurrency: n.max(1),
            ..self
        }
    }

    /// The outcomes as they complete, each with the position of its input: progress, and a
    /// bounded memory for any number of inputs.
    pub fn stream(self) -> impl Stream<Item = (usize, Result<Response<O>>)> + 'a {
        let Bulk {
            repo,
            operation,
            len,
            concurrency,
            op,
        } = self;
        futures::stream::iter(0..len)
            .map(move |index| {
                let run = traced(op, &repo.container, None, operation(index));
                async move { (index, run.await) }
            })
            .buffer_unordered(concurrency)
    }
}

impl<'a, T: CosmosDocument, O: Send + 'a> IntoFuture for Bulk<'a, T, O> {
    type Output = BulkReport<O>;
    type IntoFuture = BoxFuture<'a, BulkReport<O>>;

    fn into_future(self) -> Self::IntoFuture {
        let len = self.len;
        Box::pin(async move {
            let mut outcomes: Vec<Option<Result<Response<O>>>> = (0..len).map(|_| None).collect();
            let mut request_charge = 0.0;
            let mut done = self.stream();
            while let Some((index, outcome)) = done.next().await {
                if let Ok(response) = &outcome {
                    request_charge += response.request_charge;
                }
                outcomes[index] = Some(outcome);
            }
            BulkReport {
                outcomes: outcomes.into_iter().flatten().collect(),
                request_charge,
            }
        })
    }
}

/// Retries `operation` while the service throttles it (429), waiting as long as it says (or a
/// jittered pause when it does not), for at most [`THROTTLE_BUDGET`] in all.
async fn throttled<R, F>(operation: impl Fn() -> F) -> Result<R>
where
    F: Future<Output = Result<R>>,
{
    let mut waited = Duration::ZERO;
    let mut attempt = 0;
    loop {
        attempt += 1;
        match operation().await {
            Err(Error::Throttled { retry_after, .. }) if waited < THROTTLE_BUDGET => {
                let pause = retry_after
                    .unwrap_or_else(|| Duration::from_millis(jitter(attempt, 100) + 5))
                    .min(THROTTLE_BUDGET - waited);
                waited += pause;
                futures_timer::Delay::new(pause).await;
            }
            outcome => return outcome,
        }
    }
}

/// What a bulk did: one outcome per input, in input order, and the request charge summed.
#[derive(Debug)]
#[non_exhaustive]
pub struct BulkReport<O> {
    /// The outcome of each input, at its input's position.
    pub outcomes: Vec<Result<Response<O>>>,
    /// The request charge of every successful operation, in RU.
    pub request_charge: f64,
}

impl<O> BulkReport<O> {
    /// Whether every operation succeeded.
    pub fn is_success(&self) -> bool {
        self.outcomes.iter().all(Result::is_ok)
    }

    /// The failed operations, as (input position, error).
    pub fn failures(&self) -> impl Iterator<Item = (usize, &Error)> {
        self.outcomes
            .iter()
            .enumerate()
            .filter_map(|(index, outcome)| outcome.as_ref().err().map(|err| (index, err)))
    }
}
