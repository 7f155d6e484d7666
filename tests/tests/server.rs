//! The conformance suite against the local Cosmos DB-compatible server, through the SDK store.

use cosmos_repo_tests::server::{connect_with, local_database, local_endpoint};

cosmos_repo_tests::conformance_suite!(
    local_database().await,
    except[
        session_tokens_carry_a_write_to_later_reads,
        nearest_ranks_by_each_distance_function,
        full_text_filters_match_words,
        text_and_hybrid_ranking_order_by_relevance,
    ],
);

// What the server does differently from Cosmos DB (tests/server/README.md), and container
// errors, which the embedded store cannot show.

use cosmos_repo::prelude::*;
use cosmos_repo::{CosmosConfig, EMULATOR_KEY};
use cosmos_repo_tests::{Blob, Order};

/// The server answers without `x-ms-session-token`: it is one node, strongly consistent. The
/// session scenario runs on the embedded store and the SDK's emulator.
#[tokio::test]
async fn server_issues_no_session_tokens() {
    let orders = local_database().await.repository::<Order>();
    let created = orders
        .create(&Order::new("contoso", "o-1", 1.0))
        .with_meta()
        .await
        .unwrap();
    assert_eq!(created.session_token, None);
    let read = orders.read("contoso", "o-1").with_meta().await.unwrap();
    assert_eq!(read.session_token, None);
}

#[tokio::test]
async fn server_charges_one_request_unit() {
    let orders = local_database().await.repository::<Order>();
    let created = orders
        .create(&Order::new("contoso", "o-1", 1.0))
        .with_meta()
        .await
        .unwrap();
    let read = orders.read("contoso", "o-1").with_meta().await.unwrap();
    assert_eq!((created.request_charge, read.request_charge), (1.0, 1.0));
}

#[tokio::test]
async fn server_etags_are_unquoted() {
    let orders = local_database().await.repository::<Order>();
    let created = orders
        .create(&Order::new("contoso", "o-1", 1.0))
        .await
        .unwrap();
    let etag = created.etag.unwrap();
    assert!(!etag.as_str().starts_with('"'), "{etag}");
    assert_eq!(etag.as_str().len(), 36, "a bare UUID: {etag}");
}

#[tokio::test]
async fn server_accepts_any_key() {
    let cosmos = local_database().await;
    let config = CosmosConfig::builder()
        .endpoint(local_endpoint())
        .database(cosmos.config().database());
    let other_key = connect_with(config, "bm90IHRoZSBrZXk=").await;
    other_key.verify_container::<Order>().await.unwrap();
}

#[tokio::test]
async fn a_missing_container_is_container_not_found() {
    let cosmos = local_database().await;
    let err = cosmos
        .repository::<Order>()
        .with_container("nowhere")
        .read("contoso", "o-1")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::ContainerNotFound { container, .. } if container == "nowhere"),
        "{err:?}"
    );
    assert!(err.to_string().contains("ensure_container"), "{err}");
}

