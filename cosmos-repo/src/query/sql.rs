//! Cosmos DB SQL for a query: the SDK store's rendering of [`QuerySpec`](crate::store::QuerySpec).

use std::fmt::Write as _;

use serde_json::Value;

use super::expr::{Path, Precedence, SqlQuery};
use crate::store::{QueryRequest, Scope, Select};

/// The query's SQL: `SELECT [TOP n] ... FROM c [WHERE ...] [ORDER BY ...] [OFFSET .. LIMIT ..]`.
pub(crate) fn render(request: &QueryRequest<'_>) -> SqlQuery {
    let spec = request.spec;
    let mut sql = SqlQuery::default();
    sql.text.push_str("SELECT ");
    if let (Some(limit), None) = (spec.limit, spec.offset) {
        let _ = write!(sql.text, "TOP {limit} ");
    }
    match &spec.select {
        Select::Documents => sql.text.push('*'),
        Select::Value(path) => {
            sql.text.push_str("VALUE ");
            path.render(&mut sql.text);
        }
        Select::Array(paths) => {
            sql.text.push_str("VALUE [");
            for (i, path) in paths.iter().enumerate() {
                if i > 0 {
                    sql.text.push_str(", ");
                }
                path.render(&mut sql.text);
            }
            sql.text.push(']');
        }
    }
    sql.text.push_str(" FROM c");
    where_clause(request, &mut sql);
    for (i, (path, descending)) in spec.order_by.iter().enumerate() {
        sql.text.push_str(if i == 0 { " ORDER BY " } else { ", " });
        path.render(&mut sql.text);
        sql.text
            .push_str(if *descending { " DESC" } else { " ASC" });
    }
    if let Some(offset) = spec.offset {
        let limit = spec.limit.unwrap_or(i32::MAX as u64);
        let _ = write!(sql.text, " OFFSET {offset} LIMIT {limit}");
    }
    sql
}

/// `SELECT VALUE COUNT(1) FROM c [WHERE ...]`, or with `aggregate` false
/// `SELECT VALUE 1 FROM c [WHERE ...]`, one row per match to count where the SDK cannot
/// aggregate.
#[cfg(feature = "cosmos")]
pub(crate) fn render_count(request: &QueryRequest<'_>, aggregate: bool) -> SqlQuery {
    let mut sql = SqlQuery::default();
    sql.text.push_str(if aggregate {
        "SELECT VALUE COUNT(1) FROM c"
    } else {
        "SELECT VALUE 1 FROM c"
    });
    where_clause(request, &mut sql);
    sql
}

/// The partition-key condition of a partition-scoped query (harmless on Cosmos DB, which scopes
/// by header too, and needed by servers that do not), then the filter.
fn where_clause(request: &QueryRequest<'_>, sql: &mut SqlQuery) {
    let mut first = true;
    let mut and = |sql: &mut SqlQuery| {
        sql.text.push_str(if first { " WHERE " } else { " AND " });
        first = false;
    };
    if let Scope::Partition(key) = request.scope {
        let values = match key.to_json() {
            Value::Array(values) => values,
            other => vec![other],
        };
        for (path, value) in request.partition_key_paths.iter().zip(values) {
            and(sql);
            key_path(path).render(&mut sql.text);
            sql.text.push_str(" = ");
            sql.bind(value);
        }
    }
    if let Some(filter) = &request.spec.filter {
        let alone = !matches!(request.scope, Scope::Partition(_));
        and(sql);
        filter.render_within(
            sql,
            if alone {
                Precedence::Or
            } else {
                Precedence::And
            },
        );
    }
}

/// The path of a partition key path such as `/customerId` or `/address/zip`.
fn key_path(key_path: &'static str) -> Path {
    let mut names = key_path.trim_start_matches('/').split('/');
    let first = Path::root(names.next().unwrap_or_default());
    names.fold(first, Path::child)
}
