//! The change feed processor: instances of a service share a container's feed ranges through
//! leases in a lease container, each range read by one instance at a time.

use std::collections::{HashMap, HashSet};
use std::error::Error as StdError;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use futures::future::{BoxFuture, Either};
use futures::stream::FuturesUnordered;
use futures::{FutureExt as _, StreamExt as _};
use futures_timer::Delay;
use serde::{Deserialize, Serialize};
use tracing::Instrument as _;

use crate::concurrency::Etag;
use crate::document::CosmosDocument;
use crate::error::{Error, Result};
use crate::key::{IntoPartitionKey, PartitionKey};
use crate::repository::Repository;
use crate::response::Response;
use crate::seam::{self, ChangeScope, ChangeStart};
use crate::timestamp::Timestamp;

/// The most documents one batch may ask for.
const MAX_BATCH_SIZE: u32 = 10_000;

/// How many changes [`ProcessorHandle::lag`] counts per range at most.
const LAG_COUNT_LIMIT: u64 = 100_000;

/// A claim on one feed range of the monitored container, for one processor, stored in the
/// lease container. Instances take a lease that is free or whose owner stopped renewing it,
/// renew theirs while they work, and write the range's continuation after each batch; every
/// write is conditional on the lease's etag, so two instances never own one range.
///
/// The lease container is partitioned by `/processor` (create it with
/// `cosmos.ensure_container::<Lease>()` or `az cosmosdb sql container create ...
/// --partition-key-path /processor`); `Repository::<Lease>::with_container` names another one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Lease {
    /// `<processor>:<feed range>`.
    pub id: String,
    /// The processor's name: every lease of a processor is in one partition.
    pub processor: String,
    /// The feed range this lease is for.
    pub feed_range: String,
    /// The instance that holds the lease, if any.
    pub owner: Option<String>,
    /// An instance that asked the owner for the lease, to even out the ranges per instance;
    /// the owner hands it over after its current batch.
    pub requested_by: Option<String>,
    /// Where the range's next batch starts; `None` before the first checkpoint.
    pub continuation: Option<String>,
    /// When the owner last wrote the lease; a lease not renewed within the lease duration is
    /// free to take.
    pub renewed_at: Timestamp,
    /// The stored lease's etag.
    #[serde(rename = "_etag", default, skip_serializing)]
    pub etag: Option<Etag>,
}

// Not offered in diagnostics as the document type a user meant.
#[diagnostic::do_not_recommend]
impl CosmosDocument for Lease {
    type PartitionKey = String;
    type Fields = ();
    const CONTAINER: &'static str = "leases";
    const PARTITION_KEY_PATHS: &'static [&'static str] = &["/processor"];
    const FIELDS: Self::Fields = ();

    fn id(&self) -> &str {
        &self.id
    }

    fn partition_key(&self) -> PartitionKey {
        IntoPartitionKey::<String>::into_partition_key(self.processor.as_str())
    }

    fn etag(&self) -> Option<&Etag> {
        self.etag.as_ref()
    }
}

impl Lease {
    /// Whether the lease's owner renewed it within `duration` of `now`.
    fn held(&self, duration: Duration, now: SystemTime) -> bool {
        self.owner.is_some()
            && SystemTime::from(self.renewed_at)
                .checked_add(duration)
                .is_some_and(|until| until > now)
    }
}

/// The changed documents of one feed range, handed to the processor's handler.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ChangeBatch<T> {
    /// The documents, each at its latest version, in the order of their changes within a
    /// partition key.
    pub documents: Vec<T>,
    /// The feed range they come from.
    pub feed_range: String,
}

/// How far a processor is behind in one feed range, from [`ProcessorHandle::lag`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RangeLag {
    /// The feed range.
    pub feed_range: String,
    /// The instance holding its lease, if any.
    pub owner: Option<String>,
    /// Changed documents after the range's last checkpoint (counted up to 100,000).
    pub pending: u64,
}

