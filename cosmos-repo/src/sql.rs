//! Cosmos DB SQL: the one place queries become text. The SDK store sends what this renders; the
//! typed builder shows it (`Query::to_sql`) and binds continuations to it.

use std::fmt::Write as _;

use serde_json::Value;

use crate::ast::{CmpOp, Expr, Path, Rank, Select, SqlQuery, StrOp};
use crate::seam::{Feed, QuerySpec, Scope};

/// The query's SQL: `SELECT [TOP n] ... FROM c [WHERE ...] [ORDER BY ...] [OFFSET .. LIMIT ..]`.
pub(crate) fn render(feed: &Feed<'_>, spec: &QuerySpec) -> SqlQuery {
    render_parts(
        feed,
        &Parts {
            filter: spec.filter.as_ref(),
            order_by: &spec.order_by,
            offset: spec.offset,
            limit: spec.limit,
            select: &spec.select,
            distinct: spec.distinct,
        },
    )
}

/// A query's parts, borrowed: what `render` needs, without a [`QuerySpec`] to own them.
pub(crate) struct Parts<'a> {
    pub filter: Option<&'a Expr>,
    pub order_by: &'a [(Path, bool)],
    pub offset: Option<u64>,
    pub limit: Option<u64>,
    pub select: &'a Select,
    pub distinct: bool,
}

/// As [`render`], from borrowed parts.
pub(crate) fn render_parts(feed: &Feed<'_>, spec: &Parts<'_>) -> SqlQuery {
    let mut sql = SqlQuery::default();
    sql.text.push_str("SELECT ");
    if spec.distinct {
        sql.text.push_str("DISTINCT ");
    }
    if let (Some(limit), None) = (spec.limit, spec.offset) {
        let _ = write!(sql.text, "TOP {limit} ");
    }
    let mut nearest = None;
    match spec.select {
        Select::Documents | Select::Ranked(_) => sql.text.push('*'),
        Select::Nearest(to) => {
            sql.text.push_str("c AS document, ");
            let distance = vector_distance(to, &mut sql);
            sql.text.push_str(&distance);
            sql.text.push_str(" AS score");
            nearest = Some(distance);
        }
        Select::Value(selected) => {
            sql.text.push_str("VALUE ");
            path(selected, &mut sql.text);
        }
        Select::Array(paths) => {
            sql.text.push_str("VALUE [");
            for (i, selected) in paths.iter().enumerate() {
                if i > 0 {
                    sql.text.push_str(", ");
                }
                path(selected, &mut sql.text);
            }
            sql.text.push(']');
        }
    }
    sql.text.push_str(" FROM c");
    where_clause(feed, spec.filter, &mut sql);
    if let Some(distance) = nearest {
        // Cosmos DB orders by VectorDistance nearest first, whatever the function.
        sql.text.push_str(" ORDER BY ");
        sql.text.push_str(&distance);
    }
    if let Select::Ranked(rank) = spec.select {
        sql.text.push_str(" ORDER BY RANK ");
        match &**rank {
            Rank::Text(at, terms) => full_text_score(at, terms, &mut sql),
            Rank::Hybrid {
                vector,
                text,
                weights,
            } => {
                sql.text.push_str("RRF(");
                let distance = vector_distance(vector, &mut sql);
                sql.text.push_str(&distance);
                sql.text.push_str(", ");
                full_text_score(&text.0, &text.1, &mut sql);
                if let Some([a, b]) = weights {
                    sql.text.push_str(", ");
                    bind(&mut sql, serde_json::json!([a, b]));
                }
                sql.text.push(')');
            }
        }
    }
    for (i, (key, descending)) in spec.order_by.iter().enumerate() {
        sql.text.push_str(if i == 0 { " ORDER BY " } else { ", " });
        path(key, &mut sql.text);
        sql.text
            .push_str(if *descending { " DESC" } else { " ASC" });
    }
    if let Some(offset) = spec.offset {
        let limit = spec.limit.unwrap_or(i32::MAX as u64);
        let _ = write!(sql.text, " OFFSET {offset} LIMIT {limit}");
    }
    sql
}

