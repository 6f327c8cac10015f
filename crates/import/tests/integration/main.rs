//! The importer's integration tests (one harness): property-based mutation of
//! real-shaped samples of every format reader.

mod mutations;
