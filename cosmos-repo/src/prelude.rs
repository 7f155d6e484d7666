//! The names most code needs: `use cosmos_repo::prelude::*;`.
//!
//! Brings in [`CosmosDocument`] and [`CosmosFields`] (the traits and, with the `derive`
//! feature, their derives), [`Repository`], [`ReadRepository`], [`Etag`], [`Error`], [`Result`], and serde's
//! `Serialize` and `Deserialize` (trait and derive) that every document also derives.

pub use crate::{CosmosDocument, CosmosFields, Error, Etag, ReadRepository, Repository, Result};
pub use serde::{Deserialize, Serialize};
