//! m365-preserve: thin binary over the library crates. Parses the command line,
//! dispatches to one module per subcommand, maps errors to exit codes.

mod cli;
mod commands;
mod logging;
mod outcome;
mod progress;

use clap::{CommandFactory, FromArgMatches};
use std::process::ExitCode;

fn main() -> ExitCode {
    let matches = cli::Cli::command().get_matches();
    let mut cli = cli::Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if let Err(e) = cli.place_declarations(&matches) {
        e.exit()
    }
    let log = logging::init(cli.quiet, cli.verbose);
    match commands::run(cli, &log) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", describe(&err));
            ExitCode::from(commands::EXIT_FAILURE)
        }
    }
}

/// The error and its causes, each said once: a cause whose text the message
/// already holds is not repeated.
fn describe(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}
