//! Cosmos DB's semantics for JSON values that every store needs: the order across types, and
//! how aggregates fold values (`undefined` skipped, a value of the wrong type making the whole
//! aggregate `undefined`), including from the partial results of several partition ranges.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt::Write as _;

use serde_json::{Number, Value};

use crate::ast::Aggregate;

/// Cosmos DB's order across types for ORDER BY, MIN and MAX: undefined, null, booleans,
/// numbers, strings, arrays, objects; values of one type by value.
pub(crate) fn order(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    fn rank(v: Option<&Value>) -> u8 {
        match v {
            None => 0,
            Some(Value::Null) => 1,
            Some(Value::Bool(_)) => 2,
            Some(Value::Number(_)) => 3,
            Some(Value::String(_)) => 4,
            Some(Value::Array(_)) => 5,
            Some(Value::Object(_)) => 6,
        }
    }
    match (a, b) {
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        (Some(Value::Number(x)), Some(Value::Number(y))) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}

/// A key equal for values DISTINCT takes as equal: numbers by value (`1` and `1.0`), objects
/// whatever the order of their properties.
pub(crate) fn distinct_key(value: &Value) -> String {
    fn write(value: &Value, key: &mut String) {
        match value {
            Value::Number(n) => {
                let _ = write!(key, "n{:?};", n.as_f64().unwrap_or(f64::NAN));
            }
            Value::Array(items) => {
                key.push('[');
                items.iter().for_each(|item| write(item, key));
                key.push(']');
            }
            Value::Object(members) => {
                let mut sorted: Vec<_> = members.iter().collect();
                sorted.sort_by(|a, b| a.0.cmp(b.0));
                key.push('{');
                for (name, member) in sorted {
                    let _ = write!(key, "{name:?}:");
                    write(member, key);
                }
                key.push('}');
            }
            other => {
                let _ = write!(key, "{other};");
            }
        }
    }
    let mut key = String::new();
    write(value, &mut key);
    key
}

/// The aggregate of what the matching documents hold: the value at the aggregate's path, or
/// the document itself for `COUNT(1)`; `None` where a document holds nothing there. As Cosmos
/// DB computes it; an answer of `None` is `undefined`.
pub(crate) fn fold<'v>(
    aggregate: &Aggregate,
    values: impl Iterator<Item = Option<&'v Value>>,
) -> Option<Value> {
    let mut defined = values.flatten();
    match aggregate {
        Aggregate::Count(_) => Some(Value::from(defined.count())),
        Aggregate::Sum(_) => numbers(defined).and_then(|(sum, _)| number(sum)),
        Aggregate::Avg(_) => match numbers(defined)? {
            (_, 0) => None,
            (sum, n) => number(sum / n as f64),
        },
        Aggregate::Min(_) => extreme(&mut defined, Ordering::Less),
        Aggregate::Max(_) => extreme(&mut defined, Ordering::Greater),
    }
}

/// Groups `rows` of (key, what a document holds for the aggregate: see [`fold`]) by key, keys
/// compared as DISTINCT compares them, and folds each group: the groups in Cosmos DB's order of
/// their keys. A row holding nothing still makes its group (whose SUM is then 0, and so on).
pub(crate) fn group(
    aggregate: &Aggregate,
    rows: impl IntoIterator<Item = (Value, Option<Value>)>,
) -> Vec<(Value, Option<Value>)> {
    let mut groups: Vec<(Value, Vec<Option<Value>>)> = Vec::new();
    let mut index = HashMap::new();
    for (key, value) in rows {
        let slot = *index.entry(distinct_key(&key)).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        groups[slot].1.push(value);
    }
    let mut folded: Vec<(Value, Option<Value>)> = groups
        .into_iter()
        .map(|(key, members)| (key, fold(aggregate, members.iter().map(Option::as_ref))))
        .collect();
    folded.sort_by(|a, b| order(Some(&a.0), Some(&b.0)));
    folded
}

/// The sum and count of `values`, or `None` when one is not a number (Cosmos DB's SUM and AVG
/// are then undefined).
fn numbers<'v>(mut values: impl Iterator<Item = &'v Value>) -> Option<(f64, u64)> {
    values.try_fold((0.0, 0), |(sum, n), value| {
        Some((sum + value.as_number()?.as_f64()?, n + 1))
    })
}

/// The least (`Less`) or greatest (`Greater`) value in Cosmos DB's order; undefined when there
/// is none, or when one is an array or object (which MIN and MAX do not order).
fn extreme(values: &mut dyn Iterator<Item = &Value>, wanted: Ordering) -> Option<Value> {
    let mut best: Option<&Value> = None;
    for value in values {
        if matches!(value, Value::Array(_) | Value::Object(_)) {
            return None;
        }
        if best.is_none_or(|b| order(Some(value), Some(b)) == wanted) {
            best = Some(value);
        }
    }
    best.cloned()
}

