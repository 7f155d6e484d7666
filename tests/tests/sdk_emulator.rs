//! The conformance suite on the SDK's in-process emulator (`azure_data_cosmos_driver`, feature
//! `__internal_in_memory_emulator`): a third store, with Cosmos DB's partition key ranges,
//! request charges, session tokens and partition splits, which answers the SDK's requests in
//! this process. It is the SDK's test harness, not its public API; the dev-dependency is pinned.

use std::sync::Arc;
use std::time::Duration;

use azure_data_cosmos::options::Region;
use azure_data_cosmos::{
    AccountReference, CosmosClientBuilder, CosmosRuntimeBuilder, FeedScope, RoutingStrategy,
};

use azure_data_cosmos_driver::in_memory_emulator::{
    EmulatorStore, InMemoryEmulatorHttpClient, VirtualAccountConfig, VirtualRegion,
};
use cosmos_repo::prelude::*;
use cosmos_repo::{Cosmos, CosmosConfig, Credential, EMULATOR_KEY};
use cosmos_repo_tests::scenarios::seed_products;
use cosmos_repo_tests::server::with_test_containers;
use cosmos_repo_tests::{Order, Product};

/// The account's one region; the emulator answers for this host without any network.
const GATEWAY: &str = "https://eastus.emulator.local/";

/// The database every test container is in.
const DATABASE: &str = "db";

/// A fresh in-process account, connected, with a database holding every test container.
async fn emulator() -> Cosmos {
    account().await.0
}

/// [`emulator`], and the emulator's store, which splits partitions.
async fn account() -> (Cosmos, Arc<EmulatorStore>) {
    let (cosmos, emulator) = emulated().await;
    (cosmos, emulator.store())
}

/// [`emulator`], and the emulator, to reach with the SDK directly.
async fn emulated() -> (Cosmos, Arc<InMemoryEmulatorHttpClient>) {
    let region = VirtualRegion::new("East US", GATEWAY.parse().unwrap());
    let account = VirtualAccountConfig::new(vec![region]).unwrap();
    let emulator = Arc::new(InMemoryEmulatorHttpClient::new(account));
    let runtime = CosmosRuntimeBuilder::from(emulator.runtime_builder())
        .build()
        .await
        .unwrap();
    let store = emulator.store();
    store.create_database(DATABASE);
    let cosmos = CosmosConfig::builder()
        .endpoint(GATEWAY)
        .database(DATABASE)
        .credential(Credential::Key(EMULATOR_KEY.to_owned().into()))
        .emulator(true)
        .build_from(|_| None)
        .unwrap()
        .connect_on_runtime(runtime)
        .await
        .unwrap_or_else(|e| panic!("cannot use the in-process emulator: {e:?}"));
    (with_test_containers(cosmos).await, emulator)
}

cosmos_repo_tests::conformance_suite!(
    emulator().await,
    except [
        sorting_by_several_fields_needs_a_composite_index,
        any_selects_documents_by_their_array_elements,
        a_group_without_the_value_sums_to_zero_in_one_partition,
        nearest_ranks_by_each_distance_function,
        full_text_filters_match_words,
        text_and_hybrid_ranking_order_by_relevance,
    ],
);

// What the in-process emulator does differently from Cosmos DB.

#[tokio::test]
async fn emulator_sorts_by_several_fields_without_a_composite_index() {
    let products = seed_products(&emulator().await).await;
    let f = Product::FIELDS;
    // Product has no composite index on (stock, name): Cosmos DB refuses this query.
    let sorted: Vec<String> = products
        .query()
        .cross_partition()
        .order_by(f.stock.asc())
        .order_by(f.name.asc())
        .select(f.id)
        .all()
        .await
        .unwrap();
    assert_eq!(sorted, ["p3", "p6", "p2", "p4", "p1", "p5", "p8", "p7"]);
}

#[tokio::test]
async fn emulator_reads_double_quoted_strings_as_something_else() {
    // Cosmos DB takes 'x' and "x" alike; cosmos-repo renders property names single-quoted.
    let products = seed_products(&emulator().await).await;
    let count = |sql: &'static str| {
        let products = &products;
        async move {
            let found: Vec<Product> = products
                .raw_query(sql)
                .cross_partition()
                .all()
                .await
                .unwrap();
            found.len()
        }
    };
    assert_eq!(count("SELECT * FROM c WHERE c.name = 'Brush'").await, 1);
    assert_eq!(count(r#"SELECT * FROM c WHERE c.name = "Brush""#).await, 0);
}

#[tokio::test]
async fn emulator_sums_a_group_without_the_value_to_undefined() {
    // Cosmos DB's SUM over nothing is 0, in a group as without one (its SDKs add the ranges'
    // sums, an undefined one making the total undefined).
    let products = seed_products(&emulator().await).await;
    let f = Product::FIELDS;
    let sums = products
        .query()
        .partition("garden")
        .group_by(f.discontinued)
        .sum(f.discount)
        .await
        .unwrap();
    assert_eq!(sums, [(false, None), (true, Some(0.25))]);
}

#[tokio::test]
async fn emulator_cannot_run_subqueries() {
    // Cosmos DB runs EXISTS(SELECT ...), as `any` renders it; the local server does too.
    let products = seed_products(&emulator().await).await;
    let f = Product::FIELDS;
    let err = products
        .query()
        .cross_partition()
        .filter(f.tags.any(|t| t.eq("steel")))
        .all()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::BadRequest { message } if message.contains("subqueries")),
        "{err:?}"
    );
}

