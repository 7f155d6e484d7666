//! Parsing of `#[cosmos(...)]`, `#[id]`, `#[partition_key]`, `#[etag]` and the `#[serde(...)]`
//! attributes that decide a field's JSON name.

use proc_macro2::TokenTree;
use syn::meta::ParseNestedMeta;
use syn::parse::ParseStream;
use syn::spanned::Spanned;
use syn::{Attribute, LitStr, Path, Token};

use crate::case::RenameRule;
use crate::ctxt::Ctxt;

pub const COSMOS: &str = "cosmos";
pub const CONTAINER: &str = "container";
pub const CRATE: &str = "crate";
pub const ID: &str = "id";
pub const PARTITION_KEY: &str = "partition_key";
pub const ETAG: &str = "etag";
pub const NESTED: &str = "nested";
pub const TYPE: &str = "type";
pub const DISCRIMINATOR: &str = "discriminator";
pub const TTL: &str = "ttl";
pub const COMPOSITE_INDEX: &str = "composite_index";
pub const UNIQUE_KEY: &str = "unique_key";
pub const EXCLUDE_FROM_INDEX: &str = "exclude_from_index";
pub const VECTOR: &str = "vector";
pub const FULL_TEXT: &str = "full_text";
const SERDE: &str = "serde";

const CONTAINER_KEYS: &str =
    "`container`, `type`, `discriminator`, `ttl`, `composite_index`, `unique_key`, `crate`";
const CONTAINER_KEY_NAMES: &[&str] = &[
    CONTAINER,
    TYPE,
    DISCRIMINATOR,
    TTL,
    COMPOSITE_INDEX,
    UNIQUE_KEY,
    CRATE,
];

/// A field named in a container attribute, such as `total desc` in `composite_index(...)`.
pub struct FieldRef {
    pub ident: syn::Ident,
    pub descending: bool,
}

/// Attributes on the struct itself.
pub struct Container {
    /// `#[cosmos(container = "...")]`.
    pub container: Option<LitStr>,
    /// `#[cosmos(crate = "...")]`: the path generated code uses for the runtime crate.
    pub krate: Option<Path>,
    /// `#[serde(rename_all = "...")]`, serialize side.
    pub rename_all: RenameRule,
    /// `#[serde(deny_unknown_fields)]`, kept for its span.
    pub deny_unknown_fields: Option<Path>,
    /// `#[serde(tag = "...")]`: the property an internally tagged enum keeps its variant in.
    pub tag: Option<LitStr>,
    /// `#[cosmos(type = "...")]`: the discriminator value of a type sharing its container.
    pub type_name: Option<LitStr>,
    /// `#[cosmos(discriminator = "...")]`: the property holding it (`type` by default).
    pub discriminator: Option<LitStr>,
    /// `#[cosmos(ttl = N)]`: the container's default time to live, with the literal's span.
    pub ttl: Option<(i32, proc_macro2::Span)>,
    /// `#[cosmos(composite_index(a, b desc))]`, each with the span of its attribute.
    pub composite_indexes: Vec<(Vec<FieldRef>, proc_macro2::Span)>,
    /// `#[cosmos(unique_key(a, b))]`, each with the span of its attribute.
    pub unique_keys: Vec<(Vec<FieldRef>, proc_macro2::Span)>,
}

impl Container {
    pub fn from_ast(cx: &Ctxt, attrs: &[Attribute]) -> Self {
        let mut container = Container {
            container: None,
            krate: None,
            rename_all: RenameRule::None,
            deny_unknown_fields: None,
            tag: None,
            type_name: None,
            discriminator: None,
            ttl: None,
            composite_indexes: Vec::new(),
            unique_keys: Vec::new(),
        };
        for attr in attrs {
            if attr.path().is_ident(COSMOS) {
                if let Err(err) = attr.parse_nested_meta(|meta| container.parse_cosmos(cx, meta)) {
                    cx.syn_error(err);
                }
            } else if attr.path().is_ident(SERDE) {
                // serde reports malformed serde attributes itself; here they are read leniently.
                let _ = attr.parse_nested_meta(|meta| container.parse_serde(meta));
            } else if let Some(name) = field_helper_name(attr) {
                cx.error_spanned_by(
                    attr,
                    format!("#[{name}] belongs on a field of the struct, not on the struct itself"),
                );
            }
        }
        container
    }

