//! `m365-preserve report`: re-make the triage report of a package (verified and
//! decrypted to a private temporary folder) or of an opened package; and the
//! report's part of `collect`, `import` and `demo`: the administrator's copy
//! beside the package and the console summary.

use super::identities;
use crate::cli::ReportArgs;
use anyhow::{bail, Context, Result};
use m365_preserve_package::open::open;
use m365_preserve_package::paths::PackagePaths;
use m365_preserve_package::seal::Sealed;
use m365_preserve_report::i18n::tr;
use m365_preserve_report::{count, Lang, PackageInfo, Report, Severity};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn run(args: ReportArgs, lang: Lang, quiet: bool) -> Result<ExitCode> {
    let (root, _staging, info) = match (&args.evidence, &args.package) {
        (Some(dir), _) => (dir.clone(), None, PackageInfo::default()),
        (None, Some(package)) => {
            let paths = PackagePaths::from_any(package);
            let Some(ids) = identities(&args.identity)? else {
                bail!("give --identity (or --passphrase) to decrypt {}, or --evidence with an opened package", paths.ciphertext.display());
            };
            let staging = tempfile::Builder::new()
                .prefix(".m365-preserve-report-")
                .tempdir()
                .context("cannot create a private temporary folder")?;
            let dest = staging.path().join("package");
            let report = open(
                &paths,
                &ids,
                &dest,
                args.checks.max_ratio,
                args.checks.signer.as_deref(),
            )?;
            if !report.ok {
                super::verify::print_report(&report, true);
                bail!("the package did not verify; no report was made");
            }
            let seal: m365_preserve_package::seal::Seal =
                serde_json::from_slice(&std::fs::read(&paths.seal)?)?;
            let info = PackageInfo {
                case_id: seal.case_id,
                ciphertext_sha256: Some(seal.ciphertext.sha256),
                signer_fingerprint: Some(seal.signer.fingerprint),
                own_app_id: None,
            };
            (dest, Some(staging), info)
        }
        (None, None) => bail!("give a package or --evidence DIR"),
    };
    let to = args.to.clone().unwrap_or_else(|| {
        let name = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = if info.case_id.is_empty() {
            name
        } else {
            info.case_id.clone()
        };
        PathBuf::from(format!("report-{name}"))
    });
    if to.exists() && std::fs::read_dir(&to)?.next().is_some() {
        bail!(
            "{} is not empty; give a new or empty folder with --to (nothing is overwritten)",
            to.display()
        );
    }
    std::fs::create_dir_all(&to).with_context(|| format!("cannot create {}", to.display()))?;
    let report = m365_preserve_report::generate(&root, &to, &info)?;
    println!("{}", to.join("report").display());
    summary(&report, lang, quiet);
    Ok(ExitCode::SUCCESS)
}

/// The console summary: the findings of high and medium severity.
pub fn summary(report: &Report, lang: Lang, quiet: bool) {
    if quiet {
        return;
    }
    let (high, medium) = (
        count(report, Severity::High) + count(report, Severity::Critical),
        count(report, Severity::Medium),
    );
    if high + medium == 0 {
        eprintln!("{}", tr(lang, "console-no-findings", &[]));
        return;
    }
    eprintln!(
        "{}",
        tr(
            lang,
            "console-findings",
            &[
                ("high", high.to_string()),
                ("medium", medium.to_string()),
                ("total", report.findings.len().to_string()),
            ],
        )
    );
    for f in report
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Medium)
    {
        eprintln!(
            "  {:8} {} {}",
            tr(lang, &format!("severity-{}", f.severity.as_str()), &[]),
            f.id,
            f.title.get(lang)
        );
    }
}

/// After sealing: the administrator's copy beside the package (unless
/// refused) and the console summary.
pub fn after_sealing(
    report: &Report,
    sealed: &Sealed,
    lang: Lang,
    write_copy: bool,
    quiet: bool,
) -> Result<()> {
    summary(report, lang, quiet);
    if !write_copy {
        return Ok(());
    }
    let info = PackageInfo {
        case_id: sealed.seal.case_id.clone(),
        ciphertext_sha256: Some(sealed.seal.ciphertext.sha256.clone()),
        signer_fingerprint: Some(sealed.seal.signer.fingerprint.clone()),
        own_app_id: None,
    };
    let path = local_copy(&sealed.paths);
    m365_preserve_report::write_local(report, lang, &info, &path)?;
    if !quiet {
        eprintln!(
            "{}",
            tr(
                lang,
                "console-report",
                &[("path", path.display().to_string())]
            )
        );
        eprintln!("{}", tr(lang, "console-report-private", &[]));
    }
    Ok(())
}

/// `CASE_….report.html` beside the package.
fn local_copy(paths: &PackagePaths) -> PathBuf {
    let dir = paths.ciphertext.parent().unwrap_or(Path::new("."));
    dir.join(format!("{}.report.html", paths.base))
}
