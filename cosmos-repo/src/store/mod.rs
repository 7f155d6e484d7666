//! The seam between [`Repository`](crate::Repository) and where documents live. Stores work on
//! JSON; typing is the repository's job.

mod memory;

use std::fmt;

use async_trait::async_trait;
use serde_json::Value;

pub use memory::MemoryStore;

use crate::concurrency::{Etag, yield_backoff};
use crate::error::{Error, Result};
use crate::key::PartitionKey;
use crate::response::Response;

/// Where one document is, or is to be.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ItemKey<'a> {
    pub container: &'a str,
    pub partition_key: &'a PartitionKey,
    pub id: &'a str,
}

impl ItemKey<'_> {
    pub fn not_found(&self) -> Error {
        Error::NotFound {
            container: self.container.to_owned(),
            partition_key: self.partition_key.clone(),
            id: self.id.to_owned(),
        }
    }

    pub fn already_exists(&self) -> Error {
        Error::AlreadyExists {
            container: self.container.to_owned(),
            partition_key: self.partition_key.clone(),
            id: self.id.to_owned(),
        }
    }

    pub fn precondition_failed(&self) -> Error {
        Error::PreconditionFailed {
            container: self.container.to_owned(),
            partition_key: self.partition_key.clone(),
            id: self.id.to_owned(),
        }
    }
}

/// How a write treats an existing document.
#[derive(Clone, Copy, Debug)]
pub(crate) enum WriteMode<'a> {
    /// Fails with 409 if the document exists.
    Create,
    /// Creates or overwrites.
    Upsert,
    /// Fails with 404 if the document is missing, and with 412 if its etag differs.
    Replace { if_match: Option<&'a Etag> },
}

/// A place documents are stored. Item responses carry the stored document, system properties
/// included.
#[async_trait]
pub(crate) trait Store: Send + Sync + fmt::Debug {
    async fn write(
        &self,
        key: ItemKey<'_>,
        item: Value,
        mode: WriteMode<'_>,
    ) -> Result<Response<Value>>;

    async fn read(&self, key: ItemKey<'_>) -> Result<Response<Value>>;

    async fn delete(&self, key: ItemKey<'_>, if_match: Option<&Etag>) -> Result<Response<()>>;

    /// Waits before attempt `attempt + 1` of a write that lost a race to a concurrent writer.
    async fn backoff(&self, attempt: u32) {
        yield_backoff(attempt).await;
    }
}
