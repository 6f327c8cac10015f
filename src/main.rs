//! m365-preserve: thin binary over the library. Parses the command line,
//! dispatches to one module per subcommand, maps errors to exit codes.

mod cli;
mod commands;
mod logging;
mod progress;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let log = logging::init(cli.quiet, cli.verbose);
    match commands::run(cli, &log) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(commands::EXIT_FAILURE)
        }
    }
}
