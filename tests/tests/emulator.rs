//! The conformance suite against the official Azure Cosmos DB emulator (for example in Docker
//! at https://localhost:8081/). It cannot run on machines without a container engine, so it is
//! ignored by default: set COSMOS_EMULATOR_ENDPOINT and run
//! `cargo test -p cosmos-repo-tests --test emulator -- --ignored` (scripts/test.sh does).

use cosmos_repo_tests::server::fresh_database;

fn emulator_endpoint() -> String {
    std::env::var("COSMOS_EMULATOR_ENDPOINT")
        .expect("set COSMOS_EMULATOR_ENDPOINT to the emulator, e.g. https://localhost:8081/")
}

// Full-text and hybrid ranking: SDK 1.0 refuses them before sending, whatever the service
// (pinned in server.rs, `the_sdk_store_refuses_text_and_hybrid_ranking_before_sending`).
cosmos_repo_tests::conformance_suite!(
    fresh_database(&emulator_endpoint()).await,
    except[text_and_hybrid_ranking_order_by_relevance],
    #[ignore = "needs the official emulator: set COSMOS_EMULATOR_ENDPOINT and pass --ignored"]
);
