//! The OData subset Microsoft Graph list endpoints accept.
//!
//! `$filter` is parsed into an [`Expr`] tree, then checked against the
//! [`FilterSpec`] of the endpoint (which properties and operators Microsoft
//! documents for it), then evaluated against the JSON records. Parsing once and
//! checking separately lets every endpoint reject exactly what the real one
//! rejects (400 `Invalid filter clause` for audit logs, `Request_UnsupportedQuery`
//! for directory objects) with one grammar.
//!
//! String comparisons are case-insensitive, as in Entra ID (sign-in UPNs are
//! stored lower-case; directory lookups ignore case).

use crate::graph::error::ApiError;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

/// A parsed `$filter`.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    /// `path op literal`, e.g. `createdDateTime ge 2026-09-01T00:00:00Z`.
    Compare {
        path: Vec<String>,
        op: Op,
        value: Literal,
    },
    /// `path/any(var: body)`.
    Any {
        path: Vec<String>,
        var: String,
        body: Box<Expr>,
    },
    /// `startswith(path, 'x')` and friends.
    Func {
        func: Func,
        path: Vec<String>,
        value: Literal,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    StartsWith,
    EndsWith,
    Contains,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Time(DateTime<Utc>),
    Num(f64),
    Bool(bool),
    Null,
}

/// Type of a filterable property (the literal must match it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Str,
    Time,
    Bool,
    Num,
}

/// Operator sets for [`Prop::ops`].
pub const EQ: u8 = 1;
pub const NE: u8 = 2;
/// `gt`, `ge`, `lt`, `le`.
pub const ORD: u8 = 4;
pub const STARTS: u8 = 8;

/// A filterable property: its path (`status/errorCode`), type and operators.
#[derive(Debug, Clone, Copy)]
pub struct Prop {
    pub path: &'static str,
    pub kind: Kind,
    pub ops: u8,
}

/// Shorthand for spec tables.
pub const fn prop(path: &'static str, kind: Kind, ops: u8) -> Prop {
    Prop { path, kind, ops }
}

/// A collection that accepts `any` lambdas; `item` paths are relative to the
/// range variable (`""` is the variable itself, as in `t eq 'x'`).
#[derive(Debug, Clone, Copy)]
pub struct Lambda {
    pub path: &'static str,
    pub item: &'static [Prop],
}

/// How an endpoint words its refusals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Audit logs and reports: 400 `BadRequest` "Invalid filter clause".
    AuditLog,
    /// Directory objects: 400 `Request_UnsupportedQuery`.
    Directory,
}

/// What one endpoint's `$filter` supports.
#[derive(Debug, Clone, Copy)]
pub struct FilterSpec {
    /// Entity name used in directory error messages (`User`, `Device`, ...).
    pub entity: &'static str,
    pub props: &'static [Prop],
    pub lambdas: &'static [Lambda],
    /// `None`: `or` allowed; `Some(message)`: `or` refused with that message.
    pub or_refused: Option<&'static str>,
    pub style: Style,
}

impl FilterSpec {
    fn refuse(&self, property: &str) -> ApiError {
        match self.style {
            Style::AuditLog => ApiError::invalid_filter(),
            Style::Directory => ApiError::unsupported_query(format!(
                "Unsupported or invalid query filter clause specified for property '{property}' of resource '{}'.",
                self.entity
            )),
        }
    }

    /// Parses `text` and checks it against this spec.
    pub fn parse(&self, text: &str) -> Result<Expr, ApiError> {
        let expr = parse(text).map_err(|_| ApiError::invalid_filter())?;
        self.check(&expr, None)?;
        Ok(expr)
    }

