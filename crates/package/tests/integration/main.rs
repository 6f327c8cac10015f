//! Tests of the package format crate through its public API (one harness):
//! property tests of the name policy and of every reader of outside input.

mod common;
mod hostile;
mod names;
