//! Where the account is and how to reach it: [`CosmosConfig`], from the environment or from code.

use std::fmt;
use std::time::Duration;

use azure_core::credentials::Secret;
use azure_core::http::Url;

use crate::error::{Error, Result};
use crate::identity::Credential;

/// The well-known key of the Azure Cosmos DB emulator (public, identical on every install).
pub const EMULATOR_KEY: &str =
    "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU9DXjfvwYIhYlTPQ0byOWrXH2dw6tgYrDnThZ9HXp3Acv+Ww==";

/// Settings for `Cosmos`: account endpoint, database, credential and routing.
///
/// [`from_env`](CosmosConfig::from_env) reads:
///
/// | Variable | Meaning |
/// |---|---|
/// | `COSMOS_ENDPOINT` | required, e.g. `https://myaccount.documents.azure.com:443/` |
/// | `COSMOS_DATABASE` | required, e.g. `shop` |
/// | `COSMOS_CONTAINER` | optional; overrides every document type's container |
/// | `COSMOS_PREFERRED_REGIONS` | optional, comma-separated, e.g. `West Europe,North Europe` |
/// | `COSMOS_OPERATION_TIMEOUT_MS` | optional; each operation's time limit, retries included, at least `1000` |
/// | `COSMOS_KEY` | optional account key, for emulators |
/// | `COSMOS_ALLOW_KEY_AUTH` | `true` to allow `COSMOS_KEY` for a non-emulator host |
/// | `COSMOS_EMULATOR` | `true`/`false` to force emulator mode on or off |
///
/// and the credential variables described on [`Credential`]. Settings given in code through
/// [`builder`](CosmosConfig::builder) win over the environment.
///
/// Emulator mode (on by default for `localhost`, `127.0.0.1` and `[::1]`) applies what local
/// emulators need, in this process's client only: HTTP/1.1, JSON instead of binary encoding, and
/// no certificate validation for loopback hosts.
///
/// # Examples
///
/// ```
/// use cosmos_repo::{CosmosConfig, Credential};
///
/// let config = CosmosConfig::builder()
///     .endpoint("https://myaccount.documents.azure.com:443/")
///     .database("shop")
///     .credential(Credential::ManagedIdentity { client_id: None })
///     .build_from(|_| None)?;
/// assert_eq!(config.database(), "shop");
/// assert!(!config.is_emulator());
/// # Ok::<(), cosmos_repo::Error>(())
/// ```
#[derive(Clone)]
pub struct CosmosConfig {
    endpoint: Url,
    database: String,
    container: Option<String>,
    credential: Credential,
    preferred_regions: Vec<String>,
    operation_timeout: Option<Duration>,
    emulator: bool,
}

impl CosmosConfig {
    /// Reads the configuration from environment variables (see the table above).
    ///
    /// # Errors
    ///
    /// [`Error::Config`] naming the variable, what is wrong with it and an example of a valid
    /// value.
    pub fn from_env() -> Result<CosmosConfig> {
        CosmosConfig::builder().build()
    }

    /// Starts a configuration in code; what is not set falls back to the environment.
    pub fn builder() -> CosmosConfigBuilder {
        CosmosConfigBuilder::default()
    }

    /// The account endpoint.
    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    /// The database name.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// The container that overrides every document type's own, if set.
    pub fn container(&self) -> Option<&str> {
        self.container.as_deref()
    }

    /// The credential that will be used.
    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    /// Preferred regions, most preferred first; empty means the account's order.
    pub fn preferred_regions(&self) -> &[String] {
        &self.preferred_regions
    }

    /// How long one operation may take, the SDK's retries included, before it ends with
    /// [`Error::Timeout`]; `None` leaves it to the SDK's per-request timeouts and retries.
    pub fn operation_timeout(&self) -> Option<Duration> {
        self.operation_timeout
    }

    /// Whether emulator settings apply.
    pub fn is_emulator(&self) -> bool {
        self.emulator
    }
}