/// `SELECT VALUE SUM(c.total) FROM c [WHERE ...]`, `SELECT VALUE COUNT(1) ...`.
#[cfg(feature = "cosmos")]
pub(crate) fn render_aggregate(
    feed: &Feed<'_>,
    filter: Option<&Expr>,
    aggregate: &crate::ast::Aggregate,
) -> SqlQuery {
    let mut sql = SqlQuery::default();
    sql.text.push_str("SELECT VALUE ");
    sql.text.push_str(aggregate.function());
    sql.text.push('(');
    match aggregate.path() {
        Some(at) => path(at, &mut sql.text),
        None => sql.text.push('1'),
    }
    sql.text.push_str(") FROM c");
    where_clause(feed, filter, &mut sql);
    sql
}

/// `SELECT c.status AS k, SUM(c.total) AS v FROM c [WHERE ...] GROUP BY c.status`: a row per
/// group, without `v` where the group's aggregate is undefined.
#[cfg(feature = "cosmos")]
pub(crate) fn render_group(
    feed: &Feed<'_>,
    filter: Option<&Expr>,
    key: &Path,
    aggregate: &crate::ast::Aggregate,
) -> SqlQuery {
    let mut sql = SqlQuery::default();
    sql.text.push_str("SELECT ");
    path(key, &mut sql.text);
    sql.text.push_str(" AS k, ");
    sql.text.push_str(aggregate.function());
    sql.text.push('(');
    match aggregate.path() {
        Some(at) => path(at, &mut sql.text),
        None => sql.text.push('1'),
    }
    sql.text.push_str(") AS v FROM c");
    where_clause(feed, filter, &mut sql);
    sql.text.push_str(" GROUP BY ");
    path(key, &mut sql.text);
    sql
}

/// `SELECT VALUE c.total FROM c WHERE ... AND IS_DEFINED(c.total)`, or `SELECT VALUE 1 ...`
/// without a path: the values to aggregate where the SDK cannot. (`IS_DEFINED` because not
/// every server leaves out a missing property's row, as Cosmos DB does.)
#[cfg(feature = "cosmos")]
pub(crate) fn render_values(feed: &Feed<'_>, filter: Option<&Expr>, at: Option<&Path>) -> SqlQuery {
    let mut sql = SqlQuery::default();
    sql.text.push_str("SELECT VALUE ");
    let defined = at.map(|at| {
        path(at, &mut sql.text);
        Expr::and_defined(filter, *at)
    });
    if at.is_none() {
        sql.text.push('1');
    }
    sql.text.push_str(" FROM c");
    where_clause(feed, defined.as_ref().or(filter), &mut sql);
    sql
}

/// The partition-key condition of a partition-scoped query (harmless on Cosmos DB, which scopes
/// by header too, and needed by servers that do not), then the filter.
fn where_clause(feed: &Feed<'_>, filter: Option<&Expr>, sql: &mut SqlQuery) {
    let mut first = true;
    let mut and = |sql: &mut SqlQuery| {
        sql.text.push_str(if first { " WHERE " } else { " AND " });
        first = false;
    };
    if let Scope::Partition(key) = feed.scope {
        let values = match key.to_json() {
            Value::Array(values) => values,
            other => vec![other],
        };
        for (key_path, value) in feed.container.partition_key_paths.iter().zip(values) {
            and(sql);
            path(&Path::parse(key_path), &mut sql.text);
            sql.text.push_str(" = ");
            bind(sql, value);
        }
    }
    // A type that shares its container reads only its own documents.
    if let Some(discriminator) = feed.container.model.discriminator {
        and(sql);
        path(&Path::root(discriminator.property), &mut sql.text);
        sql.text.push_str(" = ");
        bind(sql, Value::from(discriminator.value));
    }
    if let Some(filter) = filter {
        let alone = !matches!(feed.scope, Scope::Partition(_))
            && feed.container.model.discriminator.is_none();
        and(sql);
        expr_within(
            filter,
            sql,
            if alone {
                Precedence::Or
            } else {
                Precedence::And
            },
            0,
        );
    }
}

