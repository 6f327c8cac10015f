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
        Err(err) if err.is::<commands::collect::Interrupted>() => {
            eprintln!("{err}");
            ExitCode::from(commands::EXIT_INTERRUPTED)
        }
        Err(err) => {
            eprintln!("error: {}", commands::describe(err.as_ref()));
            ExitCode::from(commands::EXIT_FAILURE)
        }
    }
}
