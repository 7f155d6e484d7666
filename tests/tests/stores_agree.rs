//! Property test: random predicates over random documents select the same documents, and give
//! the same aggregates, on the embedded store and, through the SDK store, on the local server;
//! on the embedded store, the typed query's SQL run as a raw query selects them too.

use cosmos_repo::MemoryStore;
use cosmos_repo::prelude::*;
use cosmos_repo::query::Filter;
use cosmos_repo_tests::Product;
use cosmos_repo_tests::scenarios::ids;
use cosmos_repo_tests::server::{fresh_database, local_endpoint};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

const NAMES: [&str; 4] = ["Saw", "Sander", "Hose", "hammer"];
const TAGS: [&str; 3] = ["steel", "hand", "power"];

fn product() -> impl Strategy<Value = Product> {
    (
        0..3usize,
        0..NAMES.len(),
        0..8u8,
        -2..6i64,
        proptest::sample::subsequence(TAGS.to_vec(), 0..=3),
        any::<bool>(),
        proptest::option::of(0..NAMES.len()),
        proptest::option::of(0..4u8),
    )
        .prop_map(
            |(category, name, price, stock, tags, discontinued, note, discount)| Product {
                id: String::new(),
                category: ["tools", "garden", "paint"][category].into(),
                name: NAMES[name].into(),
                price: f64::from(price) * 2.5,
                stock,
                tags: tags.into_iter().map(str::to_owned).collect(),
                discontinued,
                note: note.map(|n| NAMES[n].to_lowercase()),
                discount: discount.map(|d| f64::from(d) / 4.0),
                first_seen: format!("2026-0{}-01", stock.rem_euclid(9) + 1),
            },
        )
}

/// A leaf condition on any field but the partition key (an OR of partition-key values is a
/// known difference of the server: tests/server/README.md).
fn leaf() -> impl Strategy<Value = Filter<Product>> {
    let f = Product::FIELDS;
    prop_oneof![
        (0..8u8, 0..6usize).prop_map(move |(p, op)| {
            let p = f64::from(p) * 2.5;
            [
                f.price.eq(p),
                f.price.ne(p),
                f.price.gt(p),
                f.price.ge(p),
                f.price.lt(p),
                f.price.le(p),
            ]
            .into_iter()
            .nth(op)
            .unwrap()
        }),
        (-2..6i64, -2..6i64).prop_map(move |(a, b)| f.stock.between(a.min(b), a.max(b))),
        proptest::sample::subsequence(NAMES.to_vec(), 0..=3)
            .prop_map(move |names| f.name.is_in(names)),
        (0..NAMES.len(), 0..3usize, 1..4usize).prop_map(move |(n, op, len)| {
            let needle = &NAMES[n][..len.min(NAMES[n].len())];
            match op {
                0 => f.name.starts_with(needle),
                1 => f.name.ends_with(needle),
                _ => f.note.contains(&needle.to_lowercase()),
            }
        }),
        (0..TAGS.len()).prop_map(move |t| f.tags.array_contains(TAGS[t])),
        (0..TAGS.len(), 1..3usize).prop_map(move |(t, len)| {
            let prefix = &TAGS[t][..len];
            f.tags.any(|tag| tag.starts_with(prefix).or(tag.eq("hand")))
        }),
        (0..4u64).prop_map(move |n| f.tags.len().ge(n)),
        Just(f.discount.is_defined()),
        Just(f.note.is_null()),
        any::<bool>().prop_map(move |b| f.discontinued.eq(b)),
        (0..4u8).prop_map(move |d| f.discount.ge(f64::from(d) / 4.0)),
        (0..NAMES.len()).prop_map(move |n| f.note.lt(NAMES[n].to_lowercase())),
    ]
}

fn predicate() -> impl Strategy<Value = Filter<Product>> {
    leaf().prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| a.and(b)),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| a.or(b)),
            inner.prop_map(Filter::not),
        ]
    })
}

#[test]
fn stores_select_the_same_documents() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let endpoint = local_endpoint();
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    let case = (
        proptest::collection::vec(product(), 1..16),
        proptest::collection::vec(predicate(), 8),
    );
    // One connection and container for every case (a client per case would pile up
    // connections); each case replaces the documents of the previous one.
    let server = runtime
        .block_on(fresh_database(&endpoint))
        .repository::<Product>();
    let previous = std::cell::RefCell::new(Vec::<Product>::new());
    runner
        .run(&case, |(docs, predicates)| {
            runtime.block_on(async {
                for old in previous.take() {
                    server.delete_doc(&old).await.unwrap();
                }
                let memory = MemoryStore::new().repository::<Product>();
                for (n, mut doc) in docs.into_iter().enumerate() {
                    doc.id = format!("d{n:02}");
                    memory.create(&doc).await.unwrap();
                    let stored = server.create(&doc).await.unwrap();
                    previous.borrow_mut().push(stored);
                }
                for (n, predicate) in predicates.into_iter().enumerate() {
                    let on_memory = ids(&memory, predicate.clone()).await;
                    let on_server = ids(&server, predicate.clone()).await;
                    prop_assert_eq!(&on_memory, &on_server, "{:?}", predicate);
                    let raw_on_memory = raw_ids(&memory, &predicate).await;
                    prop_assert_eq!(raw_on_memory, on_server, "raw SQL of {:?}", predicate);
                    if n < 3 {
                        let on_memory = aggregates(&memory, &predicate).await;
                        let on_server = aggregates(&server, &predicate).await;
                        prop_assert_eq!(on_memory, on_server, "{:?}", predicate);
                    }
                }
                Ok(())
            })
        })
        .unwrap();
}

/// The ids `ids` gives, from the typed query's SQL run as a raw query: the embedded store
/// parses it back into the same query.
async fn raw_ids(products: &Repository<Product>, filter: &Filter<Product>) -> Vec<String> {
    let sql = products
        .query()
        .cross_partition()
        .filter(filter.clone())
        .to_sql()
        .unwrap();
    let raw = sql
        .parameters
        .into_iter()
        .fold(products.raw_query(sql.text), |raw, (name, value)| {
            raw.param(name, value)
        });
    let mut ids: Vec<String> = raw
        .cross_partition()
        .all()
        .await
        .unwrap()
        .iter()
        .map(|doc| doc.id.clone())
        .collect();
    ids.sort();
    ids
}

/// The aggregates of the products matching `filter` across partitions; the averages rounded,
/// as the stores add in different orders.
async fn aggregates(products: &Repository<Product>, filter: &Filter<Product>) -> Aggregates {
    let f = Product::FIELDS;
    let matching = || products.query().cross_partition().filter(filter.clone());
    let round = |x: Option<f64>| x.map(|x| (x * 1e9).round() as i64);
    Aggregates {
        count: matching().count().await.unwrap(),
        price_sum: round(matching().sum(f.price).await.unwrap()),
        discount_avg: round(matching().avg(f.discount).await.unwrap()),
        name_min: matching().min(f.name).await.unwrap(),
        stock_max: matching().max(f.stock).await.unwrap(),
        note_max: matching().max(f.note).await.unwrap(),
    }
}

#[derive(Debug, PartialEq)]
struct Aggregates {
    count: u64,
    price_sum: Option<i64>,
    discount_avg: Option<i64>,
    name_min: Option<String>,
    stock_max: Option<i64>,
    /// `null` for a product without a note: MAX orders it below every string.
    note_max: Option<Option<String>>,
}
