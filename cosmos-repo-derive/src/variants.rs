//! `#[derive(CosmosDocument)]` on an enum: a serde internally tagged enum whose variants each
//! hold a document type of one shared container, read and queried as one repository.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{DataEnum, DeriveInput, Fields, Ident, LitStr, Type};

use crate::attr;
use crate::ctxt::Ctxt;

/// One variant: its name, the document type it holds and the tag value serde writes for it.
struct Variant<'a> {
    ident: &'a Ident,
    ty: &'a Type,
    tag: String,
}

const FORM: &str = "#[derive(CosmosDocument)] #[cosmos(container = \"app\")] #[serde(tag = \"type\")] enum AppDocument { #[serde(rename = \"order\")] Order(Order), ... }";

/// Expands the derive on an enum, or its errors.
pub fn derive(input: &DeriveInput, data: &DataEnum) -> TokenStream {
    let cx = Ctxt::new();
    let attrs = attr::Container::from_ast(&cx, &input.attrs);
    let variants = parse(&cx, &attrs, data);
    if data.variants.is_empty() {
        cx.error_spanned_by(
            &input.ident,
            "a document enum needs at least one variant holding a document type",
        );
    }
    check(&cx, input, &attrs, &variants);
    match cx.check() {
        Ok(()) => expand(input, &attrs, &variants),
        Err(err) => err.into_compile_error(),
    }
}

fn parse<'a>(cx: &Ctxt, attrs: &attr::Container, data: &'a DataEnum) -> Vec<Variant<'a>> {
    data.variants
        .iter()
        .filter_map(|variant| {
            let ty = match &variant.fields {
                Fields::Unnamed(fields) if fields.unnamed.len() == 1 => &fields.unnamed[0].ty,
                _ => {
                    cx.error_spanned_by(
                        &variant.ident,
                        format!(
                            "each variant of a document enum holds one document type, as in `{}(Order)`; write the fields in a struct deriving CosmosDocument",
                            variant.ident
                        ),
                    );
                    return None;
                }
            };
            let rename = attr::Field::from_ast(cx, &variant.attrs).rename;
            let tag = rename.unwrap_or_else(|| {
                attrs
                    .rename_all
                    .apply_to_variant(&variant.ident.to_string())
            });
            Some(Variant {
                ident: &variant.ident,
                ty,
                tag,
            })
        })
        .collect()
}

fn check(cx: &Ctxt, input: &DeriveInput, attrs: &attr::Container, variants: &[Variant]) {
    if attrs.container.is_none() {
        cx.error_spanned_by(
            &input.ident,
            format!("a document enum reads one shared container: name it with #[cosmos(container = \"...\")], as in `{FORM}`"),
        );
    }
    if attrs.tag.is_none() {
        cx.error_spanned_by(
            &input.ident,
            format!("a document enum must be internally tagged, so that each document carries its type's discriminator: add #[serde(tag = \"type\")], as in `{FORM}`"),
        );
    }
    if let Some(lit) = &attrs.type_name {
        cx.error_spanned_by(
            lit,
            "`type` goes on each document struct, not on the enum of them; the enum's variants are told apart by those types",
        );
    }
    if !input.generics.params.is_empty() {
        cx.error_spanned_by(&input.generics, "a document enum cannot be generic");
    }
    for (i, variant) in variants.iter().enumerate() {
        if let Some(earlier) = variants[..i].iter().find(|v| v.tag == variant.tag) {
            cx.error_spanned_by(
                variant.ident,
                format!(
                    "`{}` and `{}` both claim the discriminator `{}`; each document type of a container needs its own #[cosmos(type = \"...\")], and each variant its own #[serde(rename = \"...\")]",
                    earlier.ident, variant.ident, variant.tag
                ),
            );
        }
    }
}

fn expand(input: &DeriveInput, attrs: &attr::Container, variants: &[Variant]) -> TokenStream {
    let krate = attrs
        .krate
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(::cosmos_repo));
    let (vis, ident) = (&input.vis, &input.ident);
    let fields_ident = format_ident!("{}Fields", ident);
    let container = attrs
        .container
        .as_ref()
        .map(LitStr::value)
        .unwrap_or_default();
    let tag = attrs.tag.as_ref().map(LitStr::value).unwrap_or_default();
    let first = variants[0].ty;
    let doc = quote!(#krate::CosmosDocument);
    let members: Vec<&Ident> = variants.iter().map(|v| v.ident).collect();
    let checks = variants.iter().map(|variant| {
        let (ty, value) = (variant.ty, &variant.tag);
        let name = quote!(#ty).to_string().replace(' ', "");
        let wrong_container = format!(
            "`{name}` lives in another container than `{container}`: every variant's type needs #[cosmos(container = \"{container}\")]"
        );
        let wrong_paths = format!(
            "`{name}` is partitioned by other paths than the enum's first variant: the documents of one container share its partition key"
        );
        let wrong_tag = format!(
            "the variant `{}` is tagged \"{value}\" in `{tag}`, but `{name}` does not declare #[cosmos(type = \"{value}\")]{}: give the variant #[serde(rename = \"...\")] equal to its type's #[cosmos(type = \"...\")]",
            variant.ident,
            if tag == "type" { String::new() } else { format!(" with #[cosmos(discriminator = \"{tag}\")]") }
        );
        quote! {
            const _: fn() = #krate::__private::same_key::<#ty, <#first as #doc>::PartitionKey>;
            ::core::assert!(
                #krate::__private::str_eq(<#ty as #doc>::CONTAINER, #container),
                #wrong_container
            );
            ::core::assert!(
                #krate::__private::paths_eq(
                    <#ty as #doc>::PARTITION_KEY_PATHS,
                    <#first as #doc>::PARTITION_KEY_PATHS,
                ),
                #wrong_paths
            );
            ::core::assert!(
                #krate::__private::discriminates(&<#ty as #doc>::MODEL, #tag, #value),
                #wrong_tag
            );
        }
    });
    let struct_doc = format!(
        " Typed paths of [`{ident}`], a union of document types: none of its own. Generated by cosmos-repo-derive."
    );
    quote! {
        #[doc = #struct_doc]
        #[derive(Clone, Copy, Debug)]
        #vis struct #fields_ident {}

        #[doc(hidden)]
        const _: () = {
            #(#checks)*

            #[automatically_derived]
            impl #doc for #ident {
                type PartitionKey = <#first as #doc>::PartitionKey;
                type Fields = #fields_ident;
                const CONTAINER: &'static str = #container;
                const PARTITION_KEY_PATHS: &'static [&'static str] =
                    <#first as #doc>::PARTITION_KEY_PATHS;
                const FIELDS: Self::Fields = #fields_ident {};
                const MODEL: #krate::model::ContainerModel = #krate::model::ContainerModel {
                    discriminator: ::core::option::Option::None,
                    ..<#first as #doc>::MODEL
                };

                fn id(&self) -> &str {
                    match self {
                        #(Self::#members(document) => #doc::id(document),)*
                    }
                }

                fn partition_key(&self) -> #krate::PartitionKey {
                    match self {
                        #(Self::#members(document) => #doc::partition_key(document),)*
                    }
                }

                fn etag(&self) -> ::core::option::Option<&#krate::Etag> {
                    match self {
                        #(Self::#members(document) => #doc::etag(document),)*
                    }
                }
            }
        };
    }
}
