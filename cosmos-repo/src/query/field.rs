use std::fmt;
use std::marker::PhantomData;

use serde::Serialize;
use serde_json::Value;

use super::filter::{Filter, Invalid, OrderBy};
use crate::ast::{CmpOp, Expr, Path, StrOp, TextMatch};
use crate::model::VectorDistance;

/// A struct stored inside documents whose fields a query can address, as in
/// `Order::FIELDS.address.city`. Derive it, and mark the document's field `#[cosmos(nested)]`:
///
/// ```
/// use cosmos_repo::prelude::*;
///
/// #[derive(Serialize, Deserialize, CosmosFields)]
/// #[serde(rename_all = "camelCase")]
/// struct Address {
///     city: String,
///     zip_code: String,
/// }
///
/// #[derive(Serialize, Deserialize, CosmosDocument)]
/// struct Order {
///     #[id]
///     id: String,
///     #[partition_key]
///     customer: String,
///     #[cosmos(nested)]
///     address: Address,
///     #[cosmos(nested)]
///     billing: Option<Address>,
/// }
///
/// let zip = Order::FIELDS.billing.zip_code;
/// assert_eq!(zip.path().segments(), ["billing", "zipCode"]);
/// let in_paris = Order::FIELDS.address.city.eq("Paris");
/// # let _ = in_paris;
/// ```
///
/// Serde's renames apply at every level. `Option<T>` and `Box<T>` of such a struct nest too.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no typed field paths for #[cosmos(nested)]",
    note = "add `#[derive(CosmosFields)]` to `{Self}`, or remove #[cosmos(nested)] from the field"
)]
pub trait CosmosFields {
    /// The typed paths of the struct's fields inside a document `D`.
    type Fields<D>;

    /// The typed paths of the struct's fields at `path`. Not API: the derive implements it.
    #[doc(hidden)]
    fn fields_at<D>(path: Path) -> Self::Fields<D>;
}

impl<T: CosmosFields> CosmosFields for Option<T> {
    type Fields<D> = T::Fields<D>;

    fn fields_at<D>(path: Path) -> Self::Fields<D> {
        T::fields_at(path)
    }
}

impl<T: CosmosFields> CosmosFields for Box<T> {
    type Fields<D> = T::Fields<D>;

    fn fields_at<D>(path: Path) -> Self::Fields<D> {
        T::fields_at(path)
    }
}

/// A `Vec` of nested structs: its elements' fields are reached inside [`Items::any`].
impl<T: CosmosFields> CosmosFields for Vec<T> {
    type Fields<D> = Items<D, T>;

    fn fields_at<D>(path: Path) -> Self::Fields<D> {
        Items::at(path)
    }
}

/// An element of an array field, inside the condition of [`Field::any`] or [`Items::any`]:
/// conditions on it are `Filter<Element<D>>`, which only `any` turns into a condition on the
/// document `D`.
pub struct Element<D>(PhantomData<fn() -> D>);

/// The typed path of a `#[cosmos(nested)]` field holding a `Vec` of structs that derive
/// [`CosmosFields`], as in `Order::FIELDS.lines`.
///
/// # Examples
///
/// ```
/// use cosmos_repo::prelude::*;
///
/// #[derive(Serialize, Deserialize, CosmosFields)]
/// struct Line { sku: String, qty: u32 }
///
/// #[derive(Serialize, Deserialize, CosmosDocument)]
/// struct Order {
///     #[id]
///     id: String,
///     #[partition_key]
///     customer: String,
///     #[cosmos(nested)]
///     lines: Vec<Line>,
/// }
///
/// let f = Order::FIELDS;
/// let big_line_of_x = f.lines.any(|l| l.sku.eq("x").and(l.qty.gt(2u32)));
/// let many_lines = f.lines.len().gt(3);
/// # let _ = (big_line_of_x, many_lines);
/// ```
pub struct Items<D, T> {
    path: Path,
    types: PhantomData<fn() -> (D, T)>,
}

