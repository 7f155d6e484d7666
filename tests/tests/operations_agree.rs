//! Property tests over operations, on the embedded store and, through the SDK store, on the
//! local server:
//!
//! - random sequences of create / upsert / replace / delete / read / query over random
//!   documents, ids and key values (unicode, control characters, long strings, numbers at and
//!   beyond what Cosmos DB holds, negative zero, deep nesting) give the same outcome on both
//!   stores: the same value, or the same kind of error;
//! - paging a query while documents are created, replaced and deleted between its pages never
//!   skips or repeats a document that did not change, on either store.

use std::collections::BTreeMap;

use cosmos_repo::MemoryStore;
use cosmos_repo::prelude::*;
use cosmos_repo_tests::Blob;
use cosmos_repo_tests::server::{fresh_database, local_endpoint};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

fn id() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(vec!["a", "b", "c", "ünï😀", "x y", " lead", "100%", ".d"])
            .prop_map(str::to_owned),
        1 => proptest::sample::select(vec!["", ".", "..", "a/b", "q?", "h#", "tab\t", "end "])
            .prop_map(str::to_owned),
        1 => (1023usize..=1025).prop_map(|len| "i".repeat(len)),
    ]
}

fn owner() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => proptest::sample::select(vec!["o1", "o2", "ünï", "", "\u{1}ctl", "\"quoted\""])
            .prop_map(str::to_owned),
        1 => (2047usize..=2049).prop_map(|len| "k".repeat(len)),
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        proptest::sample::select(vec![
            json!(-0.0),
            json!(0.1),
            json!(1e300),
            json!(-2.5e-308),
            json!(9_007_199_254_740_991u64),
            json!(-9_007_199_254_740_991i64),
            json!(9_007_199_254_740_992u64),
            json!(u64::MAX),
            json!(i64::MIN),
        ]),
        "[a-z\u{0}-\u{1f}é😀\"\\\\]{0,12}".prop_map(Value::from),
    ]
}

fn payload() -> impl Strategy<Value = Value> {
    let tree = scalar().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_]{1,6}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    });
    prop_oneof![
        8 => tree,
        // Around the deepest nesting Cosmos DB documents can have and be read back.
        1 => (121usize..=125).prop_map(|arrays| (0..arrays).fold(json!(0), |v, _| json!([v]))),
    ]
}

fn blob() -> impl Strategy<Value = Blob> {
    (id(), owner(), payload()).prop_map(|(id, owner, payload)| Blob {
        id,
        owner,
        payload,
        etag: None,
    })
}

#[derive(Clone, Debug)]
enum Op {
    Create(Blob),
    Upsert(Blob),
    Replace(Blob),
    Delete(String, String),
    Read(String, String),
    Query(String),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => blob().prop_map(Op::Create),
        3 => blob().prop_map(Op::Upsert),
        2 => blob().prop_map(Op::Replace),
        2 => (owner(), id()).prop_map(|(o, i)| Op::Delete(o, i)),
        2 => (owner(), id()).prop_map(|(o, i)| Op::Read(o, i)),
        1 => owner().prop_map(Op::Query),
    ]
}

/// What an operation gave, in a form both stores can be compared in: documents without their
/// system properties, numbers by value (`-0.0` is `0`, as Cosmos DB compares them), errors by
/// kind.
#[derive(Debug, PartialEq)]
enum Outcome {
    Docs(Vec<(String, String, Value)>),
    Done,
    Failed(&'static str),
}

fn kind(err: &Error) -> &'static str {
    match err {
        Error::NotFound { .. } => "NotFound",
        Error::AlreadyExists { .. } => "AlreadyExists",
        Error::PreconditionFailed { .. } => "PreconditionFailed",
        Error::BadRequest { .. } => "BadRequest",
        Error::Serialization { .. } => "Serialization",
        _ => "other",
    }
}

/// A JSON value with every number as an f64, so that equal numbers compare equal.
fn by_value(value: &Value) -> Value {
    match value {
        Value::Number(n) => json!(n.as_f64().map(|f| if f == 0.0 { 0.0 } else { f })),
        Value::Array(items) => Value::Array(items.iter().map(by_value).collect()),
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), by_value(v))).collect(),
        other => other.clone(),
    }
}

fn docs(blobs: impl IntoIterator<Item = Blob>) -> Outcome {
    let mut docs: Vec<_> = blobs
        .into_iter()
        .map(|b| (b.owner, b.id, by_value(&b.payload)))
        .collect();
    docs.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    Outcome::Docs(docs)
}

fn outcome<T>(result: Result<T>, value: impl FnOnce(T) -> Outcome) -> Outcome {
    result.map_or_else(|err| Outcome::Failed(kind(&err)), value)
}

async fn run(blobs: &Repository<Blob>, op: &Op) -> Outcome {
    let one = |b: Blob| docs([b]);
    match op {
        Op::Create(b) => outcome(blobs.create(b).await, one),
        Op::Upsert(b) => outcome(blobs.upsert(b).await, one),
        Op::Replace(b) => outcome(blobs.replace(b).await, one),
        Op::Delete(o, i) => outcome(blobs.delete(o, i).await, |()| Outcome::Done),
        Op::Read(o, i) => outcome(blobs.read(o, i).await, one),
        Op::Query(o) => outcome(blobs.query().partition(o).all().await, docs),
    }
}

/// Deletes every document a case left on the server.
async fn clear(blobs: &Repository<Blob>) {
    for blob in blobs.query().cross_partition().all().await.unwrap() {
        blobs.delete(&blob.owner, &blob.id).await.unwrap();
    }
}

