//! Real Cosmos DB through `azure_data_cosmos`: the [`Cosmos`] handle and the SDK store. This is
//! the only module that calls the SDK, whose API changed in every 0.x release.

use std::collections::HashMap;
use std::fmt;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use azure_core::http::StatusCode;
use azure_data_cosmos::clients::{ContainerClient, DatabaseClient};
use azure_data_cosmos::diagnostics::DiagnosticsContext;
use azure_data_cosmos::feed::{ContinuationToken, FeedRange};
use azure_data_cosmos::models::{
    ContainerProperties, CosmosNumber, PatchInstructions, PatchOperation, TransactionalBatch,
};
use azure_data_cosmos::options::{
    BatchDeleteOptions, BatchReadOptions, BatchReplaceOptions, BatchUpsertOptions,
    BinaryEncodingOptions, ChangeFeedOptions, ChangeFeedStartFrom, ConnectionPoolOptions,
    ContentResponseOnWrite, EndToEndOperationLatencyPolicy, ItemReadOptions, ItemWriteOptions,
    MaxItemCountHint, OperationOptionsBuilder, PatchItemOptions, PatchStrategy, Precondition,
    QueryOptions, Region, ServerCertificateValidation,
};
use azure_data_cosmos::{
    AccountEndpoint, AccountReference, CosmosClient, CosmosError, CosmosRuntime, FeedScope,
    RoutingStrategy,
};
use bytes::Bytes;
use futures::StreamExt as _;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::ast::{Aggregate, Expr, Path, Select, SqlQuery};
use crate::concurrency::{Etag, SessionToken};
use crate::config::CosmosConfig;
use crate::document::CosmosDocument;
use crate::error::{Error, Result};
use crate::identity::{Authenticator, CachedCredential, Credential, TOKEN_ACQUISITION_FAILED};
use crate::key::{PartitionKey, PartitionKeyValue};
use crate::model::{self, ContainerSpec, Discriminator};
use crate::repository::{ReadRepository, Repository};
use crate::response::{Page, Response};
use crate::seam::{
    Action, ChangeScope, ChangeStart, Container, Feed, ItemKey, ItemOperation, ItemResult, PatchOp,
    QuerySpec, QueryText, Scope, Store, batch_failed,
};
use crate::sql;
use crate::values;

/// A connection to one database of a Cosmos DB account (or an emulator), made by
/// [`CosmosConfig::connect`]. Cheap to clone; clones share the connection.
///
/// # Examples
///
/// ```no_run
/// use cosmos_repo::prelude::*;
/// use cosmos_repo::CosmosConfig;
///
/// #[derive(Debug, Serialize, Deserialize, CosmosDocument)]
/// #[cosmos(container = "orders")]
/// struct Order {
///     #[id]
///     id: String,
///     #[partition_key]
///     customer: String,
/// }
///
/// # async fn run() -> cosmos_repo::Result<()> {
/// let cosmos = CosmosConfig::from_env()?.connect().await?;
/// cosmos.verify_container::<Order>().await?;
/// let orders = cosmos.repository::<Order>();
/// let order = orders.read("contoso", "o-100").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Cosmos {
    store: Arc<CosmosStore>,
}

impl CosmosConfig {
    /// Connects: builds the credential and the client, and reads the account (which checks the
    /// endpoint and the credential). Call [`Cosmos::verify_container`] at start-up to check the
    /// database and containers too.
    ///
    /// # Errors
    ///
    /// [`Error::Unauthorized`] / [`Error::Forbidden`] with the fix when the identity cannot get
    /// a token or lacks a data-plane role, [`Error::Transport`] when the endpoint cannot be
    /// reached.
    pub async fn connect(&self) -> Result<Cosmos> {
        Cosmos::connect(self.clone(), None).await
    }

    /// Connects like [`connect`](CosmosConfig::connect), on an SDK runtime the caller built.
    /// Not API: it names an SDK type, which moves in every SDK release. cosmos-repo's tests use
    /// it to run the conformance suite on the SDK's in-process emulator, whose runtime answers
    /// requests without a network.
    ///
    /// # Errors
    ///
    /// As [`connect`](CosmosConfig::connect).
    #[doc(hidden)]
    pub async fn connect_on_runtime(&self, runtime: CosmosRuntime) -> Result<Cosmos> {
        Cosmos::connect(self.clone(), Some(runtime)).await
    }
}

impl Cosmos {
    async fn connect(config: CosmosConfig, runtime: Option<CosmosRuntime>) -> Result<Cosmos> {
        let authenticator = config.credential().authenticator()?;
        let credential = match &authenticator {
            Authenticator::Token(credential) => Some(Arc::clone(credential)),
            Authenticator::Key(_) => None,
        };
        let client = connect_client(&config, authenticator, runtime).await?;
        Ok(Cosmos {
            store: Arc::new(CosmosStore {
                database: client.database_client(config.database().to_owned()),
                client,
                containers: Mutex::default(),
                credential,
                config,
            }),
        })
    }

    /// A repository of `T` in its container (`T::CONTAINER`, or the configured container when
    /// `COSMOS_CONTAINER` is set). Container clients are made on first use and reused.
    pub fn repository<T: CosmosDocument>(&self) -> Repository<T> {
        let repository = Repository::from_store(self.store.clone());
        match self.store.config.container() {
            Some(container) => repository.with_container(container),
            None => repository,
        }
    }

    /// A read-only repository of `T`: reads, queries and paging, and no write method. For
    /// services granted only the Cosmos DB Built-in Data Reader role.
    pub fn read_repository<T: CosmosDocument>(&self) -> ReadRepository<T> {
        self.repository().read_only()
    }

    /// The configuration this connection was made from.
    pub fn config(&self) -> &CosmosConfig {
        &self.store.config
    }

    /// Checks that `T`'s container exists and matches `T`'s model: partition key paths, kind
    /// and version, time to live, composite indexes, excluded paths and unique keys. Creates
    /// nothing: this is the start-up check for Microsoft Entra ID, under which data-plane roles
    /// cannot create containers. See [`verify_containers`](Cosmos::verify_containers) to check
    /// every document type of a service in one call.
    ///
    /// # Errors
    ///
    /// [`Error::DatabaseNotFound`], or [`Error::ContainerNotFound`] with the
    /// `az cosmosdb sql container create` command for the model; [`Error::ContainerMismatch`]
    /// listing every difference and what to do about each; the auth errors of
    /// [`CosmosConfig::connect`].
    pub async fn verify_container<T: CosmosDocument>(&self) -> Result<()> {
        self.verify_containers(&[ContainerSpec::of::<T>()]).await
    }

