//! Cross-field rules, checked on the parsed model before anything is generated.

use syn::ext::IdentExt;
use syn::{GenericArgument, PathArguments, Type};

use crate::ast::{Document, Field};
use crate::attr::edit_distance;
use crate::ctxt::Ctxt;

/// The most levels a hierarchical partition key can have in Cosmos DB.
const MAX_PARTITION_KEY_FIELDS: usize = 3;

const ETAG_FORM: &str =
    "#[etag] #[serde(rename = \"_etag\", default, skip_serializing)] pub etag: Option<Etag>";

pub fn check(cx: &Ctxt, doc: &Document) {
    check_container_name(cx, doc);
    check_deny_unknown_fields(cx, doc);
    check_id(cx, doc);
    check_partition_key(cx, doc);
    check_etag(cx, doc);
    check_type(cx, doc);
    check_ttl(cx, doc);
    for (fields, span) in &doc.attrs.composite_indexes {
        if fields.len() < 2 {
            cx.syn_error(syn::Error::new(
                *span,
                "a composite index needs at least two fields, e.g. `#[cosmos(composite_index(status, total desc))]`; one field is served by the default index",
            ));
        }
        resolve(cx, doc, fields, "composite_index");
    }
    for (fields, span) in &doc.attrs.unique_keys {
        if fields.is_empty() {
            cx.syn_error(syn::Error::new(
                *span,
                "a unique key needs at least one field, e.g. `#[cosmos(unique_key(email))]`",
            ));
        }
        resolve(cx, doc, fields, "unique_key");
    }
    for field in &doc.fields {
        check_vector(cx, field);
        check_full_text(cx, field);
        check_key_field_is_stored(cx, field);
        if let Some(exclude) = &field.attrs.exclude_from_index
            && (field.attrs.id.is_some() || field.attrs.partition_key.is_some())
        {
            cx.error_spanned_by(
                exclude,
                "the id and partition key fields cannot be excluded from the index: queries and point reads find documents by them",
            );
        }
    }
}

/// The distance functions Cosmos DB computes, as the attribute names them.
pub const DISTANCES: &[&str] = &["cosine", "dotproduct", "euclidean"];
/// The vector index types, as the attribute names them.
pub const VECTOR_INDEXES: &[&str] = &["flat", "quantizedFlat", "diskANN"];
/// The vector data types.
pub const VECTOR_DATA_TYPES: &[&str] = &["float32", "float16", "uint8", "int8"];
/// The most dimensions Cosmos DB indexes, and the most a `flat` index takes.
const MAX_DIMENSIONS: u32 = 4096;
const MAX_FLAT_DIMENSIONS: u32 = 505;

const VECTOR_FORM: &str =
    "#[cosmos(vector(dimensions = 384, distance = \"cosine\"))] embedding: Vec<f32>";

fn check_vector(cx: &Ctxt, field: &Field) {
    let Some(vector) = &field.attrs.vector else {
        return;
    };
    if !is_vec_of_f32(field.ty) {
        cx.error_spanned_by(
            field.ty,
            format!(
                "a #[cosmos(vector(...))] field holds the embedding as `Vec<f32>`: `{VECTOR_FORM}`"
            ),
        );
    }
    match vector
        .dimensions
        .as_ref()
        .map(|n| (n, n.base10_parse::<u32>()))
    {
        None => cx.error_spanned_by(
            &vector.path,
            format!("a vector needs its number of dimensions: `{VECTOR_FORM}`"),
        ),
        Some((lit, Ok(n))) if n == 0 || n > MAX_DIMENSIONS => cx.error_spanned_by(
            lit,
            format!("a vector has 1 to {MAX_DIMENSIONS} dimensions, not {n}"),
        ),
        Some((lit, Ok(n)))
            if n > MAX_FLAT_DIMENSIONS
                && vector
                    .index
                    .as_ref()
                    .is_some_and(|index| index.value() == "flat") =>
        {
            cx.error_spanned_by(
                lit,
                format!("a `flat` vector index takes at most {MAX_FLAT_DIMENSIONS} dimensions, not {n}; use `index = \"quantizedFlat\"` or `\"diskANN\"`"),
            );
        }
        Some((_, Ok(_))) => {}
        Some((lit, Err(err))) => cx.error_spanned_by(lit, err.to_string()),
    }
    match &vector.distance {
        None => cx.error_spanned_by(
            &vector.path,
            format!(
                "a vector needs its distance function, one of {}: `{VECTOR_FORM}`",
                quoted(DISTANCES)
            ),
        ),
        Some(distance) => one_of(cx, distance, "distance", DISTANCES),
    }
    if let Some(index) = &vector.index {
        one_of(cx, index, "vector index", VECTOR_INDEXES);
    }
    if let Some(data_type) = &vector.data_type {
        one_of(cx, data_type, "vector data type", VECTOR_DATA_TYPES);
    }
}