    /// `lambda`: inside `any()`, the range variable and the item properties.
    fn check(&self, expr: &Expr, lambda: Option<(&str, &[Prop])>) -> Result<(), ApiError> {
        match expr {
            Expr::And(a, b) => {
                self.check(a, lambda)?;
                self.check(b, lambda)
            }
            Expr::Or(a, b) => {
                if let Some(message) = self.or_refused {
                    return Err(ApiError::unsupported_query(message));
                }
                self.check(a, lambda)?;
                self.check(b, lambda)
            }
            Expr::Not(_) => Err(self.refuse("not")),
            Expr::Compare { path, op, value } => {
                let prop = self.find(path, lambda)?;
                let wanted = match op {
                    Op::Eq => EQ,
                    Op::Ne => NE,
                    _ => ORD,
                };
                let kind_ok = match (prop.kind, value) {
                    (Kind::Str, Literal::Str(_)) => true,
                    (Kind::Time, Literal::Time(_)) => true,
                    (Kind::Bool, Literal::Bool(_)) => true,
                    (Kind::Num, Literal::Num(_)) => true,
                    (_, Literal::Null) => matches!(op, Op::Eq | Op::Ne),
                    _ => false,
                };
                if prop.ops & wanted == 0 || !kind_ok {
                    return Err(self.refuse(&path.join("/")));
                }
                Ok(())
            }
            Expr::Func { func, path, value } => {
                let prop = self.find(path, lambda)?;
                let ok = *func == Func::StartsWith
                    && prop.ops & STARTS != 0
                    && matches!(value, Literal::Str(_));
                if ok {
                    Ok(())
                } else {
                    Err(self.refuse(&path.join("/")))
                }
            }
            Expr::Any { path, var, body } => {
                if lambda.is_some() {
                    return Err(self.refuse(&path.join("/")));
                }
                let joined = path.join("/");
                let found = self
                    .lambdas
                    .iter()
                    .find(|l| l.path.eq_ignore_ascii_case(&joined))
                    .ok_or_else(|| self.refuse(&joined))?;
                self.check(body, Some((var, found.item)))
            }
        }
    }

    fn find(&self, path: &[String], lambda: Option<(&str, &[Prop])>) -> Result<Prop, ApiError> {
        let (props, rel) = match lambda {
            Some((var, item)) => {
                if path.first().map(String::as_str) != Some(var) {
                    return Err(self.refuse(&path.join("/")));
                }
                (item, path[1..].join("/"))
            }
            None => (self.props, path.join("/")),
        };
        props
            .iter()
            .find(|p| p.path.eq_ignore_ascii_case(&rel))
            .copied()
            .ok_or_else(|| self.refuse(&rel))
    }
}

// ---------------------------------------------------------------- evaluation

impl Expr {
    /// Whether `record` satisfies the filter.
    pub fn matches(&self, record: &Value) -> bool {
        self.eval(record, &mut Vec::new())
    }

    fn eval<'a>(&'a self, root: &'a Value, env: &mut Vec<(&'a str, &'a Value)>) -> bool {
        match self {
            Expr::And(a, b) => a.eval(root, env) && b.eval(root, env),
            Expr::Or(a, b) => a.eval(root, env) || b.eval(root, env),
            Expr::Not(a) => !a.eval(root, env),
            Expr::Compare { path, op, value } => compare(resolve(root, env, path), *op, value),
            Expr::Func { func, path, value } => {
                let (Some(field), Literal::Str(lit)) =
                    (resolve(root, env, path).and_then(Value::as_str), value)
                else {
                    return false;
                };
                let (field, lit) = (field.to_lowercase(), lit.to_lowercase());
                match func {
                    Func::StartsWith => field.starts_with(&lit),
                    Func::EndsWith => field.ends_with(&lit),
                    Func::Contains => field.contains(&lit),
                }
            }
            Expr::Any { path, var, body } => {
                let Some(Value::Array(items)) = resolve(root, env, path) else {
                    return false;
                };
                items.iter().any(|item| {
                    env.push((var.as_str(), item));
                    let hit = body.eval(root, env);
                    env.pop();
                    hit
                })
            }
        }
    }

    /// Whether the filter mentions `property` anywhere (e.g. whether a sign-in
    /// query chose its event types, which decides the interactive-only default).
    pub fn mentions(&self, property: &str) -> bool {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => a.mentions(property) || b.mentions(property),
            Expr::Not(a) => a.mentions(property),
            Expr::Compare { path, .. } | Expr::Func { path, .. } | Expr::Any { path, .. } => {
                path.join("/").eq_ignore_ascii_case(property)
            }
        }
    }

    /// The time window the top-level `and` conjuncts impose on `property`
    /// (inclusive bounds; a strict bound is widened, which is safe for pruning).
    pub fn time_bounds(&self, property: &str) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        let mut bounds = (None, None);
        self.collect_bounds(property, &mut bounds);
        bounds
    }

    fn collect_bounds(
        &self,
        property: &str,
        bounds: &mut (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
    ) {
        match self {
            Expr::And(a, b) => {
                a.collect_bounds(property, bounds);
                b.collect_bounds(property, bounds);
            }
            Expr::Compare {
                path,
                op,
                value: Literal::Time(t),
            } if path.join("/").eq_ignore_ascii_case(property) => {
                let (lo, hi) = bounds;
                let raise =
                    |lo: &mut Option<DateTime<Utc>>| *lo = Some(lo.map_or(*t, |l| l.max(*t)));
                let lower =
                    |hi: &mut Option<DateTime<Utc>>| *hi = Some(hi.map_or(*t, |h| h.min(*t)));
                match op {
                    Op::Ge | Op::Gt => raise(lo),
                    Op::Le | Op::Lt => lower(hi),
                    Op::Eq => {
                        raise(lo);
                        lower(hi);
                    }
                    Op::Ne => {}
                }
            }
            _ => {}
        }
    }
}