/// The boxed error a handler returns.
type HandlerError = Box<dyn StdError + Send + Sync>;

type Handler<T> = dyn Fn(ChangeBatch<T>) -> BoxFuture<'static, std::result::Result<(), HandlerError>>
    + Send
    + Sync;

/// A processor of a container's change feed, made by [`Repository::change_feed_processor`]:
/// run it ([`run`](ChangeFeedProcessor::run)) in as many instances of a service as you like.
///
/// Each instance takes leases on the container's feed ranges (at most its share: ranges
/// divided by running instances, rounded up), reads each of its ranges, calls the handler with
/// each batch of changed documents, and records the range's continuation in the lease once the
/// handler returns `Ok`: delivery is at least once, and a handler error retries the batch
/// after the poll interval. An instance that joins asks the busiest one for a lease, which it
/// hands over after its current batch; the leases of an instance that stops renewing them are
/// taken by the others once the lease duration has passed, from the last checkpoint. Stopping
/// ([`ProcessorHandle::stop`]) finishes the current batches and releases the leases.
///
/// # Examples
///
/// ```
/// use cosmos_repo::prelude::*;
/// use cosmos_repo::change_feed::Lease;
/// use cosmos_repo::MemoryStore;
/// use std::time::Duration;
///
/// #[derive(Debug, Clone, Serialize, Deserialize, CosmosDocument)]
/// struct Order { #[id] id: String, #[partition_key] customer: String, total: f64 }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> cosmos_repo::Result<()> {
/// let store = MemoryStore::new();
/// let orders = store.repository::<Order>();
/// let processor = orders
///     .change_feed_processor("totals", store.repository::<Lease>())
///     .instance("host-1")
///     .poll_interval(Duration::from_millis(20))
///     .build(|batch: cosmos_repo::change_feed::ChangeBatch<Order>| async move {
///         println!("{} orders changed", batch.documents.len());
///         Ok::<(), std::io::Error>(())
///     })?;
/// let handle = processor.handle();
/// let running = tokio::spawn(processor.run());
/// orders.create(&Order { id: "o-1".into(), customer: "contoso".into(), total: 5.0 }).await?;
/// tokio::time::sleep(Duration::from_millis(100)).await;
/// handle.stop();
/// running.await.unwrap()?;
/// # Ok(()) }
/// ```
pub struct ChangeFeedProcessor<T: CosmosDocument> {
    shared: Arc<Shared<T>>,
}

/// Stops a running processor and reports its progress; cheap to clone.
pub struct ProcessorHandle<T: CosmosDocument> {
    shared: Arc<Shared<T>>,
}

impl<T: CosmosDocument> Clone for ProcessorHandle<T> {
    fn clone(&self) -> Self {
        ProcessorHandle {
            shared: Arc::clone(&self.shared),
        }
    }
}

/// Options for a [`ChangeFeedProcessor`], from [`Repository::change_feed_processor`].
#[must_use = "a processor does nothing until it is built and run"]
pub struct ChangeFeedProcessorBuilder<T: CosmosDocument> {
    monitored: Repository<T>,
    leases: Repository<Lease>,
    name: String,
    instance: Option<String>,
    poll_interval: Duration,
    batch_size: u32,
    from_now: bool,
    lease_duration: Duration,
}

struct Shared<T: CosmosDocument> {
    monitored: Repository<T>,
    leases: Repository<Lease>,
    name: String,
    instance: String,
    poll_interval: Duration,
    batch_size: u32,
    from_now: bool,
    lease_duration: Duration,
    handler: Box<Handler<T>>,
    stopping: AtomicBool,
    /// The request charge of this instance's lease requests, in thousandths of an RU.
    lease_charge: AtomicU64,
}

