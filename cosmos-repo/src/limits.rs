//! What Cosmos DB can hold, checked before any request: ids, partition key values and documents.
//! Both stores run behind these checks, so the embedded store refuses what Cosmos DB refuses
//! and nothing is stored that cannot be read back as it was written.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use serde::Serialize;
use serde::ser::{self, Impossible};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::error::{Error, Result};
use crate::key::{PartitionKey, PartitionKeyValue};

/// The longest id Cosmos DB accepts, in UTF-8 bytes.
pub(crate) const MAX_ID_BYTES: usize = 1023;

/// The longest partition key value Cosmos DB accepts (large partition keys), in UTF-8 bytes.
pub(crate) const MAX_KEY_BYTES: usize = 2048;

/// The largest document Cosmos DB stores, as serialized JSON.
pub(crate) const MAX_DOCUMENT_BYTES: usize = 2 * 1024 * 1024;

/// The deepest nesting of objects and arrays, the document itself being level 1. Cosmos DB
/// allows 128 levels, but JSON readers (serde_json, and so the SDK) stop at 127, and query
/// responses wrap each document three levels deep (`{"Documents": [{"payload": doc}]}` for a
/// sorted query): a document deeper than this would be stored, read back by id, and then break
/// every query of its partition.
pub(crate) const MAX_DEPTH: usize = 124;

/// The largest integer a JSON number holds exactly: Cosmos DB stores numbers as IEEE 754
/// doubles, so integers beyond ±(2^53 - 1) would come back changed.
pub(crate) const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Cosmos DB's rules for a document id, and the rules that keep an id addressing exactly one
/// document in a request path (no dot segments, nothing a URL parser strips or splits on).
///
/// # Errors
///
/// [`Error::BadRequest`] naming the id and the rule it breaks.
pub(crate) fn check_id(id: &str) -> Result<()> {
    let problem = if id.is_empty() {
        "an id cannot be empty".to_owned()
    } else if id.len() > MAX_ID_BYTES {
        format!(
            "an id has at most {MAX_ID_BYTES} bytes of UTF-8, this one has {}",
            id.len()
        )
    } else if let Some(bad) = id.chars().find(|c| matches!(c, '/' | '\\' | '?' | '#')) {
        format!("an id cannot contain `{bad}` (Cosmos DB forbids `/`, `\\`, `?` and `#` in ids)")
    } else if let Some(bad) = id.chars().find(|c| c.is_control()) {
        format!(
            "an id cannot contain control characters such as U+{:04X}: request paths drop or mangle them",
            u32::from(bad)
        )
    } else if id == "." || id == ".." {
        "an id cannot be `.` or `..`: in a request path it names the container instead of a document".to_owned()
    } else if id.ends_with(' ') {
        "an id cannot end with a space: request paths drop trailing spaces, so it would name another document".to_owned()
    } else {
        return Ok(());
    };
    Err(Error::BadRequest {
        message: format!("invalid document id {id:?}: {problem}"),
    })
}

/// Cosmos DB's rules for a partition key value: numbers that are finite and, when integral,
/// within ±(2^53 - 1) (an integer key beyond cannot be told apart from its neighbours once
/// stored as a double), strings of at most [`MAX_KEY_BYTES`].
///
/// # Errors
///
/// [`Error::BadRequest`] naming the key and the rule it breaks.
pub(crate) fn check_partition_key(key: &PartitionKey) -> Result<()> {
    for value in key.values() {
        let problem = match value {
            PartitionKeyValue::Number(n) if !n.is_finite() => {
                format!("{n} is not a JSON number; use a finite number, or a string key")
            }
            PartitionKeyValue::Number(n)
                if n.fract() == 0.0 && n.abs() > MAX_SAFE_INTEGER as f64 =>
            {
                format!(
                    "{n} is beyond ±(2^53 - 1), where Cosmos DB's numbers lose precision; store such keys as strings"
                )
            }
            PartitionKeyValue::String(s) if s.len() > MAX_KEY_BYTES => format!(
                "a key value has at most {MAX_KEY_BYTES} bytes of UTF-8, this one has {}",
                s.len()
            ),
            _ => continue,
        };
        return Err(Error::BadRequest {
            message: format!("invalid partition key {key}: {problem}"),
        });
    }
    Ok(())
}