fn check_full_text(cx: &Ctxt, field: &Field) {
    if let Some(full_text) = &field.attrs.full_text
        && !is_text(field.ty)
    {
        cx.error_spanned_by(
            &full_text.path,
            "#[cosmos(full_text)] goes on a `String` or `Option<String>` field: the text to search",
        );
    }
}

/// Reports `value` unless it is one of `allowed`, with a "did you mean" when one is close.
fn one_of(cx: &Ctxt, value: &syn::LitStr, what: &str, allowed: &[&str]) {
    let written = value.value();
    if allowed.contains(&written.as_str()) {
        return;
    }
    let close = allowed
        .iter()
        .find(|name| edit_distance(&written.to_lowercase(), &name.to_lowercase()) <= 2)
        .map(|name| format!("; did you mean \"{name}\"?"))
        .unwrap_or_default();
    cx.error_spanned_by(
        value,
        format!(
            "unknown {what} \"{written}\", expected one of {}{close}",
            quoted(allowed)
        ),
    );
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| format!("\"{name}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether `ty` is written `Vec<f32>`.
fn is_vec_of_f32(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|last| {
        last.ident == "Vec"
            && matches!(&last.arguments, PathArguments::AngleBracketed(args)
                if args.args.len() == 1
                    && matches!(args.args.first(), Some(GenericArgument::Type(inner))
                        if last_segment(inner).is_some_and(|s| s.ident == "f32")))
    })
}

/// Whether `ty` is written `String` or `Option<String>`.
fn is_text(ty: &Type) -> bool {
    last_segment(option_inner(ty).unwrap_or(ty)).is_some_and(|last| last.ident == "String")
}

/// The property that holds a shared container's discriminator.
pub fn discriminator_property(doc: &Document) -> String {
    doc.attrs
        .discriminator
        .as_ref()
        .map_or_else(|| "type".to_owned(), syn::LitStr::value)
}

fn check_type(cx: &Ctxt, doc: &Document) {
    let Some(type_name) = &doc.attrs.type_name else {
        if let Some(discriminator) = &doc.attrs.discriminator {
            cx.error_spanned_by(
                discriminator,
                "`discriminator` names the property of `type`; add #[cosmos(type = \"...\")] too, or remove it",
            );
        }
        return;
    };
    if type_name.value().is_empty() {
        cx.error_spanned_by(type_name, "a `type` cannot be empty");
    }
    if doc.attrs.container.is_none() {
        cx.error_spanned_by(
            type_name,
            format!(
                "`type` tells apart the document types that share a container, so it needs the container's name: add `container = \"...\"` (e.g. #[cosmos(container = \"app\", type = \"{}\")])",
                type_name.value()
            ),
        );
    }
    let property = discriminator_property(doc);
    let span = doc.attrs.discriminator.as_ref().unwrap_or(type_name);
    if property.is_empty() || property.starts_with('_') || property == "id" {
        cx.error_spanned_by(
            span,
            format!("`{property}` cannot hold the discriminator: it is empty, `id`, or a system property; choose another with #[cosmos(discriminator = \"kind\")]"),
        );
    }
    if let Some(clash) = doc.fields.iter().find(|field| field.json_name == property) {
        cx.error_spanned_by(
            clash.ident,
            format!(
                "`{}` is stored as `{property}`, the property that holds the discriminator of #[cosmos(type = \"{}\")]; rename the field with #[serde(rename = \"...\")] or choose another property with #[cosmos(discriminator = \"kind\")]",
                clash.ident,
                type_name.value()
            ),
        );
    }
}

fn check_ttl(cx: &Ctxt, doc: &Document) {
    let mut fields = doc.fields.iter().filter(|field| field.attrs.ttl.is_some());
    let Some(field) = fields.next() else {
        return;
    };
    for duplicate in fields {
        cx.error_spanned_by(
            &duplicate.attrs.ttl,
            format!(
                "duplicate #[cosmos(ttl)] field: `{}` already holds the document's time to live",
                field.ident
            ),
        );
    }
    const FORM: &str =
        "#[cosmos(ttl)] #[serde(skip_serializing_if = \"Option::is_none\")] ttl: Option<i32>";
    if !is_option(field.ty) {
        cx.error_spanned_by(field.ty, format!("a #[cosmos(ttl)] field has type `Option<i32>` (seconds; `None` takes the container's default): `{FORM}`"));
    }
    if field.json_name != "ttl" {
        cx.error_spanned_by(
            field.ident,
            format!(
                "Cosmos DB reads a document's time to live from its `ttl` property, but `{}` serializes as `{}`; add #[serde(rename = \"ttl\")]",
                field.ident, field.json_name
            ),
        );
    }
    if doc.attrs.ttl.is_none() {
        cx.error_spanned_by(
            &field.attrs.ttl,
            "a document's own time to live only counts when its container has TTL on: add #[cosmos(ttl = -1)] (on, no default) or #[cosmos(ttl = N)] to the struct",
        );
    }
}

/// The stored fields named in a container attribute, each reported with a suggestion when it
/// is not a field of the struct.
fn resolve<'d, 'a>(
    cx: &Ctxt,
    doc: &'d Document<'a>,
    fields: &[crate::attr::FieldRef],
    key: &str,
) -> Vec<&'d Field<'a>> {
    fields
        .iter()
        .filter_map(|named| {
            let found = doc
                .fields
                .iter()
                .find(|field| field.ident.unraw() == named.ident.unraw());
            if found.is_none() {
                let closest = doc
                    .fields
                    .iter()
                    .map(|field| field.ident.unraw().to_string())
                    .min_by_key(|name| edit_distance(&named.ident.unraw().to_string(), name))
                    .filter(|name| edit_distance(&named.ident.unraw().to_string(), name) <= 3);
                let hint =
                    closest.map_or_else(String::new, |name| format!("; did you mean `{name}`?"));
                cx.error_spanned_by(
                    &named.ident,
                    format!(
                        "`{}` in `{key}` is not a field of `{}`{hint}",
                        named.ident, doc.ident
                    ),
                );
            }
            found
        })
        .collect()
}

fn check_container_name(cx: &Ctxt, doc: &Document) {
    let Some(lit) = &doc.attrs.container else {
        return;
    };
    let name = lit.value();
    if name.is_empty() || name.chars().count() > 255 {
        cx.error_spanned_by(lit, "a container name must have 1 to 255 characters");
    } else if let Some(bad) = name.chars().find(|c| matches!(c, '/' | '\\' | '?' | '#')) {
        cx.error_spanned_by(
            lit,
            format!(
                "a container name cannot contain `{bad}` (Cosmos DB forbids `/`, `\\`, `?` and `#`)"
            ),
        );
    } else if name.ends_with(' ') {
        cx.error_spanned_by(lit, "a container name cannot end with a space");
    }
}

fn check_deny_unknown_fields(cx: &Ctxt, doc: &Document) {
    if let Some(path) = &doc.attrs.deny_unknown_fields {
        cx.error_spanned_by(
            path,
            "#[serde(deny_unknown_fields)] cannot be used on a Cosmos document: Cosmos DB adds the system properties `_rid`, `_self`, `_etag`, `_attachments` and `_ts` to every stored document, so reading it back would fail",
        );
    }
}

fn check_id(cx: &Ctxt, doc: &Document) {
    let mut ids = doc.id_fields();
    let Some(id) = ids.next() else {
        cx.error_spanned_by(
            doc.ident,
            format!(
                "`{}` has no #[id] field: mark the field that serializes as `id` with #[id]",
                doc.ident
            ),
        );
        return;
    };
    for duplicate in ids {
        cx.error_spanned_by(
            &duplicate.attrs.id,
            format!(
                "duplicate #[id] attribute: `{}` is already the id field; a document has exactly one",
                id.ident
            ),
        );
    }
    if id.json_name != "id" {
        cx.error_spanned_by(
            id.ident,
            format!(
                "the #[id] field must serialize as `id`, the property Cosmos DB reads the id from, but `{}` serializes as `{}`; add #[serde(rename = \"id\")] to this field",
                id.ident, id.json_name
            ),
        );
    }
    if let Some(etag) = &id.attrs.etag {
        cx.error_spanned_by(etag, "a field cannot be both #[id] and #[etag]");
    }
}

fn check_partition_key(cx: &Ctxt, doc: &Document) {
    let keys: Vec<&Field> = doc.partition_key_fields().collect();
    if keys.is_empty() {
        cx.error_spanned_by(
            doc.ident,
            format!(
                "`{}` has no #[partition_key] field: mark the field holding the partition key with #[partition_key] (up to three fields, in order, for a hierarchical key)",
                doc.ident
            ),
        );
    }
    for extra in keys.iter().skip(MAX_PARTITION_KEY_FIELDS) {
        cx.error_spanned_by(
            &extra.attrs.partition_key,
            format!(
                "too many #[partition_key] fields: a hierarchical partition key has at most {MAX_PARTITION_KEY_FIELDS} levels"
            ),
        );
    }
    for key in &keys {
        if let Some(etag) = &key.attrs.etag {
            cx.error_spanned_by(etag, "a field cannot be both #[partition_key] and #[etag]");
        }
    }
}

fn check_etag(cx: &Ctxt, doc: &Document) {
    let mut etags = doc.etag_fields();
    let Some(etag) = etags.next() else {
        return;
    };
    for duplicate in etags {
        cx.error_spanned_by(
            &duplicate.attrs.etag,
            format!(
                "duplicate #[etag] attribute: `{}` is already the etag field",
                etag.ident
            ),
        );
    }
    if !is_option(etag.ty) {
        cx.error_spanned_by(
            etag.ty,
            format!("the #[etag] field must have type `Option<Etag>`; write it as `{ETAG_FORM}`"),
        );
    }
    if etag.json_name != "_etag" {
        cx.error_spanned_by(
            etag.ident,
            format!(
                "the #[etag] field must be read from Cosmos DB's `_etag` property, but `{}` serializes as `{}`; write it as `{ETAG_FORM}`",
                etag.ident, etag.json_name
            ),
        );
    }
}

fn check_key_field_is_stored(cx: &Ctxt, field: &Field) {
    let role = if field.attrs.id.is_some() {
        "#[id]"
    } else if field.attrs.partition_key.is_some() {
        "#[partition_key]"
    } else {
        return;
    };
    if let Some(flatten) = &field.attrs.flatten {
        cx.error_spanned_by(
            flatten,
            format!("#[serde(flatten)] cannot be used on the {role} field: its value must be a single JSON property of the document"),
        );
    }
    for path in &field.attrs.reshaping {
        let name = path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        let message = if name.starts_with("skip") {
            format!(
                "the {role} field cannot be skipped (#[serde({name})]): it must be written to and read from every stored document, where Cosmos DB keeps it"
            )
        } else if role == "#[id]" {
            format!(
                "#[serde({name})] cannot be used on the #[id] field: the repository sends the field's own value as the id, and Cosmos DB reads the stored `id` property, so serde must store the value as it is"
            )
        } else {
            format!(
                "#[serde({name})] cannot be used on the #[partition_key] field: the repository sends the field's own value as the key, and Cosmos DB reads the stored property, so serde must store the value as it is; for a custom form, use a newtype whose `Serialize` writes the value its `KeyComponent` gives"
            )
        };
        cx.error_spanned_by(path, message);
    }
    if let Some(nested) = &field.attrs.nested {
        cx.error_spanned_by(
            nested,
            format!("#[cosmos(nested)] cannot be used on the {role} field: its value must be a single JSON value, not an object"),
        );
    }
}

/// Date-time types whose serde form Cosmos DB does not compare or sort as time: chrono's write as
/// many fractional digits as needed (`...:00.5Z` sorts before `...:00Z`), time's a form of its
/// own or a tuple.
const VARIABLE_WIDTH_TIMES: &[&str] = &[
    "DateTime",
    "NaiveDateTime",
    "OffsetDateTime",
    "PrimitiveDateTime",
    "UtcDateTime",
];

/// The stored fields (or `Option`s of them) of a date-time type in [`VARIABLE_WIDTH_TIMES`]
/// serialized by the type itself, with the type's name. A `with` or `serialize_with` attribute
/// chooses another form, so it is left alone.
pub fn variable_width_times<'d, 'a>(
    doc: &'d Document<'a>,
) -> impl Iterator<Item = (&'d Field<'a>, String)> {
    doc.fields.iter().filter_map(|field| {
        let chosen_form = field
            .attrs
            .reshaping
            .iter()
            .any(|path| path.is_ident("with") || path.is_ident("serialize_with"));
        if chosen_form || field.attrs.never_serialized() {
            return None;
        }
        let name = last_segment(option_inner(field.ty).unwrap_or(field.ty))?
            .ident
            .to_string();
        VARIABLE_WIDTH_TIMES
            .contains(&name.as_str())
            .then_some((field, name))
    })
}

/// The last segment of a path type such as `chrono::DateTime<Utc>`.
fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(path) => path.path.segments.last(),
        _ => None,
    }
}

