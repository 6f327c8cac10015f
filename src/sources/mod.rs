//! The evidence sources: names (DESIGN.md), what each needs, where it comes from.

mod catalogue;

pub use catalogue::{Requirement, SourceInfo, CATALOGUE};
