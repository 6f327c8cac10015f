//! Graph's own schema, which the simulator serves: Microsoft's CSDL metadata
//! for the types it serves (`data/csdl/`, copied from msgraph-metadata, MIT),
//! read with the subset of OData CSDL
//! (<https://docs.oasis-open.org/odata/odata-csdl-xml/v4.01/>) that Graph uses:
//! entity and complex types with their base types, structural and navigation
//! properties, and enum types with their members in order. Names are stored
//! namespace-qualified, aliases resolved.

use std::collections::HashMap;
use std::sync::OnceLock;

const V1: &str = include_str!("../data/csdl/v1.0.xml");
const V1_MORE: &str = include_str!("../data/csdl/v1.0-more.xml");
const BETA: &str = include_str!("../data/csdl/beta.xml");

/// The v1.0 types (`v1.0.xml` and `v1.0-more.xml`).
pub fn v1() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| Model::parse(&[V1, V1_MORE]))
}

/// The beta types (`beta.xml`: signIn and what it uses).
pub fn beta() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| Model::parse(&[BETA]))
}

/// The type of a property: one value or a collection of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeRef {
    /// Qualified name: `Edm.String`, `microsoft.graph.signInStatus`, ...
    pub name: String,
    pub collection: bool,
}

/// A structural property.
#[derive(Debug, Clone)]
pub struct Property {
    pub name: String,
    pub ty: TypeRef,
    /// `Nullable`, `true` unless the schema says `false`.
    pub nullable: bool,
}

/// An `EntityType` or `ComplexType`.
#[derive(Debug, Clone)]
pub struct StructType {
    pub name: String,
    pub base: Option<String>,
    pub is_abstract: bool,
    pub open: bool,
    pub properties: Vec<Property>,
    /// Position of each property in `properties`, by name.
    index: HashMap<String, usize>,
    /// Navigation properties: name and target type.
    pub navigation: Vec<(String, TypeRef)>,
}

/// Evolvable members Graph documents where the copied schema cannot show them:
/// `beta.xml` lists the members of `incomingTokenType` without values, in
/// alphabetical order, while the signIn page names `remoteDesktopToken` and
/// `refreshToken` as the two sent only with the Prefer header
/// (shared/reference/graph-api.md §1.7).
pub const DOCUMENTED_EVOLVABLE: &[(&str, &[&str])] = &[(
    "microsoft.graph.incomingTokenType",
    &["remoteDesktopToken", "refreshToken"],
)];

/// An `EnumType`.
#[derive(Debug, Clone)]
pub struct EnumType {
    pub name: String,
    pub flags: bool,
    /// Member names in the schema's order.
    pub members: Vec<String>,
}

impl EnumType {
    /// `unknownFutureValue`, spelled as this enum spells it.
    pub fn placeholder(&self) -> Option<&str> {
        self.members
            .iter()
            .find(|m| m.eq_ignore_ascii_case("unknownFutureValue"))
            .map(String::as_str)
    }

    /// Whether `member` is evolvable: sent only with `Prefer:
    /// include-unknown-enum-members`, as members after `unknownFutureValue` are.
    pub fn is_evolvable(&self, member: &str) -> bool {
        let documented = DOCUMENTED_EVOLVABLE
            .iter()
            .any(|(e, members)| *e == self.name && members.contains(&member));
        let unknown = self
            .members
            .iter()
            .position(|m| m.eq_ignore_ascii_case("unknownFutureValue"));
        let position = self.members.iter().position(|m| m == member);
        documented || matches!((unknown, position), (Some(u), Some(i)) if i > u)
    }
}

