//! Shared documents and behaviour scenarios for cosmos-repo's tests. Every scenario is written
//! once against a [`Backend`] so that each store runs the same suite.

use cosmos_repo::prelude::*;
use cosmos_repo::{CosmosDocument, CosmosFields, MemoryStore};

pub mod fake;
pub mod raw;
pub mod scenarios;
pub mod server;

/// A source of repositories for one scenario.
pub trait Backend: Send + Sync {
    /// A repository of `T` that no other scenario writes to.
    fn repository<T: CosmosDocument>(&self) -> Repository<T>;

    /// Whether requests cost request units here (a service) or nothing (the embedded store).
    fn charges_requests(&self) -> bool;

    /// Whether responses carry session tokens (a service with session consistency), or not (the
    /// embedded store, which is strongly consistent).
    fn issues_session_tokens(&self) -> bool;
}

impl Backend for MemoryStore {
    fn repository<T: CosmosDocument>(&self) -> Repository<T> {
        MemoryStore::repository(self)
    }

    fn charges_requests(&self) -> bool {
        false
    }

    fn issues_session_tokens(&self) -> bool {
        false
    }
}

impl Backend for cosmos_repo::Cosmos {
    fn repository<T: CosmosDocument>(&self) -> Repository<T> {
        cosmos_repo::Cosmos::repository(self)
    }

    fn charges_requests(&self) -> bool {
        true
    }

    fn issues_session_tokens(&self) -> bool {
        true
    }
}

/// An order, keyed by customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "orders")]
#[serde(rename_all = "camelCase")]
pub struct Order {
    #[id]
    pub id: String,
    #[partition_key]
    pub customer_id: String,
    pub total: f64,
    #[etag]
    #[serde(rename = "_etag", default, skip_serializing)]
    pub etag: Option<Etag>,
}

impl Order {
    /// A new order with no etag.
    pub fn new(customer_id: &str, id: &str, total: f64) -> Self {
        Order {
            id: id.to_owned(),
            customer_id: customer_id.to_owned(),
            total,
            etag: None,
        }
    }
}

/// A counter, for concurrent updates.
#[derive(Debug, Clone, Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "counters")]
pub struct Counter {
    #[id]
    pub id: String,
    #[partition_key]
    pub scope: String,
    pub value: u64,
    #[etag]
    #[serde(rename = "_etag", default, skip_serializing)]
    pub etag: Option<Etag>,
}

/// A session under a hierarchical key (tenant, user).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "sessions")]
#[serde(rename_all = "camelCase")]
pub struct Session {
    #[id]
    pub id: String,
    #[partition_key]
    pub tenant_id: String,
    #[partition_key]
    pub user_id: String,
    pub active: bool,
}

/// A reading keyed by a numeric sensor number, with no etag field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "readings")]
pub struct Reading {
    #[id]
    pub id: String,
    #[partition_key]
    pub sensor: i64,
    pub celsius: f64,
}

/// A product, for queries: every kind of field the query builder handles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "products", composite_index(price, id desc))]
#[serde(rename_all = "camelCase")]
pub struct Product {
    #[id]
    pub id: String,
    #[partition_key]
    pub category: String,
    pub name: String,
    pub price: f64,
    pub stock: i64,
    pub tags: Vec<String>,
    pub discontinued: bool,
    /// Stored as `null` when `None`.
    pub note: Option<String>,
    /// Left out of the stored document when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<f64>,
    /// A property name that is not a SQL identifier.
    #[serde(rename = "first-seen")]
    pub first_seen: String,
}

