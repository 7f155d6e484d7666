//! Every 401/403 the service can give is turned into an error that says what to do. Runs
//! offline against a loopback fake gateway.

use std::sync::Arc;
use std::time::Duration;

use cosmos_repo::prelude::*;
use cosmos_repo::{Cosmos, CosmosConfig, Credential, EMULATOR_KEY};
use cosmos_repo_tests::Order;
use cosmos_repo_tests::fake::{self, FakeServer, Recorded, Reply, StaticToken};

const OID: &str = "11111111-2222-3333-4444-555555555555";
const CONTRIBUTOR: &str = "00000000-0000-0000-0000-000000000002";
const READER: &str = "00000000-0000-0000-0000-000000000001";

async fn connect(gateway: &FakeServer, credential: Credential) -> Cosmos {
    CosmosConfig::builder()
        .endpoint(&gateway.endpoint)
        .database("db")
        .credential(credential)
        .build_from(|_| None)
        .unwrap()
        .connect()
        .await
        .unwrap()
}

fn token_credential() -> Credential {
    Credential::Token(Arc::new(StaticToken(Some(fake::token_with_oid(OID)))))
}

fn fix_of(err: &Error) -> (&'static str, u32, &str) {
    match err {
        Error::Unauthorized {
            sub_status, fix, ..
        } => ("401", *sub_status, fix),
        Error::Forbidden {
            sub_status, fix, ..
        } => ("403", *sub_status, fix),
        other => panic!("expected an auth error, got {other:?}"),
    }
}

fn order() -> Order {
    Order::new("contoso", "o-1", 1.0)
}

#[tokio::test]
async fn authorization_header_carries_the_entra_id_token() {
    let gateway = fake::gateway(|_| None);
    let cosmos = connect(&gateway, token_credential()).await;
    cosmos.verify_container::<Order>().await.unwrap();
    let expected = format!("type=aad&ver=1.0&sig={}", fake::token_with_oid(OID));
    let requests = gateway.requests();
    assert!(requests.len() >= 3, "{requests:?}");
    for request in requests {
        let header = request.headers.get("authorization").unwrap_or_else(|| {
            panic!("{} {} has no Authorization", request.method, request.target)
        });
        assert_eq!(fake::percent_decode(header), expected);
    }
}

#[tokio::test]
async fn missing_data_plane_role_prints_the_role_assignment_for_the_principal() {
    let gateway = fake::gateway_failing("GET", "/dbs/db", 403, 5301);
    let cosmos = connect(&gateway, token_credential()).await;
    let err = cosmos.verify_container::<Order>().await.unwrap_err();
    let (status, sub_status, fix) = fix_of(&err);
    assert_eq!((status, sub_status), ("403", 5301));
    assert!(fix.contains(&format!(
        "az cosmosdb sql role assignment create --account-name <account-name> --resource-group <resource-group> --scope / --principal-id {OID} --role-definition-id {CONTRIBUTOR}"
    )), "{fix}");
    assert!(fix.contains(READER), "names the Data Reader id too: {fix}");
    assert!(fix.contains("do not grant data access"), "{fix}");
    assert!(
        std::error::Error::source(&err).is_some(),
        "the service error is kept"
    );
}

#[tokio::test]
async fn write_with_the_reader_role_asks_for_data_contributor() {
    let gateway = fake::gateway_failing("POST", "/dbs/db/colls/orders/docs", 403, 5302);
    let orders = connect(&gateway, token_credential())
        .await
        .repository::<Order>();
    let err = orders.create(&order()).await.unwrap_err();
    let (status, sub_status, fix) = fix_of(&err);
    assert_eq!((status, sub_status), ("403", 5302));
    assert!(fix.contains("may not write documents"), "{fix}");
    assert!(fix.contains(&format!("Data Reader ({READER})")), "{fix}");
    assert!(
        fix.contains(&format!(
            "--principal-id {OID} --role-definition-id {CONTRIBUTOR}"
        )),
        "{fix}"
    );
}

#[tokio::test]
async fn read_without_a_role_asks_for_one() {
    let gateway = fake::gateway_failing("GET", "/dbs/db/colls/orders/docs/o-1", 403, 5302);
    let orders = connect(&gateway, token_credential())
        .await
        .read_repository::<Order>();
    let err = orders.read("contoso", "o-1").await.unwrap_err();
    let (_, _, fix) = fix_of(&err);
    assert!(fix.contains("has no Cosmos DB data-plane role"), "{fix}");
    for role in [READER, CONTRIBUTOR] {
        assert!(
            fix.contains(&format!("--principal-id {OID} --role-definition-id {role}")),
            "the assignment of {role}: {fix}"
        );
    }
}