impl<T: CosmosDocument> Repository<T> {
    /// A processor of this container's change feed named `name` (its leases' prefix: run
    /// several processors of one container under different names), keeping its leases in
    /// `leases`. See [`ChangeFeedProcessor`].
    pub fn change_feed_processor(
        &self,
        name: impl Into<String>,
        leases: Repository<Lease>,
    ) -> ChangeFeedProcessorBuilder<T> {
        ChangeFeedProcessorBuilder {
            monitored: self.clone(),
            leases,
            name: name.into(),
            instance: None,
            poll_interval: Duration::from_secs(1),
            batch_size: 100,
            from_now: false,
            lease_duration: Duration::from_secs(30),
        }
    }
}

impl<T: CosmosDocument + Send + Sync + 'static> ChangeFeedProcessorBuilder<T> {
    /// This instance's name, unique among the instances running the processor (by default
    /// one made from the process id and the time).
    pub fn instance(mut self, name: impl Into<String>) -> Self {
        self.instance = Some(name.into());
        self
    }

    /// How long an instance waits before reading a range again once it has caught up, and
    /// between looks at the leases (default 1 s).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// The most documents handed to the handler at once (default 100, at most 10,000).
    pub fn batch_size(mut self, size: u32) -> Self {
        self.batch_size = size;
        self
    }

    /// Processes every document as it is now, then every later change (the default), for a
    /// range that has no checkpoint yet.
    pub fn from_beginning(mut self) -> Self {
        self.from_now = false;
        self
    }

    /// Processes only changes made after the processor first reads a range.
    pub fn from_now(mut self) -> Self {
        self.from_now = true;
        self
    }

    /// How long a lease stays with an instance that stopped renewing it (default 30 s); its
    /// owner renews it three times as often. Other instances take the ranges of a stopped
    /// instance after this long.
    pub fn lease_duration(mut self, duration: Duration) -> Self {
        self.lease_duration = duration;
        self
    }

    /// The processor, calling `handler` with each batch.
    ///
    /// # Errors
    ///
    /// [`Error::BadRequest`] for a batch size of 0 or over 10,000, a zero poll interval, a
    /// lease duration under three poll intervals, or an empty processor or instance name.
    pub fn build<F, Fut, E>(self, handler: F) -> Result<ChangeFeedProcessor<T>>
    where
        F: Fn(ChangeBatch<T>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<(), E>> + Send + 'static,
        E: Into<HandlerError>,
    {
        let invalid = |message: &str| {
            Err(Error::BadRequest {
                message: format!("change feed processor `{}`: {message}", self.name),
            })
        };
        if !(1..=MAX_BATCH_SIZE).contains(&self.batch_size) {
            return invalid("the batch size must be 1 to 10,000");
        }
        if self.poll_interval.is_zero() {
            return invalid("the poll interval must be more than zero");
        }
        if self.lease_duration < self.poll_interval * 3 {
            return invalid("the lease duration must be at least three poll intervals");
        }
        if self.name.is_empty() || self.instance.as_deref() == Some("") {
            return invalid("the processor and instance names must not be empty");
        }
        let instance = self.instance.unwrap_or_else(default_instance_name);
        let handler: Box<Handler<T>> = Box::new(move |batch| {
            let handled = handler(batch);
            async move { handled.await.map_err(Into::into) }.boxed()
        });
        Ok(ChangeFeedProcessor {
            shared: Arc::new(Shared {
                monitored: self.monitored,
                leases: self.leases,
                name: self.name,
                instance,
                poll_interval: self.poll_interval,
                batch_size: self.batch_size,
                from_now: self.from_now,
                lease_duration: self.lease_duration,
                handler,
                stopping: AtomicBool::new(false),
                lease_charge: AtomicU64::new(0),
            }),
        })
    }
}

/// `<process id>-<nanoseconds since the epoch>`: unique enough among a service's instances.
fn default_instance_name() -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    format!("{}-{nanos}", std::process::id())
}