#[tokio::test]
async fn verify_container_checks_database_and_partition_key() {
    let cosmos = local_database().await;
    cosmos.verify_container::<Order>().await.unwrap();

    /// Claims the `orders` container but partitions by another path.
    #[derive(Debug, Serialize, Deserialize, CosmosDocument)]
    #[cosmos(container = "orders")]
    struct Misfit {
        #[id]
        id: String,
        #[partition_key]
        region: String,
    }
    let err = cosmos.verify_container::<Misfit>().await.unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains(r#"partitioned by ["/customerId"]"#) && message.contains(r#"["/region"]"#),
        "{message}"
    );

    let config = CosmosConfig::builder()
        .endpoint(local_endpoint())
        .database("no-such-database");
    let elsewhere = connect_with(config, EMULATOR_KEY).await;
    let err = elsewhere.verify_container::<Order>().await.unwrap_err();
    assert!(matches!(err, Error::DatabaseNotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn cosmos_container_overrides_every_type() {
    let cosmos = local_database().await;
    let config = CosmosConfig::builder()
        .endpoint(local_endpoint())
        .database(cosmos.config().database())
        .container("sessions");
    let pinned = connect_with(config, EMULATOR_KEY).await;
    assert_eq!(pinned.repository::<Order>().container(), "sessions");
}

// Query behaviour of the server (tests/server/README.md).

use cosmos_repo_tests::Product;
use cosmos_repo_tests::scenarios::seed_products;

/// OFFSET ... LIMIT does not parse on the server; Cosmos DB runs it.
#[tokio::test]
async fn server_rejects_offset() {
    let products = seed_products(&local_database().await).await;
    let err = products
        .query()
        .cross_partition()
        .offset(2)
        .all()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::BadRequest { .. }), "{err:?}");
}

/// The server's parser has no `DISTINCT`; the launcher runs the query without it and leaves
/// repeats out of the answer (fix 9), checked here on raw SQL, which cosmos-repo does not
/// deduplicate.
#[tokio::test]
async fn server_answers_distinct_through_the_launcher() {
    let products = seed_products(&local_database().await).await;
    // Three tools, two of them not discontinued.
    let mut discontinued: Vec<bool> = products
        .raw_query("SELECT DISTINCT VALUE c.discontinued FROM c WHERE c.category = 'tools'")
        .returning::<bool>()
        .partition("tools")
        .all()
        .await
        .unwrap();
    discontinued.sort();
    assert_eq!(discontinued, [false, true]);
}

/// The SDK sends one request per partition-key value of `c.category = a OR c.category = b`,
/// scoped by effective-partition-key headers that the server ignores: each returns every match.
/// Cosmos DB scopes them, so each document comes once.
#[tokio::test]
async fn server_repeats_results_of_an_or_on_the_partition_key() {
    let products = seed_products(&local_database().await).await;
    let category = Product::FIELDS.category;
    let ids = products
        .query()
        .cross_partition()
        .filter(category.eq("garden").or(category.eq("paint")))
        .select(Product::FIELDS.id)
        .all()
        .await
        .unwrap();
    assert_eq!(ids.len(), 10, "5 matches, twice: {ids:?}");
}

/// A value that looks like SQL is compared as a value, never run: a store that parses SQL is
/// where this can fail (the embedded store evaluates typed queries without SQL).
#[tokio::test]
async fn typed_query_values_are_parameters_not_sql() {
    let products = seed_products(&local_database().await).await;
    let injection = "x\" OR 1=1 OR c.name != \"";
    let found = products
        .query()
        .cross_partition()
        .filter(Product::FIELDS.name.eq(injection))
        .all()
        .await
        .unwrap();
    assert!(found.is_empty(), "{found:?}");
    let sql = products
        .query()
        .cross_partition()
        .filter(Product::FIELDS.name.eq(injection))
        .to_sql()
        .unwrap();
    assert!(!sql.text.contains("1=1"), "{}", sql.text);
}

#[tokio::test]
async fn server_returns_negative_zero_as_zero() {
    let blob = Blob {
        id: "z".into(),
        owner: "o".into(),
        payload: serde_json::json!(-0.0),
        etag: None,
    };
    let on_server = local_database().await.repository::<Blob>();
    let stored = on_server.create(&blob).await.unwrap().payload;
    assert_eq!(stored.to_string(), "0", "JavaScript writes -0 as 0");
    let in_memory = cosmos_repo::MemoryStore::new().repository::<Blob>();
    let kept = in_memory.create(&blob).await.unwrap().payload;
    assert_eq!(
        kept.to_string(),
        "-0.0",
        "the embedded store keeps serde's -0.0"
    );
    assert_eq!(
        stored.as_f64(),
        kept.as_f64(),
        "equal as numbers, as Cosmos DB compares them"
    );
}

/// The containers `ensure_container` creates from the models pass `verify_container`.
#[tokio::test]
async fn containers_created_from_models_verify() {
    use cosmos_repo::model::ContainerSpec;
    use cosmos_repo_tests::{AppCustomer, AppOrder, Article, Member, Token};
    let cosmos = local_database().await;
    cosmos
        .verify_containers(&[
            ContainerSpec::of::<Article>(),
            ContainerSpec::of::<Order>(),
            ContainerSpec::of::<Product>(),
            ContainerSpec::of::<AppOrder>(),
            ContainerSpec::of::<AppCustomer>(),
            ContainerSpec::of::<Member>(),
            ContainerSpec::of::<Token>(),
        ])
        .await
        .unwrap();
}

/// A container created from one model and checked against another: every difference in one
/// error, each with what to do.
#[tokio::test]
async fn verify_container_reports_every_mismatch_at_once() {
    #[derive(Serialize, Deserialize, CosmosDocument)]
    #[cosmos(container = "drift")]
    struct Before {
        #[id]
        id: String,
        #[partition_key]
        team: String,
    }

    #[derive(Serialize, Deserialize, CosmosDocument)]
    #[cosmos(container = "drift", ttl = 60)]
    #[cosmos(composite_index(name, rank desc), unique_key(email))]
    struct After {
        #[id]
        id: String,
        #[partition_key]
        team: String,
        name: String,
        rank: u32,
        email: String,
        #[cosmos(exclude_from_index)]
        notes: String,
    }

    let cosmos = local_database().await;
    let err = cosmos.verify_container::<After>().await.unwrap_err();
    let Error::ContainerNotFound { create, .. } = &err else {
        panic!("{err:?}");
    };
    for part in [
        "az cosmosdb sql container create",
        "--name drift",
        "--partition-key-path /team",
        "--ttl 60",
        "\"compositeIndexes\":[[{\"order\":\"ascending\",\"path\":\"/name\"}",
        "--unique-key-policy '{\"uniqueKeys\":[{\"paths\":[\"/email\"]}]}'",
    ] {
        assert!(create.contains(part), "{part} missing from {create}");
    }

    cosmos.ensure_container::<Before>().await.unwrap();
    cosmos.verify_container::<Before>().await.unwrap();
    let err = cosmos.verify_container::<After>().await.unwrap_err();
    let Error::ContainerMismatch {
        container,
        mismatches,
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(container, "drift");
    let expected = [
        "default time to live is off, the model's 60 s",
        "lacks the composite index (/name ascending, /rank descending)",
        "still covers `/notes/*`",
        "unique keys are [], the model's [[\"/email\"]]",
    ];
    assert_eq!(mismatches.len(), expected.len(), "{mismatches:#?}");
    for (mismatch, expected) in mismatches.iter().zip(expected) {
        assert!(mismatch.contains(expected), "{mismatch}");
    }
    assert!(mismatches[0].contains("--ttl 60"), "{}", mismatches[0]);
}

/// Time to live is part of the container's definition on the server, but it never expires
/// documents; Cosmos DB does (tested on the embedded store, whose clock tests control).
#[tokio::test]
async fn server_keeps_documents_past_their_time_to_live() {
    let tokens = local_database()
        .await
        .repository::<cosmos_repo_tests::Token>();
    let token = cosmos_repo_tests::Token {
        id: "t1".into(),
        user: "ann".into(),
        ttl: Some(1),
        claims: serde_json::json!({}),
    };
    tokens.create(&token).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert!(tokens.find("ann", "t1").await.unwrap().is_some());
}

/// Across partitions the SDK cannot plan a filtered `COUNT(1)` (20302); the count is summed per
/// feed range. (The server charges 1 RU a request and answers all rows in one page, so the
/// saving over counting rows does not show here.)
#[tokio::test]
async fn a_filtered_count_across_partitions_is_summed_per_range() {
    let orders = local_database().await.repository::<Order>();
    let docs: Vec<Order> = (0..1_500)
        .map(|i| Order::new(&format!("c-{}", i % 30), &format!("o-{i}"), f64::from(i)))
        .collect();
    assert!(orders.upsert_all(&docs).await.is_success());
    let counted = orders
        .query()
        .cross_partition()
        .filter(Order::FIELDS.total.ge(500.0))
        .count()
        .await
        .unwrap();
    assert_eq!(counted, 1_000);
}

/// Cosmos DB computes `VectorDistance`; the server's SQL knows no such function. Vector search
/// runs on the embedded store (and the official emulator).
#[tokio::test]
async fn server_cannot_rank_by_vector() {
    let err = cosmos_repo_tests::scenarios::nearest_error(&local_database().await, true).await;
    assert!(matches!(err, Error::BadRequest { .. }), "{err:?}");
}

/// Cosmos DB computes `FullTextContains`; the server's SQL knows no such function. Full-text
/// filters run on the embedded store (and the official emulator).
#[tokio::test]
async fn server_cannot_search_full_text() {
    let err = cosmos_repo_tests::scenarios::full_text_error(&local_database().await).await;
    assert!(matches!(err, Error::BadRequest { .. }), "{err:?}");
}

/// SDK 1.0's query planner refuses full-text and hybrid ranking (`ORDER BY RANK`): the SDK
/// store says so before sending anything, on any server.
#[tokio::test]
async fn the_sdk_store_refuses_text_and_hybrid_ranking_before_sending() {
    let articles = cosmos_repo_tests::scenarios::seed_titles(&local_database().await).await;
    let f = cosmos_repo_tests::Article::FIELDS;
    let text = articles
        .query()
        .partition("shop")
        .rank_by_text(f.title, ["wine"]);
    let hybrid = articles.query().cross_partition().rank_hybrid(
        f.embedding,
        &[1.0, 0.0, 0.0],
        f.title,
        ["wine"],
    );
    for ranked in [text, hybrid] {
        let err = ranked.limit(2).all().await.unwrap_err();
        assert!(
            matches!(&err, Error::Unsupported { message } if message.contains("azure_data_cosmos 1.0") && message.contains("nothing was sent")),
            "{err:?}"
        );
    }
}
