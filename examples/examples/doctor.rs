//! Doctor: checks the configuration, acquires a token, reads the account, the database and the
//! container of each document type, and prints what is wrong with the exact fix (the role
//! assignment command with the principal's object id, `az login`, `AZURE_CLIENT_ID`, key auth
//! disabled on the account, the container to create). Exits 0 only when all is well.
//!
//! Environment: what the service itself reads (`COSMOS_ENDPOINT`, `COSMOS_DATABASE`,
//! `COSMOS_CONTAINER`, the credential variables). Without `COSMOS_ENDPOINT` the examples use the
//! embedded store, which needs no checks: it says so and exits 0.
//!
//! ```sh
//! COSMOS_ENDPOINT=https://myaccount.documents.azure.com:443/ COSMOS_DATABASE=shop \
//!     cargo run -p examples --example doctor
//! ```

use std::process::ExitCode;

use cosmos_repo::CosmosConfig;
use cosmos_repo::model::ContainerSpec;
use examples::Order;
use examples::doctor::diagnose;

#[tokio::main]
async fn main() -> ExitCode {
    if std::env::var_os("COSMOS_ENDPOINT").is_none() {
        println!(
            "store: embedded (COSMOS_ENDPOINT is unset), nothing to check; set COSMOS_ENDPOINT and COSMOS_DATABASE to check a Cosmos DB account"
        );
        return ExitCode::SUCCESS;
    }
    let env = |name: &str| std::env::var(name).ok();
    let diagnosis = diagnose(
        CosmosConfig::builder(),
        env,
        &[ContainerSpec::of::<Order>()],
    )
    .await;
    print!("{}", diagnosis.report);
    if diagnosis.healthy {
        println!("all is well");
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