#[tokio::test]
async fn creating_a_database_under_a_data_plane_role_is_explained() {
    let gateway = fake::gateway_failing("POST", "/dbs", 403, 5300);
    let cosmos = connect(&gateway, token_credential()).await;
    let err = cosmos.ensure_container::<Order>().await.unwrap_err();
    let (status, sub_status, fix) = fix_of(&err);
    assert_eq!((status, sub_status), ("403", 5300));
    assert!(fix.contains("control-plane operation"), "{fix}");
    assert!(fix.contains("verify_container"), "{fix}");
}

#[tokio::test]
async fn disabled_key_auth_says_to_use_entra_id() {
    let gateway = fake::gateway_failing("GET", "/dbs/db", 401, 5202);
    let cosmos = connect(&gateway, Credential::Key(EMULATOR_KEY.into())).await;
    let err = cosmos.verify_container::<Order>().await.unwrap_err();
    let (status, sub_status, fix) = fix_of(&err);
    assert_eq!((status, sub_status), ("401", 5202));
    assert!(fix.contains("unset COSMOS_KEY"), "{fix}");
    assert!(
        !err.to_string().contains(EMULATOR_KEY),
        "the key leaked: {err}"
    );
}

#[tokio::test]
async fn rejected_key_says_which_setting_to_check() {
    let gateway = fake::gateway_failing("GET", "/dbs/db", 401, 0);
    let cosmos = connect(&gateway, Credential::Key(EMULATOR_KEY.into())).await;
    let err = cosmos.verify_container::<Order>().await.unwrap_err();
    let (_, _, fix) = fix_of(&err);
    assert!(
        fix.contains("set COSMOS_KEY to the account's primary or secondary key"),
        "{fix}"
    );
}

#[tokio::test]
async fn wrong_audience_and_tenant_are_told_apart() {
    let gateway = fake::gateway_failing("GET", "/dbs/db", 401, 5008);
    let cosmos = connect(&gateway, token_credential()).await;
    let err = cosmos.verify_container::<Order>().await.unwrap_err();
    let (_, sub_status, fix) = fix_of(&err);
    assert_eq!(sub_status, 5008);
    assert!(fix.contains("https://cosmos.azure.com/.default"), "{fix}");

    let gateway = fake::gateway_failing("GET", "/dbs/db", 401, 5007);
    let cosmos = connect(&gateway, token_credential()).await;
    let err = cosmos.verify_container::<Order>().await.unwrap_err();
    let (_, sub_status, fix) = fix_of(&err);
    assert_eq!(sub_status, 5007);
    assert!(fix.contains("AZURE_TENANT_ID"), "{fix}");
}

#[tokio::test]
async fn a_credential_without_a_token_fails_at_connect() {
    let gateway = fake::gateway(|_| None);
    let err = CosmosConfig::builder()
        .endpoint(&gateway.endpoint)
        .database("db")
        .credential(Credential::Token(Arc::new(StaticToken(None))))
        .build_from(|_| None)
        .unwrap()
        .connect()
        .await
        .unwrap_err();
    let (status, sub_status, _) = fix_of(&err);
    assert_eq!((status, sub_status), ("401", 20402));
    assert!(
        format!("{:?}", std::error::Error::source(&err)).contains("no token for you"),
        "the credential's own error is the source: {err:?}"
    );
    assert!(
        gateway.requests().is_empty(),
        "nothing is sent without a token"
    );
}

#[tokio::test]
async fn throttling_carries_the_retry_after() {
    let gateway = fake::gateway(|request: &Recorded| {
        request
            .target
            .starts_with("/dbs/db/colls/orders/docs/")
            .then(|| {
                let mut reply = Reply::cosmos_error(429, 3200, "request rate is large");
                reply
                    .headers
                    .push(("x-ms-retry-after-ms".into(), "1".into()));
                reply
            })
    });
    let orders = connect(&gateway, token_credential())
        .await
        .repository::<Order>();
    match orders.read("contoso", "o-1").await.unwrap_err() {
        Error::Throttled { retry_after, .. } => {
            assert_eq!(retry_after, Some(Duration::from_millis(1)))
        }
        other => panic!("expected Throttled, got {other:?}"),
    }
}

