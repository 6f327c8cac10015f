//! `m365-preserve open`: verify, then extract safely.

use super::{identities, print_json};
use crate::cli::OpenArgs;
use anyhow::{bail, Result};
use m365_preserve_handover::Location;
use m365_preserve_package::open::open;
use std::process::ExitCode;

pub fn run(args: OpenArgs) -> Result<ExitCode> {
    let location = Location::parse(args.package.as_os_str())?;
    let Some(ids) = identities(&args.identity)? else {
        bail!("open needs the key: give --identity FILE (or --passphrase / --passphrase-env VAR)");
    };
    let report = open(
        location.reader(),
        &ids,
        &args.to,
        args.checks.max_ratio,
        args.checks.signer.as_deref(),
    )?;
    if args.json {
        print_json(&report)?;
    } else {
        super::verify::print_report(&report, true);
        if report.ok {
            println!("Extracted into {}", args.to.display());
        } else {
            println!("Nothing was extracted.");
        }
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_FAILURE)
    })
}
