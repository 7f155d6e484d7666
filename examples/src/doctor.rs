//! The `doctor` scenario: checks a service's Cosmos DB setup step by step and says what is
//! wrong and the exact fix.

use std::fmt::Write as _;

use cosmos_repo::CosmosConfigBuilder;
use cosmos_repo::model::ContainerSpec;

/// What the doctor found: a report to print, and whether all is well.
#[derive(Debug)]
pub struct Diagnosis {
    /// One line per step, `ok` or `FAIL` with the error and its fix.
    pub report: String,
    /// Whether every step passed.
    pub healthy: bool,
}

/// Checks, in order: the configuration (`config`, completed from `env`); a token and the
/// account (by connecting); the database and the container of each of `models`. Stops at the
/// first failure, since each step needs the one before.
pub async fn diagnose(
    config: CosmosConfigBuilder,
    env: impl Fn(&str) -> Option<String>,
    models: &[ContainerSpec],
) -> Diagnosis {
    let mut report = String::new();
    let mut step = |ok: bool, what: &str, detail: &dyn std::fmt::Display| {
        let mark = if ok { "ok  " } else { "FAIL" };
        let _ = writeln!(report, "{mark} {what}: {detail}");
        ok
    };
    let healthy = async {
        let config = match config.build_from(env) {
            Ok(config) => config,
            Err(err) => return step(false, "configuration", &err),
        };
        step(
            true,
            "configuration",
            &format_args!(
                "endpoint {}, database `{}`, credential {}",
                config.endpoint(),
                config.database(),
                config.credential().name()
            ),
        );
        let cosmos = match config.connect().await {
            Ok(cosmos) => cosmos,
            Err(err) => return step(false, "token and account", &err),
        };
        step(
            true,
            "token and account",
            &"signed in; the account answered",
        );
        match cosmos.verify_containers(models).await {
            Ok(()) => {
                let names: Vec<&str> = models.iter().map(|spec| spec.name).collect();
                step(
                    true,
                    "database and containers",
                    &format_args!("{names:?} match the model"),
                )
            }
            Err(err) => step(false, "database and containers", &err),
        }
    }
    .await;
    Diagnosis { report, healthy }
}