/// What a qualified type name stands for.
pub enum Kind<'m> {
    Primitive(&'m str),
    Struct(&'m StructType),
    Enum(&'m EnumType),
    /// Neither primitive nor declared in the files read.
    Unknown,
}

/// Every type of one or more CSDL files.
#[derive(Debug, Default)]
pub struct Model {
    structs: HashMap<String, StructType>,
    enums: HashMap<String, EnumType>,
}

impl Model {
    /// Reads CSDL documents into one model: a document may use an alias another
    /// declares (as v1.0-more.xml uses v1.0.xml's `graph` and `self`). The
    /// documents are the crate's own, so a malformed one is a bug (panic).
    fn parse(texts: &[&str]) -> Self {
        let docs: Vec<roxmltree::Document> = texts
            .iter()
            .map(|t| roxmltree::Document::parse(t).expect("the embedded CSDL is well-formed"))
            .collect();
        let schemas = || {
            docs.iter()
                .flat_map(|d| d.descendants())
                .filter(|n| n.has_tag_name("Schema"))
        };
        let mut aliases = HashMap::new();
        for schema in schemas() {
            let namespace = schema.attribute("Namespace").expect("Schema Namespace");
            if let Some(alias) = schema.attribute("Alias") {
                aliases.insert(alias.to_string(), namespace.to_string());
            }
        }
        let qualify = |name: &str| -> String {
            match name.rsplit_once('.') {
                Some((prefix, local)) => match aliases.get(prefix) {
                    Some(ns) => format!("{ns}.{local}"),
                    None => name.to_string(),
                },
                None => name.to_string(),
            }
        };
        let type_ref = |raw: &str| match raw
            .strip_prefix("Collection(")
            .and_then(|r| r.strip_suffix(')'))
        {
            Some(inner) => TypeRef {
                name: qualify(inner),
                collection: true,
            },
            None => TypeRef {
                name: qualify(raw),
                collection: false,
            },
        };
        let mut model = Model::default();
        for schema in schemas() {
            let namespace = schema.attribute("Namespace").expect("Schema Namespace");
            for node in schema.children().filter(|n| n.is_element()) {
                let Some(local) = node.attribute("Name") else {
                    continue;
                };
                let name = format!("{namespace}.{local}");
                let children = || node.children().filter(|c| c.is_element());
                match node.tag_name().name() {
                    "EnumType" => {
                        let members = children()
                            .filter(|c| c.has_tag_name("Member"))
                            .map(|c| c.attribute("Name").expect("Member Name").to_string())
                            .collect();
                        let flags = node.attribute("IsFlags") == Some("true");
                        let e = EnumType {
                            name: name.clone(),
                            flags,
                            members,
                        };
                        model.enums.insert(name, e);
                    }
                    "EntityType" | "ComplexType" => {
                        let properties = children()
                            .filter(|c| c.has_tag_name("Property"))
                            .map(|c| Property {
                                name: c.attribute("Name").expect("Property Name").into(),
                                ty: type_ref(c.attribute("Type").expect("Property Type")),
                                nullable: c.attribute("Nullable") != Some("false"),
                            })
                            .collect();
                        let navigation = children()
                            .filter(|c| c.has_tag_name("NavigationProperty"))
                            .map(|c| {
                                (
                                    c.attribute("Name").expect("Name").to_string(),
                                    type_ref(c.attribute("Type").expect("Type")),
                                )
                            })
                            .collect();
                        let properties: Vec<Property> = properties;
                        let index = properties
                            .iter()
                            .enumerate()
                            .map(|(i, p)| (p.name.clone(), i))
                            .collect();
                        let t = StructType {
                            name: name.clone(),
                            base: node.attribute("BaseType").map(qualify),
                            is_abstract: node.attribute("Abstract") == Some("true"),
                            open: node.attribute("OpenType") == Some("true"),
                            properties,
                            index,
                            navigation,
                        };
                        model.structs.insert(name, t);
                    }
                    _ => {}
                }
            }
        }
        model
    }

    /// What the qualified type `name` is (`Edm.String`, `microsoft.graph.user`...).
    pub fn kind<'m>(&'m self, name: &'m str) -> Kind<'m> {
        if let Some(primitive) = name.strip_prefix("Edm.") {
            return Kind::Primitive(primitive);
        }
        match (self.structs.get(name), self.enums.get(name)) {
            (Some(s), _) => Kind::Struct(s),
            (None, Some(e)) => Kind::Enum(e),
            (None, None) => Kind::Unknown,
        }
    }

    /// The entity or complex type `name` (qualified).
    pub fn structure(&self, name: &str) -> Option<&StructType> {
        self.structs.get(name)
    }

    /// `t` and its base types, most derived first.
    pub fn lineage<'m>(&'m self, t: &'m StructType) -> Vec<&'m StructType> {
        let mut out = vec![t];
        let mut current = t;
        while let Some(base) = &current.base {
            let b = self
                .structs
                .get(base)
                .unwrap_or_else(|| panic!("{}: base type {base} is not in the model", t.name));
            out.push(b);
            current = b;
        }
        out
    }

    /// Every structural property of `t`, inherited ones first.
    pub fn properties<'m>(&'m self, t: &'m StructType) -> Vec<&'m Property> {
        let mut lineage = self.lineage(t);
        lineage.reverse();
        lineage.iter().flat_map(|s| s.properties.iter()).collect()
    }

    /// The structural property `name` of `t` or a base type.
    pub fn property<'m>(&'m self, t: &'m StructType, name: &str) -> Option<&'m Property> {
        let mut current = Some(t);
        while let Some(s) = current {
            if let Some(&i) = s.index.get(name) {
                return Some(&s.properties[i]);
            }
            current = s.base.as_deref().and_then(|b| self.structs.get(b));
        }
        None
    }

    /// The navigation property `name` of `t` or a base type.
    pub fn navigation<'m>(&'m self, t: &'m StructType, name: &str) -> Option<&'m TypeRef> {
        self.lineage(t)
            .into_iter()
            .flat_map(|s| s.navigation.iter())
            .find(|(n, _)| n == name)
            .map(|(_, ty)| ty)
    }

    /// Whether `t` or a base type is open (takes dynamic properties).
    pub fn is_open(&self, t: &StructType) -> bool {
        self.lineage(t).iter().any(|s| s.open)
    }

    /// Whether `derived` is `base` or derives from it.
    pub fn derives(&self, derived: &StructType, base: &str) -> bool {
        self.lineage(derived).iter().any(|s| s.name == base)
    }
}
