//! The doctor against loopback fakes: each failure it explains, and a setup where all is well.

use std::sync::Arc;

use cosmos_repo::model::ContainerSpec;
use cosmos_repo::{CosmosConfig, CosmosConfigBuilder, Credential};
use cosmos_repo_tests::fake::{self, FakeServer, StaticToken};
use examples::Order;
use examples::doctor::{Diagnosis, diagnose};

const OID: &str = "11111111-2222-3333-4444-555555555555";

fn signed_in(gateway: &FakeServer, token: Option<String>) -> CosmosConfigBuilder {
    CosmosConfig::builder()
        .endpoint(&gateway.endpoint)
        .database("db")
        .credential(Credential::Token(Arc::new(StaticToken(token))))
}

async fn run(config: CosmosConfigBuilder) -> Diagnosis {
    diagnose(config, |_| None, &[ContainerSpec::of::<Order>()]).await
}

fn assert_explains(diagnosis: &Diagnosis, fix: &str) {
    assert!(!diagnosis.healthy, "{}", diagnosis.report);
    assert!(
        diagnosis.report.contains(fix),
        "`{fix}` missing from:\n{}",
        diagnosis.report
    );
}

#[tokio::test]
async fn all_is_well() {
    let gateway = fake::gateway(|_| None);
    let diagnosis = run(signed_in(&gateway, Some(fake::token_with_oid(OID)))).await;
    assert!(diagnosis.healthy, "{}", diagnosis.report);
    assert_eq!(diagnosis.report.lines().count(), 3, "{}", diagnosis.report);
}

#[tokio::test]
async fn a_missing_endpoint_names_the_variable() {
    let diagnosis = run(CosmosConfig::builder()).await;
    assert_explains(
        &diagnosis,
        "FAIL configuration: invalid configuration: COSMOS_ENDPOINT is not set",
    );
}

#[tokio::test]
async fn a_token_that_cannot_be_had_is_explained() {
    let gateway = fake::gateway(|_| None);
    let diagnosis = run(signed_in(&gateway, None)).await;
    assert_explains(
        &diagnosis,
        "FAIL token and account: not authenticated (401, sub-status 20402)",
    );
    assert!(
        gateway.requests().is_empty(),
        "nothing is sent without a token"
    );
}

#[tokio::test]
async fn a_missing_data_plane_role_gives_the_assignment_for_the_principal() {
    let gateway = fake::gateway_failing("GET", "/dbs/db", 403, 5301);
    let diagnosis = run(signed_in(&gateway, Some(fake::token_with_oid(OID)))).await;
    assert_explains(
        &diagnosis,
        &format!(
            "az cosmosdb sql role assignment create --account-name <account-name> --resource-group <resource-group> --scope / --principal-id {OID} --role-definition-id 00000000-0000-0000-0000-000000000002"
        ),
    );
}

#[tokio::test]
async fn key_auth_disabled_on_the_account_is_explained() {
    let gateway = fake::gateway_failing("GET", "/", 401, 5202);
    let config = CosmosConfig::builder()
        .endpoint(&gateway.endpoint)
        .database("db")
        .credential(Credential::Key(cosmos_repo::EMULATOR_KEY.to_owned().into()));
    let diagnosis = run(config).await;
    assert_explains(
        &diagnosis,
        "key (local) authentication is disabled on this account; unset COSMOS_KEY",
    );
}

#[tokio::test]
async fn a_missing_container_gives_the_command_that_creates_it() {
    let gateway = fake::gateway_failing("GET", "/dbs/db/colls/orders", 404, 0);
    let diagnosis = run(signed_in(&gateway, Some(fake::token_with_oid(OID)))).await;
    assert_explains(
        &diagnosis,
        "az cosmosdb sql container create --account-name <account> --resource-group <resource-group> --database-name db --name orders --partition-key-path /customerId",
    );
}