impl<D, T> Items<D, T> {
    #[doc(hidden)]
    pub const fn at(path: Path) -> Self {
        Items {
            path,
            types: PhantomData,
        }
    }

    /// The property path from the document root.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Documents where the field is present (`IS_DEFINED`).
    pub fn is_defined(self) -> Filter<D> {
        Filter::new(Ok(Expr::IsDefined(self.path)))
    }

    /// The number of elements (`ARRAY_LENGTH`), to compare: `f.lines.len().gt(3)`.
    pub fn len(self) -> Length<D> {
        Length::at(self.path)
    }
}

impl<D, T: CosmosFields> Items<D, T> {
    /// Documents with an element for which `condition` holds, the element's fields given to
    /// it: `EXISTS(SELECT VALUE x1 FROM x1 IN c.lines WHERE x1.sku = @p0)`. A document without
    /// the array, or with an empty one, does not match.
    pub fn any(
        self,
        condition: impl FnOnce(T::Fields<Element<D>>) -> Filter<Element<D>>,
    ) -> Filter<D> {
        any(self.path, condition(T::fields_at(Path::EMPTY)))
    }
}

impl<D, T> Clone for Items<D, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<D, T> Copy for Items<D, T> {}

impl<D, T> fmt::Debug for Items<D, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Items").field(&self.path.segments()).finish()
    }
}

fn any<D, E>(array: Path, condition: Filter<E>) -> Filter<D> {
    Filter::new(
        condition
            .into_expr()
            .map(|condition| Expr::Any(array, Box::new(condition))),
    )
}

/// The length of an array field (`ARRAY_LENGTH`), made by `len()`; compare it to a count.
pub struct Length<D> {
    path: Path,
    doc: PhantomData<fn() -> D>,
}

impl<D> Length<D> {
    fn at(path: Path) -> Self {
        Length {
            path,
            doc: PhantomData,
        }
    }

    fn compare(self, op: CmpOp, n: u64) -> Filter<D> {
        Filter::new(Ok(Expr::Length(self.path, op, Value::from(n))))
    }

    /// Documents whose array has exactly `n` elements.
    #[allow(clippy::should_implement_trait)]
    pub fn eq(self, n: u64) -> Filter<D> {
        self.compare(CmpOp::Eq, n)
    }

    /// Documents whose array does not have `n` elements.
    #[allow(clippy::should_implement_trait)]
    pub fn ne(self, n: u64) -> Filter<D> {
        self.compare(CmpOp::Ne, n)
    }

    /// Documents whose array has more than `n` elements.
    pub fn gt(self, n: u64) -> Filter<D> {
        self.compare(CmpOp::Gt, n)
    }

    /// Documents whose array has at least `n` elements.
    pub fn ge(self, n: u64) -> Filter<D> {
        self.compare(CmpOp::Ge, n)
    }

    /// Documents whose array has fewer than `n` elements.
    pub fn lt(self, n: u64) -> Filter<D> {
        self.compare(CmpOp::Lt, n)
    }

    /// Documents whose array has at most `n` elements.
    pub fn le(self, n: u64) -> Filter<D> {
        self.compare(CmpOp::Le, n)
    }
}

