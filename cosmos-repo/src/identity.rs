//! Which Microsoft Entra ID credential to use, and a wrapper that caches its tokens and
//! remembers whose they are (the `oid` claim) for error messages.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use azure_core::credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions};
use azure_core::time::{Duration, OffsetDateTime};
use azure_identity::{
    AzureCliCredential, AzureDeveloperCliCredential, DeveloperToolsCredential,
    ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId,
    WorkloadIdentityCredential,
};
use serde::Deserialize;

use crate::error::{Error, Result};

/// How [`Cosmos`](crate::Cosmos) authenticates.
///
/// [`CosmosConfig::from_env`](crate::CosmosConfig::from_env) picks exactly one, in this order:
///
/// 1. `COSMOS_KEY` set: [`Credential::Key`] (emulators; other hosts need
///    `COSMOS_ALLOW_KEY_AUTH=true`).
/// 2. `AZURE_TOKEN_CREDENTIALS` set: `dev` ([`DeveloperTools`](Credential::DeveloperTools)),
///    `prod` (workload identity when `AZURE_FEDERATED_TOKEN_FILE` is set, else managed identity),
///    or one credential by name: `ManagedIdentityCredential`, `WorkloadIdentityCredential`,
///    `AzureCliCredential`, `AzureDeveloperCliCredential`.
/// 3. `AZURE_FEDERATED_TOKEN_FILE` set: [`WorkloadIdentity`](Credential::WorkloadIdentity).
/// 4. `IDENTITY_ENDPOINT` set (App Service, Container Apps, Functions):
///    [`ManagedIdentity`](Credential::ManagedIdentity), user-assigned when `AZURE_CLIENT_ID` is set.
/// 5. Otherwise [`DeveloperTools`](Credential::DeveloperTools): `az`, then `azd`.
///
/// A production credential that fails never falls back to a developer one. Tokens are cached
/// until five minutes before they expire.
///
/// # Examples
///
/// ```
/// use cosmos_repo::Credential;
///
/// let credential = Credential::ManagedIdentity { client_id: Some("00000000-0000-0000-0000-000000000001".into()) };
/// assert_eq!(credential.name(), "ManagedIdentityCredential");
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub enum Credential {
    /// An account key. Meant for emulators: production accounts should disable key auth.
    Key(Secret),
    /// The managed identity of the Azure resource the code runs on; `client_id` selects a
    /// user-assigned identity (`AZURE_CLIENT_ID`), `None` the system-assigned one.
    ManagedIdentity {
        /// The client id of a user-assigned identity.
        client_id: Option<String>,
    },
    /// Workload identity federation (AKS), from `AZURE_CLIENT_ID`, `AZURE_TENANT_ID` and
    /// `AZURE_FEDERATED_TOKEN_FILE`.
    WorkloadIdentity,
    /// The Azure CLI's signed-in account (`az login`).
    AzureCli,
    /// The Azure Developer CLI's signed-in account (`azd auth login`).
    AzureDeveloperCli,
    /// The Azure CLI, then the Azure Developer CLI: for developer machines.
    DeveloperTools,
    /// Any other Entra ID credential.
    Token(Arc<dyn TokenCredential>),
}

