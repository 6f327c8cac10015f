//! The read-only HTTP client for Microsoft Graph and the Office 365 Management
//! Activity API: paging, retries, pacing per throttle budget, typed errors and
//! raw capture.

mod budget;
mod client;
mod error;
mod raw;

pub use budget::{Admission, Budget, Pacer};
pub use client::{Api, Fetched, Page, Pager, ReadOnlyClient, Request};
pub use error::{classify, error_parts, permission_in, GraphError, Verdict};
pub use raw::{RawMeta, RawSink};