/// Serializes a value for Cosmos DB after checking that JSON and Cosmos DB hold it exactly: no
/// NaN or infinite float (serde would write `null`), no integer beyond ±(2^53 - 1), no nesting
/// beyond [`MAX_DEPTH`]. `what` names the value in errors, e.g. "a query value".
///
/// # Errors
///
/// [`Error::BadRequest`] naming the path of the offending value and the fix;
/// [`Error::Serialization`] when serde fails.
pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T, what: &dyn fmt::Display) -> Result<Value> {
    probe(value, what, Vec::new())?;
    serde_json::to_value(value).map_err(|source| serialization::<T>(source))
}

/// Serializes document `id` for a store, once, refusing before anything is sent what Cosmos DB
/// cannot hold exactly (see [`to_json`]), a document over [`MAX_DOCUMENT_BYTES`], and a
/// document that does not hold its id and partition key where Cosmos DB reads them: the `id`
/// property, and each partition key path. Those differ when serde writes a key field in another
/// form than its `KeyComponent` value, and Cosmos DB would then file the document under a key
/// the repository never asks for.
///
/// # Errors
///
/// As [`to_json`]; [`Error::BadRequest`] naming the size, or the property and both values.
pub(crate) fn to_document<T: Serialize + ?Sized>(
    doc: &T,
    id: &str,
    key: &PartitionKey,
    paths: &'static [&'static str],
) -> Result<Box<RawValue>> {
    let what = format_args!("document `{id}`");
    let watch = std::iter::once(vec!["id"])
        .chain(
            paths
                .iter()
                .map(|path| path.trim_start_matches('/').split('/').collect()),
        )
        .collect();
    let seen = probe(doc, &what, watch)?;
    let body = serde_json::value::to_raw_value(doc).map_err(|source| serialization::<T>(source))?;
    check_document_size(body.get().len(), &what)?;
    let mismatch = |path: &str, stored: &Option<Value>, expected: String| Error::BadRequest {
        message: format!(
            "document {id:?} serializes `{path}` as {} but its {} is {expected}; the field's serde form must be the value cosmos-repo sends (check its `Serialize` and `KeyComponent` impls)",
            stored
                .as_ref()
                .map_or_else(|| "nothing".to_owned(), Value::to_string),
            if path == "/id" {
                "#[id]"
            } else {
                "#[partition_key]"
            },
        ),
    };
    let (stored_id, stored_key) = seen.split_first().unwrap_or((&None, &[]));
    if stored_id.as_ref().and_then(Value::as_str) != Some(id) {
        return Err(mismatch("/id", stored_id, format!("{id:?}")));
    }
    for ((path, stored), value) in paths.iter().zip(stored_key).zip(key.values()) {
        let same = match (stored, value) {
            (Some(Value::String(a)), PartitionKeyValue::String(b)) => a == b,
            (Some(Value::Bool(a)), PartitionKeyValue::Bool(b)) => a == b,
            (Some(Value::Number(a)), PartitionKeyValue::Number(b)) => a.as_f64() == Some(*b),
            _ => false,
        };
        if !same {
            return Err(mismatch(path, stored, value.to_json().to_string()));
        }
    }
    Ok(body)
}

/// Walks `value` as serde_json would write it, refusing what Cosmos DB cannot hold exactly;
/// answers the values seen at the `watch` paths.
fn probe<T: Serialize + ?Sized>(
    value: &T,
    what: &dyn fmt::Display,
    watch: Vec<Vec<&'static str>>,
) -> Result<Vec<Option<Value>>> {
    let mut probe = Probe {
        seen: vec![None; watch.len()],
        watch,
        ..Probe::default()
    };
    match value.serialize(&mut probe) {
        Ok(()) => Ok(probe.seen),
        Err(Refusal::Unrepresentable(problem)) => Err(Error::BadRequest {
            message: format!("{what} cannot be stored in Cosmos DB: {problem}"),
        }),
        // serde's own failure is reported by serde_json, with its own message.
        Err(Refusal::Serde(_)) => Ok(probe.seen),
    }
}