#[tokio::test]
async fn emulator_projects_a_missing_property_as_null() {
    // Cosmos DB leaves out the rows of documents without the property; three products of the
    // eight have a discount.
    let products = seed_products(&emulator().await).await;
    let discounts: Vec<Option<f64>> = products
        .raw_query("SELECT VALUE c.discount FROM c")
        .returning::<Option<f64>>()
        .cross_partition()
        .all()
        .await
        .unwrap();
    assert_eq!(discounts.len(), 8, "{discounts:?}");
    assert_eq!(discounts.iter().flatten().count(), 3, "{discounts:?}");
}

// What only this store can show: a partition split under a query that is being paged.

#[tokio::test]
async fn pages_survive_a_partition_split_between_them() {
    let (cosmos, store) = account().await;
    let orders = cosmos.repository::<Order>();
    let mut expected = Vec::new();
    for n in 0..40_u32 {
        let order = Order::new(
            &format!("c{:02}", n % 10),
            &format!("o-{n:02}"),
            f64::from(n),
        );
        orders.create(&order).await.unwrap();
        expected.push(order.id);
    }
    let f = Order::FIELDS;
    let sorted = || {
        orders
            .query()
            .cross_partition()
            .order_by(f.total.asc())
            .select(f.id)
    };
    let unsorted = || orders.query().partition("c03").select(f.id);

    let first = sorted().page(7, None).await.unwrap();
    let first_of_one = unsorted().page(2, None).await.unwrap();
    store.split_partition(DATABASE, "orders", 0, Duration::ZERO);
    store.drain_pending_control_plane().await;
    assert_eq!(
        store.child_partition_ids(DATABASE, "orders", &[0]).len(),
        2,
        "the container's one partition split in two"
    );

    let mut seen = first.items;
    let mut continuation = first.continuation;
    while let Some(token) = continuation {
        assert!(
            seen.len() <= expected.len(),
            "paging does not end: {seen:?}"
        );
        let page = sorted().page(7, Some(&token)).await.unwrap();
        seen.extend(page.items);
        continuation = page.continuation;
    }
    assert_eq!(
        seen, expected,
        "every order once, in order, across the split"
    );

    let mut seen = first_of_one.items;
    let token = first_of_one.continuation.expect("c03 holds four orders");
    seen.extend(unsorted().page(10, Some(&token)).await.unwrap().items);
    seen.sort();
    assert_eq!(seen, ["o-03", "o-13", "o-23", "o-33"]);
}

// Why cosmos-repo folds cross-partition aggregates itself: SDK 1.0 plans a query over a feed
// range like one over the container, and refuses aggregates in it.

#[tokio::test]
async fn the_sdk_refuses_an_aggregate_over_a_feed_range() {
    let (_cosmos, emulator) = emulated().await;
    let runtime = CosmosRuntimeBuilder::from(emulator.runtime_builder())
        .build()
        .await
        .unwrap();
    let account = AccountReference::with_authentication_key(
        GATEWAY.parse().unwrap(),
        EMULATOR_KEY.to_owned(),
    );
    let client = CosmosClientBuilder::new()
        .with_runtime(runtime)
        .build(account, RoutingStrategy::ProximityTo(Region::EAST_US))
        .await
        .unwrap();
    let container = client
        .database_client(DATABASE.to_owned())
        .container_client("orders".to_owned(), None)
        .await
        .unwrap();
    let ranges = container.read_feed_ranges(None).await.unwrap();
    let range = ranges
        .first()
        .expect("a container has a feed range")
        .clone();
    let refused = container
        .query_items::<u64>(
            "SELECT VALUE COUNT(1) FROM c",
            FeedScope::range(range),
            None,
        )
        .await
        .map(|_| ())
        .unwrap_err();
    let sub_status = refused.status().sub_status().map(|s| s.value());
    assert_eq!(sub_status, Some(20113), "{refused}");
}

#[tokio::test]
async fn emulator_cannot_rank_by_vector() {
    // Cosmos DB computes `VectorDistance`; the SDK's emulator knows no such function, and
    // across partitions the SDK's own planner cannot plan the ORDER BY (20115), which Cosmos
    // DB's gateway plans. Vector search runs on the embedded store and the official emulator.
    use cosmos_repo_tests::scenarios::nearest_error;
    for (one_partition, says) in [(true, "unknown function: VectorDistance"), (false, "20115")] {
        let err = nearest_error(&emulator().await, one_partition).await;
        assert!(
            matches!(&err, Error::BadRequest { message } if message.contains(says)),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn emulator_cannot_search_full_text() {
    // Cosmos DB computes FullTextContains over the container's full-text index; the SDK's
    // emulator knows no such function. Full-text filters run on the embedded store.
    let err = cosmos_repo_tests::scenarios::full_text_error(&emulator().await).await;
    assert!(
        matches!(&err, Error::BadRequest { message } if message.contains("unknown function: FullTextContains")),
        "{err:?}"
    );
}
