//! The simulated tenant's own tests: its Graph routes, token endpoint and
//! Management Activity API over loopback, and its built-in scenario.

mod csdl;
mod scenario;
mod sim_auth;
mod sim_graph;