fn serialization<T: ?Sized>(source: serde_json::Error) -> Error {
    Error::Serialization {
        action: "serialize",
        type_name: std::any::type_name::<T>(),
        source,
    }
}

/// Checks the size of a serialized document, `bytes` long, against [`MAX_DOCUMENT_BYTES`].
pub(crate) fn check_document_size(bytes: usize, what: &dyn fmt::Display) -> Result<()> {
    if bytes > MAX_DOCUMENT_BYTES {
        return Err(Error::BadRequest {
            message: format!(
                "{what} is {bytes} bytes as JSON, over Cosmos DB's limit of {MAX_DOCUMENT_BYTES} bytes (2 MB) per document; move large parts to Blob Storage or split the document"
            ),
        });
    }
    Ok(())
}

/// Why the probe stopped.
#[derive(Debug)]
enum Refusal {
    /// A value JSON or Cosmos DB cannot hold exactly; the message names its path.
    Unrepresentable(String),
    /// serde's own error (e.g. a map key that is not a string).
    Serde(String),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Unrepresentable(message) | Refusal::Serde(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for Refusal {}

impl ser::Error for Refusal {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Refusal::Serde(msg.to_string())
    }
}

/// One step of the path to a value: a property or an array index.
enum Step {
    /// A struct field's name is static; a map key's is not.
    Property(Cow<'static, str>),
    Index(usize),
}

/// A serializer that writes nothing: it walks a value as serde_json would write it, keeping the
/// path it is at, and stops at the first value JSON or Cosmos DB cannot hold exactly.
#[derive(Default)]
struct Probe {
    path: Vec<Step>,
    depth: usize,
    /// Property paths whose values to keep, as `["address", "city"]`.
    watch: Vec<Vec<&'static str>>,
    /// The value seen at each watched path.
    seen: Vec<Option<Value>>,
}

impl Probe {
    /// The current path, as `lines[0].price`, or `the document` at the root.
    fn here(&self) -> String {
        if self.path.is_empty() {
            return "the value".to_owned();
        }
        let mut text = String::new();
        for step in &self.path {
            match step {
                Step::Property(name) => {
                    if !text.is_empty() {
                        text.push('.');
                    }
                    text.push_str(name);
                }
                Step::Index(index) => {
                    let _ = write!(text, "[{index}]");
                }
            }
        }
        format!("`{text}`")
    }

    /// Keeps the scalar `value` if the probe is at a watched path.
    fn saw(&mut self, value: impl FnOnce() -> Value) {
        let here = &self.path;
        let watched = self.watch.iter().position(|names| {
            names.len() == here.len()
                && names
                    .iter()
                    .zip(here)
                    .all(|(name, step)| matches!(step, Step::Property(p) if p == name))
        });
        if let Some(index) = watched {
            self.seen[index] = Some(value());
        }
    }

    fn refuse(&self, problem: impl fmt::Display) -> Refusal {
        Refusal::Unrepresentable(format!("{} {problem}", self.here()))
    }

    fn float(&mut self, value: f64) -> Result<(), Refusal> {
        if value.is_finite() {
            self.saw(|| Value::from(value));
            Ok(())
        } else {
            Err(self.refuse(format_args!(
                "is {value}, which JSON cannot hold (serde would store `null`); use an `Option` and store `None`, or store the number as a string"
            )))
        }
    }

    fn integer(&mut self, value: i128) -> Result<(), Refusal> {
        if value.unsigned_abs() <= u128::from(MAX_SAFE_INTEGER) {
            self.saw(|| Value::from(value as i64));
            Ok(())
        } else {
            Err(self.refuse(format_args!(
                "is {value}, beyond ±(2^53 - 1): Cosmos DB stores numbers as doubles and would change it; store it as a string (e.g. `#[serde(with = ...)]` writing `to_string()`)"
            )))
        }
    }

