//! The SDK used directly, with the settings cosmos-repo's emulator mode uses: what the benches
//! compare the repository against.

use azure_data_cosmos::clients::ContainerClient;
use azure_data_cosmos::options::{
    BinaryEncodingOptions, ConnectionPoolOptions, ContentResponseOnWrite, OperationOptionsBuilder,
    ServerCertificateValidation,
};
use azure_data_cosmos::{AccountReference, CosmosClient, CosmosRuntime, RoutingStrategy};

/// A client of `container` in `database` at `endpoint`, signed with `key`.
pub async fn container(
    endpoint: &str,
    key: &str,
    database: &str,
    container: &str,
) -> ContainerClient {
    let pool = ConnectionPoolOptions::builder()
        .with_is_http2_allowed(false)
        .with_server_certificate_validation(ServerCertificateValidation::RequiredUnlessEmulator)
        .build()
        .unwrap();
    let runtime = CosmosRuntime::builder()
        .with_connection_pool(pool)
        .build()
        .await
        .unwrap();
    let account =
        AccountReference::with_authentication_key(endpoint.parse().unwrap(), key.to_owned());
    let client = CosmosClient::builder()
        .with_default_operation_options(
            OperationOptionsBuilder::new()
                .with_content_response_on_write(ContentResponseOnWrite::Enabled)
                .build(),
        )
        .with_binary_encoding_options(BinaryEncodingOptions::new().with_enabled(false))
        .with_runtime(runtime)
        .build(account, RoutingStrategy::PreferredRegions(Vec::new()))
        .await
        .unwrap();
    client
        .database_client(database.to_owned())
        .container_client(container.to_owned(), None)
        .await
        .unwrap()
}