    fn parse_cosmos(&mut self, cx: &Ctxt, meta: ParseNestedMeta) -> syn::Result<()> {
        if meta.path.is_ident(CONTAINER) {
            let lit = string_value(&meta, CONTAINER, "#[cosmos(container = \"orders\")]")?;
            if self.container.is_some() {
                cx.error_spanned_by(&meta.path, "duplicate cosmos attribute `container`");
            } else {
                self.container = Some(lit);
            }
        } else if meta.path.is_ident(CRATE) {
            let lit = string_value(&meta, CRATE, "#[cosmos(crate = \"::cosmos_repo\")]")?;
            let path = lit.parse::<Path>().map_err(|_| {
                syn::Error::new(lit.span(), "expected a path such as \"::cosmos_repo\"")
            })?;
            if self.krate.is_some() {
                cx.error_spanned_by(&meta.path, "duplicate cosmos attribute `crate`");
            } else {
                self.krate = Some(path);
            }
        } else if meta.path.is_ident(TYPE) {
            let lit = string_value(&meta, TYPE, "#[cosmos(type = \"order\")]")?;
            set_once(cx, &meta, &mut self.type_name, lit);
        } else if meta.path.is_ident(DISCRIMINATOR) {
            let lit = string_value(&meta, DISCRIMINATOR, "#[cosmos(discriminator = \"kind\")]")?;
            set_once(cx, &meta, &mut self.discriminator, lit);
        } else if meta.path.is_ident(TTL) {
            let ttl = ttl_value(&meta)?;
            set_once(cx, &meta, &mut self.ttl, ttl);
        } else if meta.path.is_ident(COMPOSITE_INDEX) {
            let span = meta.path.span();
            let fields = field_list(&meta, COMPOSITE_INDEX, true)?;
            self.composite_indexes.push((fields, span));
        } else if meta.path.is_ident(UNIQUE_KEY) {
            let span = meta.path.span();
            let fields = field_list(&meta, UNIQUE_KEY, false)?;
            self.unique_keys.push((fields, span));
        } else {
            let path = &meta.path;
            let name = quote::quote!(#path).to_string().replace(' ', "");
            return Err(meta.error(unknown_container_key(&name)));
        }
        Ok(())
    }

    fn parse_serde(&mut self, meta: ParseNestedMeta) -> syn::Result<()> {
        if meta.path.is_ident("rename_all") {
            if let Some(rule) = serialize_side(&meta)? {
                self.rename_all = RenameRule::from_str(&rule.value()).unwrap_or(RenameRule::None);
            }
        } else if meta.path.is_ident("deny_unknown_fields") {
            self.deny_unknown_fields = Some(meta.path.clone());
        } else if meta.path.is_ident("tag") {
            self.tag = Some(meta.value()?.parse()?);
        } else {
            skip_meta(meta)?;
        }
        Ok(())
    }
}

/// Attributes on one field.
pub struct Field {
    /// `#[id]`.
    pub id: Option<Attribute>,
    /// `#[partition_key]`.
    pub partition_key: Option<Attribute>,
    /// `#[etag]`.
    pub etag: Option<Attribute>,
    /// `#[serde(rename = "...")]`, serialize side.
    pub rename: Option<String>,
    /// serde attributes that can leave the field out of a stored document or store it in
    /// another form than its own (`skip`, `skip_serializing_if`, `with`, ...), kept for their
    /// spans.
    pub reshaping: Vec<Path>,
    /// `#[serde(flatten)]`, kept for its span.
    pub flatten: Option<Path>,
    /// `#[cosmos(nested)]`: the field's type derives `CosmosFields`, whose paths nest under it.
    pub nested: Option<Path>,
    /// `#[cosmos(ttl)]`: the document's own time to live.
    pub ttl: Option<Path>,
    /// `#[cosmos(exclude_from_index)]`: the field is left out of the container's index.
    pub exclude_from_index: Option<Path>,
    /// `#[cosmos(vector(dimensions = N, distance = "..."))]`: an embedding.
    pub vector: Option<Vector>,
    /// `#[cosmos(full_text)]` or `#[cosmos(full_text(language = "..."))]`: text to search.
    pub full_text: Option<FullText>,
}

/// `#[cosmos(vector(...))]` as written; `check` validates it.
pub struct Vector {
    /// The attribute's path, for spans.
    pub path: Path,
    pub dimensions: Option<syn::LitInt>,
    pub distance: Option<LitStr>,
    pub data_type: Option<LitStr>,
    pub index: Option<LitStr>,
}

/// `#[cosmos(full_text(...))]` as written.
pub struct FullText {
    /// The attribute's path, for spans.
    pub path: Path,
    pub language: Option<LitStr>,
}

impl Field {
    pub fn from_ast(cx: &Ctxt, attrs: &[Attribute]) -> Self {
        let mut field = Field {
            id: None,
            partition_key: None,
            etag: None,
            rename: None,
            reshaping: Vec::new(),
            flatten: None,
            nested: None,
            ttl: None,
            exclude_from_index: None,
            vector: None,
            full_text: None,
        };
        for attr in attrs {
            if let Some(name) = field_helper_name(attr) {
                if let Err(err) = attr.meta.require_path_only() {
                    cx.syn_error(syn::Error::new(
                        err.span(),
                        format!(
                            "#[{name}] takes no arguments; write it alone, as `#[{name}]`{}",
                            if name == PARTITION_KEY {
                                ", on each key field in order (more than one field makes a hierarchical key)"
                            } else {
                                ""
                            }
                        ),
                    ));
                }
                let slot = match name {
                    ID => &mut field.id,
                    PARTITION_KEY => &mut field.partition_key,
                    _ => &mut field.etag,
                };
                if slot.is_some() {
                    cx.error_spanned_by(
                        attr,
                        format!("duplicate #[{name}] attribute on this field"),
                    );
                } else {
                    *slot = Some(attr.clone());
                }
            } else if attr.path().is_ident(COSMOS) {
                if let Err(err) = attr.parse_nested_meta(|meta| field.parse_cosmos(cx, meta)) {
                    cx.syn_error(err);
                }
            } else if attr.path().is_ident(SERDE) {
                let _ = attr.parse_nested_meta(|meta| field.parse_serde(meta));
            }
        }
        field
    }

