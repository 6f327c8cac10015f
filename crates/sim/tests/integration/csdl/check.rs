//! Checks JSON records against CSDL types the way a Graph response must match
//! its metadata: every structural property present (`null` where unset, a
//! non-nullable collection as `[]`), no property the type lacks unless the type
//! is open, enum members spelled as the schema spells them, evolvable members
//! (after `unknownFutureValue`) only when the client opted in, and primitive
//! values of their Edm type (loosely: strings, booleans, integers, numbers,
//! RFC 3339 times, GUIDs).

use m365_preserve_sim::csdl::{Kind, Model, Property, StructType, TypeRef};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// What an [`Exception`] lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allow {
    /// The property is sent although the type lacks it.
    Extra,
    /// The property is declared but not sent.
    Absent,
}

/// A place where observed Graph differs from its metadata: the record follows
/// the observation, and the difference is named here with its source.
#[derive(Debug, Clone, Copy)]
pub struct Exception {
    /// Qualified type name.
    pub ty: &'static str,
    pub property: &'static str,
    pub allow: Allow,
    /// Where the observation is documented.
    pub why: &'static str,
}

/// A type the vendored subset does not hold (a record of it is checked against
/// the type its property or route declares, with any further properties allowed).
#[derive(Debug, Clone, Copy)]
pub struct Outside {
    pub ty: &'static str,
    pub why: &'static str,
}

/// Violations, each counted once per route, place and problem (thousands of
/// records sharing one drift make one line), with the first record's id.
#[derive(Debug, Default)]
pub struct Findings {
    found: BTreeMap<(String, String, String), (usize, String)>,
    /// Records checked.
    pub records: usize,
    /// Evolvable enum members (`type.member`) seen by a client that opted in.
    pub evolvable: BTreeSet<String>,
}

impl Findings {
    fn add(&mut self, route: &str, at: &str, problem: String, example: &str) {
        // One line per route template: ids in the path are `{id}`.
        let route: Vec<&str> = route
            .split('/')
            .map(|s| {
                if s.len() >= 20 && !s.contains(' ') {
                    "{id}"
                } else {
                    s
                }
            })
            .collect();
        self.found
            .entry((route.join("/"), at.to_string(), problem))
            .or_insert((0, example.to_string()))
            .0 += 1;
    }

    pub fn is_empty(&self) -> bool {
        self.found.is_empty()
    }

    /// One line per violation: route, place, problem, how often, an example id.
    pub fn report(&self) -> String {
        self.found
            .iter()
            .map(|((route, at, problem), (n, example))| {
                format!("{route}: {at}: {problem} ({n}x, e.g. id {example})")
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// One record being checked: where it came from.
struct Record<'a> {
    route: &'a str,
    id: String,
}

pub struct Checker<'a> {
    pub model: &'a Model,
    pub exceptions: &'a [Exception],
    pub outside: &'a [Outside],
}

impl Checker<'_> {
    fn excepted(&self, ty: &StructType, property: &str, allow: Allow) -> bool {
        self.model.lineage(ty).iter().any(|t| {
            self.exceptions
                .iter()
                .any(|e| e.ty == t.name && e.property == property && e.allow == allow)
        })
    }

    /// Checks `value`, a record of `ty` served by `route`. `select` is the
    /// `$select` list the request sent (only those properties are expected);
    /// `opted_in` says whether it sent `Prefer: include-unknown-enum-members`.
    pub fn record(
        &self,
        route: &str,
        value: &Value,
        ty: &str,
        select: Option<&[String]>,
        opted_in: bool,
        findings: &mut Findings,
    ) {
        findings.records += 1;
        let record = Record {
            route,
            id: value
                .get("id")
                .map(|v| v.as_str().map_or(v.to_string(), str::to_string))
                .unwrap_or_default(),
        };
        let walk = Walk {
            checker: self,
            record: &record,
            opted_in,
        };
        let short = ty.rsplit('.').next().unwrap_or(ty);
        walk.structured(short, value, ty, select, findings);
    }
}

struct Walk<'a> {
    checker: &'a Checker<'a>,
    record: &'a Record<'a>,
    opted_in: bool,
}