    /// Checks the containers of several document types at once (types that share a container
    /// are checked together): the start-up check of a whole service.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use cosmos_repo::prelude::*;
    /// # use cosmos_repo::model::ContainerSpec;
    /// # #[derive(Serialize, Deserialize, CosmosDocument)]
    /// # struct Order { #[id] id: String, #[partition_key] customer: String }
    /// # #[derive(Serialize, Deserialize, CosmosDocument)]
    /// # struct Customer { #[id] id: String, #[partition_key] region: String }
    /// # async fn run(cosmos: cosmos_repo::Cosmos) -> cosmos_repo::Result<()> {
    /// cosmos
    ///     .verify_containers(&[ContainerSpec::of::<Order>(), ContainerSpec::of::<Customer>()])
    ///     .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`verify_container`](Cosmos::verify_container); the first missing container, or one
    /// [`Error::ContainerMismatch`] per container.
    pub async fn verify_containers(&self, specs: &[ContainerSpec]) -> Result<()> {
        self.store
            .database
            .read(None)
            .await
            .map_err(|e| self.store.error(e, Op::Metadata, None))?;
        let mut mismatched: Vec<(String, Vec<String>)> = Vec::new();
        for spec in specs {
            let wants = self.definition(spec);
            let name = wants["id"].as_str().unwrap_or_default().to_owned();
            let properties = match self.store.container(&name).await {
                Ok(client) => client
                    .read(None)
                    .await
                    .and_then(|response| response.into_model())
                    .map_err(|e| self.store.error(e, Op::Metadata, None))?,
                Err(Error::ContainerNotFound { source, .. }) => {
                    return Err(Error::ContainerNotFound {
                        database: self.store.config.database().to_owned(),
                        create: model::create_command(self.store.config.database(), &wants),
                        container: name,
                        source,
                    });
                }
                Err(err) => return Err(err),
            };
            let has = serde_json::to_value(&properties).map_err(|source| Error::Serialization {
                action: "serialize",
                type_name: "ContainerProperties",
                source,
            })?;
            let found = model::mismatches(&wants, &has);
            if found.is_empty() {
                continue;
            }
            let found = found
                .into_iter()
                .map(|mismatch| format!("{mismatch} (model of `{}`)", spec.document));
            match mismatched
                .iter_mut()
                .find(|(container, _)| *container == name)
            {
                Some((_, all)) => all.extend(found),
                None => mismatched.push((name, found.collect())),
            }
        }
        match mismatched.into_iter().next() {
            None => Ok(()),
            Some((container, mismatches)) => Err(Error::ContainerMismatch {
                container,
                mismatches,
            }),
        }
    }

    /// Creates the database and `T`'s container as `T`'s model defines it (partition key,
    /// `MultiHash` version 2 for hierarchical keys, time to live, indexes, unique keys), if they
    /// do not exist. Meant for emulators and key auth: Entra ID data-plane roles cannot create
    /// them (403, sub-status 5300); use [`verify_container`](Cosmos::verify_container) there.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] with the fix when the identity may not create them.
    pub async fn ensure_container<T: CosmosDocument>(&self) -> Result<()> {
        let store = &self.store;
        if let Err(e) = store
            .client
            .create_database(store.config.database(), None)
            .await
            && !e.status().is_conflict()
        {
            return Err(store.error(e, Op::Create, None));
        }
        let definition = self.container_definition::<T>();
        let properties: ContainerProperties =
            serde_json::from_value(definition).map_err(|source| Error::Serialization {
                action: "deserialize",
                type_name: "ContainerProperties",
                source,
            })?;
        match store.database.create_container(properties, None).await {
            Err(e) if !e.status().is_conflict() => Err(store.error(e, Op::Create, None)),
            _ => Ok(()),
        }
    }

    /// `T`'s container as its model defines it, in the shape ARM and Bicep take (see
    /// [`model::container_definition`]), named as this connection names it.
    pub fn container_definition<T: CosmosDocument>(&self) -> serde_json::Value {
        self.definition(&ContainerSpec::of::<T>())
    }

    fn definition(&self, spec: &ContainerSpec) -> serde_json::Value {
        let name = self.store.config.container().unwrap_or(spec.name);
        model::container_definition(name, spec.partition_key_paths, &spec.model)
    }
}

impl fmt::Debug for Cosmos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cosmos")
            .field("config", &self.store.config)
            .finish_non_exhaustive()
    }
}

/// Builds the SDK client with the emulator settings in code when they apply, on `runtime` or
/// on a runtime of its own.
async fn connect_client(
    config: &CosmosConfig,
    authenticator: Authenticator,
    runtime: Option<CosmosRuntime>,
) -> Result<CosmosClient> {
    let transport = |e: CosmosError| Error::Transport {
        source: Box::new(e),
    };
    let endpoint: AccountEndpoint =
        config
            .endpoint()
            .as_str()
            .parse()
            .map_err(|e: CosmosError| Error::Config {
                message: format!(
                    "COSMOS_ENDPOINT `{}` is not an account endpoint ({e}); use e.g. COSMOS_ENDPOINT=https://myaccount.documents.azure.com:443/",
                    config.endpoint()
                ),
            })?;
    let account = match authenticator {
        Authenticator::Token(token) => AccountReference::with_credential(endpoint, token),
        Authenticator::Key(key) => AccountReference::with_authentication_key(endpoint, key),
    };
    let mut pool = ConnectionPoolOptions::builder();
    let mut options = OperationOptionsBuilder::new()
        .with_content_response_on_write(ContentResponseOnWrite::Enabled);
    if let Some(timeout) = config.operation_timeout() {
        options =
            options.with_end_to_end_latency_policy(EndToEndOperationLatencyPolicy::new(timeout));
    }
    let mut builder = CosmosClient::builder().with_default_operation_options(options.build());
    if config.is_emulator() {
        pool = pool
            .with_is_http2_allowed(false)
            .with_server_certificate_validation(
                ServerCertificateValidation::RequiredUnlessEmulator,
            );
        builder =
            builder.with_binary_encoding_options(BinaryEncodingOptions::new().with_enabled(false));
    }
    let runtime = match runtime {
        Some(runtime) => runtime,
        None => CosmosRuntime::builder()
            .with_connection_pool(pool.build().map_err(transport)?)
            .build()
            .await
            .map_err(transport)?,
    };
    let regions = config
        .preferred_regions()
        .iter()
        .map(|r| Region::from(r.clone()))
        .collect();
    builder
        .with_runtime(runtime)
        .build(account, RoutingStrategy::PreferredRegions(regions))
        .await
        .map_err(|e| map_connect_error(e, config))
}

fn map_connect_error(e: CosmosError, config: &CosmosConfig) -> Error {
    Fixes {
        config,
        object_id: None,
    }
    .map(e, Op::Metadata, None)
}

