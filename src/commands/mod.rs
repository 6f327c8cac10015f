//! One module per subcommand, plus what they share (secrets input, exit codes).

pub mod collect;
mod connect;
mod custody;
mod demo;
mod doctor;
mod import;
mod interview;
mod keygen;
mod open;
mod report;
mod seal;
mod send;
mod sim;
mod verify;

use crate::cli::{Cli, Command, CustodyCommand, IdentityArgs};
use crate::logging::LogCapture;
use age::secrecy::SecretString;
use anyhow::{bail, Context, Result};
use m365_preserve_package::crypto::Identities;
use std::process::ExitCode;

pub const EXIT_FAILURE: u8 = 1;
/// Sealed, but some source is partial or unavailable.
pub const EXIT_INCOMPLETE: u8 = 3;
/// Stopped by Ctrl-C (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

/// The error and its causes, each said once: a cause whose text the message
/// already holds is not repeated.
pub fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = String::new();
    let mut cause = Some(err);
    while let Some(c) = cause {
        let part = c.to_string();
        if !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
        cause = c.source();
    }
    text
}

pub fn run(cli: Cli, log: &LogCapture) -> Result<ExitCode> {
    let quiet = cli.quiet;
    let lang = cli.language();
    match cli.command {
        Command::Seal(args) => seal::run(args, lang, quiet, log),
        Command::Verify(args) => verify::run(args),
        Command::Open(args) => open::run(args),
        Command::Custody(CustodyCommand::Record(args)) => custody::record(args),
        Command::Custody(CustodyCommand::Show(args)) => custody::show(args),
        Command::Keygen(args) => keygen::run(args),
        Command::Doctor(args) => doctor::run(args),
        Command::Collect(args) => collect::run(*args, lang, quiet, log),
        Command::Demo(args) => demo::run(args, lang, quiet, log),
        Command::Sim(args) => sim::run(args),
        Command::Import(args) => import::run(*args, lang, quiet, log),
        Command::Send(args) => send::run(args, quiet),
        Command::Report(args) => report::run(args, lang, quiet),
        Command::Interview(args) => interview::run(args, lang),
    }
}

/// Reads a passphrase from the named environment variable, or else the terminal.
/// `confirm` asks twice (when encrypting).
pub fn read_passphrase(env_var: Option<&str>, confirm: bool) -> Result<SecretString> {
    if let Some(var) = env_var {
        let Ok(value) = std::env::var(var) else {
            bail!("environment variable {var} (named by --passphrase-env) is not set");
        };
        if value.is_empty() {
            bail!("environment variable {var} is empty");
        }
        return Ok(SecretString::from(value));
    }
    let no_tty =
        || "no terminal to read the passphrase from; use --passphrase-env VAR for automation";
    let first = rpassword::prompt_password("Passphrase: ").with_context(no_tty)?;
    if first.is_empty() {
        bail!("the passphrase is empty");
    }
    if confirm {
        let second = rpassword::prompt_password("Passphrase (again): ").with_context(no_tty)?;
        if first != second {
            bail!("the two passphrases differ");
        }
    }
    Ok(SecretString::from(first))
}

/// The decryption identities named on the command line, if any.
pub fn identities(args: &IdentityArgs) -> Result<Option<Identities>> {
    if let Some(path) = &args.identity {
        return Ok(Some(Identities::from_file(path)?));
    }
    if args.passphrase || args.passphrase_env.is_some() {
        return Ok(Some(Identities::Passphrase(read_passphrase(
            args.passphrase_env.as_deref(),
            false,
        )?)));
    }
    Ok(None)
}

/// Prints a JSON document on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