impl Walk<'_> {
    fn problem(&self, f: &mut Findings, at: &str, problem: String) {
        f.add(self.record.route, at, problem, &self.record.id);
    }

    /// The type a value's `@odata.type` names, if it derives from `declared`.
    fn actual<'m>(
        &self,
        model: &'m Model,
        at: &str,
        obj: &Map<String, Value>,
        declared: &'m StructType,
        f: &mut Findings,
    ) -> (&'m StructType, bool) {
        let Some(odata_type) = obj.get("@odata.type") else {
            if declared.is_abstract {
                self.problem(
                    f,
                    at,
                    format!("{} is abstract: @odata.type is missing", declared.name),
                );
            }
            return (declared, false);
        };
        let name = odata_type.as_str().unwrap_or("").trim_start_matches('#');
        match model.structure(name) {
            Some(t) if model.derives(t, &declared.name) => (t, false),
            Some(_) => {
                self.problem(
                    f,
                    at,
                    format!("@odata.type {name} does not derive from {}", declared.name),
                );
                (declared, false)
            }
            None if self.checker.outside.iter().any(|o| o.ty == name) => (declared, true),
            None => {
                self.problem(f, at, format!("@odata.type {name} is not in the schema"));
                (declared, true)
            }
        }
    }

    fn structured(
        &self,
        at: &str,
        value: &Value,
        declared: &str,
        select: Option<&[String]>,
        f: &mut Findings,
    ) {
        let model = self.checker.model;
        let Some(declared) = model.structure(declared) else {
            self.problem(f, at, format!("type {declared} is not in the schema"));
            return;
        };
        if declared.name == "microsoft.graph.Json" {
            return;
        }
        let Some(obj) = value.as_object() else {
            self.problem(f, at, format!("expected an object ({})", declared.name));
            return;
        };
        let (ty, lenient) = self.actual(model, at, obj, declared, f);
        let properties = model.properties(ty);
        let selected = |name: &str| select.is_none_or(|s| s.iter().any(|p| p == name));
        for p in &properties {
            if p.ty.name == "Edm.Stream" || !selected(&p.name) {
                continue;
            }
            let here = format!("{at}.{}", p.name);
            match obj.get(&p.name) {
                Some(v) => self.property(&here, v, p, f),
                None if self.checker.excepted(ty, &p.name, Allow::Absent) => {}
                None => self.problem(f, &here, "missing".into()),
            }
        }
        let open = lenient || model.is_open(ty);
        for (key, v) in obj {
            let name = key.split('@').next().unwrap_or("");
            if name.is_empty() || properties.iter().any(|p| p.name == name) {
                continue;
            }
            if key.contains('@') {
                continue;
            }
            let here = format!("{at}.{key}");
            if let Some(target) = model.navigation(ty, key) {
                // Expanded: checked when its type is known, never required.
                if model.structure(&target.name).is_some() {
                    self.value(&here, v, target, true, f);
                }
            } else if !open && !self.checker.excepted(ty, key, Allow::Extra) {
                self.problem(f, &here, format!("not a property of {}", ty.name));
            }
        }
    }

    fn property(&self, at: &str, v: &Value, p: &Property, f: &mut Findings) {
        self.value(at, v, &p.ty, p.nullable, f);
    }

    fn value(&self, at: &str, v: &Value, ty: &TypeRef, nullable: bool, f: &mut Findings) {
        if ty.collection {
            match v {
                Value::Array(items) => {
                    let at = format!("{at}[]");
                    for item in items {
                        if item.is_null() {
                            if !nullable {
                                self.problem(
                                    f,
                                    &at,
                                    "null item in a non-nullable collection".into(),
                                );
                            }
                        } else {
                            self.single(&at, item, &ty.name, f);
                        }
                    }
                }
                Value::Null if nullable => {}
                Value::Null => self.problem(
                    f,
                    at,
                    "null: a non-nullable collection is [] when empty".into(),
                ),
                other => self.problem(f, at, format!("expected an array, got {other}")),
            }
            return;
        }
        if v.is_null() {
            if !nullable {
                self.problem(f, at, format!("null, but {} is not nullable", ty.name));
            }
            return;
        }
        self.single(at, v, &ty.name, f);
    }

    fn single(&self, at: &str, v: &Value, ty: &str, f: &mut Findings) {
        match self.checker.model.kind(ty) {
            Kind::Primitive(p) => {
                if let Some(problem) = primitive(p, v) {
                    self.problem(f, at, problem);
                }
            }
            Kind::Enum(e) => {
                let Some(text) = v.as_str() else {
                    self.problem(f, at, format!("expected a {ty} member, got {v}"));
                    return;
                };
                let parts: Vec<&str> = if e.flags {
                    text.split(',').collect()
                } else {
                    vec![text]
                };
                for part in parts {
                    match e.members.iter().position(|m| m == part) {
                        Some(_) if e.is_evolvable(part) => {
                            if self.opted_in {
                                f.evolvable.insert(format!("{ty}.{part}"));
                            } else {
                                self.problem(
                                    f,
                                    at,
                                    format!(
                                        "{part:?} comes after unknownFutureValue in {ty}: sent only with Prefer: include-unknown-enum-members"
                                    ),
                                );
                            }
                        }
                        Some(_) => {}
                        None => match e.members.iter().find(|m| m.eq_ignore_ascii_case(part)) {
                            Some(m) => {
                                self.problem(f, at, format!("{part:?} is spelled {m:?} in {ty}"))
                            }
                            None => {
                                self.problem(f, at, format!("{part:?} is not a member of {ty}"))
                            }
                        },
                    }
                }
            }
            Kind::Struct(_) => self.structured(at, v, ty, None, f),
            Kind::Unknown => {
                if !self.checker.outside.iter().any(|o| o.ty == ty) {
                    self.problem(f, at, format!("type {ty} is not in the schema"));
                }
            }
        }
    }
}

/// A problem with `v` as a value of `Edm.{p}`, if any.
fn primitive(p: &str, v: &Value) -> Option<String> {
    let ok = match p {
        "String" | "Binary" => v.is_string(),
        "Boolean" => v.is_boolean(),
        "Byte" | "SByte" | "Int16" | "Int32" | "Int64" => v.is_i64() || v.is_u64(),
        "Double" | "Single" | "Decimal" => {
            v.is_number() || matches!(v.as_str(), Some("NaN" | "INF" | "-INF"))
        }
        "DateTimeOffset" => v
            .as_str()
            .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok()),
        "Date" => v
            .as_str()
            .is_some_and(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()),
        "TimeOfDay" => v
            .as_str()
            .is_some_and(|s| chrono::NaiveTime::parse_from_str(s, "%H:%M:%S%.f").is_ok()),
        "Duration" => v
            .as_str()
            .is_some_and(|s| s.trim_start_matches('-').starts_with('P')),
        "Guid" => v.as_str().is_some_and(|s| uuid::Uuid::try_parse(s).is_ok()),
        "Untyped" => true,
        other => return Some(format!("Edm.{other} is not checked by this test")),
    };
    (!ok).then(|| format!("{v} is not an Edm.{p}"))
}