/// `FullTextScore(c.title, @pN, ...)`, each term bound as a parameter.
fn full_text_score(at: &Path, terms: &[String], sql: &mut SqlQuery) {
    sql.text.push_str("FullTextScore(");
    path(at, &mut sql.text);
    for term in terms {
        sql.text.push_str(", ");
        bind(sql, Value::String(term.clone()));
    }
    sql.text.push(')');
}

/// `VectorDistance(c.embedding, @pN)`, the vector bound as a new parameter.
fn vector_distance(to: &crate::ast::NearestTo, sql: &mut SqlQuery) -> String {
    let mut text = String::from("VectorDistance(");
    path(&to.path, &mut text);
    let name = format!("@p{}", sql.parameters.len());
    sql.parameters
        .push((name.clone(), Value::from(to.vector.clone())));
    text.push_str(", ");
    text.push_str(&name);
    text.push(')');
    text
}

/// Appends a new parameter holding `value`.
fn bind(sql: &mut SqlQuery, value: Value) {
    let name = format!("@p{}", sql.parameters.len());
    sql.text.push_str(&name);
    sql.parameters.push((name, value));
}

/// Appends `path` as a SQL expression on the alias `c`: `c.total`, `c['first-name']`. Names
/// that are not identifiers are single-quoted: Cosmos DB takes either quote, and the SDK's
/// in-process emulator takes only single quotes.
fn path(at: &Path, sql: &mut String) {
    path_in(0, at, sql);
}

/// Appends `at` on the alias of the query (`c`) at `depth` 0, or on the element of the array
/// iterated at `depth` (`x1`, `x2`, ...) inside `EXISTS(SELECT VALUE x1 FROM x1 IN ...)`.
fn path_in(depth: usize, path: &Path, sql: &mut String) {
    alias(depth, sql);
    for name in path.segments() {
        if is_plain_identifier(name) {
            sql.push('.');
            sql.push_str(name);
        } else {
            sql.push_str("['");
            for ch in name.chars() {
                match ch {
                    '\'' => sql.push_str("\\'"),
                    '\\' => sql.push_str("\\\\"),
                    c if c.is_control() => {
                        let _ = write!(sql, "\\u{:04x}", u32::from(c));
                    }
                    c => sql.push(c),
                }
            }
            sql.push_str("']");
        }
    }
}

fn alias(depth: usize, sql: &mut String) {
    match depth {
        0 => sql.push('c'),
        depth => {
            let _ = write!(sql, "x{depth}");
        }
    }
}

/// Whether `name` may follow a `.` in Cosmos DB SQL: an identifier that is not a keyword.
fn is_plain_identifier(name: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "and",
        "array",
        "as",
        "asc",
        "between",
        "by",
        "case",
        "cast",
        "convert",
        "cross",
        "desc",
        "distinct",
        "else",
        "end",
        "escape",
        "exists",
        "false",
        "for",
        "from",
        "group",
        "having",
        "in",
        "inner",
        "insert",
        "into",
        "is",
        "join",
        "left",
        "like",
        "limit",
        "not",
        "null",
        "offset",
        "on",
        "or",
        "order",
        "outer",
        "over",
        "right",
        "select",
        "set",
        "then",
        "top",
        "true",
        "udf",
        "undefined",
        "update",
        "value",
        "when",
        "where",
        "with",
    ];
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS
            .iter()
            .any(|keyword| keyword.eq_ignore_ascii_case(name))
}

/// Binding strength in rendered SQL, loosest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Precedence {
    Or,
    And,
    Not,
    Comparison,
    /// A function call or a parenthesised form, which nothing can split.
    Call,
}

/// How tightly a rendered predicate binds.
fn precedence(expr: &Expr) -> Precedence {
    match expr {
        Expr::Or(..) => Precedence::Or,
        Expr::And(..) => Precedence::And,
        Expr::Not(_) => Precedence::Not,
        Expr::Compare(..) | Expr::In(..) | Expr::Length(..) => Precedence::Comparison,
        _ => Precedence::Call,
    }
}