/// A JSON number, undefined when not finite.
fn number(value: f64) -> Option<Value> {
    Number::from_f64(value).map(Value::Number)
}

/// The aggregate over a container from each partition range's own (`None` where a range's is
/// undefined): counts and sums add up, a range whose sum is undefined making the total
/// undefined; MIN and MAX take the extreme of the ranges' extremes; for AVG each range gives
/// `[SUM, COUNT]` of the field, and the average is undefined when a range's sum is, or when no
/// document holds a value.
#[cfg(feature = "cosmos")]
pub(crate) fn combine(aggregate: &Aggregate, partials: &[Option<Value>]) -> Option<Value> {
    match aggregate {
        Aggregate::Count(_) => Some(Value::from(
            partials
                .iter()
                .flatten()
                .filter_map(Value::as_u64)
                .sum::<u64>(),
        )),
        Aggregate::Sum(_) => {
            let sums: Option<Vec<&Value>> = partials.iter().map(Option::as_ref).collect();
            numbers(sums?.into_iter()).and_then(|(sum, _)| number(sum))
        }
        Aggregate::Avg(_) => {
            let (mut sum, mut count) = (0.0, 0);
            for partial in partials {
                let [range_sum, range_count] = partial.as_ref()?.as_array()?.as_slice() else {
                    return None;
                };
                let n = range_count.as_u64().unwrap_or(0);
                if n > 0 {
                    sum += range_sum.as_f64()?;
                    count += n;
                }
            }
            (count > 0).then(|| number(sum / count as f64)).flatten()
        }
        Aggregate::Min(_) | Aggregate::Max(_) => {
            fold(aggregate, partials.iter().map(Option::as_ref))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::ast::Path;

    fn fold_of(aggregate: Aggregate, values: &[Option<Value>]) -> Option<Value> {
        fold(&aggregate, values.iter().map(Option::as_ref))
    }

    #[test]
    fn aggregates_skip_undefined_and_give_up_on_the_wrong_type() {
        let x = Path::root("x");
        let numbers = [Some(json!(2)), None, Some(json!(4.5)), Some(json!(-1))];
        assert_eq!(fold_of(Aggregate::Count(Some(x)), &numbers), Some(json!(3)));
        assert_eq!(fold_of(Aggregate::Sum(x), &numbers), Some(json!(5.5)));
        assert_eq!(fold_of(Aggregate::Avg(x), &numbers), Some(json!(5.5 / 3.0)));
        assert_eq!(fold_of(Aggregate::Min(x), &numbers), Some(json!(-1)));
        assert_eq!(fold_of(Aggregate::Max(x), &numbers), Some(json!(4.5)));
        // Over nothing: SUM is 0, AVG, MIN and MAX undefined.
        assert_eq!(fold_of(Aggregate::Sum(x), &[None]), Some(json!(0.0)));
        assert_eq!(fold_of(Aggregate::Avg(x), &[None]), None);
        assert_eq!(fold_of(Aggregate::Min(x), &[]), None);
        // A null or a string makes SUM and AVG undefined; MIN and MAX order across types.
        let mixed = [Some(json!(3)), Some(Value::Null), Some(json!("a"))];
        assert_eq!(fold_of(Aggregate::Sum(x), &mixed), None);
        assert_eq!(fold_of(Aggregate::Avg(x), &mixed), None);
        assert_eq!(fold_of(Aggregate::Min(x), &mixed), Some(Value::Null));
        assert_eq!(fold_of(Aggregate::Max(x), &mixed), Some(json!("a")));
        assert_eq!(fold_of(Aggregate::Max(x), &[Some(json!([1]))]), None);
    }

    #[test]
    #[cfg(feature = "cosmos")]
    fn ranges_combine_into_the_container_aggregate() {
        let x = Path::root("x");
        let counts = [Some(json!(2)), Some(json!(0)), Some(json!(5))];
        assert_eq!(combine(&Aggregate::Count(None), &counts), Some(json!(7)));
        assert_eq!(combine(&Aggregate::Sum(x), &counts), Some(json!(7.0)));
        assert_eq!(combine(&Aggregate::Sum(x), &[Some(json!(1)), None]), None);
        let extremes = [None, Some(json!(3)), Some(json!(-2))];
        assert_eq!(combine(&Aggregate::Min(x), &extremes), Some(json!(-2)));
        assert_eq!(combine(&Aggregate::Max(x), &extremes), Some(json!(3)));
        // AVG from [sum, count] per range: (10 + 2) / (4 + 2); a range with nothing adds nothing.
        let parts = [
            Some(json!([10, 4])),
            Some(json!([0, 0])),
            Some(json!([2, 2])),
        ];
        assert_eq!(combine(&Aggregate::Avg(x), &parts), Some(json!(2.0)));
        assert_eq!(combine(&Aggregate::Avg(x), &[Some(json!([0, 0]))]), None);
        assert_eq!(combine(&Aggregate::Avg(x), &[Some(json!([null, 3]))]), None);
    }
}
