//! The stub impl emitted next to `compile_error!`, so that one mistake in a document gives one
//! error instead of one more at every `Repository<T>` that names the type.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ast::Document;
use crate::expand::{runtime_path, with_serde_bounds};

pub fn expand(doc: &Document) -> TokenStream {
    let krate = runtime_path(doc);
    let ident = doc.ident;
    let generics = with_serde_bounds(doc.generics, &krate);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    quote! {
        #[doc(hidden)]
        const _: () = {
            #[automatically_derived]
            impl #impl_generics #krate::CosmosDocument for #ident #ty_generics #where_clause {
                type PartitionKey = ::std::string::String;
                type Fields = ();
                const CONTAINER: &'static str = "";
                const PARTITION_KEY_PATHS: &'static [&'static str] = &[];
                const FIELDS: Self::Fields = ();

                fn id(&self) -> &str {
                    ::core::unreachable!()
                }

                fn partition_key(&self) -> #krate::PartitionKey {
                    ::core::unreachable!()
                }
            }
        };
    }
}