impl Credential {
    /// The credential's name, as `AZURE_TOKEN_CREDENTIALS` spells it.
    pub fn name(&self) -> &'static str {
        match self {
            Credential::Key(_) => "account key (COSMOS_KEY)",
            Credential::ManagedIdentity { .. } => "ManagedIdentityCredential",
            Credential::WorkloadIdentity => "WorkloadIdentityCredential",
            Credential::AzureCli => "AzureCliCredential",
            Credential::AzureDeveloperCli => "AzureDeveloperCliCredential",
            Credential::DeveloperTools => "DeveloperToolsCredential",
            Credential::Token(_) => "custom TokenCredential",
        }
    }

    /// Chooses a credential from the environment (steps 2 to 5 above; the key is the caller's).
    pub(crate) fn from_lookup(env: &dyn Fn(&str) -> Option<String>) -> Result<Credential> {
        let federated = env("AZURE_FEDERATED_TOKEN_FILE").is_some();
        let managed = || Credential::ManagedIdentity {
            client_id: env("AZURE_CLIENT_ID"),
        };
        if let Some(choice) = env("AZURE_TOKEN_CREDENTIALS") {
            return match choice.trim().to_ascii_lowercase().as_str() {
                "dev" => Ok(Credential::DeveloperTools),
                "prod" if federated => Ok(Credential::WorkloadIdentity),
                "prod" | "managedidentitycredential" => Ok(managed()),
                "workloadidentitycredential" => Ok(Credential::WorkloadIdentity),
                "azureclicredential" => Ok(Credential::AzureCli),
                "azuredeveloperclicredential" => Ok(Credential::AzureDeveloperCli),
                _ => Err(Error::Config {
                    message: format!(
                        "AZURE_TOKEN_CREDENTIALS is `{choice}`, which names no credential; use one of `dev`, `prod`, `ManagedIdentityCredential`, `WorkloadIdentityCredential`, `AzureCliCredential`, `AzureDeveloperCliCredential`, e.g. AZURE_TOKEN_CREDENTIALS=ManagedIdentityCredential"
                    ),
                }),
            };
        }
        if federated {
            Ok(Credential::WorkloadIdentity)
        } else if env("IDENTITY_ENDPOINT").is_some() {
            Ok(managed())
        } else {
            Ok(Credential::DeveloperTools)
        }
    }

    /// Builds what signs requests: the key, or the Entra ID credential wrapped in a cache.
    pub(crate) fn authenticator(&self) -> Result<Authenticator> {
        let inner: Arc<dyn TokenCredential> = match self {
            Credential::Key(key) => return Ok(Authenticator::Key(key.clone())),
            Credential::ManagedIdentity { client_id } => {
                let options = ManagedIdentityCredentialOptions {
                    user_assigned_id: client_id.clone().map(UserAssignedId::ClientId),
                    ..Default::default()
                };
                ManagedIdentityCredential::new(Some(options)).map_err(|e| self.build_error(e))?
            }
            Credential::WorkloadIdentity => {
                WorkloadIdentityCredential::new(None).map_err(|e| self.build_error(e))?
            }
            Credential::AzureCli => {
                AzureCliCredential::new(None).map_err(|e| self.build_error(e))?
            }
            Credential::AzureDeveloperCli => {
                AzureDeveloperCliCredential::new(None).map_err(|e| self.build_error(e))?
            }
            Credential::DeveloperTools => {
                DeveloperToolsCredential::new(None).map_err(|e| self.build_error(e))?
            }
            Credential::Token(credential) => credential.clone(),
        };
        Ok(Authenticator::Token(Arc::new(CachedCredential::new(inner))))
    }

    fn build_error(&self, source: azure_core::Error) -> Error {
        Error::Unauthorized {
            sub_status: TOKEN_ACQUISITION_FAILED,
            fix: format!(
                "could not set up {}: {}",
                self.name(),
                self.token_failure_fix()
            ),
            source: Some(Box::new(source)),
        }
    }

    /// What to do when this credential cannot produce a token.
    pub(crate) fn token_failure_fix(&self) -> String {
        match self {
            Credential::Key(_) => "check COSMOS_KEY".to_owned(),
            Credential::ManagedIdentity { client_id: None } => "enable the system-assigned managed identity on this Azure resource, or assign a user-assigned identity to it and set AZURE_CLIENT_ID to that identity's client id".to_owned(),
            Credential::ManagedIdentity { client_id: Some(id) } => format!("the user-assigned identity with client id `{id}` (AZURE_CLIENT_ID) must be assigned to this Azure resource; check the client id, or unset AZURE_CLIENT_ID to use the system-assigned identity"),
            Credential::WorkloadIdentity => "check AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE, and that the app registration or managed identity has a federated credential for this service account".to_owned(),
            Credential::AzureCli => "run `az login` (install the Azure CLI from https://aka.ms/azcli if `az` is missing)".to_owned(),
            Credential::AzureDeveloperCli => "run `azd auth login` (install azd from https://aka.ms/azd if it is missing)".to_owned(),
            Credential::DeveloperTools => "on a developer machine run `az login` (or `azd auth login`); on Azure, give the resource a managed identity and set AZURE_TOKEN_CREDENTIALS=ManagedIdentityCredential".to_owned(),
            Credential::Token(_) => "check the credential passed to CosmosConfig".to_owned(),
        }
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Key(_) => f.write_str("Key(<redacted>)"),
            Credential::ManagedIdentity { client_id } => f
                .debug_struct("ManagedIdentity")
                .field("client_id", client_id)
                .finish(),
            // A caller's credential may print its secrets; it is not asked to.
            Credential::Token(_) => f.write_str("Token(<credential>)"),
            other => f.write_str(other.name()),
        }
    }
}

