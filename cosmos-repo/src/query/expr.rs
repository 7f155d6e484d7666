//! The query AST: property paths and predicates. The SDK store renders it as Cosmos DB SQL with
//! `@pN` parameters; the embedded store evaluates it directly, with Cosmos DB's semantics for
//! `undefined`, `null` and values of different types.

use std::cmp::Ordering;
use std::fmt::Write as _;

use serde_json::Value;

/// How deep a property path may be: a document property and up to seven nested ones.
pub(crate) const MAX_DEPTH: usize = 8;

/// A property path in a stored document, e.g. `address.city`. Built in `const` contexts by the
/// derive, so it is a fixed-capacity array rather than a `Vec`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Path {
    segments: [&'static str; MAX_DEPTH],
    len: usize,
}

impl Path {
    /// A top-level property.
    #[doc(hidden)]
    pub const fn root(name: &'static str) -> Path {
        let mut segments = [""; MAX_DEPTH];
        segments[0] = name;
        Path { segments, len: 1 }
    }

    /// A property of the object at this path. Deeper than eight levels fails to compile where
    /// it is evaluated in a `const`.
    #[doc(hidden)]
    pub const fn child(self, name: &'static str) -> Path {
        let mut path = self;
        assert!(
            path.len < MAX_DEPTH,
            "cosmos-repo supports property paths at most 8 levels deep"
        );
        path.segments[path.len] = name;
        path.len += 1;
        path
    }

    /// The property names from the document root.
    pub fn segments(&self) -> &[&'static str] {
        &self.segments[..self.len]
    }

    /// The value at this path, `None` when undefined.
    pub(crate) fn lookup<'v>(&self, doc: &'v Value) -> Option<&'v Value> {
        self.segments()
            .iter()
            .try_fold(doc, |value, name| value.as_object()?.get(*name))
    }

    /// Appends the path as a SQL expression on the alias `c`: `c.total`, `c["first-name"]`.
    pub(crate) fn render(&self, sql: &mut String) {
        sql.push('c');
        for name in self.segments() {
            if is_plain_identifier(name) {
                sql.push('.');
                sql.push_str(name);
            } else {
                sql.push_str("[\"");
                for ch in name.chars() {
                    match ch {
                        '"' => sql.push_str("\\\""),
                        '\\' => sql.push_str("\\\\"),
                        c if c.is_control() => {
                            let _ = write!(sql, "\\u{:04x}", u32::from(c));
                        }
                        c => sql.push(c),
                    }
                }
                sql.push_str("\"]");
            }
        }
    }
}

impl std::fmt::Debug for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Path").field(&self.segments()).finish()
    }
}

/// Whether `name` may follow a `.` in Cosmos DB SQL: an identifier that is not a keyword.
fn is_plain_identifier(name: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "and",
        "array",
        "as",
        "asc",
        "between",
        "by",
        "case",
        "cast",
        "convert",
        "cross",
        "desc",
        "distinct",
        "else",
        "end",
        "escape",
        "exists",
        "false",
        "for",
        "from",
        "group",
        "having",
        "in",
        "inner",
        "insert",
        "into",
        "is",
        "join",
        "left",
        "like",
        "limit",
        "not",
        "null",
        "offset",
        "on",
        "or",
        "order",
        "outer",
        "over",
        "right",
        "select",
        "set",
        "then",
        "top",
        "true",
        "udf",
        "undefined",
        "update",
        "value",
        "when",
        "where",
        "with",
    ];
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&name.to_ascii_lowercase().as_str())
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CmpOp {
    fn sql(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
        }
    }
}

/// A string function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StrOp {
    StartsWith,
    EndsWith,
    Contains,
}

/// A predicate over one document.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    Compare(Path, CmpOp, Value),
    In(Path, Vec<Value>),
    Between(Path, Value, Value),
    Str(Path, StrOp, String),
    ArrayContains(Path, Value),
    IsDefined(Path),
    IsNull(Path),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}

/// Binding strength in rendered SQL, loosest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Precedence {
    Or,
    And,
    Not,
    Comparison,
    /// A function call or a parenthesised form, which nothing can split.
    Call,
}

/// Cosmos DB's three-valued logic: a comparison of different types is `Undefined`, and a
/// document is selected only when its predicate is `True`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Truth {
    True,
    False,
    Undefined,
}