/// Appends the predicate, in parentheses if it binds less tightly than `context` needs.
/// Parentheses only where needed: some servers parse nested parentheses in exponential time.
fn expr_within(e: &Expr, sql: &mut SqlQuery, context: Precedence, depth: usize) {
    if precedence(e) < context {
        sql.text.push('(');
        expr(e, sql, depth);
        sql.text.push(')');
    } else {
        expr(e, sql, depth);
    }
}

/// Appends the predicate as SQL, binding every value as a parameter; its paths start at the
/// alias of `depth` (see [`path_in`]).
fn expr(e: &Expr, sql: &mut SqlQuery, depth: usize) {
    match e {
        Expr::Compare(at, op, value) => {
            path_in(depth, at, &mut sql.text);
            let _ = write!(sql.text, " {} ", operator(*op));
            bind(sql, value.clone());
        }
        Expr::In(_, values) if values.is_empty() => sql.text.push_str("false"),
        Expr::In(at, values) => {
            path_in(depth, at, &mut sql.text);
            sql.text.push_str(" IN (");
            for (i, value) in values.iter().enumerate() {
                if i > 0 {
                    sql.text.push_str(", ");
                }
                bind(sql, value.clone());
            }
            sql.text.push(')');
        }
        Expr::Between(at, low, high) => {
            sql.text.push('(');
            path_in(depth, at, &mut sql.text);
            sql.text.push_str(" BETWEEN ");
            bind(sql, low.clone());
            sql.text.push_str(" AND ");
            bind(sql, high.clone());
            sql.text.push(')');
        }
        Expr::Str(at, op, needle) => {
            sql.text.push_str(match op {
                StrOp::StartsWith => "STARTSWITH(",
                StrOp::EndsWith => "ENDSWITH(",
                StrOp::Contains => "CONTAINS(",
            });
            path_in(depth, at, &mut sql.text);
            sql.text.push_str(", ");
            bind(sql, Value::String(needle.clone()));
            sql.text.push(')');
        }
        Expr::FullText(at, how, terms) => {
            sql.text.push_str(how.function());
            sql.text.push('(');
            path_in(depth, at, &mut sql.text);
            for term in terms {
                sql.text.push_str(", ");
                bind(sql, Value::String(term.clone()));
            }
            sql.text.push(')');
        }
        Expr::ArrayContains(at, value) => {
            sql.text.push_str("ARRAY_CONTAINS(");
            path_in(depth, at, &mut sql.text);
            sql.text.push_str(", ");
            bind(sql, value.clone());
            sql.text.push(')');
        }
        Expr::IsDefined(at) | Expr::IsNull(at) => {
            sql.text.push_str(if matches!(e, Expr::IsDefined(_)) {
                "IS_DEFINED("
            } else {
                "IS_NULL("
            });
            path_in(depth, at, &mut sql.text);
            sql.text.push(')');
        }
        Expr::Any(at, condition) => {
            let element = depth + 1;
            sql.text.push_str("EXISTS(SELECT VALUE ");
            alias(element, &mut sql.text);
            sql.text.push_str(" FROM ");
            alias(element, &mut sql.text);
            sql.text.push_str(" IN ");
            path_in(depth, at, &mut sql.text);
            sql.text.push_str(" WHERE ");
            expr_within(condition, sql, Precedence::Or, element);
            sql.text.push(')');
        }
        Expr::Length(at, op, value) => {
            sql.text.push_str("ARRAY_LENGTH(");
            path_in(depth, at, &mut sql.text);
            let _ = write!(sql.text, ") {} ", operator(*op));
            bind(sql, value.clone());
        }
        Expr::And(a, b) => {
            expr_within(a, sql, Precedence::And, depth);
            sql.text.push_str(" AND ");
            expr_within(b, sql, Precedence::And, depth);
        }
        Expr::Or(a, b) => {
            expr_within(a, sql, Precedence::Or, depth);
            sql.text.push_str(" OR ");
            expr_within(b, sql, Precedence::Or, depth);
        }
        Expr::Not(a) => {
            // A comparison under NOT gets parentheses: `NOT c.x < 1` may parse as
            // `(NOT c.x) < 1`.
            sql.text.push_str("NOT ");
            expr_within(a, sql, Precedence::Call, depth);
        }
    }
}