fn resolve<'a>(
    root: &'a Value,
    env: &[(&'a str, &'a Value)],
    path: &[String],
) -> Option<&'a Value> {
    let (mut at, rest) = match path.first() {
        Some(first) => match env.iter().rev().find(|(name, _)| *name == first.as_str()) {
            Some((_, bound)) => (*bound, &path[1..]),
            None => (root, path),
        },
        None => (root, path),
    };
    for key in rest {
        let obj = at.as_object()?;
        at = obj.get(key).or_else(|| {
            obj.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })?;
    }
    Some(at)
}

fn compare(field: Option<&Value>, op: Op, lit: &Literal) -> bool {
    use std::cmp::Ordering;
    let field = field.filter(|v| !v.is_null());
    let ordering: Option<Ordering> = match (field, lit) {
        (None, Literal::Null) => Some(Ordering::Equal),
        (None, _) | (Some(_), Literal::Null) => None,
        (Some(v), Literal::Str(s)) => v.as_str().map(|f| f.to_lowercase().cmp(&s.to_lowercase())),
        (Some(v), Literal::Time(t)) => v
            .as_str()
            .and_then(m365_preserve_package::timefmt::parse_iso_datetime)
            .map(|f| f.utc.cmp(t)),
        (Some(v), Literal::Num(n)) => v.as_f64().and_then(|f| f.partial_cmp(n)),
        (Some(v), Literal::Bool(b)) => v.as_bool().map(|f| f.cmp(b)),
    };
    match (op, ordering) {
        (Op::Ne, None) => true,
        (_, None) => false,
        (Op::Eq, Some(o)) => o == Ordering::Equal,
        (Op::Ne, Some(o)) => o != Ordering::Equal,
        (Op::Gt, Some(o)) => o == Ordering::Greater,
        (Op::Ge, Some(o)) => o != Ordering::Less,
        (Op::Lt, Some(o)) => o == Ordering::Less,
        (Op::Le, Some(o)) => o != Ordering::Greater,
    }
}

// ------------------------------------------------------------------- parsing

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Comma,
    Colon,
    Word(String),
    Str(String),
    Lit(Literal),
}

/// Why a filter did not parse (the endpoint turns it into its own 400).
#[derive(Debug, PartialEq, Eq)]
pub struct SyntaxError(pub String);

fn tokenize(text: &str) -> Result<Vec<Tok>, SyntaxError> {
    let chars: Vec<char> = text.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                toks.push(Tok::LParen);
                i += 1
            }
            ')' => {
                toks.push(Tok::RParen);
                i += 1
            }
            ',' => {
                toks.push(Tok::Comma);
                i += 1
            }
            ':' => {
                toks.push(Tok::Colon);
                i += 1
            }
            '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(SyntaxError("unterminated string".into())),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            s.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(&ch) => {
                            s.push(ch);
                            i += 1;
                        }
                    }
                }
                toks.push(Tok::Str(s));
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                let start = i;
                i += 1;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric()
                        || matches!(chars[i], ':' | '.' | '-' | '+'))
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                toks.push(Tok::Lit(number_or_time(&word)?));
            }
            c if c.is_alphabetic() || c == '_' || c == '@' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric()
                        || matches!(chars[i], '_' | '/' | '.' | '@' | '#'))
                {
                    i += 1;
                }
                toks.push(Tok::Word(chars[start..i].iter().collect()));
            }
            other => return Err(SyntaxError(format!("unexpected {other:?}"))),
        }
    }
    Ok(toks)
}

