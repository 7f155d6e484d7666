//! The SQL the SDK store sends, for every operator: exact text and parameters. Values are always
//! parameters; property names follow serde and are quoted when they are not identifiers.

use cosmos_repo::prelude::*;
use cosmos_repo::query::{Filter, SqlQuery};
use cosmos_repo_tests::{Product, Session};
use serde_json::{Value, json};

fn sql(filter: Filter<Product>) -> SqlQuery {
    Repository::<Product>::in_memory()
        .query()
        .cross_partition()
        .filter(filter)
        .to_sql()
        .unwrap()
}

fn params(sql: &SqlQuery) -> Vec<Value> {
    sql.parameters
        .iter()
        .enumerate()
        .map(|(i, (name, value))| {
            assert_eq!(name, &format!("@p{i}"));
            value.clone()
        })
        .collect()
}

#[test]
fn every_operator_renders_with_parameters() {
    let f = Product::FIELDS;
    let cases: Vec<(Filter<Product>, &str, Value)> = vec![
        (f.price.eq(1.5), "c.price = @p0", json!([1.5])),
        (f.name.ne("a"), "c.name != @p0", json!(["a"])),
        (f.stock.gt(1), "c.stock > @p0", json!([1])),
        (f.stock.ge(1), "c.stock >= @p0", json!([1])),
        (f.stock.lt(1), "c.stock < @p0", json!([1])),
        (f.stock.le(1), "c.stock <= @p0", json!([1])),
        (
            f.name.is_in(["a", "b"]),
            "c.name IN (@p0, @p1)",
            json!(["a", "b"]),
        ),
        (f.name.is_in(Vec::<String>::new()), "false", json!([])),
        (
            f.price.between(1.0, 2.0),
            "(c.price BETWEEN @p0 AND @p1)",
            json!([1.0, 2.0]),
        ),
        (
            f.name.starts_with("a"),
            "STARTSWITH(c.name, @p0)",
            json!(["a"]),
        ),
        (f.name.ends_with("a"), "ENDSWITH(c.name, @p0)", json!(["a"])),
        (f.name.contains("a"), "CONTAINS(c.name, @p0)", json!(["a"])),
        (
            f.tags.array_contains("a"),
            "ARRAY_CONTAINS(c.tags, @p0)",
            json!(["a"]),
        ),
        (f.discount.is_defined(), "IS_DEFINED(c.discount)", json!([])),
        (f.note.is_null(), "IS_NULL(c.note)", json!([])),
        (f.note.eq(None), "c.note = @p0", json!([null])),
        (f.note.eq("a"), "c.note = @p0", json!(["a"])),
        (
            f.note.eq(Some("a".to_owned())),
            "c.note = @p0",
            json!(["a"]),
        ),
        (
            f.discount.between(0.1, 0.2),
            "(c.discount BETWEEN @p0 AND @p1)",
            json!([0.1, 0.2]),
        ),
        (f.first_seen.eq("x"), "c['first-seen'] = @p0", json!(["x"])),
        (
            f.stock.gt(1).and(f.stock.lt(9)),
            "c.stock > @p0 AND c.stock < @p1",
            json!([1, 9]),
        ),
        (
            f.stock
                .gt(1)
                .or(f.name.eq("a"))
                .and(f.discontinued.eq(false).not()),
            "(c.stock > @p0 OR c.name = @p1) AND NOT (c.discontinued = @p2)",
            json!([1, "a", false]),
        ),
        (
            !f.stock.gt(1).or(f.stock.lt(0)),
            "NOT (c.stock > @p0 OR c.stock < @p1)",
            json!([1, 0]),
        ),
        (
            f.stock
                .gt(1)
                .and(f.stock.lt(9))
                .or(f.discount.is_defined().not()),
            "c.stock > @p0 AND c.stock < @p1 OR NOT IS_DEFINED(c.discount)",
            json!([1, 9]),
        ),
        (
            f.stock.gt(1).or(f.stock.lt(0)),
            "c.stock > @p0 OR c.stock < @p1",
            json!([1, 0]),
        ),
    ];
    for (filter, condition, values) in cases {
        let sql = sql(filter);
        assert_eq!(sql.text, format!("SELECT * FROM c WHERE {condition}"));
        assert_eq!(Value::Array(params(&sql)), values, "{condition}");
    }
}

