//! Implementation detail of the `cosmos-repo` crate: the `#[derive(CosmosDocument)]` macro.
//!
//! The derive is documented on the `cosmos_repo::CosmosDocument` trait, where doc links to the
//! runtime's items resolve.

#![warn(missing_docs)]

mod ast;
mod attr;
mod case;
mod check;
mod ctxt;
mod expand;
mod fallback;
mod variants;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Derives `cosmos_repo::CosmosFields` for a struct embedded in documents; see that trait's
/// documentation.
#[proc_macro_derive(CosmosFields, attributes(cosmos))]
pub fn derive_cosmos_fields(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive_fields(&input).into()
}

/// Derives `cosmos_repo::CosmosDocument`; see that trait's documentation.
#[proc_macro_derive(CosmosDocument, attributes(cosmos, id, partition_key, etag))]
pub fn derive_cosmos_document(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input).into()
}