impl fmt::Debug for CosmosConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CosmosConfig")
            .field("endpoint", &self.endpoint.as_str())
            .field("database", &self.database)
            .field("container", &self.container)
            .field("credential", &self.credential)
            .field("preferred_regions", &self.preferred_regions)
            .field("operation_timeout", &self.operation_timeout)
            .field("emulator", &self.emulator)
            .finish()
    }
}

/// Builds a [`CosmosConfig`] in code; every setting left unset is read from the environment.
///
/// # Examples
///
/// ```
/// use cosmos_repo::{CosmosConfig, Credential, EMULATOR_KEY};
///
/// let config = CosmosConfig::builder()
///     .endpoint("https://localhost:8081/")
///     .database("test")
///     .credential(Credential::Key(EMULATOR_KEY.into()))
///     .build_from(|_| None)?;
/// assert!(config.is_emulator());
/// # Ok::<(), cosmos_repo::Error>(())
/// ```
#[derive(Default)]
#[must_use]
pub struct CosmosConfigBuilder {
    endpoint: Option<String>,
    database: Option<String>,
    container: Option<String>,
    credential: Option<Credential>,
    preferred_regions: Option<Vec<String>>,
    operation_timeout: Option<Duration>,
    emulator: Option<bool>,
    allow_key_auth: Option<bool>,
}

impl CosmosConfigBuilder {
    /// The account endpoint (`COSMOS_ENDPOINT`).
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// The database (`COSMOS_DATABASE`).
    pub fn database(mut self, database: impl Into<String>) -> Self {
        self.database = Some(database.into());
        self
    }

    /// A container for every document type (`COSMOS_CONTAINER`).
    pub fn container(mut self, container: impl Into<String>) -> Self {
        self.container = Some(container.into());
        self
    }

    /// The credential, instead of choosing one from the environment.
    pub fn credential(mut self, credential: Credential) -> Self {
        self.credential = Some(credential);
        self
    }

    /// Preferred regions, most preferred first (`COSMOS_PREFERRED_REGIONS`).
    pub fn preferred_regions<S: Into<String>>(
        mut self,
        regions: impl IntoIterator<Item = S>,
    ) -> Self {
        self.preferred_regions = Some(regions.into_iter().map(Into::into).collect());
        self
    }

    /// How long one operation may take, the SDK's retries included (`COSMOS_OPERATION_TIMEOUT_MS`);
    /// at least one second. An operation over it ends with [`Error::Timeout`], which carries
    /// its activity id.
    pub fn operation_timeout(mut self, timeout: Duration) -> Self {
        self.operation_timeout = Some(timeout);
        self
    }

    /// Forces emulator mode on or off (`COSMOS_EMULATOR`); by default it follows the host.
    pub fn emulator(mut self, emulator: bool) -> Self {
        self.emulator = Some(emulator);
        self
    }

    /// Allows an account key for a host that is not an emulator (`COSMOS_ALLOW_KEY_AUTH`).
    /// Prefer Entra ID: production accounts should disable key auth.
    pub fn allow_key_auth(mut self, allow: bool) -> Self {
        self.allow_key_auth = Some(allow);
        self
    }

    /// Completes the configuration from the process environment.
    ///
    /// # Errors
    ///
    /// See [`CosmosConfig::from_env`].
    pub fn build(self) -> Result<CosmosConfig> {
        self.build_from(|name| std::env::var(name).ok())
    }