/// A line of a cart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CosmosFields)]
pub struct Line {
    pub sku: String,
    pub qty: u32,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// A cart: conditions on the elements of an array of structs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "carts")]
pub struct Cart {
    #[id]
    pub id: String,
    #[partition_key]
    pub customer: String,
    #[cosmos(nested)]
    pub lines: Vec<Line>,
}

/// Something that happened at a time: filters and order on a `Timestamp`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "events")]
pub struct Event {
    #[id]
    pub id: String,
    #[partition_key]
    pub stream: String,
    pub at: cosmos_repo::Timestamp,
}

/// A document with a free-form JSON payload, for values at Cosmos DB's limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "blobs")]
pub struct Blob {
    #[id]
    pub id: String,
    #[partition_key]
    pub owner: String,
    pub payload: serde_json::Value,
    #[etag]
    #[serde(rename = "_etag", default, skip_serializing)]
    pub etag: Option<Etag>,
}

/// A tally kept in the `blobs` container beside [`Blob`]s: another document type under the
/// same partition key, and a number field a blob's payload can contradict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "blobs")]
pub struct Tally {
    #[id]
    pub id: String,
    #[partition_key]
    pub owner: String,
    pub payload: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// An order in the shared `app` container, told apart from customers by `"type": "order"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "app", type = "order")]
pub struct AppOrder {
    #[id]
    pub id: String,
    #[partition_key]
    pub tenant: String,
    pub total: f64,
}

/// A customer in the shared `app` container (`"type": "customer"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "app", type = "customer")]
pub struct AppCustomer {
    #[id]
    pub id: String,
    #[partition_key]
    pub tenant: String,
    pub name: String,
}

/// Every document type of the `app` container, read and written as one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "app")]
#[serde(tag = "type")]
pub enum AppDocument {
    #[serde(rename = "order")]
    Order(AppOrder),
    #[serde(rename = "customer")]
    Customer(AppCustomer),
}

/// An article with an embedding and searchable text, for vector and full-text search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "articles")]
pub struct Article {
    #[id]
    pub id: String,
    #[partition_key]
    pub topic: String,
    #[cosmos(full_text)]
    pub title: String,
    #[cosmos(full_text(language = "en-US"))]
    pub body: Option<String>,
    #[cosmos(vector(dimensions = 3, distance = "cosine", index = "flat"))]
    pub embedding: Vec<f32>,
    #[cosmos(vector(dimensions = 3, distance = "dotproduct", index = "flat"))]
    pub weights: Vec<f32>,
    #[cosmos(vector(dimensions = 3, distance = "euclidean", index = "flat"))]
    pub position: Vec<f32>,
}

/// A team member whose email is unique within the team.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "members", unique_key(email))]
pub struct Member {
    #[id]
    pub id: String,
    #[partition_key]
    pub team: String,
    pub email: String,
}

/// A login token that expires: after an hour by default, or after its own `ttl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "tokens", ttl = 3600)]
pub struct Token {
    #[id]
    pub id: String,
    #[partition_key]
    pub user: String,
    #[cosmos(ttl)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i32>,
    #[cosmos(exclude_from_index)]
    pub claims: serde_json::Value,
}

/// An address embedded in shipments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CosmosFields)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub city: String,
    pub zip_code: String,
    #[cosmos(nested)]
    pub geo: Geo,
}

/// Coordinates, nested two levels down.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CosmosFields)]
pub struct Geo {
    pub lat: f64,
}

/// A shipment, for queries on nested fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CosmosDocument)]
#[cosmos(container = "shipments")]
#[serde(rename_all = "camelCase")]
pub struct Shipment {
    #[id]
    pub id: String,
    #[partition_key]
    pub carrier: String,
    #[cosmos(nested)]
    pub destination: Address,
    #[cosmos(nested)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_to: Option<Address>,
}

/// Fails unless `registered` names every scenario of [`scenarios`] (each `pub async fn` taking
/// only a backend), so a scenario cannot be written and then silently never run.
pub fn assert_registered(registered: &[&str]) {
    let written: Vec<&str> = include_str!("scenarios.rs")
        .lines()
        .filter_map(|line| line.strip_prefix("pub async fn "))
        .filter_map(|rest| rest.strip_suffix("(backend: &impl Backend) {"))
        .collect();
    let missing: Vec<&&str> = written
        .iter()
        .filter(|name| !registered.contains(name))
        .collect();
    assert!(
        missing.is_empty(),
        "scenarios not in conformance_suite!: {missing:?}"
    );
    assert!(written.len() >= registered.len(), "{written:?}");
}

/// Generates one `#[tokio::test]` per scenario, each on a fresh backend from `$backend` (an
/// expression evaluated inside the async test, so it may `.await`). `except [scenario, ...]`
/// leaves out scenarios the store cannot do; the file that leaves one out pins what the store
/// does instead. Attributes after it, such as `#[ignore = "..."]`, go on every test.
#[macro_export]
macro_rules! conformance_suite {
    ($backend:expr $(, except [$($except:ident),* $(,)?])? $(, #[$attr:meta])* $(,)?) => {
        $crate::conformance_suite!(@tests ($) [$(#[$attr])*] $backend; [$($($except),*)?];
            create_then_read_returns_the_stored_document,
            duplicate_create_is_already_exists,
            concurrent_creates_of_one_id_admit_exactly_one,
            missing_document_is_not_found,
            same_id_lives_in_two_partitions,
            etag_changes_on_every_write,
            stale_replace_is_precondition_failed,
            replace_overrides,
            replace_of_a_missing_document_is_not_found,
            upsert_creates_then_overwrites,
            delete_removes_and_respects_if_match,
            update_applies_the_change_and_returns_the_stored_document,
            update_refuses_to_change_the_key,
            update_of_a_missing_document_is_not_found,
            lost_update_never_happens,
            hierarchical_keys_address_documents,
            numeric_keys_address_documents,
            invalid_ids_are_bad_requests,
            bad_ids_never_reach_another_document,
            values_cosmos_db_cannot_hold_are_never_stored,
            keys_cosmos_db_cannot_hold_are_refused,
            a_key_stored_in_another_form_is_refused,
            metadata_comes_with_every_response,
            every_query_operator_selects_the_documents_cosmos_db_would,
            partition_scope_reads_one_partition,
            sorting_limits_and_pages_agree,
            continuations_are_bound_to_their_query,
            pages_survive_writes_between_them,
            projections_return_fields_and_tuples,
            count_and_exists_follow_the_filter,
            nested_fields_are_queried_by_path,
            patch_applies_typed_operations,
            patch_is_atomic_and_follows_cosmos_db_rules,
            batch_applies_every_operation,
            a_failed_batch_applies_nothing,
            batch_limits_are_checked_before_sending,
            a_batch_holds_documents_of_several_types,
            bulk_reports_every_outcome_in_input_order,
            try_update_writes_nothing_when_the_change_refuses,
            types_sharing_a_container_see_only_their_own,
            unique_keys_refuse_a_second_document_with_the_same_values,
            sorting_by_a_composite_index_serves_it_and_its_reverse,
            sorting_by_several_fields_needs_a_composite_index,
            a_read_repository_reads_and_lists_page_by_page,
            hierarchical_keys_scope_queries_to_a_prefix,
            aggregates_follow_cosmos_db_rules,
            min_and_max_take_null_as_the_least_value,
            distinct_leaves_out_repeated_values,
            read_many_finds_documents_by_key,
            delete_partition_removes_every_document_of_one_key,
            session_tokens_carry_a_write_to_later_reads,
            timestamps_sort_and_filter_in_time_order,
            any_selects_documents_by_their_array_elements,
            group_by_counts_and_aggregates_each_group,
            a_group_without_the_value_sums_to_zero_in_one_partition,
            raw_sql_runs_with_parameters_and_literals,
            nearest_ranks_by_each_distance_function,
            full_text_filters_match_words,
            text_and_hybrid_ranking_order_by_relevance,
            the_change_feed_has_each_change_once_at_its_latest_version,
            a_change_feed_resumes_after_its_continuation,
            the_change_feed_of_a_shared_container_has_only_the_type,
            three_processor_instances_handle_every_change_once_at_a_time,
            a_crashed_instance_hands_over_with_no_change_missed,
            a_joining_instance_gets_a_share_and_lag_counts_what_is_left,
            a_batch_whose_handler_fails_is_handled_again,
        );
    };
    (@tests ($d:tt) $attrs:tt $backend:expr; [$($except:ident),*]; $($scenario:ident,)*) => {
        // A scenario named in `except` matches its own empty arm first.
        macro_rules! conformance_test {
            $(($except) => {};)*
            ($d scenario:ident) => {
                $crate::conformance_suite!(@test $attrs $backend; $d scenario);
            };
        }
        $(
            conformance_test!($scenario);
        )*

        #[test]
        fn every_scenario_is_in_the_suite() {
            $crate::assert_registered(&[$(stringify!($scenario)),*]);
        }
    };
    (@test [$(#[$attr:meta])*] $backend:expr; $scenario:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        $(#[$attr])*
        async fn $scenario() {
            $crate::scenarios::$scenario(&$backend).await;
        }
    };
}