impl<T: CosmosDocument + Send + Sync + 'static> ChangeFeedProcessor<T> {
    /// A handle to stop the processor and see its lag, usable while it runs.
    pub fn handle(&self) -> ProcessorHandle<T> {
        ProcessorHandle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Runs the processor until [`ProcessorHandle::stop`]: spawn it on the service's runtime
    /// (`tokio::spawn(processor.run())`). Resolves once the current batches are done and the
    /// leases released.
    ///
    /// # Errors
    ///
    /// The errors of creating the leases at start (a missing lease container, for one); later
    /// errors of the stores are logged with `tracing` and retried after the poll interval.
    pub async fn run(self) -> Result<()> {
        let shared = self.shared;
        shared.create_leases().await?;
        let mut workers = FuturesUnordered::new();
        let mut running: HashSet<String> = HashSet::new();
        while !shared.stopping() {
            match shared.balance(&running).await {
                Ok(acquired) => {
                    for lease in acquired {
                        running.insert(lease.id.clone());
                        workers.push(Arc::clone(&shared).work(lease).boxed());
                    }
                }
                Err(err) => {
                    tracing::warn!(processor = %shared.name, instance = %shared.instance, error = %err, "could not balance the leases; trying again");
                }
            }
            let pause = Delay::new(shared.poll_interval);
            if workers.is_empty() {
                pause.await;
            } else if let Either::Left((Some(finished), _)) =
                futures::future::select(workers.next(), pause).await
            {
                running.remove(&finished);
            }
        }
        while let Some(finished) = workers.next().await {
            running.remove(&finished);
        }
        shared.retire().await
    }
}

impl<T: CosmosDocument + Send + Sync + 'static> ProcessorHandle<T> {
    /// Asks the processor to stop: each range finishes its current batch and checkpoint, its
    /// lease is released for the instances still running, and [`ChangeFeedProcessor::run`]
    /// resolves.
    pub fn stop(&self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
    }

    /// The instance's name.
    pub fn instance(&self) -> &str {
        &self.shared.instance
    }

    /// The request units this instance has spent on the lease container so far (taking,
    /// renewing, checkpointing and releasing leases, and looking at them): the processor's
    /// cost beyond reading the change feed.
    pub fn lease_request_charge(&self) -> f64 {
        self.shared.lease_charge.load(Ordering::Relaxed) as f64 / 1000.0
    }

    /// How many changed documents each feed range has after its last checkpoint, whoever
    /// holds it: read from the change feed (and charged as such), counted up to 100,000.
    ///
    /// # Errors
    ///
    /// The stores' errors.
    pub async fn lag(&self) -> Result<Vec<RangeLag>> {
        let shared = &self.shared;
        let mut lags = Vec::new();
        for lease in shared.all_leases().await? {
            let mut pending = 0;
            let mut start = lease.continuation.clone();
            if start.is_none() && shared.from_now {
                lags.push(RangeLag {
                    feed_range: lease.feed_range,
                    owner: lease.owner,
                    pending: 0,
                });
                continue;
            }
            while pending < LAG_COUNT_LIMIT {
                let page = shared.changes(&lease.feed_range, start.as_deref()).await?;
                if page.items.is_empty() {
                    break;
                }
                pending += page.items.len() as u64;
                start = page.continuation;
            }
            lags.push(RangeLag {
                feed_range: lease.feed_range,
                owner: lease.owner,
                pending,
            });
        }
        Ok(lags)
    }
}

/// A range's worker stops: another instance holds its lease now (or it was handed over).
struct LostLease;

