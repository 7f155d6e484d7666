//! The conformance suite against the official Azure Cosmos DB emulator (for example in Docker
//! at https://localhost:8081/). It cannot run on machines without a container engine, so it is
//! ignored by default: set COSMOS_EMULATOR_ENDPOINT and run
//! `cargo test -p cosmos-repo-tests --test emulator -- --ignored` (scripts/test.sh does).

use cosmos_repo_tests::server::fresh_database;

fn emulator_endpoint() -> String {
    std::env::var("COSMOS_EMULATOR_ENDPOINT")
        .expect("set COSMOS_EMULATOR_ENDPOINT to the emulator, e.g. https://localhost:8081/")
}

cosmos_repo_tests::conformance_suite!(
    fresh_database(&emulator_endpoint()).await,
    #[ignore = "needs the official emulator: set COSMOS_EMULATOR_ENDPOINT and pass --ignored"]
);