/// The sub-status of a 401 raised because no token could be had (the SDK's own code for it).
pub(crate) const TOKEN_ACQUISITION_FAILED: u32 = 20402;

/// What signs requests to Cosmos DB.
pub(crate) enum Authenticator {
    /// An account key.
    Key(Secret),
    /// An Entra ID credential with a token cache.
    Token(Arc<CachedCredential>),
}

/// How long before expiry a cached token is renewed.
const REFRESH_MARGIN: Duration = Duration::minutes(5);

/// Caches the token of an inner credential (the CLI credentials spawn a process per call and
/// Cosmos DB asks for a token on every request) and records the principal's object id.
#[derive(Debug)]
pub(crate) struct CachedCredential {
    inner: Arc<dyn TokenCredential>,
    cached: futures::lock::Mutex<Option<(Vec<String>, AccessToken)>>,
    object_id: Mutex<Option<String>>,
}

impl CachedCredential {
    fn new(inner: Arc<dyn TokenCredential>) -> Self {
        CachedCredential {
            inner,
            cached: futures::lock::Mutex::new(None),
            object_id: Mutex::new(None),
        }
    }

    /// The `oid` claim of the last token issued, when it had one.
    pub(crate) fn object_id(&self) -> Option<String> {
        self.object_id
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[async_trait::async_trait]
impl TokenCredential for CachedCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let mut cached = self.cached.lock().await;
        if let Some((cached_scopes, token)) = cached.as_ref()
            && cached_scopes
                .iter()
                .map(String::as_str)
                .eq(scopes.iter().copied())
            && token.expires_on - REFRESH_MARGIN > OffsetDateTime::now_utc()
        {
            return Ok(token.clone());
        }
        let token = self.inner.get_token(scopes, options).await?;
        if let Some(oid) = object_id(token.token.secret()) {
            *self
                .object_id
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(oid);
        }
        *cached = Some((
            scopes.iter().map(|s| (*s).to_owned()).collect(),
            token.clone(),
        ));
        Ok(token)
    }
}