fn number_or_time(word: &str) -> Result<Literal, SyntaxError> {
    if word.len() >= 10 && word.as_bytes().get(4) == Some(&b'-') {
        if word.len() == 10 {
            let day = NaiveDate::parse_from_str(word, "%Y-%m-%d")
                .map_err(|_| SyntaxError(format!("bad date {word}")))?;
            return Ok(Literal::Time(
                day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc(),
            ));
        }
        return DateTime::parse_from_rfc3339(word)
            .map(|t| Literal::Time(t.with_timezone(&Utc)))
            .map_err(|_| SyntaxError(format!("bad date-time {word}")));
    }
    word.parse::<f64>()
        .map(Literal::Num)
        .map_err(|_| SyntaxError(format!("bad number {word}")))
}

/// Parses a `$filter` expression.
pub fn parse(text: &str) -> Result<Expr, SyntaxError> {
    let toks = tokenize(text)?;
    let mut p = Parser {
        toks,
        at: 0,
        depth: 0,
    };
    let expr = p.or()?;
    if p.at != p.toks.len() {
        return Err(SyntaxError("trailing input".into()));
    }
    Ok(expr)
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
    depth: usize,
}

const MAX_DEPTH: usize = 64;

impl Parser {
    fn peek_word(&self, word: &str) -> bool {
        matches!(self.toks.get(self.at), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn expect(&mut self, tok: Tok) -> Result<(), SyntaxError> {
        if self.next().as_ref() == Some(&tok) {
            Ok(())
        } else {
            Err(SyntaxError(format!("expected {tok:?}")))
        }
    }

    fn or(&mut self) -> Result<Expr, SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(SyntaxError("too deeply nested".into()));
        }
        let mut left = self.and()?;
        while self.peek_word("or") {
            self.at += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, SyntaxError> {
        let mut left = self.unary()?;
        while self.peek_word("and") {
            self.at += 1;
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, SyntaxError> {
        if self.peek_word("not") {
            self.at += 1;
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(SyntaxError("too deeply nested".into()));
            }
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, SyntaxError> {
        match self.next() {
            Some(Tok::LParen) => {
                let e = self.or()?;
                self.expect(Tok::RParen)?;
                Ok(e)
            }
            Some(Tok::Word(word)) if self.toks.get(self.at) == Some(&Tok::LParen) => {
                self.at += 1;
                let lower = word.to_ascii_lowercase();
                if let Some(collection) =
                    lower.strip_suffix("/any").map(|_| &word[..word.len() - 4])
                {
                    let var = match self.next() {
                        Some(Tok::Word(v)) => v,
                        _ => return Err(SyntaxError("expected a range variable".into())),
                    };
                    self.expect(Tok::Colon)?;
                    let body = self.or()?;
                    self.expect(Tok::RParen)?;
                    return Ok(Expr::Any {
                        path: split_path(collection)?,
                        var,
                        body: Box::new(body),
                    });
                }
                let func = match lower.as_str() {
                    "startswith" => Func::StartsWith,
                    "endswith" => Func::EndsWith,
                    "contains" => Func::Contains,
                    _ => return Err(SyntaxError(format!("unknown function {word}"))),
                };
                let path = match self.next() {
                    Some(Tok::Word(p)) => split_path(&p)?,
                    _ => return Err(SyntaxError("expected a property".into())),
                };
                self.expect(Tok::Comma)?;
                let value = self.literal()?;
                self.expect(Tok::RParen)?;
                let e = Expr::Func { func, path, value };
                // `startswith(x, 'a') eq true` is the same test.
                if self.peek_word("eq") {
                    self.at += 1;
                    return match self.literal()? {
                        Literal::Bool(true) => Ok(e),
                        Literal::Bool(false) => Ok(Expr::Not(Box::new(e))),
                        _ => Err(SyntaxError("expected a boolean".into())),
                    };
                }
                Ok(e)
            }
            Some(Tok::Word(word)) => {
                let path = split_path(&word)?;
                let op = match self.next() {
                    Some(Tok::Word(o)) => match o.to_ascii_lowercase().as_str() {
                        "eq" => Op::Eq,
                        "ne" => Op::Ne,
                        "gt" => Op::Gt,
                        "ge" => Op::Ge,
                        "lt" => Op::Lt,
                        "le" => Op::Le,
                        _ => return Err(SyntaxError(format!("unknown operator {o}"))),
                    },
                    _ => return Err(SyntaxError("expected an operator".into())),
                };
                let value = self.literal()?;
                Ok(Expr::Compare { path, op, value })
            }
            other => Err(SyntaxError(format!("unexpected {other:?}"))),
        }
    }

    fn literal(&mut self) -> Result<Literal, SyntaxError> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Literal::Str(s)),
            Some(Tok::Lit(l)) => Ok(l),
            Some(Tok::Word(w)) => match w.to_ascii_lowercase().as_str() {
                "true" => Ok(Literal::Bool(true)),
                "false" => Ok(Literal::Bool(false)),
                "null" => Ok(Literal::Null),
                _ => Err(SyntaxError(format!("expected a value, found {w}"))),
            },
            other => Err(SyntaxError(format!("expected a value, found {other:?}"))),
        }
    }
}

fn split_path(word: &str) -> Result<Vec<String>, SyntaxError> {
    let parts: Vec<String> = word.split('/').map(str::to_string).collect();
    if parts.iter().any(String::is_empty) {
        return Err(SyntaxError(format!("bad property path {word}")));
    }
    Ok(parts)
}

// ------------------------------------------------------------- query options

/// The decoded query string of a request, and the raw one (for nextLinks that
/// keep the client's own encoding).
#[derive(Debug, Clone, Default)]
pub struct QueryOptions {
    pairs: Vec<(String, String)>,
    raw: String,
}

impl QueryOptions {
    /// Decodes `raw`; a repeated system option is a 400, as in Graph.
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (k, v) in url::form_urlencoded::parse(raw.as_bytes()) {
            if k.starts_with('$') && pairs.iter().any(|(seen, _)| seen.eq_ignore_ascii_case(&k)) {
                return Err(ApiError::bad_request(format!(
                    "Query option '{k}' was specified more than once, but it must be specified at most once."
                )));
            }
            pairs.push((k.into_owned(), v.into_owned()));
        }
        Ok(Self {
            pairs,
            raw: raw.to_string(),
        })
    }

    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// Value of a system query option (`$filter`...), case-insensitive name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Refuses `$` options the endpoint does not support.
    pub fn allow_only(&self, allowed: &[&str]) -> Result<(), ApiError> {
        for (k, _) in &self.pairs {
            if k.starts_with('$') && !allowed.iter().any(|a| a.eq_ignore_ascii_case(k)) {
                return Err(ApiError::bad_request(format!(
                    "Query option '{k}' is not allowed. Make sure that it is supported by the resource."
                )));
            }
        }
        Ok(())
    }

    /// Every pair but `$skiptoken`, for binding a skip token to its query.
    pub fn without_skiptoken(&self) -> impl Iterator<Item = &(String, String)> {
        self.pairs
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("$skiptoken"))
    }

