//! The simulated tenant: an axum server on loopback that behaves like Microsoft
//! Graph, the Entra token endpoint and the Office 365 Management Activity API for
//! the fixture it serves (paging, filters, licences, throttling, faults), so the
//! real client can be tested and demonstrated without a tenant.

pub mod auth;
pub mod fixture;
pub mod management;
pub mod shared;
pub mod token;
