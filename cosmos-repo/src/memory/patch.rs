//! Patch operations applied as Cosmos DB applies them: all of them or none, with 400 where the
//! document does not have the shape an operation needs.

use serde_json::{Map, Value};

use crate::ast::Path;
use crate::error::{Error, Result};
use crate::seam::PatchOp;

/// Applies `changes` in order to `doc`. On an error `doc` may be half changed: the caller
/// applies them to a copy.
pub(super) fn apply(doc: &mut Value, changes: &[PatchOp]) -> Result<()> {
    for change in changes {
        match change {
            PatchOp::Set(path, value) => {
                parent(doc, path)?.insert(last(path), value.clone());
            }
            PatchOp::Incr(path, by) => {
                let parent = parent(doc, path)?;
                let sum = match parent.get(&last(path)) {
                    None => by.clone(),
                    Some(Value::Number(current)) => add(current, by),
                    Some(other) => {
                        return Err(refused(
                            path,
                            format_args!("is {other}, not a number, and cannot be incremented"),
                        ));
                    }
                };
                parent.insert(last(path), sum);
            }
            PatchOp::Remove(path) => {
                if parent(doc, path)?.remove(&last(path)).is_none() {
                    return Err(refused(path, "is absent and cannot be removed"));
                }
            }
            PatchOp::Append(path, value) => match parent(doc, path)?.get_mut(&last(path)) {
                Some(Value::Array(items)) => items.push(value.clone()),
                _ => return Err(refused(path, "is not an array and cannot be appended to")),
            },
        }
    }
    Ok(())
}

/// The object holding the property at `path`, which must exist.
fn parent<'d>(doc: &'d mut Value, path: &Path) -> Result<&'d mut Map<String, Value>> {
    let (_, above) = path.segments().split_last().unwrap_or((&"", &[]));
    above
        .iter()
        .try_fold(doc, |value, name| value.as_object_mut()?.get_mut(*name))
        .and_then(Value::as_object_mut)
        .ok_or_else(|| refused(path, "has no parent object to hold it"))
}

fn last(path: &Path) -> String {
    path.segments()
        .last()
        .copied()
        .unwrap_or_default()
        .to_owned()
}

/// `current + by`, as an integer when both are integers that add without overflow.
fn add(current: &serde_json::Number, by: &Value) -> Value {
    match (current.as_i64(), by.as_i64()) {
        (Some(a), Some(b)) if a.checked_add(b).is_some() => Value::from(a + b),
        _ => Value::from(current.as_f64().unwrap_or_default() + by.as_f64().unwrap_or_default()),
    }
}

fn refused(path: &Path, problem: impl std::fmt::Display) -> Error {
    Error::BadRequest {
        message: format!(
            "patch refused: `{}` {problem}; nothing was changed",
            path.pointer()
        ),
    }
}
