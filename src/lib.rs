//! m365-preserve: preserve the evidence of a compromised Microsoft 365 / Entra ID
//! account into a sealed, encrypted, chain-of-custody package.
//!
//! The library holds everything the receiving firm may want to reuse (evidence
//! writers, package format, verification); the binary is a thin CLI over it.

pub mod auth;
pub mod collect;
pub mod evidence;
pub mod graph;
pub mod hashing;
pub mod import;
pub mod package;
pub mod retry;
pub mod sim;
pub mod sources;
pub mod timefmt;

/// Name and version written into every package, seal and acquisition record.
pub const TOOL_NAME: &str = env!("CARGO_PKG_NAME");
/// Tool version, from Cargo.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");
