//! The embedded store's reader of Cosmos DB SQL: the subset the typed builder writes, and the
//! literals people write by hand, parsed into the AST the typed builder makes, so that raw
//! queries run on the embedded store as on Cosmos DB. Anything else is `Unsupported`, naming
//! the construct.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock, PoisonError};

use serde_json::Value;

use crate::ast::{Aggregate, CmpOp, Expr, MAX_DEPTH, Path, Select, SqlQuery, StrOp, TextMatch};
use crate::error::{Error, Result};
use crate::limits;
use crate::seam::QuerySpec;

/// What a raw query asks for.
#[derive(Debug, PartialEq)]
pub(super) enum Parsed {
    /// Documents, or a projection of each matching one.
    Rows(QuerySpec),
    /// One aggregate of the matching documents (`SELECT VALUE COUNT(1) FROM c WHERE ...`).
    Aggregate(Option<Expr>, Aggregate),
}

/// Parses `sql`, its `@name`s bound to its parameters.
pub(super) fn parse(sql: &SqlQuery) -> Result<Parsed> {
    let mut parser = Parser {
        tokens: lex(&sql.text)?,
        at: 0,
        sql,
        aliases: Vec::new(),
    };
    let parsed = parser.query()?;
    match parser.tokens.get(parser.at) {
        None => Ok(parsed),
        Some(token) => Err(parser.syntax("the end of the query", Some(token))),
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    /// An identifier or keyword, as written.
    Word(String),
    /// `@name`, without the `@`.
    Param(String),
    Str(String),
    Number(f64),
    Punct(&'static str),
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Token::Word(word) => write!(f, "`{word}`"),
            Token::Param(name) => write!(f, "`@{name}`"),
            Token::Str(text) => write!(f, "the string {text:?}"),
            Token::Number(n) => write!(f, "the number {n}"),
            Token::Punct(p) => write!(f, "`{p}`"),
        }
    }
}

/// Punctuation, longest first so that `<=` is not read as `<` then `=`.
const PUNCTUATION: &[&str] = &[
    "!=", "<>", "<=", ">=", "=", "<", ">", "(", ")", "[", "]", ",", ".", "*", "-",
];

fn lex(text: &str) -> Result<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c.is_whitespace() {
            rest = &rest[c.len_utf8()..];
        } else if c.is_ascii_alphabetic() || c == '_' || c == '@' {
            let start = usize::from(c == '@');
            let end = rest[start..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(rest.len(), |end| end + start);
            let word = rest[start..end].to_owned();
            tokens.push(if c == '@' {
                Token::Param(word)
            } else {
                Token::Word(word)
            });
            rest = &rest[end..];
        } else if c.is_ascii_digit() {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '+' || c == '-'))
                .unwrap_or(rest.len());
            let number = rest[..end].parse().map_err(|_| Error::BadRequest {
                message: format!("`{}` is not a number, in `{text}`", &rest[..end]),
            })?;
            tokens.push(Token::Number(number));
            rest = &rest[end..];
        } else if c == '\'' || c == '"' {
            let (string, after) = string(&rest[1..], c).ok_or_else(|| Error::BadRequest {
                message: format!("a string in `{text}` is not closed, or has a bad escape"),
            })?;
            tokens.push(Token::Str(string));
            rest = after;
        } else if let Some(p) = PUNCTUATION.iter().find(|p| rest.starts_with(**p)) {
            tokens.push(Token::Punct(p));
            rest = &rest[p.len()..];
        } else {
            return Err(unsupported(&format!("the character `{c}`"), text));
        }
    }
    Ok(tokens)
}

/// The string literal opening `rest` (after its quote) and the text after its closing quote.
fn string(rest: &str, quote: char) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = rest.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            c if c == quote => return Some((out, &rest[i + 1..])),
            '\\' => out.push(match chars.next()?.1 {
                'b' => '\u{8}',
                'f' => '\u{c}',
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                'u' => {
                    let hex: String = (0..4)
                        .filter_map(|_| chars.next().map(|(_, c)| c))
                        .collect();
                    char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
                }
                other => other,
            }),
            c => out.push(c),
        }
    }
    None
}

/// A property path as written: an alias and the names after it.
struct Written {
    alias: String,
    names: Vec<String>,
}