    /// `$select` as a list of property names.
    pub fn select(&self) -> Result<Option<Vec<String>>, ApiError> {
        let Some(raw) = self.get("$select") else {
            return Ok(None);
        };
        let fields: Vec<String> = raw.split(',').map(|f| f.trim().to_string()).collect();
        let valid = |f: &String| {
            !f.is_empty()
                && f.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '@' || c == '.')
        };
        if !fields.iter().all(valid) {
            return Err(ApiError::bad_request(format!(
                "Invalid $select clause: '{raw}'."
            )));
        }
        Ok(Some(fields))
    }

    /// `$top` within `1..=max` (default `default`); `error` words the refusal.
    pub fn top(
        &self,
        default: usize,
        max: usize,
        error: impl Fn(&str) -> ApiError,
    ) -> Result<usize, ApiError> {
        match self.get("$top") {
            None => Ok(default),
            Some(raw) => match raw.trim().parse::<usize>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(error(raw)),
            },
        }
    }
}

/// Keeps only the `$select`ed properties of `record` (in record order, then
/// selected-but-absent ones as `null`, as Graph does); `always` properties and
/// `@odata.type` are kept whether selected or not.
pub fn project(record: &Value, select: &[String], always: &[&str]) -> Value {
    let Some(obj) = record.as_object() else {
        return record.clone();
    };
    let wanted = |k: &str| {
        k == "@odata.type"
            || always.contains(&k)
            || select.iter().any(|s| s.eq_ignore_ascii_case(k))
    };
    let mut out = Map::new();
    for (k, v) in obj {
        if wanted(k) {
            out.insert(k.clone(), v.clone());
        }
    }
    for s in select {
        if !obj.keys().any(|k| k.eq_ignore_ascii_case(s)) {
            out.insert(s.clone(), Value::Null);
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SPEC: FilterSpec = FilterSpec {
        entity: "signIn",
        props: &[
            Prop {
                path: "createdDateTime",
                kind: Kind::Time,
                ops: EQ | ORD,
            },
            Prop {
                path: "userId",
                kind: Kind::Str,
                ops: EQ,
            },
            Prop {
                path: "status/errorCode",
                kind: Kind::Num,
                ops: EQ,
            },
            Prop {
                path: "userPrincipalName",
                kind: Kind::Str,
                ops: EQ | STARTS,
            },
        ],
        lambdas: &[Lambda {
            path: "signInEventTypes",
            item: &[Prop {
                path: "",
                kind: Kind::Str,
                ops: EQ | NE,
            }],
        }],
        or_refused: None,
        style: Style::AuditLog,
    };

    fn rec() -> Value {
        json!({"createdDateTime": "2026-09-02T10:00:00.123Z", "userId": "ABC",
               "userPrincipalName": "alice@contoso.com", "status": {"errorCode": 50126},
               "signInEventTypes": ["nonInteractiveUser"]})
    }

    #[test]
    fn lambdas_with_or_and_ne() {
        let e = SPEC
            .parse("createdDateTime ge 2026-09-01T00:00:00Z and (signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser'))")
            .unwrap();
        assert!(e.matches(&rec()));
        let e = SPEC
            .parse("signInEventTypes/any(t: t ne 'nonInteractiveUser')")
            .unwrap();
        assert!(!e.matches(&rec()));
        assert!(e.mentions("signInEventTypes"));
    }

    #[test]
    fn strings_ignore_case_and_numbers_compare() {
        assert!(SPEC.parse("userId eq 'abc'").unwrap().matches(&rec()));
        assert!(SPEC
            .parse("userPrincipalName eq 'ALICE@contoso.com'")
            .unwrap()
            .matches(&rec()));
        assert!(SPEC
            .parse("startswith(userPrincipalName, 'ali')")
            .unwrap()
            .matches(&rec()));
        assert!(SPEC
            .parse("status/errorCode eq 50126")
            .unwrap()
            .matches(&rec()));
        assert!(!SPEC
            .parse("createdDateTime le 2026-09-02")
            .unwrap()
            .matches(&rec()));
    }

    #[test]
    fn unsupported_and_malformed_filters_are_refused() {
        for bad in [
            "status/errorCode ge 1",
            "appId eq 'x'",
            "userId eq 5",
            "createdDateTime ge '2026-09-01T00:00:00Z'",
            "userId eq 'x' and",
            "userId eq 'unterminated",
            "not userId eq 'x'",
            "signInEventTypes/any(t: t ge 'x')",
            "((((",
            "",
        ] {
            let err = SPEC.parse(bad).unwrap_err();
            assert_eq!(err.message, "Invalid filter clause", "{bad}");
        }
        let deep = format!("{}userId eq 'x'{}", "(".repeat(500), ")".repeat(500));
        assert!(SPEC.parse(&deep).is_err());
    }

    #[test]
    fn time_bounds_come_from_top_level_conjuncts() {
        let e = SPEC
            .parse("createdDateTime ge 2026-09-01T00:00:00Z and userId eq 'a' and createdDateTime le 2026-09-03T00:00:00Z")
            .unwrap();
        let (lo, hi) = e.time_bounds("createdDateTime");
        assert_eq!(lo.unwrap().to_rfc3339(), "2026-09-01T00:00:00+00:00");
        assert_eq!(hi.unwrap().to_rfc3339(), "2026-09-03T00:00:00+00:00");
    }

    #[test]
    fn select_projects_and_fills_nulls() {
        let v = project(&rec(), &["userId".into(), "mobilePhone".into()], &[]);
        assert_eq!(v, json!({"userId": "ABC", "mobilePhone": null}));
    }
}
