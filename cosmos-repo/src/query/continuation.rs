//! Continuation tokens as callers see them: a store's token bound to the query that made it.
//!
//! A token leaves as `<tag>.<store token>`, where the tag is a hash of the query (container,
//! scope, SQL text and parameters) and the store token. A token from another query, or one
//! altered or made up, fails the check and is refused before any request, on every store. The
//! hash is stable across processes and versions of Rust, so a token stays valid for the same
//! query in another instance of a service.

use serde_json::Value;

use crate::ast::SqlQuery;
use crate::error::{Error, Result};
use crate::hash::Fnv;
use crate::seam::Scope;

/// What a continuation is bound to: one query, wherever it runs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Binding(u64);

impl Binding {
    /// The binding of `sql` run on `container` in `scope`.
    pub(crate) fn of(container: &str, scope: Scope<'_>, sql: &SqlQuery) -> Binding {
        let mut hash = Fnv::default();
        hash.write(container.as_bytes());
        match scope {
            Scope::Partition(key) => hash.write(key.to_string().as_bytes()),
            Scope::CrossPartition => hash.write(b"*"),
        }
        hash.write(sql.text.as_bytes());
        for (name, value) in &sql.parameters {
            hash.write(name.as_bytes());
            hash.write(Value::to_string(value).as_bytes());
        }
        Binding(hash.0)
    }

    /// The token to hand out for a store's `token`.
    pub(crate) fn seal(self, token: Option<String>) -> Option<String> {
        token.map(|token| format!("{:016x}.{token}", self.tag(&token)))
    }

    /// The store's token inside `token`, if this query made it.
    ///
    /// # Errors
    ///
    /// [`Error::BadRequest`] for a token of another query, or one altered or made up.
    pub(crate) fn open(self, token: Option<&str>) -> Result<Option<&str>> {
        let Some(token) = token else {
            return Ok(None);
        };
        let inner = token
            .split_once('.')
            .filter(|(tag, inner)| u64::from_str_radix(tag, 16).ok() == Some(self.tag(inner)))
            .map(|(_, inner)| inner);
        match inner {
            Some(inner) => Ok(Some(inner)),
            None => Err(Error::BadRequest {
                message: format!(
                    "continuation {token:?} was not made by this query (another query's, altered, or made up); pass back the continuation a page of the same query returned, or start again without one"
                ),
            }),
        }
    }

    fn tag(self, inner: &str) -> u64 {
        let mut hash = Fnv(self.0);
        hash.write(inner.as_bytes());
        hash.0
    }
}

/// A page size as callers give it, checked: at least one.
///
/// # Errors
///
/// [`Error::BadRequest`] for 0.
pub(crate) fn check_page_size(page_size: u32) -> Result<()> {
    if page_size == 0 {
        return Err(Error::BadRequest {
            message: "a page size must be at least 1".to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(text: &str, value: i64) -> SqlQuery {
        SqlQuery {
            text: text.to_owned(),
            parameters: vec![("@p0".to_owned(), Value::from(value))],
        }
    }

    #[test]
    fn a_token_opens_only_for_its_own_query() {
        let query = Binding::of("orders", Scope::CrossPartition, &sql("SELECT * FROM c", 1));
        let token = query.seal(Some("inner".to_owned())).unwrap();
        assert_eq!(query.open(Some(&token)).unwrap(), Some("inner"));
        assert_eq!(query.open(None).unwrap(), None);
        let others = [
            Binding::of("other", Scope::CrossPartition, &sql("SELECT * FROM c", 1)),
            Binding::of("orders", Scope::CrossPartition, &sql("SELECT * FROM c", 2)),
            Binding::of(
                "orders",
                Scope::CrossPartition,
                &sql("SELECT c.id FROM c", 1),
            ),
        ];
        for other in others {
            assert!(matches!(
                other.open(Some(&token)),
                Err(Error::BadRequest { .. })
            ));
        }
        let altered = format!("{}x", token);
        for forged in ["inner", "", ".", "0000000000000000.inner", altered.as_str()] {
            let err = query.open(Some(forged)).unwrap_err();
            assert!(err.to_string().contains("not made by this query"), "{err}");
        }
    }

    #[test]
    fn the_hash_is_stable() {
        let query = Binding::of("orders", Scope::CrossPartition, &sql("SELECT * FROM c", 1));
        assert_eq!(
            query.0, 0x5ad5_0f2d_d86b_14df,
            "changing it invalidates tokens in flight"
        );
    }
}