#[test]
fn scope_order_limit_offset_and_projection_render() {
    let products = Repository::<Product>::in_memory();
    let f = Product::FIELDS;
    let sql = products
        .query()
        .partition("tools")
        .filter(f.price.gt(10.0))
        .filter(f.stock.gt(0))
        .order_by(f.price.desc())
        .order_by(f.name.asc())
        .limit(5)
        .select((f.id, f.price))
        .to_sql()
        .unwrap();
    assert_eq!(
        sql.text,
        "SELECT TOP 5 VALUE [c.id, c.price] FROM c WHERE c.category = @p0 AND c.price > @p1 AND c.stock > @p2 ORDER BY c.price DESC, c.name ASC"
    );
    assert_eq!(params(&sql), [json!("tools"), json!(10.0), json!(0)]);

    let sql = products
        .query()
        .cross_partition()
        .offset(20)
        .limit(10)
        .select(f.name)
        .to_sql()
        .unwrap();
    assert_eq!(sql.text, "SELECT VALUE c.name FROM c OFFSET 20 LIMIT 10");
    assert!(sql.parameters.is_empty());
}

#[test]
fn an_or_filter_is_parenthesised_after_the_partition_key() {
    let f = Product::FIELDS;
    let sql = Repository::<Product>::in_memory()
        .query()
        .partition("tools")
        .filter(f.stock.gt(1).or(f.stock.lt(0)))
        .to_sql()
        .unwrap();
    assert_eq!(
        sql.text,
        "SELECT * FROM c WHERE c.category = @p0 AND (c.stock > @p1 OR c.stock < @p2)"
    );
}

#[test]
fn hierarchical_keys_put_every_level_in_where() {
    let sql = Repository::<Session>::in_memory()
        .query()
        .partition(("acme", "u1"))
        .filter(Session::FIELDS.active.eq(true))
        .to_sql()
        .unwrap();
    assert_eq!(
        sql.text,
        "SELECT * FROM c WHERE c.tenantId = @p0 AND c.userId = @p1 AND c.active = @p2"
    );
    assert_eq!(params(&sql), [json!("acme"), json!("u1"), json!(true)]);
}

#[test]
fn names_that_are_keywords_or_need_escaping_are_quoted() {
    #[derive(Serialize, Deserialize, CosmosDocument)]
    struct Odd {
        #[id]
        id: String,
        #[partition_key]
        value: String,
        #[serde(rename = "say \"hi\"")]
        quoted: String,
        #[serde(rename = "it's")]
        apostrophe: String,
        #[serde(rename = "Order")]
        order: u8,
    }
    let f = Odd::FIELDS;
    let sql = Repository::<Odd>::in_memory()
        .query()
        .partition("v")
        .filter(
            f.quoted
                .eq("x")
                .and(f.apostrophe.eq("y"))
                .and(f.order.eq(1)),
        )
        .to_sql()
        .unwrap();
    assert_eq!(
        sql.text,
        r#"SELECT * FROM c WHERE c['value'] = @p0 AND c['say "hi"'] = @p1 AND c['it\'s'] = @p2 AND c['Order'] = @p3"#
    );
}