    /// Whether serde never writes the field (`skip` or `skip_serializing`).
    pub fn never_serialized(&self) -> bool {
        self.reshaping
            .iter()
            .any(|path| path.is_ident("skip") || path.is_ident("skip_serializing"))
    }

    fn parse_cosmos(&mut self, cx: &Ctxt, meta: ParseNestedMeta) -> syn::Result<()> {
        if meta.path.is_ident(VECTOR) {
            let mut vector = Vector {
                path: meta.path.clone(),
                dimensions: None,
                distance: None,
                data_type: None,
                index: None,
            };
            meta.parse_nested_meta(|inner| {
                if inner.path.is_ident("dimensions") {
                    vector.dimensions = Some(inner.value()?.parse()?);
                } else {
                    let slot = if inner.path.is_ident("distance") {
                        &mut vector.distance
                    } else if inner.path.is_ident("data_type") {
                        &mut vector.data_type
                    } else if inner.path.is_ident("index") {
                        &mut vector.index
                    } else {
                        return Err(inner.error(
                            "unknown vector option, expected `dimensions`, `distance`, `data_type` or `index`, as in #[cosmos(vector(dimensions = 384, distance = \"cosine\"))]",
                        ));
                    };
                    *slot = Some(inner.value()?.parse()?);
                }
                Ok(())
            })?;
            set_once(cx, &meta, &mut self.vector, vector);
            return Ok(());
        }
        if meta.path.is_ident(FULL_TEXT) {
            let mut full_text = FullText {
                path: meta.path.clone(),
                language: None,
            };
            if meta.input.peek(syn::token::Paren) {
                meta.parse_nested_meta(|inner| {
                    if inner.path.is_ident("language") {
                        full_text.language = Some(inner.value()?.parse()?);
                        Ok(())
                    } else {
                        Err(inner.error("unknown full_text option, expected `language`, as in #[cosmos(full_text(language = \"en-US\"))]"))
                    }
                })?;
            }
            set_once(cx, &meta, &mut self.full_text, full_text);
            return Ok(());
        }
        let slot = if meta.path.is_ident(NESTED) {
            &mut self.nested
        } else if meta.path.is_ident(TTL) {
            &mut self.ttl
        } else if meta.path.is_ident(EXCLUDE_FROM_INDEX) {
            &mut self.exclude_from_index
        } else {
            let name = meta
                .path
                .get_ident()
                .map_or_else(String::new, ToString::to_string);
            return Err(meta.error(format!(
                "unknown cosmos field attribute `{name}`, expected `nested`, `ttl`, `exclude_from_index`, `vector` or `full_text` (container options such as `container` go on the struct; mark fields with #[id], #[partition_key] or #[etag])"
            )));
        };
        if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
            return Err(meta.error("this cosmos field attribute takes no value; write it alone"));
        }
        let path = meta.path.clone();
        set_once(cx, &meta, slot, path);
        Ok(())
    }