    /// Completes the configuration from `env` instead of the process environment: for tests,
    /// or settings kept elsewhere. `env` returns a variable's value, or `None` when unset.
    ///
    /// # Errors
    ///
    /// See [`CosmosConfig::from_env`].
    pub fn build_from(self, env: impl Fn(&str) -> Option<String>) -> Result<CosmosConfig> {
        let env = |name: &str| env(name).filter(|value| !value.trim().is_empty());
        let endpoint_text = self.endpoint.or_else(|| env("COSMOS_ENDPOINT")).ok_or_else(|| {
            config_error("COSMOS_ENDPOINT is not set; set it to the account endpoint, e.g. COSMOS_ENDPOINT=https://myaccount.documents.azure.com:443/ (or https://localhost:8081/ for the emulator)")
        })?;
        let endpoint = parse_endpoint(&endpoint_text)?;
        let database = self.database.or_else(|| env("COSMOS_DATABASE")).ok_or_else(|| {
            config_error("COSMOS_DATABASE is not set; set it to the database name, e.g. COSMOS_DATABASE=shop")
        })?;
        let container = self.container.or_else(|| env("COSMOS_CONTAINER"));
        let emulator = match self.emulator {
            Some(emulator) => emulator,
            None => match env("COSMOS_EMULATOR") {
                Some(value) => parse_bool("COSMOS_EMULATOR", &value)?,
                None => is_loopback(&endpoint),
            },
        };
        if endpoint.scheme() == "http" && !is_loopback(&endpoint) {
            return Err(config_error(format!(
                "COSMOS_ENDPOINT `{endpoint_text}` uses http://, which is only allowed for a local emulator; use https://, e.g. COSMOS_ENDPOINT=https://{}/",
                endpoint
                    .host_str()
                    .unwrap_or("myaccount.documents.azure.com")
            )));
        }
        let allow_key_auth = match self.allow_key_auth {
            Some(allow) => allow,
            None => env("COSMOS_ALLOW_KEY_AUTH")
                .map(|value| parse_bool("COSMOS_ALLOW_KEY_AUTH", &value))
                .transpose()?
                .unwrap_or(false),
        };
        let credential = match self.credential {
            Some(credential) => credential,
            None => match env("COSMOS_KEY") {
                Some(key) => Credential::Key(Secret::new(key)),
                None => Credential::from_lookup(&env)?,
            },
        };
        if matches!(credential, Credential::Key(_)) && !emulator && !allow_key_auth {
            return Err(config_error(format!(
                "an account key (COSMOS_KEY) is set for `{}`, which is not an emulator; use Microsoft Entra ID instead (unset COSMOS_KEY and give the app a managed identity with a data-plane role), or opt in with COSMOS_ALLOW_KEY_AUTH=true",
                endpoint.host_str().unwrap_or_default()
            )));
        }
        let preferred_regions = match self.preferred_regions {
            Some(regions) => regions,
            None => env("COSMOS_PREFERRED_REGIONS")
                .map(|list| {
                    list.split(',')
                        .map(str::trim)
                        .filter(|region| !region.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        };
        let operation_timeout = match self.operation_timeout {
            Some(timeout) => Some(timeout),
            None => env("COSMOS_OPERATION_TIMEOUT_MS")
                .map(|ms| parse_timeout(&ms))
                .transpose()?,
        };
        if let Some(timeout) = operation_timeout.filter(|t| *t < MIN_OPERATION_TIMEOUT) {
            return Err(config_error(format!(
                "the operation timeout {timeout:?} is under one second, the least Cosmos DB's SDK honours; use e.g. COSMOS_OPERATION_TIMEOUT_MS=5000"
            )));
        }
        Ok(CosmosConfig {
            endpoint,
            database,
            container,
            credential,
            preferred_regions,
            operation_timeout,
            emulator,
        })
    }
}

/// The SDK raises shorter end-to-end timeouts to one second.
const MIN_OPERATION_TIMEOUT: Duration = Duration::from_secs(1);

fn parse_timeout(ms: &str) -> Result<Duration> {
    ms.trim()
        .parse()
        .map(Duration::from_millis)
        .map_err(|_| {
            config_error(format!(
                "COSMOS_OPERATION_TIMEOUT_MS `{ms}` is not a number of milliseconds; use e.g. COSMOS_OPERATION_TIMEOUT_MS=5000"
            ))
        })
}

fn config_error(message: impl Into<String>) -> Error {
    Error::Config {
        message: message.into(),
    }
}

fn parse_endpoint(text: &str) -> Result<Url> {
    let invalid = |why: &str| {
        config_error(format!(
            "COSMOS_ENDPOINT `{text}` is not a valid endpoint ({why}); use the account URL, e.g. COSMOS_ENDPOINT=https://myaccount.documents.azure.com:443/"
        ))
    };
    let url = Url::parse(text.trim()).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(invalid("the scheme must be https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("it has no host"));
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    matches!(
        url.host_str(),
        Some("localhost" | "127.0.0.1" | "[::1]" | "::1")
    )
}

fn parse_bool(name: &str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(config_error(format!(
            "{name} is `{value}`, which is not a boolean; use {name}=true or {name}=false"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(vars: &[(&str, &str)]) -> Result<CosmosConfig> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        CosmosConfig::builder().build_from(move |name| {
            vars.iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        })
    }

    fn message(vars: &[(&str, &str)]) -> String {
        match build(vars) {
            Err(Error::Config { message }) => message,
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }

    const ACCOUNT: (&str, &str) = (
        "COSMOS_ENDPOINT",
        "https://myaccount.documents.azure.com:443/",
    );
    const DATABASE: (&str, &str) = ("COSMOS_DATABASE", "shop");

    #[test]
    fn missing_endpoint_and_database_are_named_with_an_example() {
        let msg = message(&[DATABASE]);
        assert!(msg.starts_with("COSMOS_ENDPOINT is not set"), "{msg}");
        assert!(msg.contains("e.g. COSMOS_ENDPOINT=https://"), "{msg}");
        let msg = message(&[ACCOUNT]);
        assert!(msg.starts_with("COSMOS_DATABASE is not set"), "{msg}");
        assert!(msg.contains("COSMOS_DATABASE=shop"), "{msg}");
        let msg = message(&[("COSMOS_ENDPOINT", "  "), DATABASE]);
        assert!(msg.starts_with("COSMOS_ENDPOINT is not set"), "{msg}");
    }

    #[test]
    fn endpoint_must_be_a_url() {
        let msg = message(&[
            ("COSMOS_ENDPOINT", "myaccount.documents.azure.com"),
            DATABASE,
        ]);
        assert!(msg.contains("is not a valid endpoint"), "{msg}");
        assert!(msg.contains("e.g. COSMOS_ENDPOINT=https://"), "{msg}");
        let msg = message(&[("COSMOS_ENDPOINT", "ftp://host/"), DATABASE]);
        assert!(msg.contains("the scheme must be https"), "{msg}");
    }

    #[test]
    fn http_is_refused_for_remote_hosts_only() {
        let msg = message(&[
            ("COSMOS_ENDPOINT", "http://myaccount.documents.azure.com/"),
            DATABASE,
        ]);
        assert!(msg.contains("uses http://"), "{msg}");
        assert!(
            msg.contains("COSMOS_ENDPOINT=https://myaccount.documents.azure.com/"),
            "{msg}"
        );
        let config = build(&[("COSMOS_ENDPOINT", "http://localhost:8081/"), DATABASE]).unwrap();
        assert!(config.is_emulator());
    }

    #[test]
    fn key_needs_an_emulator_or_an_opt_in() {
        let msg = message(&[ACCOUNT, DATABASE, ("COSMOS_KEY", "a2V5")]);
        assert!(msg.contains("COSMOS_ALLOW_KEY_AUTH=true"), "{msg}");
        assert!(!msg.contains("a2V5"), "the key leaked into {msg}");
        let config = build(&[
            ACCOUNT,
            DATABASE,
            ("COSMOS_KEY", "a2V5"),
            ("COSMOS_ALLOW_KEY_AUTH", "true"),
        ])
        .unwrap();
        assert!(matches!(config.credential(), Credential::Key(_)));
        let config = build(&[
            ("COSMOS_ENDPOINT", "https://127.0.0.1:8081/"),
            DATABASE,
            ("COSMOS_KEY", "a2V5"),
        ])
        .unwrap();
        assert!(config.is_emulator());
        assert!(!format!("{config:?}").contains("a2V5"));
    }

    #[test]
    fn unknown_token_credentials_is_a_config_error() {
        let msg = message(&[ACCOUNT, DATABASE, ("AZURE_TOKEN_CREDENTIALS", "Nope")]);
        assert!(msg.contains("AZURE_TOKEN_CREDENTIALS is `Nope`"), "{msg}");
    }

    #[test]
    fn booleans_are_checked() {
        let msg = message(&[ACCOUNT, DATABASE, ("COSMOS_EMULATOR", "maybe")]);
        assert!(msg.contains("COSMOS_EMULATOR=true"), "{msg}");
    }

    #[test]
    fn emulator_mode_follows_the_host_unless_forced() {
        for host in ["localhost", "127.0.0.1", "[::1]"] {
            let endpoint = format!("https://{host}:8081/");
            let config = build(&[("COSMOS_ENDPOINT", &endpoint), DATABASE]).unwrap();
            assert!(config.is_emulator(), "{host}");
        }
        assert!(!build(&[ACCOUNT, DATABASE]).unwrap().is_emulator());
        let forced = build(&[
            ("COSMOS_ENDPOINT", "https://cosmos-emulator:8081/"),
            DATABASE,
            ("COSMOS_EMULATOR", "true"),
        ])
        .unwrap();
        assert!(forced.is_emulator());
    }

    #[test]
    fn the_operation_timeout_is_milliseconds_of_at_least_one_second() {
        let timeout = |value| {
            build(&[ACCOUNT, DATABASE, ("COSMOS_OPERATION_TIMEOUT_MS", value)])
                .map(|config| config.operation_timeout())
        };
        assert_eq!(timeout("2500").unwrap(), Some(Duration::from_millis(2500)));
        assert_eq!(
            build(&[ACCOUNT, DATABASE]).unwrap().operation_timeout(),
            None
        );
        for bad in ["5s", "-1", "999"] {
            let message = timeout(bad).unwrap_err().to_string();
            assert!(
                message.contains("COSMOS_OPERATION_TIMEOUT_MS=5000"),
                "{bad}: {message}"
            );
        }
        let in_code = CosmosConfig::builder()
            .operation_timeout(Duration::from_millis(10))
            .build_from(|name| match name {
                "COSMOS_ENDPOINT" => Some("https://a.documents.azure.com/".into()),
                "COSMOS_DATABASE" => Some("d".into()),
                "COSMOS_OPERATION_TIMEOUT_MS" => Some("5000".into()),
                _ => None,
            });
        assert!(in_code.is_err(), "code wins, and 10 ms is refused");
    }

    #[test]
    fn code_wins_over_environment() {
        let config = CosmosConfig::builder()
            .database("from-code")
            .container("c")
            .preferred_regions(["West Europe"])
            .credential(Credential::AzureCli)
            .build_from(|name| match name {
                "COSMOS_ENDPOINT" => Some("https://a.documents.azure.com/".into()),
                "COSMOS_DATABASE" => Some("from-env".into()),
                "COSMOS_PREFERRED_REGIONS" => Some("East US".into()),
                "IDENTITY_ENDPOINT" => Some("http://127.0.0.1:1/".into()),
                _ => None,
            })
            .unwrap();
        assert_eq!(config.database(), "from-code");
        assert_eq!(config.container(), Some("c"));
        assert_eq!(config.preferred_regions(), ["West Europe"]);
        assert_eq!(config.credential().name(), "AzureCliCredential");
    }

    #[test]
    fn preferred_regions_are_a_comma_list() {
        let config = build(&[
            ACCOUNT,
            DATABASE,
            ("COSMOS_PREFERRED_REGIONS", "West Europe, North Europe,"),
        ])
        .unwrap();
        assert_eq!(config.preferred_regions(), ["West Europe", "North Europe"]);
    }
}
