//! The conformance suite against the local Cosmos DB-compatible server, through the SDK store.

use cosmos_repo_tests::server::{fresh_database, local_endpoint};

cosmos_repo_tests::conformance_suite!(fresh_database(&local_endpoint()).await);
