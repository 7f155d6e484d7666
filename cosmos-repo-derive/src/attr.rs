//! Parsing of `#[cosmos(...)]`, `#[id]`, `#[partition_key]`, `#[etag]` and the `#[serde(...)]`
//! attributes that decide a field's JSON name.

use proc_macro2::TokenTree;
use syn::meta::ParseNestedMeta;
use syn::parse::ParseStream;
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
const SERDE: &str = "serde";

const CONTAINER_KEYS: &str = "`container`, `crate`";

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
}

impl Container {
    pub fn from_ast(cx: &Ctxt, attrs: &[Attribute]) -> Self {
        let mut container = Container {
            container: None,
            krate: None,
            rename_all: RenameRule::None,
            deny_unknown_fields: None,
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
        if meta.path.is_ident(NESTED) {
            if self.nested.is_some() {
                cx.error_spanned_by(&meta.path, "duplicate cosmos attribute `nested`");
            }
            self.nested = Some(meta.path.clone());
            Ok(())
        } else {
            let name = meta
                .path
                .get_ident()
                .map_or_else(String::new, ToString::to_string);
            Err(meta.error(format!(
                "unknown cosmos field attribute `{name}`, expected `nested` (container options such as `container` go on the struct; mark fields with #[id], #[partition_key] or #[etag])"
            )))
        }
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
    } else if let Some(close) = [CONTAINER, CRATE]
        .into_iter()
        .find(|key| edit_distance(name, key) <= 2)
    {
        message.push_str(&format!("; did you mean `{close}`?"));
    }
    message
}

/// Levenshtein distance, for "did you mean" hints on short keys.
fn edit_distance(a: &str, b: &str) -> usize {
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
            unknown_container_key("ttl"),
            "unknown cosmos attribute `ttl`, expected one of `container`, `crate`"
        );
    }
}