/// A runtime, the `blobs` repository of a fresh database on the local server, and a runner of
/// `cases` cases.
fn setup(cases: u32) -> (tokio::runtime::Runtime, Repository<Blob>, TestRunner) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime
        .block_on(fresh_database(&local_endpoint()))
        .repository::<Blob>();
    let runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    (runtime, server, runner)
}

#[test]
fn stores_give_the_same_outcome_for_every_operation() {
    let (runtime, server, mut runner) = setup(32);
    runner
        .run(&proptest::collection::vec(op(), 1..24), |ops| {
            runtime.block_on(async {
                clear(&server).await;
                let memory = MemoryStore::new().repository::<Blob>();
                for (n, op) in ops.iter().enumerate() {
                    let on_memory = run(&memory, op).await;
                    let on_server = run(&server, op).await;
                    prop_assert_eq!(on_memory, on_server, "operation {} of {:?}", n, ops);
                }
                let everything = |repo: &Repository<Blob>| {
                    let repo = repo.clone();
                    async move { docs(repo.query().cross_partition().all().await.unwrap()) }
                };
                prop_assert_eq!(everything(&memory).await, everything(&server).await);
                Ok(())
            })
        })
        .unwrap();
}

/// A write made between two pages of a query.
#[derive(Clone, Debug)]
enum Write {
    Create(usize),
    Replace(usize),
    Delete(usize),
}

fn write() -> impl Strategy<Value = Write> {
    prop_oneof![
        (0..40usize).prop_map(Write::Create),
        (0..20usize).prop_map(Write::Replace),
        (0..20usize).prop_map(Write::Delete),
    ]
}

/// The seeded documents: `d00`.. under three owners, payload their number.
fn seeded(count: usize) -> Vec<Blob> {
    (0..count)
        .map(|n| Blob {
            id: format!("d{n:02}"),
            owner: ["o1", "o2", "o3"][n % 3].to_owned(),
            payload: json!(n),
            etag: None,
        })
        .collect()
}

/// Pages a query by `page_size`, applying `writes[k]` after page `k`; returns the (owner, id)
/// of every document seen, and those a write touched.
async fn page_through(
    blobs: &Repository<Blob>,
    sorted: bool,
    page_size: u32,
    writes: &[Vec<Write>],
    existing: usize,
) -> (Vec<(String, String)>, Vec<(String, String)>) {
    let key = |b: &Blob| (b.owner.clone(), b.id.clone());
    let mut seen = Vec::new();
    let mut touched = Vec::new();
    let mut continuation: Option<String> = None;
    for page_number in 0.. {
        let query = blobs.query().cross_partition();
        let query = if sorted {
            query.order_by(Blob::FIELDS.id.desc())
        } else {
            query
        };
        let page = query
            .page(page_size, continuation.as_deref())
            .await
            .unwrap();
        seen.extend(page.items.iter().map(key));
        let Some(next) = page.continuation else {
            break;
        };
        continuation = Some(next);
        for write in writes.get(page_number).into_iter().flatten() {
            let target = |n: usize| seeded(existing).into_iter().nth(n % existing);
            match write {
                Write::Create(n) => {
                    let mut blob = seeded(1).remove(0);
                    blob.id = format!("new{n:02}");
                    touched.push(key(&blob));
                    let _ = blobs.upsert(&blob).await;
                }
                Write::Replace(n) => {
                    if let Some(mut blob) = target(*n) {
                        touched.push(key(&blob));
                        blob.payload = json!("replaced");
                        let _ = blobs.replace(&blob).await;
                    }
                }
                Write::Delete(n) => {
                    if let Some(blob) = target(*n) {
                        touched.push(key(&blob));
                        let _ = blobs.delete(&blob.owner, &blob.id).await;
                    }
                }
            }
        }
    }
    (seen, touched)
}

#[test]
fn paging_never_skips_or_repeats_a_document_that_did_not_change() {
    let (runtime, server, mut runner) = setup(24);
    let case = (
        4..20usize,
        any::<bool>(),
        1..5u32,
        proptest::collection::vec(proptest::collection::vec(write(), 0..4), 0..8),
    );
    runner
        .run(&case, |(count, sorted, page_size, writes)| {
            runtime.block_on(async {
                clear(&server).await;
                let memory = MemoryStore::new().repository::<Blob>();
                for (name, blobs) in [("memory", &memory), ("server", &server)] {
                    for blob in seeded(count) {
                        blobs.create(&blob).await.unwrap();
                    }
                    let (seen, touched) =
                        page_through(blobs, sorted, page_size, &writes, count).await;
                    let mut times: BTreeMap<&(String, String), usize> = BTreeMap::new();
                    for key in &seen {
                        *times.entry(key).or_default() += 1;
                    }
                    for blob in seeded(count) {
                        let key = (blob.owner, blob.id);
                        if !touched.contains(&key) {
                            prop_assert_eq!(
                                times.get(&key).copied(),
                                Some(1),
                                "{}: {:?} unchanged but seen {:?} times in {:?}",
                                name,
                                key,
                                times.get(&key),
                                seen
                            );
                        }
                    }
                    if sorted {
                        let ids: Vec<&String> = seen.iter().map(|(_, id)| id).collect();
                        prop_assert!(
                            ids.windows(2).all(|w| w[0] >= w[1]),
                            "{}: out of order {:?}",
                            name,
                            ids
                        );
                    }
                }
                Ok(())
            })
        })
        .unwrap();
}
