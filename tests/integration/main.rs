//! End-to-end tests of the real binary (one harness, ripgrep's style): the
//! package with the standard tools, collection against the simulated tenant,
//! import of real and self-written exports, the schemas, the README, the CLI's
//! text and the architecture's rules.

mod architecture;
mod cli;
mod client_sim;
mod collect_sim;
mod common;
mod custody_concurrency;
mod disk_full_sim;
mod doctor_sim;
mod exchange_sim;
mod gaps_sim;
mod handover;
mod import_bad_input;
mod import_cli;
mod import_corpus;
mod import_library;
mod import_peers;
mod kill_sim;
mod package_bad_input;
mod package_interop;
mod readme;
mod report_sim;
mod schemas;
mod sim_cli;
mod sources_sim;
mod storm_sim;