impl From<bool> for Truth {
    fn from(value: bool) -> Self {
        if value { Truth::True } else { Truth::False }
    }
}

impl Expr {
    /// Evaluates the predicate on a stored document.
    pub(crate) fn eval(&self, doc: &Value) -> Truth {
        match self {
            Expr::Compare(path, op, value) => match path.lookup(doc) {
                Some(left) => compare(left, *op, value),
                None => Truth::Undefined,
            },
            Expr::In(path, values) => values
                .iter()
                .map(|v| Expr::Compare(*path, CmpOp::Eq, v.clone()).eval(doc))
                .fold(Truth::False, or),
            Expr::Between(path, low, high) => and(
                Expr::Compare(*path, CmpOp::Ge, low.clone()).eval(doc),
                Expr::Compare(*path, CmpOp::Le, high.clone()).eval(doc),
            ),
            Expr::Str(path, op, needle) => match path.lookup(doc) {
                Some(Value::String(s)) => Truth::from(match op {
                    StrOp::StartsWith => s.starts_with(needle.as_str()),
                    StrOp::EndsWith => s.ends_with(needle.as_str()),
                    StrOp::Contains => s.contains(needle.as_str()),
                }),
                _ => Truth::Undefined,
            },
            Expr::ArrayContains(path, value) => match path.lookup(doc) {
                Some(Value::Array(items)) => {
                    Truth::from(items.iter().any(|item| json_eq(item, value)))
                }
                _ => Truth::Undefined,
            },
            Expr::IsDefined(path) => Truth::from(path.lookup(doc).is_some()),
            Expr::IsNull(path) => Truth::from(matches!(path.lookup(doc), Some(Value::Null))),
            Expr::And(a, b) => and(a.eval(doc), b.eval(doc)),
            Expr::Or(a, b) => or(a.eval(doc), b.eval(doc)),
            Expr::Not(a) => match a.eval(doc) {
                Truth::True => Truth::False,
                Truth::False => Truth::True,
                Truth::Undefined => Truth::Undefined,
            },
        }
    }

    /// How tightly the rendered predicate binds.
    fn precedence(&self) -> Precedence {
        match self {
            Expr::Or(..) => Precedence::Or,
            Expr::And(..) => Precedence::And,
            Expr::Not(_) => Precedence::Not,
            Expr::Compare(..) | Expr::In(..) => Precedence::Comparison,
            _ => Precedence::Call,
        }
    }

    /// Appends the predicate, in parentheses if it binds less tightly than `context` needs.
    /// Parentheses only where needed: some servers parse nested parentheses in exponential
    /// time.
    pub(crate) fn render_within(&self, sql: &mut SqlQuery, context: Precedence) {
        if self.precedence() < context {
            sql.text.push('(');
            self.render(sql);
            sql.text.push(')');
        } else {
            self.render(sql);
        }
    }

    /// Appends the predicate as SQL, binding every value as a parameter.
    pub(crate) fn render(&self, sql: &mut SqlQuery) {
        match self {
            Expr::Compare(path, op, value) => {
                path.render(&mut sql.text);
                let _ = write!(sql.text, " {} ", op.sql());
                sql.bind(value.clone());
            }
            Expr::In(_, values) if values.is_empty() => sql.text.push_str("false"),
            Expr::In(path, values) => {
                path.render(&mut sql.text);
                sql.text.push_str(" IN (");
                for (i, value) in values.iter().enumerate() {
                    if i > 0 {
                        sql.text.push_str(", ");
                    }
                    sql.bind(value.clone());
                }
                sql.text.push(')');
            }
            Expr::Between(path, low, high) => {
                sql.text.push('(');
                path.render(&mut sql.text);
                sql.text.push_str(" BETWEEN ");
                sql.bind(low.clone());
                sql.text.push_str(" AND ");
                sql.bind(high.clone());
                sql.text.push(')');
            }
            Expr::Str(path, op, needle) => {
                sql.text.push_str(match op {
                    StrOp::StartsWith => "STARTSWITH(",
                    StrOp::EndsWith => "ENDSWITH(",
                    StrOp::Contains => "CONTAINS(",
                });
                path.render(&mut sql.text);
                sql.text.push_str(", ");
                sql.bind(Value::String(needle.clone()));
                sql.text.push(')');
            }
            Expr::ArrayContains(path, value) => {
                sql.text.push_str("ARRAY_CONTAINS(");
                path.render(&mut sql.text);
                sql.text.push_str(", ");
                sql.bind(value.clone());
                sql.text.push(')');
            }
            Expr::IsDefined(path) | Expr::IsNull(path) => {
                sql.text.push_str(if matches!(self, Expr::IsDefined(_)) {
                    "IS_DEFINED("
                } else {
                    "IS_NULL("
                });
                path.render(&mut sql.text);
                sql.text.push(')');
            }
            Expr::And(a, b) => {
                a.render_within(sql, Precedence::And);
                sql.text.push_str(" AND ");
                b.render_within(sql, Precedence::And);
            }
            Expr::Or(a, b) => {
                a.render_within(sql, Precedence::Or);
                sql.text.push_str(" OR ");
                b.render_within(sql, Precedence::Or);
            }
            Expr::Not(a) => {
                // A comparison under NOT gets parentheses: `NOT c.x < 1` may parse as
                // `(NOT c.x) < 1`.
                sql.text.push_str("NOT ");
                a.render_within(sql, Precedence::Call);
            }
        }
    }
}

