//! The query AST, shared by the typed builder, the SQL renderer (`sql`) and the embedded store's
//! evaluator: property paths, predicates, and what a query selects.

use serde_json::Value;

/// How deep a property path may be: a document property and up to seven nested ones.
pub(crate) const MAX_DEPTH: usize = 8;

/// A property path in a stored document, e.g. `address.city`. Built in `const` contexts by the
/// derive, so it is a fixed-capacity array rather than a `Vec`.
#[derive(Clone, Copy)]
pub struct Path {
    segments: [&'static str; MAX_DEPTH],
    len: usize,
}

impl Path {
    /// No property: the value itself, as an array element is to a condition on it.
    #[doc(hidden)]
    pub const EMPTY: Path = Path {
        segments: [""; MAX_DEPTH],
        len: 0,
    };

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

    /// The path of a partition key path such as `/customerId` or `/address/zip`.
    pub(crate) fn parse(key_path: &'static str) -> Path {
        let mut names = key_path.trim_start_matches('/').split('/');
        let first = Path::root(names.next().unwrap_or_default());
        names.fold(first, Path::child)
    }

    /// The path as a JSON pointer (`/address/city`), as patch operations name properties.
    pub(crate) fn pointer(&self) -> String {
        self.segments()
            .iter()
            .fold(String::new(), |mut pointer, name| {
                pointer.push('/');
                pointer.push_str(&name.replace('~', "~0").replace('/', "~1"));
                pointer
            })
    }

    /// The value at this path, `None` when undefined.
    pub(crate) fn lookup<'v>(&self, doc: &'v Value) -> Option<&'v Value> {
        self.segments()
            .iter()
            .try_fold(doc, |value, name| value.as_object()?.get(*name))
    }
}

/// Paths are equal when their names are: the same `&'static str`s (as the derive makes them)
/// compare by address first, so the embedded store can check a cached path per document
/// cheaply.
impl PartialEq for Path {
    fn eq(&self, other: &Path) -> bool {
        self.len == other.len
            && self
                .segments()
                .iter()
                .zip(other.segments())
                .all(|(a, b)| std::ptr::eq(*a, *b) || a == b)
    }
}

impl Eq for Path {}

impl std::hash::Hash for Path {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.segments().hash(state);
    }
}

impl std::fmt::Debug for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Path").field(&self.segments()).finish()
    }
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

/// A string function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StrOp {
    StartsWith,
    EndsWith,
    Contains,
}

/// Which of a full-text filter's terms a text must hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TextMatch {
    /// The one term (`FullTextContains`).
    Contains,
    /// Every term (`FullTextContainsAll`).
    All,
    /// At least one term (`FullTextContainsAny`).
    Any,
}

impl TextMatch {
    /// The SQL function.
    pub(crate) fn function(self) -> &'static str {
        match self {
            TextMatch::Contains => "FullTextContains",
            TextMatch::All => "FullTextContainsAll",
            TextMatch::Any => "FullTextContainsAny",
        }
    }
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
    /// The array at the path has an element for which the condition holds; the condition's
    /// paths start at the element (`EXISTS(SELECT VALUE x FROM x IN c.lines WHERE ...)`).
    Any(Path, Box<Expr>),
    /// A comparison of the length of the array at the path (`ARRAY_LENGTH(c.lines) > 3`).
    Length(Path, CmpOp, Value),
    /// Full-text search of the text at the path (`FullTextContains(c.title, @p0)`, `...All`,
    /// `...Any`).
    FullText(Path, TextMatch, Vec<String>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}

impl Expr {
    /// `filter`, and the document holding a value at `at` (`IS_DEFINED`).
    #[cfg(feature = "cosmos")]
    pub(crate) fn and_defined(filter: Option<&Expr>, at: Path) -> Expr {
        let defined = Expr::IsDefined(at);
        match filter {
            Some(filter) => Expr::And(Box::new(filter.clone()), Box::new(defined)),
            None => defined,
        }
    }
}

/// What a query returns for each matching document.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Select {
    /// The whole document.
    Documents,
    /// The value at one path (`SELECT VALUE c.x`).
    Value(Path),
    /// The values at several paths, as an array (`SELECT VALUE [c.x, c.y]`).
    Array(Vec<Path>),
    /// Each document with its distance to a vector, nearest first (`SELECT c AS document,
    /// VectorDistance(c.x, @v) AS score ... ORDER BY VectorDistance(c.x, @v)`).
    Nearest(NearestTo),
    /// The documents, best ranked first (`SELECT * ... ORDER BY RANK ...`).
    Ranked(Box<Rank>),
}

/// How `ORDER BY RANK` ranks documents.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Rank {
    /// By BM25 relevance of the text at the path to the terms (`FullTextScore`).
    Text(Path, Vec<String>),
    /// By reciprocal rank fusion of a vector ranking and a text ranking, with optional
    /// weights (`RRF(VectorDistance(...), FullTextScore(...), [w1, w2])`).
    Hybrid {
        vector: NearestTo,
        text: (Path, Vec<String>),
        weights: Option<[f64; 2]>,
    },
}

/// A vector to rank documents by, and how.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct NearestTo {
    /// The embedding's path.
    pub path: Path,
    pub vector: Vec<f32>,
    pub distance: crate::model::VectorDistance,
}

/// An aggregate over the matching documents.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Aggregate {
    /// `COUNT(1)` with no path: the documents; `COUNT(c.x)` with one: the defined values.
    Count(Option<Path>),
    Sum(Path),
    Avg(Path),
    Min(Path),
    Max(Path),
}

impl Aggregate {
    /// The aggregated path; `None` for `COUNT(1)`.
    pub(crate) fn path(&self) -> Option<&Path> {
        match self {
            Aggregate::Count(path) => path.as_ref(),
            Aggregate::Sum(path)
            | Aggregate::Avg(path)
            | Aggregate::Min(path)
            | Aggregate::Max(path) => Some(path),
        }
    }

    /// The SQL function's name.
    #[cfg(feature = "cosmos")]
    pub(crate) fn function(&self) -> &'static str {
        match self {
            Aggregate::Count(_) => "COUNT",
            Aggregate::Sum(_) => "SUM",
            Aggregate::Avg(_) => "AVG",
            Aggregate::Min(_) => "MIN",
            Aggregate::Max(_) => "MAX",
        }
    }
}

/// A query as Cosmos DB SQL: the text, and the values of its parameters `@p0`, `@p1`, ...
/// Made by `Query::to_sql`; values never appear in the text.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct SqlQuery {
    /// The SQL text.
    pub text: String,
    /// The parameters, in order: (`"@p0"`, value), ...
    pub parameters: Vec<(String, Value)>,
}
