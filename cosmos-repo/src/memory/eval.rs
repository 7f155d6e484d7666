//! The embedded store's evaluator of the query AST, with Cosmos DB's semantics for `undefined`,
//! `null` and values of different types.

use std::cmp::Ordering;

use serde_json::Value;

use crate::ast::{CmpOp, Expr, StrOp, TextMatch};

/// Cosmos DB's three-valued logic: a comparison of different types is `Undefined`, and a
/// document is selected only when its predicate is `True`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Truth {
    True,
    False,
    Undefined,
}

impl From<bool> for Truth {
    fn from(value: bool) -> Self {
        if value { Truth::True } else { Truth::False }
    }
}

/// Evaluates the predicate on a stored document.
pub(super) fn eval(expr: &Expr, doc: &Value) -> Truth {
    match expr {
        Expr::Compare(path, op, value) => match path.lookup(doc) {
            Some(left) => compare(left, *op, value),
            None => Truth::Undefined,
        },
        Expr::In(path, values) => values
            .iter()
            .map(|v| eval(&Expr::Compare(*path, CmpOp::Eq, v.clone()), doc))
            .fold(Truth::False, or),
        Expr::Between(path, low, high) => and(
            eval(&Expr::Compare(*path, CmpOp::Ge, low.clone()), doc),
            eval(&Expr::Compare(*path, CmpOp::Le, high.clone()), doc),
        ),
        Expr::Str(path, op, needle) => match path.lookup(doc) {
            Some(Value::String(s)) => Truth::from(match op {
                StrOp::StartsWith => s.starts_with(needle.as_str()),
                StrOp::EndsWith => s.ends_with(needle.as_str()),
                StrOp::Contains => s.contains(needle.as_str()),
            }),
            _ => Truth::Undefined,
        },
        Expr::FullText(path, how, terms) => match path.lookup(doc) {
            Some(Value::String(text)) => {
                let held: std::collections::HashSet<String> = words(text).collect();
                let holds = |term: &String| words(term).all(|word| held.contains(&word));
                Truth::from(match how {
                    TextMatch::Contains | TextMatch::All => terms.iter().all(holds),
                    TextMatch::Any => terms.iter().any(holds),
                })
            }
            _ => Truth::Undefined,
        },
        Expr::ArrayContains(path, value) => match path.lookup(doc) {
            Some(Value::Array(items)) => Truth::from(items.iter().any(|item| json_eq(item, value))),
            _ => Truth::Undefined,
        },
        Expr::Any(path, condition) => match path.lookup(doc) {
            Some(Value::Array(items)) => Truth::from(
                items
                    .iter()
                    .any(|item| eval(condition, item) == Truth::True),
            ),
            // EXISTS over no elements: false, never undefined.
            _ => Truth::False,
        },
        Expr::Length(path, op, value) => match path.lookup(doc) {
            Some(Value::Array(items)) => compare(&Value::from(items.len()), *op, value),
            _ => Truth::Undefined,
        },
        Expr::IsDefined(path) => Truth::from(path.lookup(doc).is_some()),
        Expr::IsNull(path) => Truth::from(matches!(path.lookup(doc), Some(Value::Null))),
        Expr::And(a, b) => and(eval(a, doc), eval(b, doc)),
        Expr::Or(a, b) => or(eval(a, doc), eval(b, doc)),
        Expr::Not(a) => match eval(a, doc) {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Undefined => Truth::Undefined,
        },
    }
}

/// The words of a text as full-text search compares them: runs of letters and digits,
/// lower-cased. (Cosmos DB also stems them by language; the embedded store matches whole
/// words.)
pub(super) fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
}

fn and(a: Truth, b: Truth) -> Truth {
    match (a, b) {
        (Truth::False, _) | (_, Truth::False) => Truth::False,
        (Truth::True, Truth::True) => Truth::True,
        _ => Truth::Undefined,
    }
}

fn or(a: Truth, b: Truth) -> Truth {
    match (a, b) {
        (Truth::True, _) | (_, Truth::True) => Truth::True,
        (Truth::False, Truth::False) => Truth::False,
        _ => Truth::Undefined,
    }
}

/// A comparison with Cosmos DB's typing: values of different types, and ordering between
/// objects or arrays, are `Undefined`.
fn compare(left: &Value, op: CmpOp, right: &Value) -> Truth {
    let ordering = match (left, right) {
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        (Value::Number(a), Value::Number(b)) => a.as_f64().partial_cmp(&b.as_f64()),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        (Value::Array(_), Value::Array(_)) | (Value::Object(_), Value::Object(_)) => {
            return match op {
                CmpOp::Eq => Truth::from(json_eq(left, right)),
                _ => Truth::Undefined,
            };
        }
        _ => None,
    };
    let Some(ordering) = ordering else {
        return Truth::Undefined;
    };
    Truth::from(match op {
        CmpOp::Eq => ordering == Ordering::Equal,
        CmpOp::Ne => ordering != Ordering::Equal,
        CmpOp::Gt => ordering == Ordering::Greater,
        CmpOp::Ge => ordering != Ordering::Less,
        CmpOp::Lt => ordering == Ordering::Less,
        CmpOp::Le => ordering != Ordering::Greater,
    })
}

/// JSON equality with numbers compared by value (`1` equals `1.0`).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}
