//! Code generation from the checked model. Nothing here reads attributes.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{DeriveInput, Generics, Path, parse_quote};

use crate::ast::{Document, Field};
use crate::ctxt::Ctxt;
use crate::{check, fallback, variants};

/// Expands `#[derive(CosmosDocument)]`: the impl on success, otherwise the errors plus a stub impl.
pub fn derive(input: &DeriveInput) -> TokenStream {
    if let syn::Data::Enum(data) = &input.data {
        return variants::derive(input, data);
    }
    let cx = Ctxt::new();
    let doc = Document::from_ast(&cx, input);
    if let Some(doc) = &doc {
        check::check(&cx, doc);
    }
    match (cx.check(), doc) {
        (Ok(()), Some(doc)) => expand(&doc),
        (result, doc) => {
            let errors = result.err().map(syn::Error::into_compile_error);
            let stub = doc.map(|doc| fallback::expand(&doc));
            quote!(#errors #stub)
        }
    }
}

fn expand(doc: &Document) -> TokenStream {
    let krate = runtime_path(doc);
    let ident = doc.ident;
    let fields_ident = fields_ident(doc);
    let generics = with_serde_bounds(doc.generics, &krate);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let container = doc
        .attrs
        .container
        .as_ref()
        .map_or_else(|| ident.to_string(), syn::LitStr::value);

    let keys: Vec<&Field> = doc.partition_key_fields().collect();
    let key_paths = keys.iter().map(|key| format!("/{}", key.json_name));
    let (key_type, key_value) = match keys.as_slice() {
        [key] => {
            let (member, ty) = (key.ident, key.ty);
            (quote_spanned!(ty.span()=> #ty), quote!(&self.#member))
        }
        _ => {
            let tys = keys.iter().map(|key| key.ty);
            let members = keys.iter().map(|key| key.ident);
            (quote!((#(#tys,)*)), quote!((#(&self.#members,)*)))
        }
    };

    let id = doc.id_fields().next().map(|id| {
        let (member, ty) = (id.ident, id.ty);
        quote_spanned!(ty.span()=> #krate::__private::DocumentId::as_id(&self.#member))
    });
    let etag = doc.etag_fields().next().map(|etag| {
        let (member, ty) = (etag.ident, etag.ty);
        let value = quote_spanned!(ty.span()=> ::core::option::Option::as_ref(&self.#member));
        quote! {
            #[inline]
            fn etag(&self) -> ::core::option::Option<&#krate::Etag> {
                #value
            }
        }
    });

    let model = model(doc, &krate);
    let fields_struct = fields_struct(doc, &krate, &fields_ident);
    let path_fields = path_fields(doc).map(|field| {
        let name = &field.json_name;
        field_init(
            field,
            &krate,
            &quote!(Self),
            &quote!(#krate::__private::Path::root(#name)),
        )
    });

    let time_warnings = time_warnings(doc);
    quote! {
        #fields_struct
        #time_warnings

        #[doc(hidden)]
        const _: () = {
            #[automatically_derived]
            impl #impl_generics #krate::CosmosDocument for #ident #ty_generics #where_clause {
                type PartitionKey = #key_type;
                type Fields = #fields_ident #ty_generics;
                const CONTAINER: &'static str = #container;
                const PARTITION_KEY_PATHS: &'static [&'static str] = &[#(#key_paths),*];
                const FIELDS: Self::Fields = #fields_ident { #(#path_fields,)* };
                #model

                #[inline]
                fn id(&self) -> &str {
                    #id
                }

                #[inline]
                fn partition_key(&self) -> #krate::PartitionKey {
                    #krate::__private::IntoPartitionKey::<Self::PartitionKey>::into_partition_key(
                        #key_value,
                    )
                }

                #etag
            }
        };
    }
}

/// A warning for each date-time field stored in a form Cosmos DB does not sort as time
/// ([`check::variable_width_times`]). A derive cannot emit warnings on stable Rust, so each is
/// the use of a deprecated item, spanned at the field's type; `#![deny(deprecated)]` makes them
/// errors.
fn time_warnings(doc: &Document) -> Option<TokenStream> {
    let warnings: Vec<TokenStream> = check::variable_width_times(doc)
        .map(|(field, type_name)| {
            let name = field.ident.unraw();
            let note = format!(
                "field `{name}` is a `{type_name}`, whose serde form Cosmos DB does not compare or sort as time (`...:00.5Z` sorts before `...:00Z`, so `gt` and `order_by` go wrong); make it a `cosmos_repo::Timestamp`, stored in fixed-width ISO 8601, or choose the stored form with #[serde(with = \"...\")]"
            );
            let marker = format_ident!("{}_sorts_as_text_not_as_time", name);
            quote_spanned! {field.ty.span()=>
                #[deprecated(note = #note)]
                #[allow(non_camel_case_types)]
                struct #marker;
                let _ = #marker;
            }
        })
        .collect();
    (!warnings.is_empty()).then(|| quote!(const _: () = { #(#warnings)* };))
}

/// The `MODEL` constant, when the struct declares anything about its container.
fn model(doc: &Document, krate: &Path) -> Option<TokenStream> {
    let attrs = &doc.attrs;
    let excluded: Vec<String> = doc
        .fields
        .iter()
        .filter(|field| field.attrs.exclude_from_index.is_some())
        .map(|field| format!("/{}", field.json_name))
        .collect();
    let vectors: Vec<TokenStream> = doc
        .fields
        .iter()
        .filter_map(|field| Some((field, field.attrs.vector.as_ref()?)))
        .map(|(field, vector)| vector_embedding(field, vector, krate))
        .collect();
    let full_text: Vec<TokenStream> = doc
        .fields
        .iter()
        .filter_map(|field| Some((field, field.attrs.full_text.as_ref()?)))
        .map(|(field, text)| {
            let path = format!("/{}", field.json_name);
            let language = text
                .language
                .as_ref()
                .map_or_else(|| "en-US".to_owned(), syn::LitStr::value);
            quote!(#krate::model::FullTextPath { path: #path, language: #language })
        })
        .collect();
    let declared = attrs.type_name.is_some()
        || attrs.ttl.is_some()
        || !attrs.composite_indexes.is_empty()
        || !attrs.unique_keys.is_empty()
        || !excluded.is_empty()
        || !vectors.is_empty()
        || !full_text.is_empty();
    if !declared {
        return None;
    }
    let model = quote!(#krate::model);
    let path_of = |named: &crate::attr::FieldRef| {
        doc.fields
            .iter()
            .find(|field| field.ident.unraw() == named.ident.unraw())
            .map(|field| format!("/{}", field.json_name))
    };
    let discriminator = match &attrs.type_name {
        Some(value) => {
            let property = check::discriminator_property(doc);
            quote!(::core::option::Option::Some(#model::Discriminator { property: #property, value: #value }))
        }
        None => quote!(::core::option::Option::None),
    };
    let ttl = match attrs.ttl {
        Some((ttl, _)) => quote!(::core::option::Option::Some(#ttl)),
        None => quote!(::core::option::Option::None),
    };
    let composite = attrs.composite_indexes.iter().map(|(fields, _)| {
        let paths = fields.iter().filter_map(|named| {
            let path = path_of(named)?;
            let descending = named.descending;
            Some(quote!(#model::IndexedPath { path: #path, descending: #descending }))
        });
        quote!(&[#(#paths),*])
    });
    let unique = attrs.unique_keys.iter().map(|(fields, _)| {
        let paths = fields.iter().filter_map(path_of);
        quote!(&[#(#paths),*])
    });
    Some(quote! {
        const MODEL: #model::ContainerModel = #model::ContainerModel {
            discriminator: #discriminator,
            default_ttl: #ttl,
            composite_indexes: &[#(#composite),*],
            excluded_paths: &[#(#excluded),*],
            unique_keys: &[#(#unique),*],
            vector_embeddings: &[#(#vectors),*],
            full_text_paths: &[#(#full_text),*],
        };
    })
}

/// The `VectorEmbedding` of a checked `#[cosmos(vector(...))]` field.
fn vector_embedding(field: &Field, vector: &crate::attr::Vector, krate: &Path) -> TokenStream {
    let path = format!("/{}", field.json_name);
    let (dimensions, distance) = vector_shape(vector);
    let text = |value: &Option<syn::LitStr>, default: &str| {
        value
            .as_ref()
            .map_or_else(|| default.to_owned(), syn::LitStr::value)
    };
    let data_type = text(&vector.data_type, "float32");
    let index = text(&vector.index, "quantizedFlat");
    quote! {
        #krate::model::VectorEmbedding {
            path: #path,
            dimensions: #dimensions,
            distance: #krate::model::VectorDistance::#distance,
            data_type: #data_type,
            index: #index,
        }
    }
}

/// The typed-path struct: one `Field<Doc, FieldType>` per stored field, with the field's own
/// visibility, so `Order::FIELDS.total` follows the same privacy as `order.total`. Paths a
/// program never uses are not dead code worth a warning, hence the `allow`.
fn fields_struct(doc: &Document, krate: &Path, fields_ident: &syn::Ident) -> TokenStream {
    let (vis, ident, generics) = (doc.vis, doc.ident, doc.generics);
    let (_, ty_generics, where_clause) = generics.split_for_impl();
    let struct_doc = format!(
        " Typed paths of the stored fields of [`{ident}`], reached through `{ident}::FIELDS`. Generated by cosmos-repo-derive."
    );
    let fields =
        path_fields(doc).map(|field| field_member(field, krate, &quote!(#ident #ty_generics)));
    quote! {
        #[doc = #struct_doc]
        #[allow(dead_code)]
        #vis struct #fields_ident #generics #where_clause {
            #(#fields,)*
        }
    }
}

/// A member of a typed-path struct: `Field<D, T>`, or the nested struct of a
/// `#[cosmos(nested)]` field.
fn field_member(field: &Field, krate: &Path, doc_ty: &TokenStream) -> TokenStream {
    let (fvis, member, ty) = (field.vis, field.ident, field.ty);
    let field_doc = format!(
        " Path of `{member}`, stored as the JSON property `{}`.",
        field.json_name
    );
    let member_ty = if field.attrs.nested.is_some() {
        quote_spanned!(ty.span()=> <#ty as #krate::__private::CosmosFields>::Fields<#doc_ty>)
    } else if field.attrs.vector.is_some() {
        quote!(#krate::__private::VectorField<#doc_ty>)
    } else {
        quote!(#krate::__private::Field<#doc_ty, #ty>)
    };
    quote! {
        #[doc = #field_doc]
        #fvis #member: #member_ty
    }
}

/// The `const` initializer of a member at `path`.
fn field_init(
    field: &Field,
    krate: &Path,
    doc_ty: &TokenStream,
    path: &TokenStream,
) -> TokenStream {
    let (member, ty) = (field.ident, field.ty);
    if field.attrs.nested.is_some() {
        quote_spanned! {ty.span()=>
            #member: <<#ty as #krate::__private::CosmosFields>::Fields<#doc_ty>>::at(#path)
        }
    } else if let Some(vector) = &field.attrs.vector {
        let (dimensions, distance) = vector_shape(vector);
        quote! {
            #member: #krate::__private::VectorField::at(
                #path,
                #dimensions,
                #krate::model::VectorDistance::#distance,
            )
        }
    } else {
        quote!(#member: #krate::__private::Field::at(#path))
    }
}

/// The dimensions and distance variant of a checked `#[cosmos(vector(...))]`.
fn vector_shape(vector: &crate::attr::Vector) -> (u32, TokenStream) {
    let dimensions = vector
        .dimensions
        .as_ref()
        .and_then(|n| n.base10_parse::<u32>().ok())
        .unwrap_or_default();
    let distance = match vector.distance.as_ref().map(syn::LitStr::value).as_deref() {
        Some("dotproduct") => quote!(DotProduct),
        Some("euclidean") => quote!(Euclidean),
        _ => quote!(Cosine),
    };
    (dimensions, distance)
}

/// Expands `#[derive(CosmosFields)]` on a struct embedded in documents: a typed-path struct
/// generic over the document, placed at a path by `at`, and the `CosmosFields` impl naming it.
pub fn derive_fields(input: &DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let named = matches!(&input.data, syn::Data::Struct(data) if matches!(data.fields, syn::Fields::Named(_)));
    if !named {
        cx.error_spanned_by(
            &input.ident,
            "#[derive(CosmosFields)] needs a struct with named fields, whose properties a query can address",
        );
    } else if !input.generics.params.is_empty() {
        cx.error_spanned_by(
            &input.generics,
            "#[derive(CosmosFields)] does not support generic structs yet",
        );
    }
    let doc = if named && input.generics.params.is_empty() {
        Document::from_ast(&cx, input)
    } else {
        None
    };
    match (cx.check(), doc) {
        (Ok(()), Some(doc)) => expand_fields(&doc),
        (result, _) => result
            .err()
            .map(syn::Error::into_compile_error)
            .unwrap_or_default(),
    }
}

fn expand_fields(doc: &Document) -> TokenStream {
    let krate = runtime_path(doc);
    let (vis, ident) = (doc.vis, doc.ident);
    let fields_ident = fields_ident(doc);
    let struct_doc = format!(
        " Typed paths of the stored fields of [`{ident}`] inside a document `D`. Generated by cosmos-repo-derive."
    );
    let doc_ty = quote!(D);
    let members = path_fields(doc).map(|field| field_member(field, &krate, &doc_ty));
    let inits = path_fields(doc).map(|field| {
        let name = &field.json_name;
        field_init(
            field,
            &krate,
            &doc_ty,
            &quote!(#krate::__private::Path::child(path, #name)),
        )
    });
    let whole = quote!(#krate::__private::Field::<D, #ident>::at(self.__path));
    let time_warnings = time_warnings(doc);
    quote! {
        #time_warnings

        #[doc = #struct_doc]
        #[allow(dead_code)]
        #vis struct #fields_ident<D> {
            #(#members,)*
            #[doc(hidden)]
            __path: #krate::__private::Path,
        }

        #[doc(hidden)]
        const _: () = {
            impl<D> #fields_ident<D> {
                #[doc(hidden)]
                pub const fn at(path: #krate::__private::Path) -> Self {
                    #fields_ident { #(#inits,)* __path: path }
                }

                /// The struct's property path from the document root.
                pub fn path(&self) -> &#krate::__private::Path {
                    &self.__path
                }

                /// Documents where the struct is present (`IS_DEFINED`), whatever its value.
                pub fn is_defined(&self) -> #krate::query::Filter<D> {
                    #whole.is_defined()
                }

                /// Documents where the struct is present and `null` (`IS_NULL`).
                pub fn is_null(&self) -> #krate::query::Filter<D> {
                    #whole.is_null()
                }
            }

            /// The whole struct, selected as a projection: `select(Order::FIELDS.address)`.
            impl<D> #krate::query::Projection<D> for #fields_ident<D>
            where
                #krate::__private::Field<D, #ident>: #krate::query::Projection<D>,
            {
                type Output = <#krate::__private::Field<D, #ident> as #krate::query::Projection<D>>::Output;

                fn select(&self) -> #krate::query::Selection {
                    #krate::query::Projection::select(&#whole)
                }
            }

            #[automatically_derived]
            impl #krate::__private::CosmosFields for #ident {
                type Fields<D> = #fields_ident<D>;

                fn fields_at<D>(path: #krate::__private::Path) -> #fields_ident<D> {
                    #fields_ident::at(path)
                }
            }
        };
    }
}

/// Fields that appear as properties of the stored JSON document.
fn path_fields<'d, 'a>(doc: &'d Document<'a>) -> impl Iterator<Item = &'d Field<'a>> {
    doc.fields
        .iter()
        .filter(|field| field.attrs.flatten.is_none())
        .filter(|field| !field.attrs.never_serialized() || field.attrs.etag.is_some())
}

fn fields_ident(doc: &Document) -> syn::Ident {
    format_ident!("{}Fields", doc.ident)
}

pub fn runtime_path(doc: &Document) -> Path {
    doc.attrs
        .krate
        .clone()
        .unwrap_or_else(|| parse_quote!(::cosmos_repo))
}

/// The struct's generics plus `Self: Serialize + DeserializeOwned`, which the trait requires and
/// which generic documents only meet under their own bounds.
pub fn with_serde_bounds(generics: &Generics, krate: &Path) -> Generics {
    let mut generics = generics.clone();
    generics.make_where_clause().predicates.push(parse_quote! {
        Self: #krate::__private::serde::Serialize + #krate::__private::serde::de::DeserializeOwned
    });
    generics
}