/// The store behind [`Cosmos`]: the only code that sends item requests.
struct CosmosStore {
    config: CosmosConfig,
    client: CosmosClient,
    database: DatabaseClient,
    containers: Mutex<HashMap<String, Arc<ContainerClient>>>,
    credential: Option<Arc<CachedCredential>>,
}

impl fmt::Debug for CosmosStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CosmosStore")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl CosmosStore {
    /// The client of one container, made once and then reused.
    async fn container(&self, name: &str) -> Result<Arc<ContainerClient>> {
        if let Some(client) = self.cached(name) {
            return Ok(client);
        }
        let client = self
            .database
            .container_client(name.to_owned(), None)
            .await
            .map_err(|e| {
                if e.status().is_not_found() {
                    Error::ContainerNotFound {
                        database: self.config.database().to_owned(),
                        container: name.to_owned(),
                        create: format!(
                            "az cosmosdb sql container create --account-name <account> --resource-group <resource-group> --database-name {} --name {name} --partition-key-path <path>",
                            self.config.database()
                        ),
                        source: Box::new(e),
                    }
                } else {
                    self.error(e, Op::Metadata, None)
                }
            })?;
        let client = Arc::new(client);
        self.containers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.to_owned(), Arc::clone(&client));
        Ok(client)
    }

    fn cached(&self, name: &str) -> Option<Arc<ContainerClient>> {
        self.containers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .cloned()
    }

    fn error(&self, e: CosmosError, op: Op, key: Option<ItemKey<'_>>) -> Error {
        Fixes {
            config: &self.config,
            object_id: self.credential.as_ref().and_then(|c| c.object_id()),
        }
        .map(e, op, key)
    }
}

fn sdk_key(key: &PartitionKey) -> Result<azure_data_cosmos::PartitionKey> {
    let values = key
        .values()
        .iter()
        .map(|value| match value {
            PartitionKeyValue::String(s) => Ok(s.clone().into()),
            PartitionKeyValue::Bool(b) => Ok((*b).into()),
            PartitionKeyValue::Number(n) => (*n).try_into(),
        })
        .collect::<std::result::Result<Vec<azure_data_cosmos::models::PartitionKeyValue>, _>>()
        .and_then(azure_data_cosmos::PartitionKey::try_from);
    values.map_err(|e| Error::BadRequest {
        message: format!("partition key {key} cannot be sent to Cosmos DB: {e}"),
    })
}

/// When the SDK sent the operation that failed with `e` again after an attempt whose outcome
/// is unknown (failed in flight, timed out, or a server error), how many requests it sent.
fn in_flight_retry(diagnostics: &DiagnosticsContext) -> Option<usize> {
    let requests = diagnostics.requests();
    let (_, earlier) = requests.split_last()?;
    let unknown = earlier.iter().any(|attempt| {
        let status = u16::from(attempt.status().status_code());
        attempt.error().is_some() || status == 408 || status >= 500
    });
    unknown.then(|| diagnostics.request_count())
}

fn sub_status(e: &CosmosError) -> Option<u16> {
    e.status().sub_status().map(|s| s.value())
}

fn feed_scope(scope: Scope<'_>) -> Result<FeedScope> {
    Ok(match scope {
        Scope::Partition(key) => FeedScope::partition(sdk_key(key)?),
        Scope::CrossPartition => FeedScope::full_container(),
    })
}

fn sdk_query(sql: &SqlQuery) -> Result<azure_data_cosmos::Query> {
    sql.parameters
        .iter()
        .try_fold(
            azure_data_cosmos::Query::from(sql.text.clone()),
            |query, (name, value)| query.with_parameter(name.as_str(), value),
        )
        .map_err(|e| Error::BadRequest {
            message: format!("a query parameter could not be sent: {e}"),
        })
}

/// Whether the JSON object `body` holds `discriminator` (its property with its value), read
/// without parsing the rest of the document.
fn holds(body: &[u8], discriminator: &Discriminator) -> bool {
    struct Seek<'p>(&'p str);

    impl<'de> serde::de::Visitor<'de> for Seek<'_> {
        type Value = Option<String>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }

        fn visit_map<M: serde::de::MapAccess<'de>>(
            self,
            mut map: M,
        ) -> std::result::Result<Self::Value, M::Error> {
            let mut found = None;
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if key == self.0 {
                    found = map.next_value::<Option<String>>().ok().flatten();
                } else {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
            Ok(found)
        }
    }

    let mut reader = serde_json::Deserializer::from_slice(body);
    serde::Deserializer::deserialize_map(&mut reader, Seek(discriminator.property))
        .ok()
        .flatten()
        .is_some_and(|value| value == discriminator.value)
}

/// The metadata of an SDK response.
fn meta(
    headers: &azure_data_cosmos::models::ResponseHeaders,
) -> (f64, Option<String>, Option<Etag>) {
    (
        headers.request_charge().map_or(0.0, |c| c.value()),
        headers.activity_id().map(|a| a.as_str().to_owned()),
        headers.etag().map(|e| Etag::new(e.as_ref())),
    )
}

/// The session token a response carries.
fn session_token(headers: &azure_data_cosmos::models::ResponseHeaders) -> Option<SessionToken> {
    headers
        .session_token()
        .map(|token| SessionToken::new(token.as_str()))
}

/// An item response as the seam answers it: the document's bytes as they came, not parsed.
fn item_result(response: azure_data_cosmos::models::ItemResponse) -> Result<ItemResult> {
    let status = u16::from(response.status().status_code());
    let (charge, activity_id, etag) = meta(response.headers());
    let session = session_token(response.headers());
    let body = response.into_body();
    let bytes = if body.is_empty() {
        None
    } else {
        Some(body.single().map_err(|e| Error::Transport {
            source: Box::new(e),
        })?)
    };
    Ok(Response::new(bytes, charge, activity_id, etag, status).with_session_token(session))
}

fn if_match(etag: Option<&Etag>) -> Option<Precondition> {
    etag.map(|etag| Precondition::if_match(etag.as_str().to_owned()))
}

/// The SDK's form of a patch.
fn patch_instructions(changes: &[PatchOp]) -> Result<PatchInstructions> {
    changes
        .iter()
        .try_fold(PatchInstructions::new(), |patch, change| {
            let operation = match change {
                PatchOp::Set(path, value) => PatchOperation::set(path.pointer(), value.clone()),
                PatchOp::Incr(path, by) => {
                    let by: CosmosNumber = match (by.as_i64(), by.as_f64()) {
                        (Some(int), _) => int.into(),
                        (None, Some(float)) => float.into(),
                        (None, None) => {
                            return Err(Error::BadRequest {
                                message: format!(
                                    "`incr` of `{}` needs a number, not {by}",
                                    path.pointer()
                                ),
                            });
                        }
                    };
                    PatchOperation::increment(path.pointer(), by)
                }
                PatchOp::Remove(path) => PatchOperation::remove(path.pointer()),
                PatchOp::Append(path, value) => {
                    PatchOperation::add(format!("{}/-", path.pointer()), value.clone())
                }
            };
            Ok(patch.with_operation(operation))
        })
}