fn operator(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "=",
        CmpOp::Ne => "!=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
    }
}

#[cfg(all(test, feature = "cosmos"))]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ast::Aggregate;
    use crate::key::IntoPartitionKey;
    use crate::model::ContainerModel;
    use crate::seam::Container;

    #[test]
    fn groups_render_as_group_by_with_the_key_and_the_aggregate() {
        let container = Container {
            name: "orders",
            partition_key_paths: &["/customer"],
            model: ContainerModel::NONE,
        };
        let key = IntoPartitionKey::<String>::into_partition_key("contoso");
        let feed = Feed {
            container,
            scope: Scope::Partition(&key),
            session_token: None,
        };
        let filter = Expr::IsDefined(Path::root("first-seen"));
        let status = Path::root("status");
        let cases = [
            (
                Aggregate::Count(None),
                "SELECT c.status AS k, COUNT(1) AS v FROM c WHERE c.customer = @p0 AND IS_DEFINED(c['first-seen']) GROUP BY c.status",
            ),
            (
                Aggregate::Avg(Path::root("total")),
                "SELECT c.status AS k, AVG(c.total) AS v FROM c WHERE c.customer = @p0 AND IS_DEFINED(c['first-seen']) GROUP BY c.status",
            ),
        ];
        for (aggregate, expected) in cases {
            let sql = render_group(&feed, Some(&filter), &status, &aggregate);
            assert_eq!(sql.text, expected);
            assert_eq!(sql.parameters, [("@p0".to_owned(), json!("contoso"))]);
        }
    }

    #[test]
    fn aggregates_render_as_one_value() {
        let container = Container {
            name: "orders",
            partition_key_paths: &["/customer"],
            model: ContainerModel::NONE,
        };
        let key = IntoPartitionKey::<String>::into_partition_key("contoso");
        let filter = Expr::Compare(Path::root("total"), CmpOp::Gt, json!(10));
        let total = Path::root("total");
        let cases = [
            (
                Scope::CrossPartition,
                Aggregate::Count(None),
                "SELECT VALUE COUNT(1) FROM c WHERE c.total > @p0",
            ),
            (
                Scope::CrossPartition,
                Aggregate::Count(Some(total)),
                "SELECT VALUE COUNT(c.total) FROM c WHERE c.total > @p0",
            ),
            (
                Scope::CrossPartition,
                Aggregate::Sum(total),
                "SELECT VALUE SUM(c.total) FROM c WHERE c.total > @p0",
            ),
            (
                Scope::CrossPartition,
                Aggregate::Avg(total),
                "SELECT VALUE AVG(c.total) FROM c WHERE c.total > @p0",
            ),
            (
                Scope::CrossPartition,
                Aggregate::Min(Path::root("first-seen")),
                "SELECT VALUE MIN(c['first-seen']) FROM c WHERE c.total > @p0",
            ),
            (
                Scope::Partition(&key),
                Aggregate::Max(total),
                "SELECT VALUE MAX(c.total) FROM c WHERE c.customer = @p0 AND c.total > @p1",
            ),
        ];
        for (scope, aggregate, expected) in cases {
            let feed = Feed {
                container,
                scope,
                session_token: None,
            };
            let sql = render_aggregate(&feed, Some(&filter), &aggregate);
            assert_eq!(sql.text, expected);
        }
        let feed = Feed {
            container,
            scope: Scope::CrossPartition,
            session_token: None,
        };
        assert_eq!(
            render_values(&feed, None, None).text,
            "SELECT VALUE 1 FROM c"
        );
        let values = render_values(&feed, Some(&filter), Some(&total));
        assert_eq!(
            values.text,
            "SELECT VALUE c.total FROM c WHERE c.total > @p0 AND IS_DEFINED(c.total)"
        );
    }
}