/// An operand of a comparison.
enum Operand {
    Property(Written),
    Value(Value),
}

struct Parser<'s> {
    tokens: Vec<Token>,
    at: usize,
    sql: &'s SqlQuery,
    /// The aliases in scope, innermost last: the query's (`c`), then each `EXISTS` element's.
    aliases: Vec<String>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    /// Whether the next token is `keyword` (any case); consumed if so.
    fn keyword(&mut self, keyword: &str) -> bool {
        let found =
            matches!(self.peek(), Some(Token::Word(word)) if word.eq_ignore_ascii_case(keyword));
        self.at += usize::from(found);
        found
    }

    fn expect_keyword(&mut self, keyword: &str) -> Result<()> {
        if self.keyword(keyword) {
            Ok(())
        } else {
            Err(self.syntax(&format!("`{keyword}`"), self.peek()))
        }
    }

    /// Whether the next token is `punct`; consumed if so.
    fn punct(&mut self, punct: &str) -> bool {
        let found = matches!(self.peek(), Some(Token::Punct(p)) if *p == punct);
        self.at += usize::from(found);
        found
    }

    fn expect_punct(&mut self, punct: &str) -> Result<()> {
        if self.punct(punct) {
            Ok(())
        } else {
            Err(self.syntax(&format!("`{punct}`"), self.peek()))
        }
    }

    fn syntax(&self, expected: &str, found: Option<&Token>) -> Error {
        let found = found.map_or_else(|| "the end".to_owned(), ToString::to_string);
        Error::BadRequest {
            message: format!(
                "syntax error in `{}`: expected {expected}, found {found}",
                self.sql.text
            ),
        }
    }

    fn unsupported(&self, construct: &str) -> Error {
        unsupported(construct, &self.sql.text)
    }

    fn query(&mut self) -> Result<Parsed> {
        self.expect_keyword("SELECT")?;
        let distinct = self.keyword("DISTINCT");
        let top = if self.keyword("TOP") {
            Some(self.count()?)
        } else {
            None
        };
        let projection = self.projection()?;
        self.expect_keyword("FROM")?;
        let Some(Token::Word(mut alias)) = self.next() else {
            return Err(self.syntax("a container name", self.tokens.get(self.at - 1)));
        };
        self.keyword("AS");
        if let Some(Token::Word(word)) = self.peek() {
            if ["JOIN", "IN"].iter().any(|k| word.eq_ignore_ascii_case(k)) {
                return Err(self.unsupported(&word.to_uppercase()));
            }
            if !is_clause(word) {
                alias = word.clone();
                self.at += 1;
            }
        }
        self.aliases.push(alias);
        let filter = if self.keyword("WHERE") {
            Some(self.or()?)
        } else {
            None
        };
        if self.keyword("GROUP") {
            return Err(self.unsupported("GROUP BY (use the typed `group_by`)"));
        }
        let mut order_by = Vec::new();
        if self.keyword("ORDER") {
            self.expect_keyword("BY")?;
            loop {
                let key = self.property()?;
                let descending = self.keyword("DESC");
                if !descending {
                    self.keyword("ASC");
                }
                order_by.push((key, descending));
                if !self.punct(",") {
                    break;
                }
            }
        }
        let mut offset = None;
        let mut limit = top;
        if self.keyword("OFFSET") {
            offset = Some(self.count()?);
            self.expect_keyword("LIMIT")?;
            let count = self.count()?;
            limit = Some(limit.map_or(count, |top| top.min(count)));
        }
        let select = match projection {
            Projection::Select(select) => self.select(select)?,
            Projection::Aggregate(aggregate) => {
                if distinct || top.is_some() || offset.is_some() || !order_by.is_empty() {
                    return Err(
                        self.unsupported("an aggregate with DISTINCT, TOP, ORDER BY or OFFSET")
                    );
                }
                let aggregate = self.aggregate(aggregate)?;
                return Ok(Parsed::Aggregate(filter, aggregate));
            }
        };
        Ok(Parsed::Rows(QuerySpec {
            filter,
            order_by,
            offset,
            limit,
            select,
            distinct,
        }))
    }

    /// A non-negative integer: a literal or a parameter holding one.
    fn count(&mut self) -> Result<u64> {
        let value = self.value()?;
        value.as_u64().ok_or_else(|| Error::BadRequest {
            message: format!(
                "TOP, OFFSET and LIMIT take a non-negative integer, not {value}, in `{}`",
                self.sql.text
            ),
        })
    }

    /// What follows `SELECT [DISTINCT] [TOP n]`, its paths not yet resolved (the alias comes
    /// after `FROM`).
    fn projection(&mut self) -> Result<Projection> {
        if self.punct("*") {
            return Ok(Projection::Select(WrittenSelect::Documents));
        }
        if !self.keyword("VALUE") {
            return Err(self.unsupported(
                "a projection of named properties (`SELECT c.a, c.b`); write `SELECT VALUE [c.a, c.b]` or `SELECT *`",
            ));
        }
        if self.punct("[") {
            let mut paths = vec![self.written()?];
            while self.punct(",") {
                paths.push(self.written()?);
            }
            self.expect_punct("]")?;
            return Ok(Projection::Select(WrittenSelect::Array(paths)));
        }
        if let Some(Token::Word(word)) = self.peek() {
            let function = word.to_uppercase();
            if ["COUNT", "SUM", "AVG", "MIN", "MAX"].contains(&function.as_str())
                && self.tokens.get(self.at + 1) == Some(&Token::Punct("("))
            {
                self.at += 2;
                let of = if function == "COUNT" && self.peek() == Some(&Token::Number(1.0)) {
                    self.at += 1;
                    None
                } else {
                    Some(self.written()?)
                };
                self.expect_punct(")")?;
                return Ok(Projection::Aggregate((function, of)));
            }
        }
        Ok(Projection::Select(WrittenSelect::Value(self.written()?)))
    }

    fn select(&self, select: WrittenSelect) -> Result<Select> {
        Ok(match select {
            WrittenSelect::Documents => Select::Documents,
            WrittenSelect::Value(written) => match self.resolve(written)? {
                path if path == Path::EMPTY => Select::Documents,
                path => Select::Value(path),
            },
            WrittenSelect::Array(paths) => Select::Array(
                paths
                    .into_iter()
                    .map(|written| self.resolve(written))
                    .collect::<Result<_>>()?,
            ),
        })
    }

    fn aggregate(&self, (function, of): (String, Option<Written>)) -> Result<Aggregate> {
        let path = of.map(|written| self.resolve(written)).transpose()?;
        let Some(path) = path else {
            return Ok(Aggregate::Count(None));
        };
        Ok(match function.as_str() {
            "COUNT" => Aggregate::Count(Some(path)),
            "SUM" => Aggregate::Sum(path),
            "AVG" => Aggregate::Avg(path),
            "MIN" => Aggregate::Min(path),
            _ => Aggregate::Max(path),
        })
    }

    fn or(&mut self) -> Result<Expr> {
        let mut left = self.and()?;
        while self.keyword("OR") {
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr> {
        let mut left = self.not()?;
        while self.keyword("AND") {
            left = Expr::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr> {
        if self.keyword("NOT") {
            Ok(Expr::Not(Box::new(self.not()?)))
        } else {
            self.predicate()
        }
    }

    fn predicate(&mut self) -> Result<Expr> {
        if self.punct("(") {
            let inner = self.or()?;
            self.expect_punct(")")?;
            return Ok(inner);
        }
        if self.keyword("TRUE") {
            return Ok(Expr::Not(Box::new(never())));
        }
        if self.keyword("FALSE") {
            return Ok(never());
        }
        if self.keyword("EXISTS") {
            return self.exists();
        }
        if let (Some(Token::Word(word)), Some(Token::Punct("("))) =
            (self.peek(), self.tokens.get(self.at + 1))
        {
            let function = word.to_uppercase();
            self.at += 2;
            return self.function(&function);
        }
        let left = self.operand()?;
        let negated = self.keyword("NOT");
        let condition = if self.keyword("IN") {
            let path = self.property_of(left)?;
            self.expect_punct("(")?;
            let mut values = vec![self.value()?];
            while self.punct(",") {
                values.push(self.value()?);
            }
            self.expect_punct(")")?;
            Expr::In(path, values)
        } else if self.keyword("BETWEEN") {
            let path = self.property_of(left)?;
            let low = self.value()?;
            self.expect_keyword("AND")?;
            Expr::Between(path, low, self.value()?)
        } else if negated {
            return Err(self.syntax("`IN` or `BETWEEN` after `NOT`", self.peek()));
        } else if let Some(op) = self.comparison() {
            match (left, self.operand()?) {
                (Operand::Property(written), Operand::Value(value)) => {
                    Expr::Compare(self.resolve(written)?, op, value)
                }
                (Operand::Value(value), Operand::Property(written)) => {
                    Expr::Compare(self.resolve(written)?, flip(op), value)
                }
                (Operand::Property(_), Operand::Property(_)) => {
                    return Err(self.unsupported("a comparison of two properties"));
                }
                (Operand::Value(_), Operand::Value(_)) => {
                    return Err(self.unsupported("a comparison of two constants"));
                }
            }
        } else {
            // A property alone is a condition that holds where it is `true`.
            Expr::Compare(self.property_of(left)?, CmpOp::Eq, Value::Bool(true))
        };
        Ok(if negated {
            Expr::Not(Box::new(condition))
        } else {
            condition
        })
    }

    /// `EXISTS(SELECT VALUE x FROM x IN c.lines [WHERE ...])`, after `EXISTS`.
    fn exists(&mut self) -> Result<Expr> {
        self.expect_punct("(")?;
        self.expect_keyword("SELECT")?;
        self.expect_keyword("VALUE")?;
        let selected = self.word()?;
        self.expect_keyword("FROM")?;
        let element = self.word()?;
        if !selected.eq(&element) {
            return Err(self.unsupported(
                "an EXISTS subquery selecting anything but its element (`SELECT VALUE x FROM x IN ...`)",
            ));
        }
        self.expect_keyword("IN")?;
        let array = self.property()?;
        self.aliases.push(element);
        let condition = if self.keyword("WHERE") {
            self.or()
        } else {
            Ok(Expr::Not(Box::new(never())))
        };
        self.aliases.pop();
        let condition = condition?;
        self.expect_punct(")")?;
        Ok(Expr::Any(array, Box::new(condition)))
    }

    /// A function call, after its name and `(`.
    fn function(&mut self, function: &str) -> Result<Expr> {
        let path = self.property()?;
        let condition = match function {
            "STARTSWITH" | "ENDSWITH" | "CONTAINS" => {
                self.expect_punct(",")?;
                let op = match function {
                    "STARTSWITH" => StrOp::StartsWith,
                    "ENDSWITH" => StrOp::EndsWith,
                    _ => StrOp::Contains,
                };
                let Value::String(needle) = self.value()? else {
                    return Err(Error::BadRequest {
                        message: format!(
                            "{function} takes a string to look for, in `{}`",
                            self.sql.text
                        ),
                    });
                };
                self.no_flag(function)?;
                Expr::Str(path, op, needle)
            }
            "ARRAY_CONTAINS" => {
                self.expect_punct(",")?;
                let item = self.value()?;
                self.no_flag(function)?;
                Expr::ArrayContains(path, item)
            }
            "FULLTEXTCONTAINS" | "FULLTEXTCONTAINSALL" | "FULLTEXTCONTAINSANY" => {
                let how = match function {
                    "FULLTEXTCONTAINS" => TextMatch::Contains,
                    "FULLTEXTCONTAINSALL" => TextMatch::All,
                    _ => TextMatch::Any,
                };
                let mut terms = Vec::new();
                while self.punct(",") {
                    match self.value()? {
                        Value::String(term) => terms.push(term),
                        other => {
                            return Err(Error::BadRequest {
                                message: format!(
                                    "{} takes strings to look for, not {other}, in `{}`",
                                    how.function(),
                                    self.sql.text
                                ),
                            });
                        }
                    }
                }
                Expr::FullText(path, how, terms)
            }
            "IS_DEFINED" => Expr::IsDefined(path),
            "IS_NULL" => Expr::IsNull(path),
            "ARRAY_LENGTH" => {
                self.expect_punct(")")?;
                let op = self.comparison().ok_or_else(|| {
                    self.syntax("a comparison after ARRAY_LENGTH(...)", self.peek())
                })?;
                return Ok(Expr::Length(path, op, self.value()?));
            }
            other => return Err(self.unsupported(&format!("the function {other}"))),
        };
        self.expect_punct(")")?;
        Ok(condition)
    }

    /// Refuses the optional third argument of a string function or `ARRAY_CONTAINS` (ignore
    /// case, partial match) unless it is `false`, its default.
    fn no_flag(&mut self, function: &str) -> Result<()> {
        if self.punct(",") && self.value()? != Value::Bool(false) {
            return Err(self.unsupported(&format!("{function} with its third argument")));
        }
        Ok(())
    }

    fn comparison(&mut self) -> Option<CmpOp> {
        let op = match self.peek()? {
            Token::Punct("=") => CmpOp::Eq,
            Token::Punct("!=" | "<>") => CmpOp::Ne,
            Token::Punct("<") => CmpOp::Lt,
            Token::Punct("<=") => CmpOp::Le,
            Token::Punct(">") => CmpOp::Gt,
            Token::Punct(">=") => CmpOp::Ge,
            _ => return None,
        };
        self.at += 1;
        Some(op)
    }

    fn operand(&mut self) -> Result<Operand> {
        match self.peek() {
            Some(Token::Word(word)) if !is_literal(word) => Ok(Operand::Property(self.written()?)),
            _ => Ok(Operand::Value(self.value()?)),
        }
    }

    fn property_of(&self, operand: Operand) -> Result<Path> {
        match operand {
            Operand::Property(written) => self.resolve(written),
            Operand::Value(_) => Err(self.unsupported("a constant where a property belongs")),
        }
    }

    /// A constant: a parameter, a string, a number, `true`, `false` or `null`.
    fn value(&mut self) -> Result<Value> {
        let negative = self.punct("-");
        match self.next() {
            Some(Token::Number(n)) => {
                let n = if negative { -n } else { n };
                // Integers stay integers, as the builder's parameters are.
                Ok(
                    if n.fract() == 0.0 && n.abs() <= limits::MAX_SAFE_INTEGER as f64 {
                        Value::from(n as i64)
                    } else {
                        Value::from(n)
                    },
                )
            }
            _ if negative => Err(self.syntax("a number after `-`", self.tokens.get(self.at - 1))),
            Some(Token::Param(name)) => {
                let name = format!("@{name}");
                self.sql
                    .parameters
                    .iter()
                    .find(|(given, _)| *given == name)
                    .map(|(_, value)| value.clone())
                    .ok_or_else(|| Error::BadRequest {
                        message: format!(
                            "the query uses {name} but has no value for it: pass one with `.param(\"{name}\", value)`"
                        ),
                    })
            }
            Some(Token::Str(text)) => Ok(Value::String(text)),
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("null") => Ok(Value::Null),
            Some(Token::Punct("[")) => {
                Err(self.unsupported("array and object constants (pass them as parameters)"))
            }
            other => Err(self.syntax("a value", other.as_ref())),
        }
    }

    fn word(&mut self) -> Result<String> {
        match self.next() {
            Some(Token::Word(word)) => Ok(word),
            other => Err(self.syntax("a name", other.as_ref())),
        }
    }

    /// A property path, resolved against the innermost alias.
    fn property(&mut self) -> Result<Path> {
        let written = self.written()?;
        self.resolve(written)
    }

    /// `c.a.b`, `c['first-name']`, `c["a"]`.
    fn written(&mut self) -> Result<Written> {
        let alias = self.word()?;
        let mut names = Vec::new();
        loop {
            if self.punct(".") {
                names.push(self.word()?);
            } else if self.punct("[") {
                match self.next() {
                    Some(Token::Str(name)) => names.push(name),
                    Some(Token::Number(_)) => {
                        return Err(self.unsupported("an array index (`c.lines[0]`)"));
                    }
                    other => return Err(self.syntax("a quoted property name", other.as_ref())),
                }
                self.expect_punct("]")?;
            } else {
                return Ok(Written { alias, names });
            }
        }
    }

    /// The path of `written`, which must start at the innermost alias.
    fn resolve(&self, written: Written) -> Result<Path> {
        let innermost = self.aliases.last().map(String::as_str);
        if innermost != Some(written.alias.as_str()) {
            return Err(if self.aliases.contains(&written.alias) {
                self.unsupported("a condition inside EXISTS on the outer document")
            } else {
                Error::BadRequest {
                    message: format!(
                        "`{}` is not the query's alias{}, in `{}`",
                        written.alias,
                        innermost.map_or_else(String::new, |alias| format!(" `{alias}`")),
                        self.sql.text
                    ),
                }
            });
        }
        if written.names.len() > MAX_DEPTH {
            return Err(self.unsupported(&format!("a path deeper than {MAX_DEPTH} properties")));
        }
        Ok(written
            .names
            .iter()
            .fold(Path::EMPTY, |path, name| path.child(intern(name))))
    }
}

/// A projection with its paths as written.
enum Projection {
    Select(WrittenSelect),
    /// An aggregate's function (upper case) and what it aggregates (`None` for `COUNT(1)`).
    Aggregate((String, Option<Written>)),
}

enum WrittenSelect {
    Documents,
    Value(Written),
    Array(Vec<Written>),
}

/// The condition that holds for no document, as the builder writes an empty `IN` (`false`).
fn never() -> Expr {
    Expr::In(Path::EMPTY, Vec::new())
}

/// The comparison with its sides swapped: `@p < c.x` is `c.x > @p`.
fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        same => same,
    }
}

fn is_literal(word: &str) -> bool {
    ["true", "false", "null"]
        .iter()
        .any(|literal| word.eq_ignore_ascii_case(literal))
}

/// Whether `word` starts a clause after `FROM c`, rather than naming the alias.
fn is_clause(word: &str) -> bool {
    ["WHERE", "ORDER", "GROUP", "OFFSET"]
        .iter()
        .any(|clause| word.eq_ignore_ascii_case(clause))
}

fn unsupported(construct: &str, text: &str) -> Error {
    Error::Unsupported {
        message: format!(
            "the embedded store runs the SQL the typed builder writes, which has no {construct}: run `{text}` on Cosmos DB, or write it with `Repository::query`"
        ),
    }
}

/// The `&'static str` holding `name`: query paths name properties with static strings, so each
/// name a raw query uses is kept once for the life of the process.
fn intern(name: &str) -> &'static str {
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(known) = names.get(name) {
        return known;
    }
    let kept: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(kept);
    kept
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::ContainerModel;
    use crate::seam::{Container, Feed, Scope};

    const FEED: Feed<'static> = Feed {
        container: Container {
            name: "products",
            partition_key_paths: &["/category"],
            model: ContainerModel::NONE,
        },
        scope: Scope::CrossPartition,
        session_token: None,
    };

    fn at(name: &'static str) -> Path {
        Path::root(name)
    }

    fn compare(name: &'static str, op: CmpOp, value: Value) -> Expr {
        Expr::Compare(at(name), op, value)
    }

    fn boxed(a: Expr, b: Expr) -> (Box<Expr>, Box<Expr>) {
        (Box::new(a), Box::new(b))
    }

    fn rows(text: &str, parameters: &[(&str, Value)]) -> Result<QuerySpec> {
        let sql = SqlQuery {
            text: text.to_owned(),
            parameters: parameters
                .iter()
                .map(|(name, value)| ((*name).to_owned(), value.clone()))
                .collect(),
        };
        match parse(&sql)? {
            Parsed::Rows(spec) => Ok(spec),
            other => panic!("{text} parsed as {other:?}"),
        }
    }

    fn spec(filter: Option<Expr>) -> QuerySpec {
        QuerySpec {
            filter,
            order_by: Vec::new(),
            offset: None,
            limit: None,
            select: Select::Documents,
            distinct: false,
        }
    }

    #[test]
    fn every_shape_the_builder_writes_parses_back_to_its_query() {
        let lines = at("lines");
        let element = |name| Path::EMPTY.child(name);
        let (price_gt, stock_le) = (
            compare("price", CmpOp::Gt, json!(1.5)),
            compare("stock", CmpOp::Le, json!(3)),
        );
        let filters = vec![
            compare("price", CmpOp::Eq, json!(2.5)),
            compare("name", CmpOp::Ne, json!("a")),
            compare("stock", CmpOp::Ge, json!(-4)),
            compare("stock", CmpOp::Lt, json!(9)),
            compare("note", CmpOp::Eq, Value::Null),
            compare("discontinued", CmpOp::Eq, json!(true)),
            compare("first-seen", CmpOp::Ge, json!("2026-07-01")),
            Expr::In(at("name"), vec![json!("Saw"), json!("it's")]),
            Expr::Between(at("price"), json!(1), json!(2)),
            Expr::Str(at("name"), StrOp::StartsWith, "S".into()),
            Expr::Str(at("name"), StrOp::EndsWith, "er".into()),
            Expr::Str(at("note"), StrOp::Contains, "hand".into()),
            Expr::ArrayContains(at("tags"), json!("steel")),
            Expr::IsDefined(at("discount")),
            Expr::IsNull(at("address").child("zip code")),
            Expr::Length(at("tags"), CmpOp::Gt, json!(1)),
            Expr::FullText(at("title"), TextMatch::Contains, vec!["red shoes".into()]),
            Expr::FullText(
                at("title"),
                TextMatch::All,
                vec!["red".into(), "shoe".into()],
            ),
            Expr::FullText(at("title"), TextMatch::Any, vec!["a".into(), "b".into()]),
            Expr::Any(
                lines,
                Box::new(Expr::And(
                    Box::new(Expr::Compare(element("sku"), CmpOp::Eq, json!("x"))),
                    Box::new(Expr::Compare(element("qty"), CmpOp::Gt, json!(2))),
                )),
            ),
            Expr::Any(
                at("tags"),
                Box::new(Expr::Str(Path::EMPTY, StrOp::StartsWith, "a".into())),
            ),
            Expr::Any(
                lines,
                Box::new(Expr::Any(
                    element("codes"),
                    Box::new(Expr::Compare(Path::EMPTY, CmpOp::Eq, json!(7))),
                )),
            ),
            {
                let (a, b) = boxed(price_gt.clone(), stock_le.clone());
                Expr::Or(a, b)
            },
            {
                let (a, b) = boxed(price_gt.clone(), stock_le.clone());
                let (or, defined) = boxed(Expr::Or(a, b), Expr::IsDefined(at("discount")));
                Expr::And(or, defined)
            },
            {
                let (a, b) = boxed(price_gt.clone(), stock_le.clone());
                Expr::Not(Box::new(Expr::And(a, b)))
            },
            Expr::Not(Box::new(price_gt.clone())),
            {
                let (a, b) = boxed(price_gt, Expr::Not(Box::new(stock_le)));
                let (and, null) = boxed(Expr::And(a, b), Expr::IsNull(at("note")));
                Expr::Or(and, null)
            },
        ];
        for filter in filters {
            let typed = spec(Some(filter));
            let sql = crate::sql::render(&FEED, &typed);
            assert_eq!(parse(&sql).unwrap(), Parsed::Rows(typed), "{}", sql.text);
        }
        let shapes = [
            QuerySpec {
                order_by: vec![(at("price"), false), (at("id"), true)],
                limit: Some(5),
                select: Select::Value(at("name")),
                ..spec(None)
            },
            QuerySpec {
                offset: Some(2),
                limit: Some(3),
                select: Select::Array(vec![at("id"), at("first-seen")]),
                distinct: true,
                ..spec(None)
            },
        ];
        for typed in shapes {
            let sql = crate::sql::render(&FEED, &typed);
            assert_eq!(parse(&sql).unwrap(), Parsed::Rows(typed), "{}", sql.text);
        }
    }

    #[test]
    fn hand_written_sql_parses_with_literals_aliases_and_any_case() {
        let parsed = rows(
            "select * from products p where p.name = 'Saw' and 5 < p.stock \
             and p[\"first-seen\"] >= \"2026\" and not p.discontinued \
             and p.note not in (@a, null) and p.price between -1.5 and 1e2 \
             order by p.price desc, p.id offset 1 limit 2",
            &[("@a", json!("x"))],
        )
        .unwrap();
        let conditions = [
            compare("name", CmpOp::Eq, json!("Saw")),
            compare("stock", CmpOp::Gt, json!(5)),
            compare("first-seen", CmpOp::Ge, json!("2026")),
            Expr::Not(Box::new(compare("discontinued", CmpOp::Eq, json!(true)))),
            Expr::Not(Box::new(Expr::In(
                at("note"),
                vec![json!("x"), Value::Null],
            ))),
            Expr::Between(at("price"), json!(-1.5), json!(100)),
        ];
        let filter = conditions
            .into_iter()
            .reduce(|a, b| Expr::And(Box::new(a), Box::new(b)));
        assert_eq!(
            parsed,
            QuerySpec {
                order_by: vec![(at("price"), true), (at("id"), false)],
                offset: Some(1),
                limit: Some(2),
                ..spec(filter)
            }
        );
        let value = rows("SELECT TOP 3 VALUE c FROM c WHERE true", &[]).unwrap();
        assert_eq!(value.select, Select::Documents);
        assert_eq!(value.limit, Some(3));
        assert_eq!(
            rows("SELECT * FROM c WHERE false", &[]).unwrap().filter,
            Some(never())
        );
    }

    #[test]
    fn aggregates_parse_with_their_filter() {
        let sql = SqlQuery {
            text: "SELECT VALUE SUM(c.total) FROM c WHERE c.total > @min".to_owned(),
            parameters: vec![("@min".to_owned(), json!(10))],
        };
        assert_eq!(
            parse(&sql).unwrap(),
            Parsed::Aggregate(
                Some(compare("total", CmpOp::Gt, json!(10))),
                Aggregate::Sum(at("total"))
            )
        );
        let count = SqlQuery {
            text: "SELECT VALUE COUNT(1) FROM c".to_owned(),
            parameters: Vec::new(),
        };
        assert_eq!(
            parse(&count).unwrap(),
            Parsed::Aggregate(None, Aggregate::Count(None))
        );
    }

    #[test]
    fn what_the_builder_never_writes_is_unsupported_and_says_what() {
        let unsupported = [
            ("SELECT * FROM c JOIN t IN c.tags", "JOIN"),
            ("SELECT c.id, c.name FROM c", "SELECT VALUE [c.a, c.b]"),
            (
                "SELECT * FROM c WHERE LOWER(c.name) = 'saw'",
                "the function LOWER",
            ),
            ("SELECT * FROM c WHERE c.lines[0].qty > 1", "an array index"),
            ("SELECT * FROM c WHERE c.price > c.cost", "two properties"),
            (
                "SELECT VALUE COUNT(1) FROM c GROUP BY c.category",
                "GROUP BY",
            ),
            (
                "SELECT * FROM c WHERE ARRAY_CONTAINS(c.tags, 'a', true)",
                "third argument",
            ),
            (
                "SELECT * FROM c WHERE EXISTS(SELECT VALUE t FROM t IN c.tags WHERE c.stock > 1)",
                "on the outer document",
            ),
            (
                "SELECT * FROM c WHERE c.tags = ['a']",
                "array and object constants",
            ),
            ("SELECT * FROM c WHERE c.x = {}", "the character `{`"),
        ];
        for (text, construct) in unsupported {
            let err = rows(text, &[]).unwrap_err();
            assert!(
                matches!(&err, Error::Unsupported { message } if message.contains(construct) && message.contains(text)),
                "{text}: {err:?}"
            );
        }
        let bad = [
            (
                "SELECT * FROM c WHERE c.name = @name",
                "pass one with `.param(\"@name\"",
            ),
            (
                "SELECT * FROM c WHERE d.name = 'x'",
                "`d` is not the query's alias `c`",
            ),
            (
                "SELECT * FROM c WHERE c.name = ",
                "expected a value, found the end",
            ),
            ("SELECT * FROM c WHERE c.name = 'x", "is not closed"),
            ("SELECT * FROM c ORDER c.name", "expected `BY`"),
            (
                "SELECT * FROM c WHERE c.a = 1 c.b",
                "expected the end of the query",
            ),
            ("SELECT TOP -1 * FROM c", "non-negative integer"),
        ];
        for (text, says) in bad {
            let err = rows(text, &[]).unwrap_err();
            assert!(
                matches!(&err, Error::BadRequest { message } if message.contains(says)),
                "{text}: {err:?}"
            );
        }
    }

    #[test]
    fn names_are_kept_once() {
        let first = intern(&String::from("a name"));
        assert!(std::ptr::eq(first, intern("a name")));
    }
}