impl<T: CosmosDocument + Send + Sync + 'static> Shared<T> {
    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    fn lease_key(&self) -> &str {
        &self.name
    }

    /// The value of a lease request, its request charge counted.
    fn charged<R>(&self, response: Result<Response<R>>) -> Result<R> {
        response.map(|response| {
            let millis = (response.request_charge * 1000.0).round() as u64;
            self.lease_charge.fetch_add(millis, Ordering::Relaxed);
            response.value
        })
    }

    async fn replace(&self, lease: &Lease) -> Result<Lease> {
        self.charged(self.leases.replace(lease).with_meta().await)
    }

    async fn read(&self, id: &str) -> Result<Lease> {
        self.charged(self.leases.read(self.lease_key(), id).with_meta().await)
    }

    /// A lease for each feed range of the monitored container that has none yet.
    async fn create_leases(&self) -> Result<()> {
        let target = self.monitored.target();
        let ranges = target.store.feed_ranges(target.container).await?;
        let existing: HashSet<String> = self
            .all_leases()
            .await?
            .into_iter()
            .map(|lease| lease.feed_range)
            .collect();
        for range in ranges.into_iter().filter(|r| !existing.contains(r)) {
            let lease = Lease {
                id: format!("{}:{range}", self.name),
                processor: self.name.clone(),
                feed_range: range,
                owner: None,
                requested_by: None,
                continuation: None,
                renewed_at: Timestamp::now(),
                etag: None,
            };
            match self.charged(self.leases.create(&lease).with_meta().await) {
                Ok(_) | Err(Error::AlreadyExists { .. }) => {}
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }

    async fn all_leases(&self) -> Result<Vec<Lease>> {
        self.charged(
            self.leases
                .query()
                .partition(self.lease_key())
                .all()
                .with_meta()
                .await,
        )
    }

    /// Looks at the leases: starts work on those handed to this instance, takes free or
    /// expired ones up to its share, and asks the busiest instance for one when it has less
    /// than its share and none is free. Answers the leases to start working on.
    async fn balance(&self, running: &HashSet<String>) -> Result<Vec<Lease>> {
        let leases = self.all_leases().await?;
        let now = SystemTime::now();
        let me = self.instance.as_str();
        let mut owned: HashMap<&str, usize> = HashMap::from([(me, 0)]);
        for lease in leases.iter().filter(|l| l.held(self.lease_duration, now)) {
            if let Some(owner) = lease.owner.as_deref() {
                *owned.entry(owner).or_default() += 1;
            }
        }
        let (total, instances) = (leases.len(), owned.len());
        let (most, least) = (total.div_ceil(instances), total / instances);
        let mut acquired: Vec<Lease> = leases
            .iter()
            .filter(|l| l.owner.as_deref() == Some(me) && !running.contains(&l.id))
            .cloned()
            .collect();
        let mut mine = leases
            .iter()
            .filter(|l| l.owner.as_deref() == Some(me))
            .count();
        let free: Vec<&Lease> = leases
            .iter()
            .filter(|l| l.owner.as_deref() != Some(me) && !l.held(self.lease_duration, now))
            .collect();
        for lease in &free {
            if mine >= most {
                break;
            }
            let mut taken = (*lease).clone();
            taken.owner = Some(me.to_owned());
            taken.requested_by = None;
            taken.renewed_at = Timestamp::now();
            if let Ok(stored) = self.replace(&taken).await {
                acquired.push(stored);
                mine += 1;
            }
        }
        if mine < least && free.is_empty() {
            let busiest = owned
                .iter()
                .filter(|(owner, count)| **owner != me && **count > least)
                .max_by_key(|(_, count)| **count)
                .map(|(owner, _)| *owner);
            let asked = leases.iter().find(|l| {
                l.owner.as_deref() == busiest && busiest.is_some() && l.requested_by.is_none()
            });
            if let Some(lease) = asked {
                let mut asked = lease.clone();
                asked.requested_by = Some(me.to_owned());
                // Losing this race to the owner's own write only delays the request.
                let _ = self.replace(&asked).await;
            }
        }
        Ok(acquired)
    }

    /// Works on one range while this instance holds its lease; answers the lease's id.
    async fn work(self: Arc<Self>, mut lease: Lease) -> String {
        let id = lease.id.clone();
        let span = tracing::debug_span!(
            "cosmos_repo.change_feed",
            processor = %self.name,
            instance = %self.instance,
            feed_range = %lease.feed_range,
        );
        async {
            let mut renewed = SystemTime::now();
            loop {
                if self.stopping() {
                    self.release(lease).await;
                    return;
                }
                if self.step(&mut lease, &mut renewed).await.is_err() {
                    return;
                }
            }
        }
        .instrument(span)
        .await;
        id
    }

    /// Reads the range's next batch and hands it to the handler, checkpointing on success; or,
    /// caught up, renews the lease when due and waits for the poll interval.
    async fn step(
        &self,
        lease: &mut Lease,
        renewed: &mut SystemTime,
    ) -> std::result::Result<(), LostLease> {
        let page = match self
            .changes(&lease.feed_range, lease.continuation.as_deref())
            .await
        {
            Ok(page) => page,
            Err(err) => {
                tracing::warn!(error = %err, "could not read the change feed; trying again");
                Delay::new(self.poll_interval).await;
                return self.renew_if_due(lease, renewed).await;
            }
        };
        if page.items.is_empty() {
            // Caught up; a first read from now fixes where the range starts.
            if lease.continuation.is_none() && page.continuation.is_some() {
                lease.continuation = page.continuation;
                self.write(lease, true).await?;
                *renewed = SystemTime::now();
            }
            Delay::new(self.poll_interval).await;
            return self.renew_if_due(lease, renewed).await;
        }
        let documents = match page
            .items
            .iter()
            .map(|item| seam::decode::<T>(item))
            .collect::<Result<Vec<T>>>()
        {
            Ok(documents) => documents,
            Err(err) => {
                tracing::error!(error = %err, "a changed document does not decode; retrying the batch");
                Delay::new(self.poll_interval).await;
                return self.renew_if_due(lease, renewed).await;
            }
        };
        let count = documents.len();
        let batch = ChangeBatch {
            documents,
            feed_range: lease.feed_range.clone(),
        };
        let handled = self.handle(batch, lease, renewed).await?;
        match handled {
            Ok(()) => {
                tracing::debug!(documents = count, "batch handled");
                lease.continuation = page.continuation;
                self.write(lease, true).await?;
                *renewed = SystemTime::now();
            }
            Err(err) => {
                tracing::warn!(error = %err, documents = count, "the handler failed; retrying the batch");
                Delay::new(self.poll_interval).await;
                return self.renew_if_due(lease, renewed).await;
            }
        }
        Ok(())
    }

    /// Runs the handler on `batch`, renewing the lease as often as needed meanwhile.
    async fn handle(
        &self,
        batch: ChangeBatch<T>,
        lease: &mut Lease,
        renewed: &mut SystemTime,
    ) -> std::result::Result<std::result::Result<(), HandlerError>, LostLease> {
        let span = tracing::info_span!(
            "cosmos_repo",
            op = "change_feed.batch",
            container = %self.monitored.container(),
            feed_range = %batch.feed_range,
            documents = batch.documents.len(),
        );
        let mut handled = (self.handler)(batch).instrument(span);
        loop {
            let renewal = Delay::new(self.lease_duration / 3);
            match futures::future::select(&mut handled, renewal).await {
                Either::Left((result, _)) => return Ok(result),
                Either::Right(((), _)) => {
                    self.write(lease, false).await?;
                    *renewed = SystemTime::now();
                }
            }
        }
    }

    async fn renew_if_due(
        &self,
        lease: &mut Lease,
        renewed: &mut SystemTime,
    ) -> std::result::Result<(), LostLease> {
        let due = renewed
            .checked_add(self.lease_duration / 3)
            .is_none_or(|due| due <= SystemTime::now());
        if due {
            self.write(lease, true).await?;
            *renewed = SystemTime::now();
        }
        Ok(())
    }

    /// Writes the lease as this instance holds it (renewed now), if it still does. When
    /// another instance asked for it and `hand_over` is true (no batch in hand), hands it over
    /// with the continuation written, and the worker stops; during a batch the request is kept
    /// for the checkpoint after it.
    async fn write(
        &self,
        lease: &mut Lease,
        hand_over: bool,
    ) -> std::result::Result<(), LostLease> {
        loop {
            if hand_over && let Some(requester) = lease.requested_by.take() {
                lease.owner = Some(requester);
                lease.renewed_at = Timestamp::now();
                // Lost to another write: it expires to the others instead.
                let _ = self.replace(lease).await;
                return Err(LostLease);
            }
            lease.renewed_at = Timestamp::now();
            match self.replace(lease).await {
                Ok(stored) => {
                    *lease = stored;
                    return Ok(());
                }
                Err(Error::PreconditionFailed { .. }) => {
                    let Ok(current) = self.read(&lease.id).await else {
                        return Err(LostLease);
                    };
                    if current.owner.as_deref() != Some(self.instance.as_str()) {
                        return Err(LostLease);
                    }
                    let continuation = lease.continuation.take();
                    *lease = current;
                    lease.continuation = continuation;
                }
                Err(Error::NotFound { .. }) => return Err(LostLease),
                Err(err) => {
                    tracing::warn!(error = %err, "could not write the lease; trying again");
                    Delay::new(self.poll_interval).await;
                }
            }
        }
    }

    /// At the end of a run: frees the leases handed to this instance after its workers
    /// stopped and withdraws its requests for others, until none is left (a handover racing
    /// a withdrawal loses on the etag, and shows in the next look).
    async fn retire(&self) -> Result<()> {
        let me = Some(self.instance.as_str());
        for _ in 0..5 {
            let ours: Vec<Lease> = self
                .all_leases()
                .await?
                .into_iter()
                .filter(|l| l.owner.as_deref() == me || l.requested_by.as_deref() == me)
                .collect();
            if ours.is_empty() {
                break;
            }
            for mut lease in ours {
                if lease.owner.as_deref() == me {
                    self.release(lease).await;
                } else {
                    lease.requested_by = None;
                    // Changed meanwhile: the next look sees it again.
                    let _ = self.replace(&lease).await;
                }
            }
        }
        Ok(())
    }

    /// Gives the lease up, keeping its continuation, for any running instance to take at once
    /// (the one that asked for it may be stopping too). A lease changed meanwhile (asked for)
    /// is read again, if still ours.
    async fn release(&self, mut lease: Lease) {
        loop {
            lease.owner = None;
            lease.requested_by = None;
            lease.renewed_at = Timestamp::now();
            let err = match self.replace(&lease).await {
                Ok(_) => return,
                Err(err) => err,
            };
            let current = match err {
                Error::PreconditionFailed { .. } => self.read(&lease.id).await.ok(),
                _ => None,
            };
            match current {
                Some(current) if current.owner.as_deref() == Some(self.instance.as_str()) => {
                    lease = Lease {
                        continuation: lease.continuation,
                        ..current
                    };
                }
                _ => {
                    tracing::debug!(error = %err, "the lease was not released; it expires instead");
                    return;
                }
            }
        }
    }

    /// A page of the range's changes after `continuation` (or from the processor's start).
    async fn changes(
        &self,
        feed_range: &str,
        continuation: Option<&str>,
    ) -> Result<crate::response::Page<bytes::Bytes>> {
        let target = self.monitored.target();
        let start = match continuation {
            Some(token) => ChangeStart::Continuation(token),
            None if self.from_now => ChangeStart::Now,
            None => ChangeStart::Beginning,
        };
        target
            .store
            .changes(
                target.container,
                ChangeScope::Range(feed_range),
                start,
                self.batch_size,
            )
            .await
    }
}