/// The `oid` claim of a JWT, read without checking its signature (only to name the principal
/// in an error message).
fn object_id(jwt: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Claims {
        oid: String,
    }
    let payload = jwt.split('.').nth(1)?;
    let bytes = azure_core::base64::decode_url_safe(payload).ok()?;
    serde_json::from_slice::<Claims>(&bytes)
        .ok()
        .map(|claims| claims.oid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    }

    fn chosen(vars: &[(&str, &str)]) -> String {
        format!("{:?}", Credential::from_lookup(&env(vars)).unwrap())
    }

    #[test]
    fn selection_order() {
        assert_eq!(chosen(&[]), "DeveloperToolsCredential");
        assert_eq!(
            chosen(&[("IDENTITY_ENDPOINT", "http://127.0.0.1:1/msi/token")]),
            r#"ManagedIdentity { client_id: None }"#
        );
        assert_eq!(
            chosen(&[("IDENTITY_ENDPOINT", "x"), ("AZURE_CLIENT_ID", "c1")]),
            r#"ManagedIdentity { client_id: Some("c1") }"#
        );
        assert_eq!(
            chosen(&[
                ("IDENTITY_ENDPOINT", "x"),
                ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token")
            ]),
            "WorkloadIdentityCredential"
        );
        assert_eq!(
            chosen(&[
                ("AZURE_FEDERATED_TOKEN_FILE", "/t"),
                ("AZURE_TOKEN_CREDENTIALS", "AzureCliCredential")
            ]),
            "AzureCliCredential"
        );
        assert_eq!(
            chosen(&[
                ("AZURE_TOKEN_CREDENTIALS", "dev"),
                ("IDENTITY_ENDPOINT", "x")
            ]),
            "DeveloperToolsCredential"
        );
        assert_eq!(
            chosen(&[("AZURE_TOKEN_CREDENTIALS", "prod")]),
            r#"ManagedIdentity { client_id: None }"#
        );
        assert_eq!(
            chosen(&[
                ("AZURE_TOKEN_CREDENTIALS", "prod"),
                ("AZURE_FEDERATED_TOKEN_FILE", "/t")
            ]),
            "WorkloadIdentityCredential"
        );
        assert_eq!(
            chosen(&[("AZURE_TOKEN_CREDENTIALS", "azuredeveloperclicredential")]),
            "AzureDeveloperCliCredential"
        );
        assert_eq!(
            chosen(&[
                ("AZURE_TOKEN_CREDENTIALS", "ManagedIdentityCredential"),
                ("AZURE_CLIENT_ID", "c2")
            ]),
            r#"ManagedIdentity { client_id: Some("c2") }"#
        );
    }

    #[test]
    fn unknown_token_credentials_value_is_explained() {
        let err = Credential::from_lookup(&env(&[("AZURE_TOKEN_CREDENTIALS", "Default")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("AZURE_TOKEN_CREDENTIALS is `Default`"),
            "{err}"
        );
        assert!(
            err.contains("AZURE_TOKEN_CREDENTIALS=ManagedIdentityCredential"),
            "{err}"
        );
    }

    #[test]
    fn token_failures_name_what_to_check() {
        let fix = |credential: Credential| credential.token_failure_fix();
        assert!(
            fix(Credential::ManagedIdentity { client_id: None })
                .contains("enable the system-assigned managed identity")
        );
        assert!(fix(Credential::WorkloadIdentity).contains("AZURE_FEDERATED_TOKEN_FILE"));
        assert!(fix(Credential::AzureCli).contains("run `az login`"));
        assert!(fix(Credential::AzureDeveloperCli).contains("run `azd auth login`"));
    }

    #[test]
    fn key_is_redacted_in_debug() {
        let shown = format!("{:?}", Credential::Key(Secret::new("s3cr3t-key")));
        assert!(!shown.contains("s3cr3t"), "{shown}");
    }

    /// Issues one token; its Debug output hides it, as real credentials do.
    struct Issuer(&'static str);

    impl fmt::Debug for Issuer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("Issuer")
        }
    }

    #[async_trait::async_trait]
    impl TokenCredential for Issuer {
        async fn get_token(
            &self,
            _scopes: &[&str],
            _options: Option<TokenRequestOptions<'_>>,
        ) -> azure_core::Result<AccessToken> {
            Ok(AccessToken::new(
                self.0,
                OffsetDateTime::now_utc() + Duration::hours(1),
            ))
        }
    }

    #[tokio::test]
    async fn cached_tokens_stay_out_of_debug_output() {
        let Ok(Authenticator::Token(credential)) =
            Credential::Token(Arc::new(Issuer("tok3n-value"))).authenticator()
        else {
            panic!("a token credential authenticates with tokens");
        };
        let token = credential
            .get_token(&["https://cosmos.azure.com/.default"], None)
            .await
            .unwrap();
        assert_eq!(token.token.secret(), "tok3n-value");
        let shown = format!("{credential:?}");
        assert!(!shown.contains("tok3n"), "{shown}");
    }

    #[test]
    fn object_id_is_read_from_the_token() {
        let claims = azure_core::base64::encode_url_safe(r#"{"oid":"1111-2222","aud":"x"}"#);
        assert_eq!(
            object_id(&format!("eyJhbGciOiJub25lIn0.{claims}.sig")).as_deref(),
            Some("1111-2222")
        );
        assert_eq!(object_id("not-a-jwt"), None);
    }
}