    fn parse_serde(&mut self, meta: ParseNestedMeta) -> syn::Result<()> {
        if meta.path.is_ident("rename") {
            if let Some(name) = serialize_side(&meta)? {
                self.rename = Some(name.value());
            }
        } else if RESHAPING.iter().any(|name| meta.path.is_ident(name)) {
            self.reshaping.push(meta.path.clone());
            skip_meta(meta)?;
        } else if meta.path.is_ident("flatten") {
            self.flatten = Some(meta.path.clone());
        } else {
            skip_meta(meta)?;
        }
        Ok(())
    }
}

/// The serde field attributes that can omit a field from the stored document, or store it in
/// another form than its own `Serialize` gives.
const RESHAPING: &[&str] = &[
    "skip",
    "skip_serializing",
    "skip_serializing_if",
    "skip_deserializing",
    "serialize_with",
    "deserialize_with",
    "with",
];

/// The name of a bare field helper (`id`, `partition_key`, `etag`), if `attr` is one.
fn field_helper_name(attr: &Attribute) -> Option<&'static str> {
    [ID, PARTITION_KEY, ETAG]
        .into_iter()
        .find(|name| attr.path().is_ident(name))
}

/// Sets an attribute's value, or reports a duplicate.
fn set_once<T>(cx: &Ctxt, meta: &ParseNestedMeta, slot: &mut Option<T>, value: T) {
    if slot.is_some() {
        let path = &meta.path;
        let name = quote::quote!(#path).to_string();
        cx.error_spanned_by(path, format!("duplicate cosmos attribute `{name}`"));
    } else {
        *slot = Some(value);
    }
}

/// Reads `ttl = N`: `-1` (on, no default) or a positive number of seconds.
fn ttl_value(meta: &ParseNestedMeta) -> syn::Result<(i32, proc_macro2::Span)> {
    const EXAMPLE: &str =
        "#[cosmos(ttl = 86400)] (seconds), or #[cosmos(ttl = -1)] for TTL on without a default";
    if !meta.input.peek(Token![=]) {
        return Err(meta.error(format!("expected `= N` after `ttl`, help: {EXAMPLE}")));
    }
    let input = meta.value()?;
    let negative = input.parse::<Option<Token![-]>>()?.is_some();
    let lit: syn::LitInt = input.parse().map_err(|err| {
        syn::Error::new(err.span(), format!("expected a number, help: {EXAMPLE}"))
    })?;
    let value: i64 = lit.base10_parse()?;
    let value = if negative { -value } else { value };
    match i32::try_from(value) {
        Ok(ttl) if ttl == -1 || ttl > 0 => Ok((ttl, lit.span())),
        _ => Err(syn::Error::new(
            lit.span(),
            format!(
                "a container TTL is -1 or from 1 to {} seconds, help: {EXAMPLE}",
                i32::MAX
            ),
        )),
    }
}

/// Reads `key(field, field desc, ...)`: the fields a composite index or unique key is made of.
fn field_list(meta: &ParseNestedMeta, key: &str, ordered: bool) -> syn::Result<Vec<FieldRef>> {
    let example = if ordered {
        "#[cosmos(composite_index(status, total desc))]"
    } else {
        "#[cosmos(unique_key(tenant_id, email))]"
    };
    if !meta.input.peek(syn::token::Paren) {
        return Err(meta.error(format!(
            "expected a list of fields after `{key}`, help: the correct format looks like `{example}`"
        )));
    }
    let content;
    syn::parenthesized!(content in meta.input);
    let mut fields = Vec::new();
    while !content.is_empty() {
        let ident: syn::Ident = content.call(syn::ext::IdentExt::parse_any)?;
        let mut descending = false;
        if ordered && (content.peek(syn::Ident)) {
            let order: syn::Ident = content.parse()?;
            descending = match order.to_string().as_str() {
                "asc" => false,
                "desc" => true,
                _ => {
                    return Err(syn::Error::new(
                        order.span(),
                        format!("expected `asc` or `desc` after a field, help: `{example}`"),
                    ));
                }
            };
        }
        fields.push(FieldRef { ident, descending });
        if !content.is_empty() {
            content.parse::<Token![,]>()?;
        }
    }
    Ok(fields)
}

/// Reads `key = "..."`, explaining the expected form when the `=` or the string is missing.
fn string_value(meta: &ParseNestedMeta, key: &str, example: &str) -> syn::Result<LitStr> {
    if !meta.input.peek(Token![=]) {
        return Err(meta.error(format!(
            "expected `=` after `{key}`, help: the correct format looks like `{example}`"
        )));
    }
    let value = meta.value()?;
    value.parse::<LitStr>().map_err(|err| {
        syn::Error::new(
            err.span(),
            format!("expected a string literal, help: the correct format looks like `{example}`"),
        )
    })
}

/// Reads serde's `key = "..."` or `key(serialize = "...", deserialize = "...")`, returning the
/// serialize side: the name a stored document carries.
fn serialize_side(meta: &ParseNestedMeta) -> syn::Result<Option<LitStr>> {
    if meta.input.peek(Token![=]) {
        return meta.value()?.parse().map(Some);
    }
    let mut serialize = None;
    meta.parse_nested_meta(|inner| {
        if inner.path.is_ident("serialize") {
            serialize = Some(inner.value()?.parse()?);
            Ok(())
        } else {
            skip_meta(inner)
        }
    })?;
    Ok(serialize)
}

/// Consumes a serde attribute this crate does not need, whatever its shape.
fn skip_meta(meta: ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        skip_to_comma(meta.value()?)
    } else if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(skip_meta)
    } else {
        Ok(())
    }
}