/// `T` of a type written `Option<T>` (or with a path such as `core::option::Option<T>`).
fn option_inner(ty: &Type) -> Option<&Type> {
    let last = last_segment(ty).filter(|last| last.ident == "Option")?;
    match &last.arguments {
        PathArguments::AngleBracketed(args) if args.args.len() == 1 => match args.args.first() {
            Some(GenericArgument::Type(inner)) => Some(inner),
            _ => None,
        },
        _ => None,
    }
}

/// Whether `ty` is written `Option<T>` (or with a path such as `core::option::Option<T>`).
fn is_option(ty: &Type) -> bool {
    option_inner(ty).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_times_stored_by_their_own_serde_form_are_found() {
        let input: syn::DeriveInput = syn::parse_quote! {
            struct Event {
                #[id]
                id: String,
                #[partition_key]
                sensor: String,
                at: chrono::DateTime<chrono::Utc>,
                seen: Option<time::OffsetDateTime>,
                naive: NaiveDateTime,
                #[serde(with = "chrono::serde::ts_milliseconds")]
                millis: DateTime<Utc>,
                #[serde(skip)]
                cached: DateTime<Utc>,
                stamp: cosmos_repo::Timestamp,
                times: Vec<DateTime<Utc>>,
            }
        };
        let cx = Ctxt::new();
        let doc = Document::from_ast(&cx, &input).unwrap();
        cx.check().unwrap();
        let found: Vec<(String, String)> = variable_width_times(&doc)
            .map(|(field, name)| (field.ident.to_string(), name))
            .collect();
        assert_eq!(
            found,
            [
                ("at".to_owned(), "DateTime".to_owned()),
                ("seen".to_owned(), "OffsetDateTime".to_owned()),
                ("naive".to_owned(), "NaiveDateTime".to_owned()),
            ]
        );
    }
}