/// The typed path of one stored field of document type `D`, whose Rust type is `V`.
///
/// The derive generates one per stored field, reached through the document's `FIELDS` constant.
/// Its name is the JSON property serde writes, so it follows `#[serde(rename)]` and
/// `#[serde(rename_all)]`. Its methods build [`Filter`]s and [`OrderBy`]s whose values must be of
/// the field's own type: `Order::FIELDS.total.eq("x")` does not compile.
///
/// # Examples
///
/// ```
/// use cosmos_repo::prelude::*;
///
/// #[derive(Serialize, Deserialize, CosmosDocument)]
/// #[serde(rename_all = "camelCase")]
/// struct User {
///     #[id]
///     id: String,
///     #[partition_key]
///     tenant_id: String,
///     #[serde(rename = "mail")]
///     email: String,
///     age: u32,
/// }
///
/// assert_eq!(User::FIELDS.tenant_id.name(), "tenantId");
/// assert_eq!(User::FIELDS.email.name(), "mail");
/// let adults = User::FIELDS.age.ge(18u32).and(User::FIELDS.email.ends_with("@contoso.com"));
/// # let _ = adults;
/// ```
pub struct Field<D, V> {
    path: Path,
    types: PhantomData<fn() -> (D, V)>,
}

impl<D, V> Field<D, V> {
    #[doc(hidden)]
    pub const fn at(path: Path) -> Self {
        Field {
            path,
            types: PhantomData,
        }
    }

    /// The JSON property name of the field in a stored document.
    pub fn name(&self) -> &'static str {
        self.path.segments().last().copied().unwrap_or_default()
    }

    /// The property path from the document root.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The field as a sort key, smallest first.
    pub fn asc(self) -> OrderBy<D> {
        OrderBy::new(self.path, false)
    }

    /// The field as a sort key, largest first.
    pub fn desc(self) -> OrderBy<D> {
        OrderBy::new(self.path, true)
    }

    /// Documents where the field is present (`IS_DEFINED`), whatever its value.
    pub fn is_defined(self) -> Filter<D> {
        Filter::new(Ok(Expr::IsDefined(self.path)))
    }

    /// Documents where the field is present and `null` (`IS_NULL`).
    pub fn is_null(self) -> Filter<D> {
        Filter::new(Ok(Expr::IsNull(self.path)))
    }
}

/// A value a filter or patch can compare a field of type `V` with, or set it to: a `V` itself,
/// a borrowed `&V`, `&str` for `String`, and, for an `Option<V>` field, the inner value's forms
/// as well as `Some(..)` and `None`:
///
/// ```
/// use cosmos_repo::prelude::*;
///
/// #[derive(Serialize, Deserialize, CosmosDocument)]
/// struct Task {
///     #[id]
///     id: String,
///     #[partition_key]
///     owner: String,
///     note: Option<String>,
///     priority: Option<u8>,
/// }
///
/// let f = Task::FIELDS;
/// let urgent = f.note.eq("urgent").or(f.note.eq(Some("URGENT".to_string())));
/// let high = f.priority.ge(3);
/// # let _ = (urgent, high);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a value of the field's type `{V}`",
    note = "give a value of the field's own type; `&str` also serves for text, and the inner value (or `Some`, `None`) for an `Option` field"
)]
pub trait Operand<V> {
    /// The value as the field's type.
    fn into_operand(self) -> V;
}

impl<V> Operand<V> for V {
    fn into_operand(self) -> V {
        self
    }
}

impl<V> Operand<Option<V>> for V {
    fn into_operand(self) -> Option<V> {
        Some(self)
    }
}

impl<V: Clone> Operand<V> for &V {
    fn into_operand(self) -> V {
        self.clone()
    }
}

impl Operand<String> for &str {
    fn into_operand(self) -> String {
        self.to_owned()
    }
}

impl Operand<Option<String>> for &str {
    fn into_operand(self) -> Option<String> {
        Some(self.to_owned())
    }
}

impl<D, V: Serialize> Field<D, V> {
    fn compare(self, op: CmpOp, value: impl Operand<V>) -> Filter<D> {
        let value = value.into_operand();
        Filter::new(to_json(&value).map(|value| Expr::Compare(self.path, op, value)))
    }

    /// Documents where the field equals `value` (`=`).
    #[allow(clippy::should_implement_trait)]
    pub fn eq(self, value: impl Operand<V>) -> Filter<D> {
        self.compare(CmpOp::Eq, value)
    }