#[test]
fn a_type_sharing_its_container_queries_only_its_own_documents() {
    use cosmos_repo_tests::AppOrder;
    let orders = Repository::<AppOrder>::in_memory();
    let scoped = orders.query().partition("t").to_sql().unwrap();
    assert_eq!(
        scoped.text,
        "SELECT * FROM c WHERE c.tenant = @p0 AND c.type = @p1"
    );
    assert_eq!(params(&scoped), [json!("t"), json!("order")]);
    let filtered = orders
        .query()
        .cross_partition()
        .filter(
            AppOrder::FIELDS
                .total
                .gt(1.0)
                .or(AppOrder::FIELDS.total.lt(0.0)),
        )
        .to_sql()
        .unwrap();
    assert_eq!(
        filtered.text,
        "SELECT * FROM c WHERE c.type = @p0 AND (c.total > @p1 OR c.total < @p2)"
    );
}

#[test]
fn distinct_renders_distinct_value_and_keeps_its_limit_for_the_distinct_results() {
    let f = Product::FIELDS;
    let products = Repository::<Product>::in_memory();
    let one = products
        .query()
        .partition("tools")
        .select(f.name)
        .distinct()
        .to_sql()
        .unwrap();
    assert_eq!(
        one.text,
        "SELECT DISTINCT VALUE c.name FROM c WHERE c.category = @p0"
    );
    let limited = products
        .query()
        .cross_partition()
        .select((f.category, f.discontinued))
        .order_by(f.category.asc())
        .limit(2)
        .distinct()
        .to_sql()
        .unwrap();
    assert_eq!(
        limited.text,
        "SELECT DISTINCT VALUE [c.category, c.discontinued] FROM c ORDER BY c.category ASC"
    );
}

#[test]
fn conditions_on_array_elements_render_as_exists_subqueries() {
    use cosmos_repo_tests::Cart;
    let f = Product::FIELDS;
    let tags = sql(f.tags.any(|t| t.starts_with("st")).and(f.tags.len().gt(1)));
    assert_eq!(
        tags.text,
        "SELECT * FROM c WHERE EXISTS(SELECT VALUE x1 FROM x1 IN c.tags WHERE STARTSWITH(x1, @p0)) AND ARRAY_LENGTH(c.tags) > @p1"
    );
    assert_eq!(params(&tags), json!(["st", 1]).as_array().unwrap().clone());
    let lines = Cart::FIELDS.lines;
    let nested = Repository::<Cart>::in_memory()
        .query()
        .cross_partition()
        .filter(lines.any(|l| {
            l.sku
                .eq("x")
                .or(l.qty.gt(2_u32))
                .and(l.tags.any(|t| t.eq("gift")))
        }))
        .to_sql()
        .unwrap();
    assert_eq!(
        nested.text,
        "SELECT * FROM c WHERE EXISTS(SELECT VALUE x1 FROM x1 IN c.lines WHERE (x1.sku = @p0 OR x1.qty > @p1) AND EXISTS(SELECT VALUE x2 FROM x2 IN x1.tags WHERE x2 = @p2))"
    );
}

#[test]
fn vector_and_full_text_fields_shape_the_container_definition() {
    use cosmos_repo::model::container_definition;
    use cosmos_repo_tests::Article;
    let definition =
        container_definition("articles", Article::PARTITION_KEY_PATHS, &Article::MODEL);
    let embedding = |path: &str, distance: &str| json!({ "path": path, "dataType": "float32", "dimensions": 3, "distanceFunction": distance });
    assert_eq!(
        definition["vectorEmbeddingPolicy"],
        json!({ "vectorEmbeddings": [
            embedding("/embedding", "cosine"),
            embedding("/weights", "dotproduct"),
            embedding("/position", "euclidean"),
        ]})
    );
    assert_eq!(
        definition["indexingPolicy"]["vectorIndexes"],
        json!([
            { "path": "/embedding", "type": "flat" },
            { "path": "/weights", "type": "flat" },
            { "path": "/position", "type": "flat" },
        ])
    );
    assert_eq!(
        definition["indexingPolicy"]["excludedPaths"],
        json!([
            { "path": "/embedding/*" },
            { "path": "/weights/*" },
            { "path": "/position/*" },
            { "path": "/\"_etag\"/?" },
        ]),
        "vectors are left out of the range index"
    );
    assert_eq!(
        definition["fullTextPolicy"],
        json!({ "defaultLanguage": "en-US", "fullTextPaths": [
            { "path": "/title", "language": "en-US" },
            { "path": "/body", "language": "en-US" }
        ]})
    );
    assert_eq!(
        definition["indexingPolicy"]["fullTextIndexes"],
        json!([{ "path": "/title" }, { "path": "/body" }])
    );
}

