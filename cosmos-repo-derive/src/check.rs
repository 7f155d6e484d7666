//! Cross-field rules, checked on the parsed model before anything is generated.

use syn::{GenericArgument, PathArguments, Type};

use crate::ast::{Document, Field};
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
    for field in &doc.fields {
        check_key_field_is_stored(cx, field);
    }
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

/// Whether `ty` is written `Option<T>` (or with a path such as `core::option::Option<T>`).
fn is_option(ty: &Type) -> bool {
    let Type::Path(path) = ty else {
        return false;
    };
    let Some(last) = path.path.segments.last() else {
        return false;
    };
    match &last.arguments {
        PathArguments::AngleBracketed(args) => {
            last.ident == "Option"
                && args.args.len() == 1
                && matches!(args.args.first(), Some(GenericArgument::Type(_)))
        }
        _ => false,
    }
}