    /// Documents where the field has the same type as `value` and differs from it (`!=`).
    #[allow(clippy::should_implement_trait)]
    pub fn ne(self, value: impl Operand<V>) -> Filter<D> {
        self.compare(CmpOp::Ne, value)
    }

    /// Documents where the field is greater than `value` (`>`).
    pub fn gt(self, value: impl Operand<V>) -> Filter<D> {
        self.compare(CmpOp::Gt, value)
    }

    /// Documents where the field is greater than or equal to `value` (`>=`).
    pub fn ge(self, value: impl Operand<V>) -> Filter<D> {
        self.compare(CmpOp::Ge, value)
    }

    /// Documents where the field is less than `value` (`<`).
    pub fn lt(self, value: impl Operand<V>) -> Filter<D> {
        self.compare(CmpOp::Lt, value)
    }

    /// Documents where the field is less than or equal to `value` (`<=`).
    pub fn le(self, value: impl Operand<V>) -> Filter<D> {
        self.compare(CmpOp::Le, value)
    }

    /// Documents where the field equals one of `values` (`IN`); none for an empty list.
    pub fn is_in<I>(self, values: I) -> Filter<D>
    where
        I: IntoIterator,
        I::Item: Operand<V>,
    {
        let values: Result<Vec<Value>, _> = values
            .into_iter()
            .map(|value| to_json(&value.into_operand()))
            .collect();
        Filter::new(values.map(|values| Expr::In(self.path, values)))
    }

    /// Documents where the field lies between `low` and `high`, both included (`BETWEEN`).
    pub fn between(self, low: impl Operand<V>, high: impl Operand<V>) -> Filter<D> {
        let (low, high) = (low.into_operand(), high.into_operand());
        let bounds = to_json(&low).and_then(|low| Ok((low, to_json(&high)?)));
        Filter::new(bounds.map(|(low, high)| Expr::Between(self.path, low, high)))
    }
}

/// The typed path of an embedding of document type `D`: a `Vec<f32>` field marked
/// `#[cosmos(vector(dimensions = N, distance = "..."))]`, with its dimensions and distance
/// function. Only these fields rank documents by nearness ([`Query::nearest`]).
///
/// [`Query::nearest`]: super::Query::nearest
pub struct VectorField<D> {
    path: Path,
    dimensions: u32,
    distance: VectorDistance,
    types: PhantomData<fn() -> D>,
}

impl<D> VectorField<D> {
    #[doc(hidden)]
    pub const fn at(path: Path, dimensions: u32, distance: VectorDistance) -> Self {
        VectorField {
            path,
            dimensions,
            distance,
            types: PhantomData,
        }
    }

    /// The JSON property name of the field in a stored document.
    pub fn name(&self) -> &'static str {
        self.path.segments().last().copied().unwrap_or_default()
    }

    /// The property path from the document root.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many numbers each vector holds.
    pub fn dimensions(&self) -> u32 {
        self.dimensions
    }

    /// How nearness is measured.
    pub fn distance(&self) -> VectorDistance {
        self.distance
    }

    /// Documents that hold the field (`IS_DEFINED`).
    pub fn is_defined(self) -> Filter<D> {
        Filter::new(Ok(Expr::IsDefined(self.path)))
    }
}

impl<D> Clone for VectorField<D> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<D> Copy for VectorField<D> {}

impl<D> fmt::Debug for VectorField<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VectorField")
            .field("path", &self.path)
            .field("dimensions", &self.dimensions)
            .field("distance", &self.distance)
            .finish()
    }
}

/// String functions, for `String` and `Option<String>` fields.
pub trait TextField {}
impl TextField for String {}
impl TextField for Option<String> {}

impl<D, V: TextField> Field<D, V> {
    fn text(self, op: StrOp, needle: &str) -> Filter<D> {
        Filter::new(Ok(Expr::Str(self.path, op, needle.to_owned())))
    }

