//! The simulated tenant: an axum server on loopback that behaves like Microsoft
//! Graph, the Entra token endpoint, the Office 365 Management Activity API and
//! Exchange Online's admin API for
//! the fixture it serves (paging, filters, licences, throttling, faults), so the
//! real client can be tested and demonstrated without a tenant.

pub mod auth;
pub mod csdl;
mod error;
pub mod exchange;
pub mod faults;
pub mod fixture;
pub mod graph;
pub mod management;
pub mod odata;
pub mod outage;
pub mod reqlog;
pub mod scenario;
pub mod server;
pub mod settings;
pub mod shared;
pub mod throttle;
pub mod token;

pub use error::SimError;
