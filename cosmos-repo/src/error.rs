use std::time::Duration;

use crate::key::PartitionKey;

/// A boxed error from a lower layer, kept as the `source()` of an [`Error`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in a repository operation.
///
/// Each message says what happened and, where there is one, what fixes it. A lower-level cause
/// is kept as [`source()`](std::error::Error::source), not repeated in the message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No document with this id exists under this partition key (HTTP 404).
    #[error(
        "document `{id}` not found in container `{container}` under partition key {partition_key}"
    )]
    NotFound {
        /// The container searched.
        container: String,
        /// The partition key searched.
        partition_key: PartitionKey,
        /// The id searched for.
        id: String,
    },

    /// A document with this id already exists under this partition key (HTTP 409).
    #[error(
        "document `{id}` already exists in container `{container}` under partition key {partition_key}; use `upsert` to overwrite it"
    )]
    AlreadyExists {
        /// The container written to.
        container: String,
        /// The document's partition key.
        partition_key: PartitionKey,
        /// The document's id.
        id: String,
    },

    /// Another document of the partition has the same values of a unique key (HTTP 409).
    #[error(
        "document `{id}` in container `{container}` has the same values of unique key {paths:?} as another document under partition key {partition_key}; change them, or remove the unique key from the model"
    )]
    UniqueKeyViolation {
        /// The container written to.
        container: String,
        /// The document's partition key.
        partition_key: PartitionKey,
        /// The document's id.
        id: String,
        /// The unique key's paths.
        paths: Vec<String>,
    },

    /// A write failed in flight, was sent again by the SDK, and the retry found the document
    /// there (HTTP 409): the first attempt may have written it. Read the document to know.
    #[error(
        "creating document `{id}` in container `{container}` under partition key {partition_key} took {attempts} attempts, the first failing in flight, and the last found the document: the first attempt may have created it; read the document to check before writing again"
    )]
    MaybeApplied {
        /// The container written to.
        container: String,
        /// The document's partition key.
        partition_key: PartitionKey,
        /// The document's id.
        id: String,
        /// How many requests were sent.
        attempts: usize,
    },

    /// The document changed since the etag sent as `If-Match` was read (HTTP 412).
    #[error(
        "document `{id}` in container `{container}` has changed since it was read (etag mismatch); read it again and reapply the change, or use `update`, which does both"
    )]
    PreconditionFailed {
        /// The container written to.
        container: String,
        /// The document's partition key.
        partition_key: PartitionKey,
        /// The document's id.
        id: String,
    },

    /// [`Repository::update`](crate::Repository::update) lost the race to a concurrent writer on
    /// every attempt.
    #[error(
        "gave up updating document `{id}` in container `{container}` after {attempts} attempts, each overtaken by a concurrent write; give `update` a longer `time_budget` (or more `max_attempts`), or reduce contention on this document"
    )]
    UpdateConflict {
        /// The container written to.
        container: String,
        /// The document's partition key.
        partition_key: PartitionKey,
        /// The document's id.
        id: String,
        /// How many read-modify-write cycles were tried.
        attempts: u32,
    },

    /// The request rate exceeded the provisioned throughput (HTTP 429).
    #[error(
        "request rate too large (429): the container's throughput is used up; retry after {retry_after:?} or raise its RU/s"
    )]
    Throttled {
        /// How long the service asked to wait, when it said.
        retry_after: Option<Duration>,
        /// The service's error.
        #[source]
        source: Option<BoxError>,
    },

    /// The request was not authenticated (HTTP 401); `fix` says what to change.
    #[error("not authenticated (401, sub-status {sub_status}): {fix}")]
    Unauthorized {
        /// The service's sub-status code, which tells the causes apart.
        sub_status: u32,
        /// What to do about it.
        fix: String,
        /// The service's or the credential's error.
        #[source]
        source: Option<BoxError>,
    },

    /// The principal may not do this (HTTP 403); `fix` says what to change.
    #[error("not authorized (403, sub-status {sub_status}): {fix}")]
    Forbidden {
        /// The service's sub-status code, which tells the causes apart.
        sub_status: u32,
        /// What to do about it.
        fix: String,
        /// The service's error.
        #[source]
        source: Option<BoxError>,
    },

    /// The configured database does not exist in the account.
    #[error(
        "database `{database}` does not exist in the account; create it (`az cosmosdb sql database create --account-name <account> --resource-group <resource-group> --name {database}`) or fix COSMOS_DATABASE"
    )]
    DatabaseNotFound {
        /// The database name.
        database: String,
        /// The service's error.
        #[source]
        source: BoxError,
    },

    /// A document type's container does not exist in the database.
    #[error(
        "container `{container}` does not exist in database `{database}`; create it with the model's definition: `{create}` (on an emulator, `Cosmos::ensure_container` does it)"
    )]
    ContainerNotFound {
        /// The database searched.
        database: String,
        /// The container name.
        container: String,
        /// The `az cosmosdb sql container create` command that creates it as the model says.
        create: String,
        /// The service's error.
        #[source]
        source: BoxError,
    },

    /// A container differs from the model of the document types stored in it.
    #[error(
        "container `{container}` differs from the model: {}",
        mismatches.join("; ")
    )]
    ContainerMismatch {
        /// The container checked.
        container: String,
        /// Each difference, with what to do about it.
        mismatches: Vec<String>,
    },

    /// The configuration is missing or wrong; the message names the setting and a valid value.
    #[error("invalid configuration: {message}")]
    Config {
        /// What is wrong and how to fix it.
        message: String,
    },

    /// The request was malformed (HTTP 400), e.g. an invalid id.
    #[error("bad request: {message}")]
    BadRequest {
        /// What the store rejected.
        message: String,
    },

    /// A document could not be converted to or from JSON.
    #[error("could not {action} a `{type_name}` document")]
    Serialization {
        /// `"serialize"` or `"deserialize"`.
        action: &'static str,
        /// The Rust type involved.
        type_name: &'static str,
        /// serde_json's error.
        #[source]
        source: serde_json::Error,
    },

    /// The operation is not supported, or not in this form.
    #[error("unsupported: {message}")]
    Unsupported {
        /// What was attempted and what to do instead.
        message: String,
    },

    /// An operation of a transactional batch failed, so none of the batch was applied.
    #[error(
        "transactional batch failed at operation {index} ({operation}, status {status}); nothing of the batch was applied"
    )]
    BatchFailed {
        /// The position of the failed operation in the batch, from 0.
        index: usize,
        /// What it was: `create`, `upsert`, `replace`, `read` or `delete`.
        operation: &'static str,
        /// Its HTTP status, e.g. 409 for a create whose id is taken.
        status: u16,
        /// Why it failed, e.g. [`Error::AlreadyExists`].
        #[source]
        source: Box<Error>,
    },

    /// A transactional batch failed in flight, was sent again by the SDK, and the retry failed
    /// at an operation that the first attempt's own writes can fail (a create finding its
    /// document, a replace finding a new etag): the first attempt may have applied the whole
    /// batch. All or nothing still holds; read the batch's documents to know which.
    #[error(
        "transactional batch under partition key {partition_key} in container `{container}` took {attempts} attempts, the first failing in flight, and the last failed at operation {index} ({operation}): the first attempt may have applied the whole batch; read its documents to check before sending it again"
    )]
    BatchMaybeApplied {
        /// The container written to.
        container: String,
        /// The batch's partition key.
        partition_key: PartitionKey,
        /// How many requests were sent.
        attempts: usize,
        /// The position of the operation the last attempt failed at, from 0.
        index: usize,
        /// What it was: `create`, `upsert`, `replace`, `read` or `delete`.
        operation: &'static str,
        /// Why the last attempt failed there, e.g. [`Error::AlreadyExists`].
        #[source]
        source: Box<Error>,
    },

    /// The operation ran out of time (HTTP 408): its time limit
    /// ([`operation_timeout`](crate::CosmosConfigBuilder::operation_timeout)) passed before an
    /// answer came, the SDK's retries included, or the service timed out. A write may or may
    /// not have been applied. The activity id identifies the operation to Azure support.
    #[error(
        "no answer from Cosmos DB in time ({attempts} attempts, activity id {activity_id}); a write may or may not have been applied: read before writing again, and quote the activity id if you open a support case"
    )]
    Timeout {
        /// The operation's activity id (`x-ms-activity-id`), for Azure support; empty when the
        /// SDK gave none.
        activity_id: String,
        /// How many requests were sent.
        attempts: usize,
        /// The SDK's error.
        #[source]
        source: BoxError,
    },

    /// The request could not be sent or its response not read.
    #[error("request to Cosmos DB failed")]
    Transport {
        /// The transport's error.
        #[source]
        source: BoxError,
    },
}