    /// Documents where the field is a string starting with `prefix` (`STARTSWITH`).
    pub fn starts_with(self, prefix: &str) -> Filter<D> {
        self.text(StrOp::StartsWith, prefix)
    }

    /// Documents where the field is a string ending with `suffix` (`ENDSWITH`).
    pub fn ends_with(self, suffix: &str) -> Filter<D> {
        self.text(StrOp::EndsWith, suffix)
    }

    /// Documents where the field is a string containing `needle` (`CONTAINS`).
    pub fn contains(self, needle: &str) -> Filter<D> {
        self.text(StrOp::Contains, needle)
    }

    fn full_text(self, how: TextMatch, terms: Vec<String>) -> Filter<D> {
        let expr = if terms.is_empty() {
            Err(Invalid::Refused(format!(
                "{} needs at least one term to look for in `{}`",
                how.function(),
                self.name()
            )))
        } else {
            Ok(Expr::FullText(self.path, how, terms))
        };
        Filter::new(expr)
    }

    /// Documents whose text holds `term`'s words (`FullTextContains`): full-text search, by
    /// words and their forms in the field's language rather than by characters. The field
    /// must be indexed for it with `#[cosmos(full_text)]`; Cosmos DB refuses it otherwise, and
    /// so does the embedded store (which matches whole words, without stemming).
    pub fn full_text_contains(self, term: &str) -> Filter<D> {
        self.full_text(TextMatch::Contains, vec![term.to_owned()])
    }

    /// Documents whose text holds every one of `terms` (`FullTextContainsAll`); see
    /// [`full_text_contains`](Field::full_text_contains).
    pub fn full_text_contains_all<S: AsRef<str>>(
        self,
        terms: impl IntoIterator<Item = S>,
    ) -> Filter<D> {
        let terms = terms.into_iter().map(|t| t.as_ref().to_owned()).collect();
        self.full_text(TextMatch::All, terms)
    }

    /// Documents whose text holds at least one of `terms` (`FullTextContainsAny`); see
    /// [`full_text_contains`](Field::full_text_contains).
    pub fn full_text_contains_any<S: AsRef<str>>(
        self,
        terms: impl IntoIterator<Item = S>,
    ) -> Filter<D> {
        let terms = terms.into_iter().map(|t| t.as_ref().to_owned()).collect();
        self.full_text(TextMatch::Any, terms)
    }
}

impl<D, T: Serialize> Field<D, Vec<T>> {
    /// Documents where the field is an array with an element equal to `item`
    /// (`ARRAY_CONTAINS`).
    pub fn array_contains(self, item: impl Operand<T>) -> Filter<D> {
        Filter::new(to_json(&item.into_operand()).map(|item| Expr::ArrayContains(self.path, item)))
    }
}

impl<D, T> Field<D, Vec<T>> {
    /// Documents with an element for which `condition` holds, the element given to it as a
    /// field: `f.tags.any(|t| t.starts_with("a"))` is
    /// `EXISTS(SELECT VALUE x1 FROM x1 IN c.tags WHERE STARTSWITH(x1, @p0))`. A document
    /// without the array, or with an empty one, does not match.
    pub fn any(
        self,
        condition: impl FnOnce(Field<Element<D>, T>) -> Filter<Element<D>>,
    ) -> Filter<D> {
        any(self.path, condition(Field::at(Path::EMPTY)))
    }

    /// The number of elements (`ARRAY_LENGTH`), to compare: `f.tags.len().gt(3)`.
    pub fn len(self) -> Length<D> {
        Length::at(self.path)
    }
}

fn to_json<V: Serialize>(value: &V) -> Result<Value, Invalid> {
    Invalid::check(value)
}

impl<D, V> Clone for Field<D, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<D, V> Copy for Field<D, V> {}

impl<D, V> fmt::Debug for Field<D, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Field").field(&self.path.segments()).finish()
    }
}
