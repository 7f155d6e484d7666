//! The parsed model of the input: what later phases read instead of the raw `syn` tree.

use syn::ext::IdentExt;
use syn::{Data, DeriveInput, Fields, Generics, Ident, Type, Visibility};

use crate::attr;
use crate::ctxt::Ctxt;

/// A struct deriving `CosmosDocument`.
pub struct Document<'a> {
    pub ident: &'a Ident,
    pub vis: &'a Visibility,
    pub generics: &'a Generics,
    pub attrs: attr::Container,
    pub fields: Vec<Field<'a>>,
}

/// One named field of the struct.
pub struct Field<'a> {
    pub ident: &'a Ident,
    pub vis: &'a Visibility,
    pub ty: &'a Type,
    /// The property name serde writes for this field.
    pub json_name: String,
    pub attrs: attr::Field,
}

impl<'a> Document<'a> {
    /// Builds the model, recording problems in `cx`. Returns `None` when the input is not a
    /// struct with named fields.
    pub fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Option<Self> {
        let attrs = attr::Container::from_ast(cx, &input.attrs);
        let named = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => named,
                Fields::Unnamed(_) => {
                    cx.error_spanned_by(
                        &input.ident,
                        "#[derive(CosmosDocument)] needs a struct with named fields; a tuple struct has no JSON property names to hold `id` and the partition key",
                    );
                    return None;
                }
                Fields::Unit => {
                    cx.error_spanned_by(
                        &input.ident,
                        "#[derive(CosmosDocument)] needs a struct with named fields; a unit struct has no `id` or partition key",
                    );
                    return None;
                }
            },
            Data::Enum(data) => {
                cx.error_spanned_by(
                    data.enum_token,
                    "#[derive(CosmosDocument)] supports structs with named fields, not enums; put the enum in a field of a document struct",
                );
                return None;
            }
            Data::Union(data) => {
                cx.error_spanned_by(
                    data.union_token,
                    "#[derive(CosmosDocument)] supports structs with named fields, not unions",
                );
                return None;
            }
        };
        let fields = named
            .named
            .iter()
            .filter_map(|field| {
                let ident = field.ident.as_ref()?;
                let field_attrs = attr::Field::from_ast(cx, &field.attrs);
                let json_name = field_attrs
                    .rename
                    .clone()
                    .unwrap_or_else(|| attrs.rename_all.apply_to_field(&ident.unraw().to_string()));
                Some(Field {
                    ident,
                    vis: &field.vis,
                    ty: &field.ty,
                    json_name,
                    attrs: field_attrs,
                })
            })
            .collect();
        Some(Document {
            ident: &input.ident,
            vis: &input.vis,
            generics: &input.generics,
            attrs,
            fields,
        })
    }

    pub fn id_fields(&self) -> impl Iterator<Item = &Field<'a>> {
        self.fields.iter().filter(|field| field.attrs.id.is_some())
    }

    pub fn partition_key_fields(&self) -> impl Iterator<Item = &Field<'a>> {
        self.fields
            .iter()
            .filter(|field| field.attrs.partition_key.is_some())
    }

    pub fn etag_fields(&self) -> impl Iterator<Item = &Field<'a>> {
        self.fields
            .iter()
            .filter(|field| field.attrs.etag.is_some())
    }
}