fn skip_to_comma(input: ParseStream) -> syn::Result<()> {
    while !input.is_empty() && !input.peek(Token![,]) {
        input.parse::<TokenTree>()?;
    }
    Ok(())
}

fn unknown_container_key(name: &str) -> String {
    let mut message =
        format!("unknown cosmos attribute `{name}`, expected one of {CONTAINER_KEYS}");
    if [ID, PARTITION_KEY, ETAG].contains(&name) {
        message.push_str(&format!(
            "; `{name}` is a field attribute: write #[{name}] on the field instead"
        ));
    } else if let Some(close) = CONTAINER_KEY_NAMES
        .iter()
        .find(|key| edit_distance(name, key) <= 2)
    {
        message.push_str(&format!("; did you mean `{close}`?"));
    }
    message
}

/// Levenshtein distance, for "did you mean" hints on short keys.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("contaner", CONTAINER), 1);
        assert_eq!(edit_distance("containers", CONTAINER), 1);
        assert_eq!(edit_distance("ttl", CONTAINER), 8);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn unknown_key_messages_help() {
        assert!(unknown_container_key("contaner").ends_with("did you mean `container`?"));
        assert!(
            unknown_container_key("partition_key").contains("write #[partition_key] on the field")
        );
        assert_eq!(
            unknown_container_key("colour"),
            format!("unknown cosmos attribute `colour`, expected one of {CONTAINER_KEYS}")
        );
    }
}
