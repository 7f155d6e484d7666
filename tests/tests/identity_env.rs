//! Credentials that read the process environment, end to end and offline: managed identity
//! against a loopback token endpoint speaking the App Service protocol, and the developer tools
//! on a machine without `az` or `azd`, each against a loopback fake gateway. azure_identity reads
//! IDENTITY_ENDPOINT, IDENTITY_HEADER and PATH itself, so this binary holds one test that sets
//! them before any other thread exists. With IDENTITY_ENDPOINT set, the credential never turns to
//! the instance metadata endpoint (169.254.169.254).

use cosmos_repo::prelude::*;
use cosmos_repo::{CosmosConfig, Credential};
use cosmos_repo_tests::Order;
use cosmos_repo_tests::fake::{self, Recorded, Reply};

const OID: &str = "99999999-8888-7777-6666-555555555555";
const CLIENT_ID: &str = "client-123";

#[test]
fn credentials_from_the_environment_reach_cosmos_and_their_failures_are_explained() {
    let identity_listener = fake::loopback_listener();
    let identity_endpoint = format!(
        "http://{}/msi/token",
        identity_listener.local_addr().unwrap()
    );
    let no_tools =
        std::env::temp_dir().join(format!("cosmos-repo-no-tools-{}", std::process::id()));
    std::fs::create_dir_all(&no_tools).unwrap();
    // SAFETY: no other thread exists yet; the runtime is built below.
    unsafe {
        std::env::set_var("IDENTITY_ENDPOINT", &identity_endpoint);
        std::env::set_var("IDENTITY_HEADER", "x");
        std::env::set_var("PATH", &no_tools);
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(managed_identity(identity_listener, identity_endpoint));
    runtime.block_on(developer_tools_without_tools());
}

/// Without `az` and `azd`, the fix says to sign in with them.
async fn developer_tools_without_tools() {
    let gateway = fake::gateway(|_| None);
    let err = CosmosConfig::builder()
        .endpoint(&gateway.endpoint)
        .database("db")
        .credential(Credential::DeveloperTools)
        .build_from(|_| None)
        .unwrap()
        .connect()
        .await
        .unwrap_err();
    let fix = token_failure_fix(&err);
    assert!(fix.contains("run `az login`"), "{fix}");
    assert!(
        fix.contains("AZURE_TOKEN_CREDENTIALS=ManagedIdentityCredential"),
        "{fix}"
    );
    let mut causes = String::new();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        causes.push_str(&cause.to_string());
        source = cause.source();
    }
    assert!(causes.contains("az not found"), "{causes}");
    assert!(
        gateway.requests().is_empty(),
        "nothing is sent without a token"
    );
}

/// A user-assigned managed identity: token request, Authorization header, cache, and the fixes
/// for a missing role and for an identity not assigned to the resource.
async fn managed_identity(identity_listener: std::net::TcpListener, identity_endpoint: String) {
    let token = fake::token_with_oid(OID);
    let identity = fake::identity_endpoint(identity_listener, token.clone(), CLIENT_ID);
    let gateway = fake::gateway(|request: &Recorded| {
        (request.method == "POST").then(|| Reply::cosmos_error(403, 5302, "no role"))
    });
    let env = |client_id: &'static str| {
        let identity_endpoint = identity_endpoint.clone();
        move |name: &str| match name {
            "IDENTITY_ENDPOINT" => Some(identity_endpoint.clone()),
            "AZURE_CLIENT_ID" => Some(client_id.to_owned()),
            _ => None,
        }
    };

    // The environment selects a user-assigned managed identity.
    let config = CosmosConfig::builder()
        .endpoint(&gateway.endpoint)
        .database("db")
        .build_from(env(CLIENT_ID))
        .unwrap();
    assert!(matches!(
        config.credential(),
        Credential::ManagedIdentity { client_id: Some(id) } if id == CLIENT_ID
    ));
    let cosmos = config.connect().await.unwrap();
    cosmos.verify_container::<Order>().await.unwrap();
    let orders = cosmos.repository::<Order>();
    assert!(orders.find("contoso", "o-1").await.unwrap().is_none());

    // The token came from the loopback endpoint, for Cosmos DB, for the user-assigned identity,
    // and only once: it is cached.
    let token_requests = identity.requests();
    assert_eq!(token_requests.len(), 1, "{token_requests:?}");
    let request = &token_requests[0];
    assert_eq!(
        request.headers.get("x-identity-header").map(String::as_str),
        Some("x")
    );
    let query = fake::percent_decode(request.target.split_once('?').unwrap().1);
    assert!(query.contains(&format!("client_id={CLIENT_ID}")), "{query}");
    assert!(
        query.contains("resource=https://cosmos.azure.com"),
        "{query}"
    );

    // Every gateway request carried it.
    let expected = format!("type=aad&ver=1.0&sig={token}");
    for request in gateway.requests() {
        let header = request.headers.get("authorization").unwrap();
        assert_eq!(fake::percent_decode(header), expected, "{}", request.target);
    }

    // A write refused for want of a role names this principal, from the token's oid claim.
    let err = orders
        .create(&Order::new("contoso", "o-1", 1.0))
        .await
        .unwrap_err();
    let Error::Forbidden { fix, .. } = &err else {
        panic!("expected Forbidden, got {err:?}");
    };
    assert!(
        fix.contains(&format!(
            "--principal-id {OID} --role-definition-id 00000000-0000-0000-0000-000000000002"
        )),
        "{fix}"
    );

    // An identity that is not assigned to the resource: the fix names AZURE_CLIENT_ID.
    let err = CosmosConfig::builder()
        .endpoint(&gateway.endpoint)
        .database("db")
        .build_from(env("not-assigned"))
        .unwrap()
        .connect()
        .await
        .unwrap_err();
    let fix = token_failure_fix(&err);
    assert!(
        fix.contains("client id `not-assigned` (AZURE_CLIENT_ID)"),
        "{fix}"
    );
    assert!(
        identity
            .requests()
            .iter()
            .any(|r| r.target.contains("client_id=not-assigned")),
        "the token request reached the loopback endpoint"
    );
}

/// The fix of a 401 raised because no token could be had (sub-status 20402).
fn token_failure_fix(err: &Error) -> &str {
    match err {
        Error::Unauthorized {
            sub_status: 20402,
            fix,
            ..
        } => fix,
        other => panic!("expected Unauthorized with sub-status 20402, got {other:?}"),
    }
}