impl Error {
    /// The HTTP status Cosmos DB answers (or would answer) for this error, such as 404 for
    /// [`Error::NotFound`]; 0 where no status applies (configuration, serialization, transport).
    pub fn status(&self) -> u16 {
        match self {
            Error::NotFound { .. }
            | Error::DatabaseNotFound { .. }
            | Error::ContainerNotFound { .. } => 404,
            Error::AlreadyExists { .. }
            | Error::UniqueKeyViolation { .. }
            | Error::MaybeApplied { .. } => 409,
            Error::PreconditionFailed { .. } | Error::UpdateConflict { .. } => 412,
            Error::Throttled { .. } => 429,
            Error::Unauthorized { .. } => 401,
            Error::Forbidden { .. } => 403,
            Error::BadRequest { .. } => 400,
            Error::BatchFailed { status, .. } => *status,
            Error::BatchMaybeApplied { source, .. } => source.status(),
            Error::Timeout { .. } => 408,
            Error::Config { .. }
            | Error::ContainerMismatch { .. }
            | Error::Serialization { .. }
            | Error::Unsupported { .. }
            | Error::Transport { .. } => 0,
        }
    }

    /// Whether this is [`Error::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    /// Whether this is [`Error::PreconditionFailed`].
    pub fn is_precondition_failed(&self) -> bool {
        matches!(self, Error::PreconditionFailed { .. })
    }
}