#[test]
fn nearest_renders_vector_distance_with_top_in_select_and_order_by() {
    use cosmos_repo_tests::Article;
    let f = Article::FIELDS;
    let sql = Repository::<Article>::in_memory()
        .query()
        .partition("odd")
        .filter(f.title.ne("x"))
        .nearest(f.embedding, &[0.5, 1.0, 2.0])
        .limit(3)
        .to_sql()
        .unwrap();
    assert_eq!(
        sql.text,
        "SELECT TOP 3 c AS document, VectorDistance(c.embedding, @p0) AS score FROM c \
         WHERE c.topic = @p1 AND c.title != @p2 ORDER BY VectorDistance(c.embedding, @p0)"
    );
    assert_eq!(
        Value::Array(params(&sql)),
        json!([[0.5, 1.0, 2.0], "odd", "x"])
    );
    let err = Repository::<Article>::in_memory()
        .query()
        .cross_partition()
        .nearest(f.position, &[1.0])
        .limit(3)
        .to_sql()
        .unwrap_err();
    assert!(
        matches!(err, cosmos_repo::Error::BadRequest { .. }),
        "{err:?}"
    );
}

#[test]
fn full_text_filters_render_as_full_text_functions() {
    use cosmos_repo_tests::Article;
    let f = Article::FIELDS;
    let sql = Repository::<Article>::in_memory()
        .query()
        .cross_partition()
        .filter(
            f.title
                .full_text_contains("red shoes")
                .and(f.title.full_text_contains_all(["a", "b"]))
                .or(f.body.full_text_contains_any(["c"])),
        )
        .to_sql()
        .unwrap();
    assert_eq!(
        sql.text,
        "SELECT * FROM c WHERE FullTextContains(c.title, @p0) AND \
         FullTextContainsAll(c.title, @p1, @p2) OR FullTextContainsAny(c.body, @p3)"
    );
    assert_eq!(
        Value::Array(params(&sql)),
        json!(["red shoes", "a", "b", "c"])
    );
}

#[test]
fn ranking_renders_order_by_rank_with_full_text_score_and_rrf() {
    use cosmos_repo_tests::Article;
    let f = Article::FIELDS;
    let articles = Repository::<Article>::in_memory();
    let text = articles
        .query()
        .cross_partition()
        .rank_by_text(f.title, ["red", "shoes"])
        .limit(5)
        .to_sql()
        .unwrap();
    assert_eq!(
        text.text,
        "SELECT TOP 5 * FROM c ORDER BY RANK FullTextScore(c.title, @p0, @p1)"
    );
    assert_eq!(Value::Array(params(&text)), json!(["red", "shoes"]));
    let hybrid = articles
        .query()
        .partition("shop")
        .rank_hybrid(f.embedding, &[1.0, 0.0, 0.5], f.title, ["wine"])
        .weights(2.0, 1.0)
        .limit(3)
        .to_sql()
        .unwrap();
    assert_eq!(
        hybrid.text,
        "SELECT TOP 3 * FROM c WHERE c.topic = @p0 ORDER BY RANK \
         RRF(VectorDistance(c.embedding, @p1), FullTextScore(c.title, @p2), @p3)"
    );
    assert_eq!(
        Value::Array(params(&hybrid)),
        json!(["shop", [1.0, 0.0, 0.5], "wine", [2.0, 1.0]])
    );
}