    fn open(&mut self) -> Result<(), Refusal> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.refuse(format_args!(
                "is nested {} levels deep; Cosmos DB documents nest at most {MAX_DEPTH} levels (the document itself is level 1)",
                self.depth
            )));
        }
        Ok(())
    }

    fn close(&mut self) {
        self.depth -= 1;
    }

    /// Serializes `value` one step down the path.
    fn at<T: Serialize + ?Sized>(&mut self, step: Step, value: &T) -> Result<(), Refusal> {
        self.path.push(step);
        value.serialize(&mut *self)?;
        self.path.pop();
        Ok(())
    }
}

macro_rules! probe_integers {
    ($($method:ident: $ty:ty),*) => {$(
        fn $method(self, value: $ty) -> Result<(), Refusal> {
            self.integer(i128::from(value))
        }
    )*};
}

impl<'a> ser::Serializer for &'a mut Probe {
    type Ok = ();
    type Error = Refusal;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    probe_integers!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64);

    fn serialize_i128(self, value: i128) -> Result<(), Refusal> {
        self.integer(value)
    }

    fn serialize_u128(self, value: u128) -> Result<(), Refusal> {
        self.integer(i128::try_from(value).unwrap_or(i128::MAX))
    }

    fn serialize_f32(self, value: f32) -> Result<(), Refusal> {
        self.float(f64::from(value))
    }

    fn serialize_f64(self, value: f64) -> Result<(), Refusal> {
        self.float(value)
    }

    fn serialize_bool(self, value: bool) -> Result<(), Refusal> {
        self.saw(|| Value::from(value));
        Ok(())
    }

    fn serialize_char(self, value: char) -> Result<(), Refusal> {
        self.saw(|| Value::from(value.to_string()));
        Ok(())
    }

    fn serialize_str(self, value: &str) -> Result<(), Refusal> {
        self.saw(|| Value::from(value));
        Ok(())
    }

    fn serialize_bytes(self, _: &[u8]) -> Result<(), Refusal> {
        // serde_json writes bytes as an array of small numbers.
        self.open()?;
        self.close();
        Ok(())
    }

    fn serialize_none(self) -> Result<(), Refusal> {
        self.saw(|| Value::Null);
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Refusal> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Refusal> {
        self.saw(|| Value::Null);
        Ok(())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Refusal> {
        Ok(())
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), Refusal> {
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Refusal> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Refusal> {
        self.open()?;
        self.at(Step::Property(Cow::Borrowed(variant)), value)?;
        self.close();
        Ok(())
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>, Refusal> {
        Compound::open(self, 1)
    }

    fn serialize_tuple(self, _: usize) -> Result<Compound<'a>, Refusal> {
        Compound::open(self, 1)
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Refusal> {
        Compound::open(self, 1)
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Refusal> {
        // `{"Variant": [...]}`: an object holding an array.
        self.open()?;
        self.path.push(Step::Property(Cow::Borrowed(variant)));
        Compound::open(self, 2)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a>, Refusal> {
        Compound::open(self, 1)
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Refusal> {
        Compound::open(self, 1)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Refusal> {
        self.open()?;
        self.path.push(Step::Property(Cow::Borrowed(variant)));
        Compound::open(self, 2)
    }
}

/// An object or array being probed. `levels` is 2 for an enum variant's `{"Variant": ...}`
/// wrapper around it, whose path step it pops too.
struct Compound<'a> {
    probe: &'a mut Probe,
    levels: usize,
    next_index: usize,
    key: Option<String>,
}

impl<'a> Compound<'a> {
    fn open(probe: &'a mut Probe, levels: usize) -> Result<Compound<'a>, Refusal> {
        probe.open()?;
        Ok(Compound {
            probe,
            levels,
            next_index: 0,
            key: None,
        })
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Refusal> {
        let index = self.next_index;
        self.next_index += 1;
        self.probe.at(Step::Index(index), value)
    }

    fn property<T: Serialize + ?Sized>(
        &mut self,
        name: Cow<'static, str>,
        value: &T,
    ) -> Result<(), Refusal> {
        self.probe.at(Step::Property(name), value)
    }

    fn end(self) -> Result<(), Refusal> {
        for _ in 0..self.levels {
            self.probe.close();
        }
        if self.levels == 2 {
            self.probe.path.pop();
        }
        Ok(())
    }
}

/// The compound serializers whose parts are array elements.
macro_rules! probe_elements {
    ($($serializer:ident::$method:ident),*) => {$(
        impl ser::$serializer for Compound<'_> {
            type Ok = ();
            type Error = Refusal;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Refusal> {
                self.element(value)
            }

            fn end(self) -> Result<(), Refusal> {
                Compound::end(self)
            }
        }
    )*};
}

probe_elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// The compound serializers whose parts are named properties.
macro_rules! probe_properties {
    ($($serializer:ident),*) => {$(
        impl ser::$serializer for Compound<'_> {
            type Ok = ();
            type Error = Refusal;

            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                name: &'static str,
                value: &T,
            ) -> Result<(), Refusal> {
                self.property(Cow::Borrowed(name), value)
            }

            fn end(self) -> Result<(), Refusal> {
                Compound::end(self)
            }
        }
    )*};
}

probe_properties!(SerializeStruct, SerializeStructVariant);

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Refusal;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Refusal> {
        self.key = Some(key.serialize(KeyName)?);
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Refusal> {
        let name = self.key.take().unwrap_or_default();
        self.property(Cow::Owned(name), value)
    }

    fn end(self) -> Result<(), Refusal> {
        Compound::end(self)
    }
}

/// A map key's text, for paths. Keys that serde_json cannot write as strings are its error.
struct KeyName;

macro_rules! key_to_string {
    ($($method:ident: $ty:ty),*) => {$(
        fn $method(self, value: $ty) -> Result<String, Refusal> {
            Ok(value.to_string())
        }
    )*};
}

impl ser::Serializer for KeyName {
    type Ok = String;
    type Error = Refusal;
    type SerializeSeq = Impossible<String, Refusal>;
    type SerializeTuple = Impossible<String, Refusal>;
    type SerializeTupleStruct = Impossible<String, Refusal>;
    type SerializeTupleVariant = Impossible<String, Refusal>;
    type SerializeMap = Impossible<String, Refusal>;
    type SerializeStruct = Impossible<String, Refusal>;
    type SerializeStructVariant = Impossible<String, Refusal>;

    key_to_string!(serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_i64: i64, serialize_i128: i128, serialize_u8: u8, serialize_u16: u16,
        serialize_u32: u32, serialize_u64: u64, serialize_u128: u128, serialize_f32: f32,
        serialize_f64: f64, serialize_char: char, serialize_str: &str);

    fn serialize_bytes(self, _: &[u8]) -> Result<String, Refusal> {
        Err(ser::Error::custom("key must be a string"))
    }

    fn serialize_none(self) -> Result<String, Refusal> {
        Err(ser::Error::custom("key must be a string"))
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<String, Refusal> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<String, Refusal> {
        Err(ser::Error::custom("key must be a string"))
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<String, Refusal> {
        Err(ser::Error::custom("key must be a string"))
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<String, Refusal> {
        Ok(variant.to_owned())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<String, Refusal> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, Refusal> {
        Err(ser::Error::custom("key must be a string"))
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Refusal> {
        Err(ser::Error::custom("key must be a string"))
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Refusal> {
        Err(ser::Error::custom("key must be a string"))
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Refusal> {
        Err(ser::Error::custom("key must be a string"))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Refusal> {
        Err(ser::Error::custom("key must be a string"))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Refusal> {
        Err(ser::Error::custom("key must be a string"))
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Refusal> {
        Err(ser::Error::custom("key must be a string"))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Refusal> {
        Err(ser::Error::custom("key must be a string"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refused(value: &impl Serialize) -> String {
        match to_json(value, &"document `d`") {
            Err(Error::BadRequest { message }) => message,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    fn nested(depth: usize) -> Value {
        (1..depth).fold(json!({}), |inner, _| json!({ "a": inner }))
    }

    #[test]
    fn non_finite_floats_are_refused_with_their_path() {
        #[derive(Serialize)]
        struct Line {
            price: f64,
        }
        #[derive(Serialize)]
        struct Doc {
            lines: Vec<Line>,
        }
        let doc = Doc {
            lines: vec![Line { price: 1.0 }, Line { price: f64::NAN }],
        };
        let message = refused(&doc);
        assert!(
            message
                .starts_with("document `d` cannot be stored in Cosmos DB: `lines[1].price` is NaN"),
            "{message}"
        );
        assert!(message.contains("string"), "{message}");
        assert!(refused(&f64::INFINITY).contains("the value is inf"));
        assert!(refused(&f32::NEG_INFINITY).contains("-inf"));
    }

    #[test]
    fn integers_beyond_doubles_are_refused() {
        let max = MAX_SAFE_INTEGER;
        assert_eq!(to_json(&max, &"x").unwrap(), json!(max));
        assert_eq!(to_json(&-(max as i64), &"x").unwrap(), json!(-(max as i64)));
        assert!(refused(&(max + 1)).contains("9007199254740992"));
        assert!(refused(&i64::MIN).contains("2^53"));
        assert!(refused(&u128::MAX).contains("2^53"));
        let mut map = std::collections::BTreeMap::new();
        map.insert("big", u64::MAX);
        assert!(refused(&map).contains("`big` is 18446744073709551615"));
    }

    #[test]
    fn nesting_stops_where_documents_can_still_be_read_back() {
        let in_sorted_query_response = |doc: Value| json!({ "Documents": [{ "payload": doc }] });
        let deepest = to_json(&nested(MAX_DEPTH), &"x").unwrap();
        let text = in_sorted_query_response(deepest).to_string();
        serde_json::from_str::<Value>(&text).expect("the deepest allowed document reads back");
        let message = refused(&nested(MAX_DEPTH + 1));
        assert!(message.contains("nested 125 levels deep"), "{message}");
        let text = in_sorted_query_response(nested(MAX_DEPTH + 1)).to_string();
        assert!(
            serde_json::from_str::<Value>(&text).is_err(),
            "JSON readers stop at 127"
        );
    }

    #[test]
    fn enum_variants_count_their_wrapper() {
        #[derive(Serialize)]
        enum Shape {
            Circle { radius: f64 },
            Pair(f64, f64),
        }
        assert!(refused(&Shape::Circle { radius: f64::NAN }).contains("`Circle.radius`"));
        assert!(refused(&vec![Shape::Pair(1.0, f64::NAN)]).contains("`[0].Pair[1]`"));
        assert_eq!(
            to_json(&Shape::Pair(1.0, 2.0), &"x").unwrap(),
            json!({ "Pair": [1.0, 2.0] })
        );
    }

    #[test]
    fn ids_that_could_address_another_resource_are_refused() {
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "x/../y",
            "a\\b",
            "a?b",
            "a#b",
            "tab\there",
            "line\nbreak",
            "nul\0",
            "del\u{7f}",
            "trailing ",
        ] {
            let err = check_id(bad).unwrap_err();
            assert!(matches!(err, Error::BadRequest { .. }), "{bad:?}: {err:?}");
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
        check_id(&"é".repeat(MAX_ID_BYTES / 2)).unwrap();
        assert!(check_id(&"é".repeat(MAX_ID_BYTES / 2 + 1)).is_err());
        for good in [
            "o-1",
            " leading",
            "...",
            ".hidden",
            "a b",
            "100%",
            "ünï😀",
            "a+b=c&d",
        ] {
            check_id(good).unwrap();
        }
    }

    #[test]
    fn documents_over_two_megabytes_are_refused() {
        let key = crate::key::IntoPartitionKey::<String>::into_partition_key("p");
        let document = |blob: String| json!({ "id": "d", "pk": "p", "blob": blob });
        let big = document("x".repeat(MAX_DOCUMENT_BYTES));
        let err = to_document(&big, "d", &key, &["/pk"]).unwrap_err();
        assert!(err.to_string().contains("2 MB"), "{err}");
        let body = to_document(&document("x".into()), "d", &key, &["/pk"]).unwrap();
        assert_eq!(body.get(), r#"{"blob":"x","id":"d","pk":"p"}"#);
    }
}