fn and(a: Truth, b: Truth) -> Truth {
    match (a, b) {
        (Truth::False, _) | (_, Truth::False) => Truth::False,
        (Truth::True, Truth::True) => Truth::True,
        _ => Truth::Undefined,
    }
}

fn or(a: Truth, b: Truth) -> Truth {
    match (a, b) {
        (Truth::True, _) | (_, Truth::True) => Truth::True,
        (Truth::False, Truth::False) => Truth::False,
        _ => Truth::Undefined,
    }
}

/// A comparison with Cosmos DB's typing: values of different types, and ordering between
/// objects or arrays, are `Undefined`.
fn compare(left: &Value, op: CmpOp, right: &Value) -> Truth {
    let ordering = match (left, right) {
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        (Value::Number(a), Value::Number(b)) => a.as_f64().partial_cmp(&b.as_f64()),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        (Value::Array(_), Value::Array(_)) | (Value::Object(_), Value::Object(_)) => {
            return match op {
                CmpOp::Eq => Truth::from(json_eq(left, right)),
                _ => Truth::Undefined,
            };
        }
        _ => None,
    };
    let Some(ordering) = ordering else {
        return Truth::Undefined;
    };
    Truth::from(match op {
        CmpOp::Eq => ordering == Ordering::Equal,
        CmpOp::Ne => ordering != Ordering::Equal,
        CmpOp::Gt => ordering == Ordering::Greater,
        CmpOp::Ge => ordering != Ordering::Less,
        CmpOp::Lt => ordering == Ordering::Less,
        CmpOp::Le => ordering != Ordering::Greater,
    })
}

/// JSON equality with numbers compared by value (`1` equals `1.0`).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Cosmos DB's order across types for ORDER BY: undefined, null, booleans, numbers, strings,
/// arrays, objects; values of one type by value.
pub(crate) fn order(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    fn rank(v: Option<&Value>) -> u8 {
        match v {
            None => 0,
            Some(Value::Null) => 1,
            Some(Value::Bool(_)) => 2,
            Some(Value::Number(_)) => 3,
            Some(Value::String(_)) => 4,
            Some(Value::Array(_)) => 5,
            Some(Value::Object(_)) => 6,
        }
    }
    match (a, b) {
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        (Some(Value::Number(x)), Some(Value::Number(y))) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}

/// A query as Cosmos DB SQL: the text, and the values of its parameters `@p0`, `@p1`, ...
/// Made by [`Query::to_sql`](super::Query::to_sql); values never appear in the text.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct SqlQuery {
    /// The SQL text.
    pub text: String,
    /// The parameters, in order: (`"@p0"`, value), ...
    pub parameters: Vec<(String, Value)>,
}

impl SqlQuery {
    /// Appends a new parameter holding `value`.
    pub(crate) fn bind(&mut self, value: Value) {
        let name = format!("@p{}", self.parameters.len());
        self.text.push_str(&name);
        self.parameters.push((name, value));
    }
}
