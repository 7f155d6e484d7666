//! The names most code needs: `use cosmos_repo::prelude::*;`.
//!
//! Brings in [`CosmosDocument`] (the trait and, with the `derive` feature, the derive),
//! [`Repository`], [`Etag`], [`Error`], [`Result`], and serde's `Serialize` and `Deserialize`
//! (trait and derive) that every document also derives.

pub use crate::{CosmosDocument, Error, Etag, Repository, Result};
pub use serde::{Deserialize, Serialize};
