//! What the runnable scenarios in `examples/` share: the document model of the quickstart, the
//! choice between the embedded store and Cosmos DB, the web API of the `web_api` scenario and
//! the checks of the `doctor` scenario.

#![warn(missing_docs)]

pub mod doctor;
pub mod web;

use std::process::ExitCode;

use cosmos_repo::prelude::*;
use cosmos_repo::{Cosmos, CosmosConfig, MemoryStore};

/// An order, stored in the `orders` container and partitioned by customer.
#[derive(Debug, Clone, Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "orders")]
#[serde(rename_all = "camelCase")]
pub struct Order {
    /// The order number.
    #[id]
    pub id: String,
    /// The customer, the partition key.
    #[partition_key]
    pub customer_id: String,
    /// Where the order stands.
    pub status: String,
    /// The order total.
    pub total: f64,
    /// The version this copy was read at.
    #[etag]
    #[serde(rename = "_etag", default, skip_serializing)]
    pub etag: Option<Etag>,
}

/// Where an example keeps its documents: the embedded store, or Cosmos DB when
/// `COSMOS_ENDPOINT` is set.
#[derive(Clone, Debug)]
pub enum Store {
    /// The embedded in-memory store.
    Embedded(MemoryStore),
    /// Cosmos DB, or an emulator.
    Cosmos {
        /// The connection.
        cosmos: Cosmos,
        /// Whether it is an emulator, where the example may create containers.
        emulator: bool,
    },
}

impl Store {
    /// The embedded store when `COSMOS_ENDPOINT` is unset; otherwise a connection configured
    /// from the environment (`COSMOS_ENDPOINT`, `COSMOS_DATABASE`, and the credential variables
    /// `cosmos_repo::Credential` lists). Prints which one.
    ///
    /// # Errors
    ///
    /// `Error::Config` naming a missing or invalid variable; the auth errors of connecting.
    pub async fn from_env() -> cosmos_repo::Result<Store> {
        if std::env::var_os("COSMOS_ENDPOINT").is_none() {
            println!("store: embedded (in-memory; set COSMOS_ENDPOINT to use Cosmos DB)");
            return Ok(Store::Embedded(MemoryStore::new()));
        }
        let config = CosmosConfig::from_env()?;
        println!(
            "store: Cosmos DB at {}, database `{}`, credential {}",
            config.endpoint(),
            config.database(),
            config.credential().name()
        );
        let emulator = config.is_emulator();
        let cosmos = config.connect().await?;
        Ok(Store::Cosmos { cosmos, emulator })
    }

    /// Makes `T`'s container ready: created on an emulator, checked against the model on Cosmos
    /// DB (where a data-plane role cannot create it), nothing to do on the embedded store.
    ///
    /// # Errors
    ///
    /// `Error::ContainerNotFound` or `Error::ContainerMismatch` with the fix; auth errors.
    pub async fn prepare<T: CosmosDocument>(&self) -> cosmos_repo::Result<()> {
        match self {
            Store::Embedded(_) => Ok(()),
            Store::Cosmos {
                cosmos,
                emulator: true,
            } => cosmos.ensure_container::<T>().await,
            Store::Cosmos { cosmos, .. } => cosmos.verify_container::<T>().await,
        }
    }

    /// Checks `T`'s container against the model, creating nothing: the start-up check, and
    /// what a health probe runs. Nothing to check on the embedded store.
    ///
    /// # Errors
    ///
    /// As [`prepare`](Store::prepare).
    pub async fn verify<T: CosmosDocument>(&self) -> cosmos_repo::Result<()> {
        match self {
            Store::Embedded(_) => Ok(()),
            Store::Cosmos { cosmos, .. } => cosmos.verify_container::<T>().await,
        }
    }

    /// A repository of `T`.
    pub fn repository<T: CosmosDocument>(&self) -> Repository<T> {
        match self {
            Store::Embedded(store) => store.repository(),
            Store::Cosmos { cosmos, .. } => cosmos.repository(),
        }
    }

    /// A read-only repository of `T`.
    pub fn read_repository<T: CosmosDocument>(&self) -> ReadRepository<T> {
        match self {
            Store::Embedded(store) => store.read_repository(),
            Store::Cosmos { cosmos, .. } => cosmos.read_repository(),
        }
    }
}

/// The exit code of an example: success, or the error and its causes on stderr and failure.
pub fn report(result: cosmos_repo::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            let mut source = std::error::Error::source(&err);
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}
