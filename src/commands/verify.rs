//! `m365-preserve verify`: run every check and report each by name.

use super::{identities, print_json};
use crate::cli::VerifyArgs;
use anyhow::Result;
use m365_preserve_handover::Location;
use m365_preserve_package::verify::{verify, EntrySink, HashOnly, Inside, VerifyReport};
use std::process::ExitCode;

pub fn run(args: VerifyArgs) -> Result<ExitCode> {
    let location = Location::parse(args.package.as_os_str())?;
    let ids = identities(&args.identity)?;
    let mut sink = HashOnly;
    let inside = ids.as_ref().map(|identities| {
        (
            Inside {
                identities,
                max_ratio: args.checks.max_ratio,
            },
            &mut sink as &mut dyn EntrySink,
        )
    });
    let report = verify(location.reader(), args.checks.signer.as_deref(), inside);
    if args.json {
        print_json(&report)?;
    } else {
        print_report(&report, ids.is_some());
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_FAILURE)
    })
}

/// Human-readable report: one line per check.
pub fn print_report(report: &VerifyReport, with_identity: bool) {
    println!("Package  {}", report.package);
    if let (Some(case), Some(c)) = (&report.case_id, &report.completeness) {
        println!("Case     {case} (evidence {})", c.as_str());
    }
    for c in &report.checks {
        println!(
            "  {}  {:15} {}",
            if c.ok { "PASS" } else { "FAIL" },
            c.name,
            c.detail
        );
    }
    if !with_identity {
        println!("  (decryption and file checks not run: give --identity to run them)");
    }
    let failed = report.checks.iter().filter(|c| !c.ok).count();
    if failed == 0 {
        println!("Result: all {} checks passed", report.checks.len());
    } else {
        println!(
            "Result: {failed} of {} checks FAILED (see the FAIL lines above)",
            report.checks.len()
        );
    }
}