/// COSMOS_PREFERRED_REGIONS reaches the SDK's routing: reads go to the first preferred region.
#[tokio::test]
async fn preferred_regions_route_reads() {
    let (west, north) = (fake::loopback_listener(), fake::loopback_listener());
    let (west_endpoint, north_endpoint) = (fake::endpoint_of(&west), fake::endpoint_of(&north));
    let account = fake::account(&[
        ("West Europe", &west_endpoint),
        ("North Europe", &north_endpoint),
    ]);
    let west = fake::gateway_on(west, account.clone(), |_| None);
    let north = fake::gateway_on(north, account, |_| None);
    let reads = |gateway: &FakeServer| {
        gateway
            .requests()
            .iter()
            .filter(|r| r.target.starts_with("/dbs/db/colls/orders/docs/"))
            .count()
    };
    for (preferred, expected_west, expected_north) in
        [("North Europe", 0, 1), ("West Europe", 1, 1)]
    {
        let orders = CosmosConfig::builder()
            .endpoint(&west_endpoint)
            .database("db")
            .credential(token_credential())
            .build_from(|name| (name == "COSMOS_PREFERRED_REGIONS").then(|| preferred.to_owned()))
            .unwrap()
            .connect()
            .await
            .unwrap()
            .repository::<Order>();
        assert!(orders.find("contoso", "o-1").await.unwrap().is_none());
        assert_eq!(
            (reads(&west), reads(&north)),
            (expected_west, expected_north),
            "preferring {preferred}"
        );
    }
}

/// Issues tokens that stop being fresh (five minutes before they expire, as the client
/// refreshes) one second after they are issued, and counts the requests for them.
#[derive(Debug, Default)]
struct ShortLived(std::sync::atomic::AtomicUsize);

#[async_trait::async_trait]
impl azure_core::credentials::TokenCredential for ShortLived {
    async fn get_token(
        &self,
        _scopes: &[&str],
        _options: Option<azure_core::credentials::TokenRequestOptions<'_>>,
    ) -> azure_core::Result<azure_core::credentials::AccessToken> {
        let issued = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        Ok(azure_core::credentials::AccessToken::new(
            fake::token_with_oid(&format!("{issued:08}-0000-0000-0000-000000000000")),
            azure_core::time::OffsetDateTime::now_utc()
                + azure_core::time::Duration::minutes(5)
                + azure_core::time::Duration::seconds(1),
        ))
    }
}

#[tokio::test]
async fn operations_keep_working_across_token_refreshes_with_one_request_each() {
    let gateway = fake::gateway(|request: &Recorded| {
        request
            .target
            .starts_with("/dbs/db/colls/orders/docs/")
            .then(|| Reply::cosmos_error(404, 0, "not found"))
    });
    let tokens = Arc::new(ShortLived::default());
    let cosmos = connect(&gateway, Credential::Token(tokens.clone())).await;
    let orders = cosmos.repository::<Order>();
    let burst = || {
        futures::future::join_all((0..16).map(|i| {
            let orders = orders.clone();
            async move { orders.find("contoso", &format!("o-{i}")).await }
        }))
    };
    let issued_at_connect = tokens.0.load(std::sync::atomic::Ordering::SeqCst);
    for result in burst().await {
        assert!(result.unwrap().is_none());
    }
    assert_eq!(
        tokens.0.load(std::sync::atomic::Ordering::SeqCst),
        issued_at_connect,
        "a fresh token is reused"
    );
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    for result in burst().await {
        assert!(
            result.unwrap().is_none(),
            "still working after the token went stale"
        );
    }
    assert_eq!(
        tokens.0.load(std::sync::atomic::Ordering::SeqCst),
        issued_at_connect + 1,
        "16 requests at once share one refresh"
    );
    let sent: Vec<String> = gateway
        .requests()
        .iter()
        .filter_map(|r| {
            r.headers
                .get("authorization")
                .map(|a| fake::percent_decode(a))
        })
        .collect();
    let last = fake::token_with_oid(&format!(
        "{:08}-0000-0000-0000-000000000000",
        issued_at_connect + 1
    ));
    assert!(
        sent.last().is_some_and(|a| a.ends_with(&last)),
        "the refreshed token is the one sent"
    );
}
