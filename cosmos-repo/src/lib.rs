//! Typed repositories for Azure Cosmos DB (NoSQL API).
//!
//! Declare a document once with `#[derive(CosmosDocument)]`, marking its `#[id]` and
//! `#[partition_key]` fields, and get a typed [`Repository`] with CRUD by (partition key, id) and
//! ETag optimistic concurrency. The same repository runs on the embedded [`MemoryStore`] (no
//! set-up; also a test double for your own unit tests) and on Cosmos DB.
//!
//! ```
//! use cosmos_repo::prelude::*;
//!
//! #[derive(Debug, Clone, Serialize, Deserialize, CosmosDocument)]
//! #[cosmos(container = "orders")]
//! #[serde(rename_all = "camelCase")]
//! pub struct Order {
//!     #[id]
//!     pub id: String,
//!     #[partition_key]
//!     pub customer_id: String,
//!     pub total: f64,
//!     #[etag]
//!     #[serde(rename = "_etag", default, skip_serializing)]
//!     pub etag: Option<Etag>,
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> cosmos_repo::Result<()> {
//! let orders = Repository::<Order>::in_memory();
//! let order = Order { id: "o-100".into(), customer_id: "contoso".into(), total: 42.0, etag: None };
//!
//! // Writes return the stored document, with its new etag.
//! let stored = orders.create(&order).await?;
//! assert!(stored.etag.is_some());
//!
//! // Point reads take the partition key first, as Cosmos DB does.
//! let read = orders.read("contoso", "o-100").await?;
//! assert_eq!(read.total, 42.0);
//!
//! // Read-modify-write that retries when another writer got there first (HTTP 412).
//! let updated = orders.update("contoso", "o-100", |order| order.total += 8.0).await?;
//! assert_eq!(updated.total, 50.0);
//!
//! // A replace carries the etag of the copy it was made from: a stale copy is refused.
//! let err = orders.replace(&stored).await.unwrap_err();
//! assert!(matches!(err, Error::PreconditionFailed { .. }));
//!
//! // Typed paths follow serde's renames.
//! assert_eq!(Order::FIELDS.customer_id.name(), "customerId");
//! assert_eq!(Order::PARTITION_KEY_PATHS, ["/customerId"]);
//! # Ok(())
//! # }
//! ```
//!
//! Beyond CRUD: [`Repository::patch`] (typed partial updates, applied server-side),
//! [`Repository::batch`] (a transactional batch in one partition, all or nothing),
//! [`Repository::upsert_all`] and its siblings (bulk writes with bounded concurrency), and
//! [`Repository::try_update`] (a read-modify-write whose change may refuse).
//!
//! Every request also exists with its metadata (request charge in RU, activity id, etag,
//! status): call `.with_meta()` on it before awaiting, e.g.
//! `orders.read("contoso", "o-100").with_meta().await` or
//! `orders.query().cross_partition().count().with_meta().await`. Each runs in a `tracing` span
//! named `cosmos_repo` that records the operation, the container, the document id, and at the
//! end the status, the request charge and the duration.
//!
//! # Cosmos DB
//!
//! With the `cosmos` feature (on by default), `CosmosConfig::from_env()?.connect().await?` gives
//! a `Cosmos` connection configured from `COSMOS_ENDPOINT` and `COSMOS_DATABASE`, passwordless
//! through Microsoft Entra ID (managed identity, workload identity, or `az login` on a developer
//! machine; see `Credential` for how one is chosen). `cosmos.repository::<Order>()` is the same
//! [`Repository`] as above. At start-up, `cosmos.verify_container::<Order>()` checks the container
//! exists with the model's partition key; on an emulator, `ensure_container` creates it. A 401 or
//! 403 comes back as [`Error::Unauthorized`] or [`Error::Forbidden`] carrying the fix, such as the
//! exact `az cosmosdb sql role assignment create` command for a missing data-plane role.

#![warn(missing_docs, clippy::missing_errors_doc)]

mod ast;
pub mod change_feed;
mod concurrency;
#[cfg(feature = "cosmos")]
mod config;
mod document;
mod error;
mod hash;
#[cfg(feature = "cosmos")]
mod identity;
pub mod key;
mod limits;
mod memory;
pub mod model;
pub mod prelude;
pub mod query;
mod repository;
mod response;
#[cfg(feature = "cosmos")]
mod sdk;
mod seam;
mod sql;
mod timestamp;
mod trace;
mod values;

#[doc(hidden)]
pub mod __private;

pub use concurrency::{Etag, SessionToken};
#[cfg(feature = "cosmos")]
pub use config::{CosmosConfig, CosmosConfigBuilder, EMULATOR_KEY};
pub use document::CosmosDocument;
pub use error::{Error, Result};
#[cfg(feature = "cosmos")]
pub use identity::Credential;
pub use key::PartitionKey;
pub use memory::MemoryStore;
pub use query::CosmosFields;
pub use repository::{
    Batch, BatchResponse, BatchResult, Bulk, BulkReport, Delete, DeletePartition, Find,
    PartitionDeleted, Patch, PatchArray, PatchNumber, PatchOptional, Read, ReadMany,
    ReadRepository, Replace, Repository, TryUpdate, Update, Write,
};
pub use response::{Page, Response};
#[cfg(feature = "cosmos")]
pub use sdk::Cosmos;
pub use timestamp::{Timestamp, TimestampError};

#[cfg(feature = "derive")]
pub use cosmos_repo_derive::{CosmosDocument, CosmosFields};