/// The SDK's form of a transactional batch.
fn transactional_batch(
    partition_key: azure_data_cosmos::PartitionKey,
    operations: &[ItemOperation<'_>],
) -> Result<TransactionalBatch> {
    let unsendable = |e: CosmosError| Error::BadRequest {
        message: format!("a batch operation could not be prepared: {e}"),
    };
    operations
        .iter()
        .try_fold(TransactionalBatch::new(partition_key), |batch, operation| {
            let id = operation.id.to_owned();
            let precondition = if_match(operation.if_match);
            Ok(match operation.action {
                Action::Create(body) => batch.create_item(body).map_err(unsendable)?,
                Action::Upsert(body) => {
                    let options = precondition.map(|p| BatchUpsertOptions::default().with_precondition(p));
                    batch.upsert_item(body, options).map_err(unsendable)?
                }
                Action::Replace(body) => {
                    let options = precondition.map(|p| BatchReplaceOptions::default().with_precondition(p));
                    batch.replace_item(id, body, options).map_err(unsendable)?
                }
                Action::Read(_) => {
                    let options = precondition.map(|p| BatchReadOptions::default().with_precondition(p));
                    batch.read_item(id, options)
                }
                Action::Delete => {
                    let options = precondition.map(|p| BatchDeleteOptions::default().with_precondition(p));
                    batch.delete_item(id, options)
                }
                Action::Patch(_) => {
                    return Err(Error::Unsupported {
                        message: "a transactional batch cannot hold a patch in Cosmos DB SDK 1.0; patch the document on its own".to_owned(),
                    });
                }
            })
        })
}

/// The error of one failed operation of a batch, from its status.
fn operation_error(
    key: ItemKey<'_>,
    status: u16,
    sub_status: Option<u32>,
    retry_after: Option<Duration>,
) -> Error {
    match status {
        404 => key.not_found(),
        409 => key.already_exists(),
        412 => key.precondition_failed(),
        429 => Error::Throttled {
            retry_after,
            source: None,
        },
        _ => Error::BadRequest {
            message: format!(
                "Cosmos DB refused operation on document `{}` with status {status} (sub-status {})",
                key.id,
                sub_status.unwrap_or(0)
            ),
        },
    }
}

impl CosmosStore {
    /// Sends one operation as it is.
    async fn send(
        &self,
        container: Container<'_>,
        partition_key: &PartitionKey,
        operation: ItemOperation<'_>,
    ) -> Result<ItemResult> {
        let client = self.container(container.name).await?;
        let pk = sdk_key(partition_key)?;
        let id = operation.id;
        let write_options = || {
            if_match(operation.if_match).map(|p| ItemWriteOptions::default().with_precondition(p))
        };
        let (result, op) = match operation.action {
            Action::Create(body) => (client.create_item(pk, id, body, None).await, Op::Write),
            Action::Upsert(body) => (
                client.upsert_item(pk, id, body, write_options()).await,
                Op::Write,
            ),
            Action::Replace(body) => (
                client.replace_item(pk, id, body, write_options()).await,
                Op::Write,
            ),
            Action::Read(session) => {
                let options = session.map(|token| {
                    ItemReadOptions::default().with_session_token(token.as_str().to_owned())
                });
                (client.read_item(pk, id, options).await, Op::Read)
            }
            Action::Delete => (client.delete_item(pk, id, write_options()).await, Op::Write),
            Action::Patch(changes) => {
                let mut options =
                    PatchItemOptions::default().with_strategy(PatchStrategy::ServerSide);
                if let Some(precondition) = if_match(operation.if_match) {
                    options = options.with_precondition(precondition);
                }
                let patch = patch_instructions(changes)?;
                (
                    client.patch_item(pk, id, patch, Some(options)).await,
                    Op::Write,
                )
            }
        };
        let key = container.key(partition_key, id);
        item_result(result.map_err(|e| self.error(e, op, Some(key)))?)
    }

    /// Sends an operation on a document of a type that shares its container. Cosmos DB cannot
    /// make a replace, delete or patch conditional on a property, so those read the document
    /// first, answer 404 if it is another type's, and write under the etag read (starting
    /// again if another writer got in between, unless the caller gave an etag).
    async fn send_typed(
        &self,
        container: Container<'_>,
        partition_key: &PartitionKey,
        operation: ItemOperation<'_>,
        discriminator: Discriminator,
    ) -> Result<ItemResult> {
        const ATTEMPTS: u32 = 5;
        let key = container.key(partition_key, operation.id);
        let of_type = |result: &ItemResult| {
            result
                .value
                .as_ref()
                .is_none_or(|body| holds(body, &discriminator))
        };
        let read = ItemOperation {
            id: operation.id,
            action: Action::Read(None),
            if_match: None,
        };
        if matches!(operation.action, Action::Read(_)) {
            let found = self.send(container, partition_key, read).await?;
            return if of_type(&found) {
                Ok(found)
            } else {
                Err(key.not_found())
            };
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let found = self.send(container, partition_key, read).await?;
            if !of_type(&found) {
                return Err(key.not_found());
            }
            let guarded = ItemOperation {
                if_match: operation.if_match.or(found.etag.as_ref()),
                ..operation
            };
            match self.send(container, partition_key, guarded).await {
                Ok(mut written) => {
                    written.request_charge += found.request_charge;
                    return Ok(written);
                }
                Err(Error::PreconditionFailed { .. })
                    if operation.if_match.is_none() && attempt < ATTEMPTS => {}
                Err(err) => return Err(err),
            }
        }
    }
}

impl CosmosStore {
    /// For a batch of a type that shares its container: reads the documents its replaces,
    /// deletes and reads name, fails it as for a missing document when one is another type's,
    /// and answers the etags that guard the replaces and deletes (so the documents cannot turn
    /// into another type's before the batch runs), with the charge of the reads.
    async fn own_documents(
        &self,
        container: Container<'_>,
        partition_key: &PartitionKey,
        operations: &[ItemOperation<'_>],
        discriminator: Discriminator,
    ) -> Result<(Vec<Option<Etag>>, f64)> {
        let mut etags = vec![None; operations.len()];
        let mut charge = 0.0;
        for (index, operation) in operations.iter().enumerate() {
            if !matches!(
                operation.action,
                Action::Replace(_) | Action::Delete | Action::Read(_)
            ) {
                continue;
            }
            let read = ItemOperation {
                id: operation.id,
                action: Action::Read(None),
                if_match: None,
            };
            let found = match self.send(container, partition_key, read).await {
                Ok(found) => found,
                // The batch itself reports a missing document.
                Err(Error::NotFound { .. }) => continue,
                Err(err) => return Err(err),
            };
            charge += found.request_charge;
            if !found
                .value
                .as_ref()
                .is_none_or(|body| holds(body, &discriminator))
            {
                let missing = container.key(partition_key, operation.id).not_found();
                return Err(batch_failed(index, operation.action, missing));
            }
            if !matches!(operation.action, Action::Read(_)) {
                etags[index] = found.etag;
            }
        }
        Ok((etags, charge))
    }
}

#[async_trait]
impl Store for CosmosStore {
    async fn execute(
        &self,
        container: Container<'_>,
        partition_key: &PartitionKey,
        operation: ItemOperation<'_>,
    ) -> Result<ItemResult> {
        match (container.model.discriminator, operation.action) {
            (
                Some(discriminator),
                Action::Read(_) | Action::Replace(_) | Action::Delete | Action::Patch(_),
            ) => {
                self.send_typed(container, partition_key, operation, discriminator)
                    .await
            }
            _ => self.send(container, partition_key, operation).await,
        }
    }

    async fn execute_batch(
        &self,
        container: Container<'_>,
        partition_key: &PartitionKey,
        operations: &[ItemOperation<'_>],
    ) -> Result<Response<Vec<ItemResult>>> {
        let client = self.container(container.name).await?;
        let (guarded, etags);
        let (operations, checked_charge) = match container.model.discriminator {
            Some(discriminator) => {
                let charge;
                (etags, charge) = self
                    .own_documents(container, partition_key, operations, discriminator)
                    .await?;
                guarded = operations
                    .iter()
                    .zip(&etags)
                    .map(|(operation, etag)| ItemOperation {
                        if_match: operation.if_match.or(etag.as_ref()),
                        ..*operation
                    })
                    .collect::<Vec<_>>();
                (&guarded[..], charge)
            }
            None => (operations, 0.0),
        };
        let batch = transactional_batch(sdk_key(partition_key)?, operations)?;
        let response = client
            .execute_transactional_batch(batch, None)
            .await
            .map_err(|e| self.error(e, Op::Write, None))?;
        let status = u16::from(response.status().status_code());
        let (charge, activity_id, _) = meta(response.headers());
        let retried_in_flight = in_flight_retry(&response.diagnostics());
        let results = response.into_model().map_err(|e| Error::Transport {
            source: Box::new(e),
        })?;
        let results = results.results();
        // A failed batch answers the failed operation's status, and 424 for every other.
        if let Some((index, failed)) = results
            .iter()
            .enumerate()
            .find(|(_, result)| !result.is_success() && result.status_code() != 424)
        {
            let Some(operation) = operations.get(index) else {
                return Err(Error::Transport {
                    source: format!(
                        "Cosmos DB answered a batch of {} operations with a result for operation {index}",
                        operations.len()
                    )
                    .into(),
                });
            };
            let key = container.key(partition_key, operation.id);
            let cause = operation_error(
                key,
                failed.status_code(),
                failed.substatus_code(),
                failed.retry_after(),
            );
            return Err(match retried_in_flight {
                // The SDK sent the batch again after the first attempt failed in flight: the
                // first may have applied it all, and this failure may be its own doing.
                Some(attempts) => Error::BatchMaybeApplied {
                    container: container.name.to_owned(),
                    partition_key: partition_key.clone(),
                    attempts,
                    index,
                    operation: operation.action.name(),
                    source: Box::new(cause),
                },
                None => batch_failed(index, operation.action, cause),
            });
        }
        let results = results
            .iter()
            .map(|result| {
                let body = result
                    .resource_body()
                    .map(|body| Bytes::copy_from_slice(body.get().as_bytes()));
                Response::new(
                    body,
                    result.request_charge().unwrap_or(0.0),
                    None,
                    result.etag().map(Etag::new),
                    result.status_code(),
                )
            })
            .collect();
        Ok(Response::new(
            results,
            charge + checked_charge,
            activity_id,
            None,
            status,
        ))
    }

    async fn query_page(
        &self,
        feed: Feed<'_>,
        text: QueryText<'_>,
        page_size: u32,
        continuation: Option<&str>,
    ) -> Result<Page<Bytes>> {
        if let QueryText::Typed(spec, _) = text
            && matches!(spec.select, Select::Ranked(_))
        {
            return Err(Error::Unsupported {
                message: "azure_data_cosmos 1.0 cannot run full-text or hybrid ranking (ORDER BY RANK FullTextScore / RRF): its query planner refuses them, so nothing was sent; rank with `nearest`, filter with `full_text_contains`, or run the ranking on the embedded store".to_owned(),
            });
        }
        let without_distinct;
        let sql = match text {
            // SDK 1.0 merges an unordered DISTINCT across partitions only under a TOP of at
            // most 1,000 (20125); the query layer leaves out repeats itself.
            QueryText::Typed(spec, _)
                if spec.distinct && spec.order_by.is_empty() && !in_one_partition(&feed) =>
            {
                without_distinct = sql::render(
                    &feed,
                    &QuerySpec {
                        distinct: false,
                        ..spec.clone()
                    },
                );
                &without_distinct
            }
            QueryText::Typed(_, sql) | QueryText::Sql(sql) => sql,
        };
        let container = self.container(feed.container.name).await?;
        let mut options = query_options(&feed).with_max_item_count(MaxItemCountHint::Limit(
            NonZeroU32::new(page_size).unwrap_or(NonZeroU32::MIN),
        ));
        if let Some(token) = continuation {
            options =
                options.with_continuation_token(ContinuationToken::from_string(token.to_owned()));
        }
        let mut pages = container
            .query_items::<Box<RawValue>>(sdk_query(sql)?, feed_scope(feed.scope)?, Some(options))
            .await
            .map_err(|e| self.error(e, Op::Read, None))?
            .into_pages();
        let Some(page) = pages.next().await else {
            return Ok(Page::new(Vec::new(), None, 0.0, None));
        };
        let page = page.map_err(|e| self.error(e, Op::Read, None))?;
        let (charge, activity_id, _) = meta(page.headers());
        // One partition is one range: no service continuation means no more pages. Across
        // ranges the SDK's token says where to resume, and the page after the last is empty.
        let done =
            matches!(feed.scope, Scope::Partition(_)) && page.headers().continuation().is_none();
        let next = if done {
            None
        } else {
            let token = pages
                .to_continuation_token()
                .map_err(|e| self.error(e, Op::Read, None))?;
            Some(token.as_str().to_owned())
        };
        let items = page
            .into_items()
            .into_iter()
            .map(|item| Bytes::from(String::from(Box::<str>::from(item))))
            .collect();
        Ok(Page::new(items, next, charge, activity_id))
    }

    async fn aggregate(
        &self,
        feed: Feed<'_>,
        filter: Option<&Expr>,
        aggregate: &Aggregate,
    ) -> Result<Response<Option<Value>>> {
        let container = self.container(feed.container.name).await?;
        let query =
            |aggregate: &Aggregate| sdk_query(&sql::render_aggregate(&feed, filter, aggregate));
        // Per range, AVG is each range's SUM and COUNT of the field.
        let options = query_options(&feed);
        let range_queries = match aggregate {
            Aggregate::Avg(path) => vec![
                query(&Aggregate::Sum(*path))?,
                query(&Aggregate::Count(Some(*path)))?,
            ],
            other => vec![query(other)?],
        };
        let result = if in_one_partition(&feed) {
            // One partition is one range: the service aggregates it whole.
            results(
                &container,
                query(aggregate)?,
                feed_scope(feed.scope)?,
                &options,
            )
            .await
            .map(|found| found.map(|found| found.into_iter().next()))
        } else {
            // Each feed range's aggregate, combined. SDK 1.0 plans queries over a feed range
            // and refuses aggregates in them (20113; 20302 from older gateways); then the
            // aggregated property's values are read (one small value per matching document,
            // never the document) and folded here, with Cosmos DB's rules.
            let refused = |e: &CosmosError| matches!(sub_status(e), Some(20302 | 20113));
            match per_range(&container, aggregate, &range_queries, &options).await {
                Err(e) if refused(&e) => {
                    let values = sdk_query(&sql::render_values(&feed, filter, aggregate.path()))?;
                    results(&container, values, feed_scope(feed.scope)?, &options)
                        .await
                        .map(|found| {
                            found.map(|found| values::fold(aggregate, found.iter().map(Some)))
                        })
                }
                result => result,
            }
        };
        result.map_err(|e| self.error(e, Op::Read, None))
    }

    async fn changes(
        &self,
        container: Container<'_>,
        scope: ChangeScope<'_>,
        start: ChangeStart<'_>,
        max_items: u32,
    ) -> Result<Page<Bytes>> {
        let client = self.container(container.name).await?;
        let whole = matches!(scope, ChangeScope::Container);
        let scope = match scope {
            ChangeScope::Partition(key) => FeedScope::partition(sdk_key(key)?),
            ChangeScope::Container => FeedScope::full_container(),
            ChangeScope::Range(range) => {
                FeedScope::range(range.parse::<FeedRange>().map_err(|_| Error::BadRequest {
                    message: format!(
                        "`{range}` is not a feed range of this container; use one `feed_ranges` returned"
                    ),
                })?)
            }
        };
        let mut options = ChangeFeedOptions::default().with_max_item_count(
            MaxItemCountHint::Limit(NonZeroU32::new(max_items).unwrap_or(NonZeroU32::MIN)),
        );
        let start_from = match start {
            ChangeStart::Beginning => ChangeFeedStartFrom::Beginning,
            ChangeStart::Now => ChangeFeedStartFrom::Now,
            ChangeStart::Continuation(token) => {
                options = options
                    .with_continuation_token(ContinuationToken::from_string(token.to_owned()));
                ChangeFeedStartFrom::Beginning
            }
        };
        let read = |e| self.error(e, Op::Read, None);
        // Across the container the SDK reads its ranges in turn, a page each, and a range with
        // nothing new answers an empty page: the feed has nothing newer only once every range
        // in a row has answered one.
        let ranges = if whole {
            client.read_feed_ranges(None).await.map_err(read)?.len()
        } else {
            1
        };
        let mut pages = client
            .query_change_feed::<Value>(scope, start_from, Some(options))
            .await
            .map_err(read)?;
        // A change feed cannot filter by type: another type's documents are left out here.
        let discriminator = container.model.discriminator;
        let of_type = |doc: &Value| {
            discriminator
                .is_none_or(|d| doc.get(d.property).and_then(Value::as_str) == Some(d.value))
        };
        let (mut items, mut charge, mut activity_id, mut empty) = (Vec::new(), 0.0, None, 0);
        while items.is_empty() && empty < ranges.max(1) {
            let Some(page) = pages.next().await.transpose().map_err(read)? else {
                break;
            };
            let (page_charge, page_activity, _) = meta(page.headers());
            charge += page_charge;
            activity_id = page_activity.or(activity_id);
            let changed = page.into_items();
            empty = if changed.is_empty() { empty + 1 } else { 0 };
            items.extend(
                changed
                    .iter()
                    .filter_map(|item| item.current())
                    .filter(|doc| of_type(doc))
                    .map(|doc| Bytes::from(doc.to_string())),
            );
        }
        let token = pages.to_continuation_token().map_err(read)?;
        Ok(Page::new(
            items,
            Some(token.as_str().to_owned()),
            charge,
            activity_id,
        ))
    }

    async fn feed_ranges(&self, container: Container<'_>) -> Result<Vec<String>> {
        let client = self.container(container.name).await?;
        let ranges = client
            .read_feed_ranges(None)
            .await
            .map_err(|e| self.error(e, Op::Read, None))?;
        Ok(ranges.iter().map(ToString::to_string).collect())
    }

    async fn group(
        &self,
        feed: Feed<'_>,
        filter: Option<&Expr>,
        key: &Path,
        aggregate: &Aggregate,
    ) -> Result<Response<Vec<(Value, Option<Value>)>>> {
        let container = self.container(feed.container.name).await?;
        let options = query_options(&feed);
        // Only documents holding the key are grouped.
        let with_key = Expr::and_defined(filter, *key);
        if !in_one_partition(&feed) {
            return self
                .group_here(&container, &feed, &with_key, key, aggregate, &options)
                .await;
        }
        // One partition: the service groups (SDK 1.0 sends such a query as it is).
        let query = sdk_query(&sql::render_group(&feed, Some(&with_key), key, aggregate))?;
        let found = results(&container, query, feed_scope(feed.scope)?, &options)
            .await
            .map_err(|e| self.error(e, Op::Read, None))?;
        Ok(found.map(|rows| {
            let mut groups: Vec<(Value, Option<Value>)> = rows
                .into_iter()
                .filter_map(|row| match row {
                    Value::Object(mut row) => Some((row.remove("k")?, row.remove("v"))),
                    _ => None,
                })
                .collect();
            groups.sort_by(|a, b| values::order(Some(&a.0), Some(&b.0)));
            groups
        }))
    }
}

impl CosmosStore {
    /// Groups across partitions. SDK 1.0 refuses GROUP BY across partitions and over feed
    /// ranges, so each matching document's key, and the aggregated value where it holds one,
    /// are read (never the document) and grouped here, with Cosmos DB's rules.
    async fn group_here(
        &self,
        container: &ContainerClient,
        feed: &Feed<'_>,
        with_key: &Expr,
        key: &Path,
        aggregate: &Aggregate,
        options: &QueryOptions,
    ) -> Result<Response<Vec<(Value, Option<Value>)>>> {
        let read = |filter: Expr, select: Select| async move {
            let query = sdk_query(&sql::render_parts(
                feed,
                &sql::Parts {
                    filter: Some(&filter),
                    order_by: &[],
                    offset: None,
                    limit: None,
                    select: &select,
                    distinct: false,
                },
            ))?;
            results(container, query, feed_scope(feed.scope)?, options)
                .await
                .map_err(|e| self.error(e, Op::Read, None))
        };
        let keys = read(with_key.clone(), Select::Value(*key)).await?;
        let mut charge = keys.request_charge;
        // COUNT(1) counts each document of the group; other aggregates fold the values read
        // next, and a key alone only makes its group.
        let held = aggregate.path().is_none().then_some(Value::Null);
        let mut rows: Vec<(Value, Option<Value>)> = keys
            .value
            .into_iter()
            .map(|key| (key, held.clone()))
            .collect();
        if let Some(at) = aggregate.path() {
            let pairs = read(
                Expr::and_defined(Some(with_key), *at),
                Select::Array(vec![*key, *at]),
            )
            .await?;
            charge += pairs.request_charge;
            rows.extend(pairs.value.into_iter().filter_map(|pair| {
                let [key, value] =
                    <[Value; 2]>::try_from(serde_json::from_value::<Vec<Value>>(pair).ok()?)
                        .ok()?;
                Some((key, Some(value)))
            }));
        }
        Ok(Response::new(
            values::group(aggregate, rows),
            charge,
            None,
            None,
            200,
        ))
    }
}

/// The options of every query of the feed: its session token.
fn query_options(feed: &Feed<'_>) -> QueryOptions {
    let options = QueryOptions::default();
    match feed.session_token {
        Some(token) => options.with_session_token(token.as_str().to_owned()),
        None => options,
    }
}

/// Whether the feed is one logical partition: scoped to a whole key, not a prefix of one.
fn in_one_partition(feed: &Feed<'_>) -> bool {
    match feed.scope {
        Scope::Partition(key) => key.values().len() == feed.container.partition_key_paths.len(),
        Scope::CrossPartition => false,
    }
}

/// Every result of `query` in `scope`, with the request charge of its pages. An `undefined`
/// result (an aggregate over nothing it can take) is no result at all.
async fn results(
    container: &ContainerClient,
    query: azure_data_cosmos::Query,
    scope: FeedScope,
    options: &QueryOptions,
) -> std::result::Result<Response<Vec<Value>>, CosmosError> {
    let mut pages = container
        .query_items::<Value>(query, scope, Some(options.clone()))
        .await?
        .into_pages();
    let (mut found, mut charge) = (Vec::new(), 0.0);
    while let Some(page) = pages.next().await {
        let page = page?;
        charge += page.headers().request_charge().map_or(0.0, |c| c.value());
        found.extend(page.into_items());
    }
    Ok(Response::new(found, charge, None, None, 200))
}

/// The aggregate in each feed range of the container, combined by `values::combine`: each
/// range's answer to `queries`, or with two queries (AVG's SUM and COUNT) `[sum, count]`.
async fn per_range(
    container: &ContainerClient,
    aggregate: &Aggregate,
    queries: &[azure_data_cosmos::Query],
    options: &QueryOptions,
) -> std::result::Result<Response<Option<Value>>, CosmosError> {
    let (mut partials, mut charge) = (Vec::new(), 0.0);
    for range in container.read_feed_ranges(None).await? {
        let mut answers = Vec::with_capacity(queries.len());
        for query in queries {
            let scope = FeedScope::range(range.clone());
            let found = results(container, query.clone(), scope, options).await?;
            charge += found.request_charge;
            answers.push(found.value.into_iter().next());
        }
        partials.push(match answers.as_slice() {
            [one] => one.clone(),
            several => Some(Value::Array(
                several
                    .iter()
                    .map(|answer| answer.clone().unwrap_or(Value::Null))
                    .collect(),
            )),
        });
    }
    let combined = values::combine(aggregate, &partials);
    Ok(Response::new(combined, charge, None, None, 200))
}

/// What a request was doing, for choosing the fix of a 403.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Read,
    Write,
    Create,
    Metadata,
}

/// Turns SDK errors into [`Error`]s that say what to do.
struct Fixes<'a> {
    config: &'a CosmosConfig,
    object_id: Option<String>,
}

impl Fixes<'_> {
    fn map(&self, e: CosmosError, op: Op, key: Option<ItemKey<'_>>) -> Error {
        let status = e.status();
        let sub_status = status.sub_status().map_or(0, |s| u32::from(s.value()));
        match status.status_code() {
            StatusCode::NotFound if key.is_some() => key.map(|k| k.not_found()),
            // A create the SDK sent again after its first attempt failed in flight: the 409
            // may be that attempt's own document.
            StatusCode::Conflict if op == Op::Write => {
                let attempts = e.diagnostics().and_then(|d| in_flight_retry(&d));
                key.map(|k| match attempts {
                    Some(attempts) => Error::MaybeApplied {
                        container: k.container.to_owned(),
                        partition_key: k.partition_key.clone(),
                        id: k.id.to_owned(),
                        attempts,
                    },
                    None => k.already_exists(),
                })
            }
            StatusCode::Conflict if key.is_some() => key.map(|k| k.already_exists()),
            StatusCode::PreconditionFailed if key.is_some() => key.map(|k| k.precondition_failed()),
            _ => None,
        }
        .unwrap_or_else(|| match status.status_code() {
            StatusCode::Unauthorized => Error::Unauthorized {
                sub_status,
                fix: self.unauthorized_fix(sub_status),
                source: Some(Box::new(e)),
            },
            StatusCode::Forbidden => Error::Forbidden {
                sub_status,
                fix: self.forbidden_fix(sub_status, op),
                source: Some(Box::new(e)),
            },
            StatusCode::TooManyRequests => Error::Throttled {
                retry_after: e
                    .response()
                    .and_then(|r| r.headers().retry_after_ms)
                    .map(Duration::from_millis),
                source: Some(Box::new(e)),
            },
            StatusCode::NotFound if op == Op::Metadata => Error::DatabaseNotFound {
                database: self.config.database().to_owned(),
                source: Box::new(e),
            },
            StatusCode::BadRequest => Error::BadRequest {
                message: e.to_string(),
            },
            // The operation's time limit ran out (sub-status 20008), or the service's own.
            StatusCode::RequestTimeout => {
                let diagnostics = e.diagnostics();
                Error::Timeout {
                    activity_id: diagnostics
                        .as_ref()
                        .map_or_else(String::new, |d| d.activity_id().to_string()),
                    attempts: diagnostics.map_or(1, |d| d.request_count()),
                    source: Box::new(e),
                }
            }
            _ => Error::Transport {
                source: Box::new(e),
            },
        })
    }

    fn unauthorized_fix(&self, sub_status: u32) -> String {
        let credential = self.config.credential();
        match sub_status {
            TOKEN_ACQUISITION_FAILED => format!(
                "{} could not get a token: {}",
                credential.name(),
                credential.token_failure_fix()
            ),
            5202 | 5203 => "key (local) authentication is disabled on this account; unset COSMOS_KEY and use Microsoft Entra ID: a managed identity (or `az login` on a developer machine) with a Cosmos DB data-plane role".to_owned(),
            5007 => "the token was issued by another tenant than the account's; set AZURE_TENANT_ID to the account's tenant (e.g. `az login --tenant <tenant-id>` on a developer machine)".to_owned(),
            5008 | 5009 => "the token has the wrong audience or scope for Cosmos DB; a credential must request `https://cosmos.azure.com/.default` (custom credentials: check the scope they ask for) and come from the account's tenant (AZURE_TENANT_ID)".to_owned(),
            5005 | 5006 => "the token is not valid at this time; check the machine's clock, and sign in again (`az login`) if it comes from a developer tool".to_owned(),
            _ if matches!(credential, Credential::Key(_)) => "the account key was rejected; set COSMOS_KEY to the account's primary or secondary key, or better, use Microsoft Entra ID".to_owned(),
            _ => format!(
                "the request's credentials ({}) were rejected; {}",
                credential.name(),
                credential.token_failure_fix()
            ),
        }
    }

    fn forbidden_fix(&self, sub_status: u32, op: Op) -> String {
        let account = match self.config.endpoint().host_str() {
            Some(host)
                if host != "localhost"
                    && !host.starts_with('[')
                    && host.parse::<std::net::IpAddr>().is_err() =>
            {
                host.split('.').next().unwrap_or(host)
            }
            _ => "<account-name>",
        };
        let principal = self.object_id.as_deref().unwrap_or(
            "<object id of the identity: `az ad signed-in-user show --query id -o tsv` for you, `az identity show -n <name> -g <group> --query principalId -o tsv` for a managed identity>",
        );
        let assign = |role: &str| {
            format!(
                "az cosmosdb sql role assignment create --account-name {account} --resource-group <resource-group> --scope / --principal-id {principal} --role-definition-id {role}"
            )
        };
        const CONTRIBUTOR: &str = "00000000-0000-0000-0000-000000000002";
        const READER: &str = "00000000-0000-0000-0000-000000000001";
        match (sub_status, op) {
            (5300, _) | (_, Op::Create) => "creating databases and containers is a control-plane operation that Cosmos DB data-plane roles do not grant; create them with `az cosmosdb sql container create` (or Bicep/Terraform) and have the app call `verify_container` instead of `ensure_container`".to_owned(),
            (5301..=5306, Op::Write) => format!(
                "the identity may not write documents here: it has no data-plane role, or only Cosmos DB Built-in Data Reader ({READER}); assign Cosmos DB Built-in Data Contributor: `{}` (Azure RBAC roles such as Contributor do not grant data access)",
                assign(CONTRIBUTOR)
            ),
            (5301..=5306, _) => format!(
                "the identity has no Cosmos DB data-plane role on this account; assign one: `{}` (Data Contributor, to read and write), or for read-only access `{}` (Data Reader, {READER}); Azure RBAC roles such as Contributor or Owner do not grant data access",
                assign(CONTRIBUTOR),
                assign(READER)
            ),
            _ => "the request was refused; if it names a firewall or network, allow this client's network on the account (`az cosmosdb update --ip-range-filter` or a private endpoint)".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use azure_data_cosmos::models::ContainerProperties;

    use crate::model::{
        self, ContainerModel, Discriminator, FullTextPath, IndexedPath, VectorDistance,
        VectorEmbedding,
    };

    /// Every kind of declaration, on a hierarchical key.
    const MODEL: ContainerModel = ContainerModel {
        discriminator: Some(Discriminator {
            property: "type",
            value: "session",
        }),
        default_ttl: Some(-1),
        composite_indexes: &[&[
            IndexedPath {
                path: "/user",
                descending: false,
            },
            IndexedPath {
                path: "/started",
                descending: true,
            },
        ]],
        excluded_paths: &["/payload"],
        unique_keys: &[&["/email", "/device"]],
        vector_embeddings: &[VectorEmbedding {
            path: "/embedding",
            dimensions: 384,
            distance: VectorDistance::Cosine,
            data_type: "float32",
            index: "quantizedFlat",
        }],
        full_text_paths: &[FullTextPath {
            path: "/notes",
            language: "en-US",
        }],
    };

    /// The definition is exactly what the SDK's container model reads and writes back, so
    /// `ensure_container` sends every part of it.
    #[test]
    fn definitions_have_the_sdk_container_shape() {
        for paths in [&["/tenant"][..], &["/tenant", "/user"][..]] {
            for model in [ContainerModel::NONE, MODEL] {
                let definition = model::container_definition("sessions", paths, &model);
                let properties: ContainerProperties =
                    serde_json::from_value(definition.clone()).unwrap();
                let written = serde_json::to_value(&properties).unwrap();
                assert_eq!(written, definition);
                assert!(model::mismatches(&definition, &written).is_empty());
            }
        }
        let hierarchical = model::container_definition("s", &["/a", "/b"], &MODEL);
        assert_eq!(hierarchical["partitionKey"]["kind"], "MultiHash");
        assert_eq!(hierarchical["partitionKey"]["version"], 2);
        assert_eq!(hierarchical["defaultTtl"], -1);
    }

    #[test]
    fn a_container_without_the_model_differs_in_each_part() {
        let wants = model::container_definition("sessions", &["/tenant", "/user"], &MODEL);
        let has = model::container_definition("sessions", &["/tenant"], &ContainerModel::NONE);
        let found = model::mismatches(&wants, &has);
        assert_eq!(found.len(), 10, "{found:#?}");
        for part in [
            "vector embedding policy lacks",
            "lacks the vector index",
            "lacks the full-text index",
            "full-text policy lacks",
        ] {
            assert!(found.iter().any(|f| f.contains(part)), "{part}: {found:#?}");
        }
        assert!(found[0].starts_with("it is partitioned by [\"/tenant\"]"));
        let command = model::create_command("db", &wants);
        assert!(
            command
                .contains("--partition-key-path /tenant /user --partition-key-version 2 --ttl -1"),
            "{command}"
        );
    }
}
