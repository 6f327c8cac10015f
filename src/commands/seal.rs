//! `m365-preserve seal`: seal a folder of evidence. Also what every sealing
//! command shares: recipients and key from the flags, the sealer, the summary.

use super::{read_passphrase, EXIT_INCOMPLETE};
use crate::cli::{CaseArgs, RecipientArgs, SealArgs, SealingArgs};
use crate::logging::LogCapture;
use crate::progress::ByteProgress;
use anyhow::{Context, Result};
use chrono::Utc;
use m365_preserve_package::acquisition::redact_args;
use m365_preserve_package::content::plan_content;
use m365_preserve_package::crypto::Recipients;
use m365_preserve_package::seal::{seal, Completeness, Provenance, Sealed, Sealer};
use m365_preserve_package::signing::SigningKey;
use m365_preserve_package::zipwrite::ZipOptions;
use m365_preserve_report::Lang;
use std::process::ExitCode;

pub fn run(args: SealArgs, lang: Lang, quiet: bool, log: &LogCapture) -> Result<ExitCode> {
    let started = Utc::now();
    let keys = Keys::from_flags(&args.recipients, &args.sealing)?;
    let plan = plan_content(&args.evidence)?;
    let total = plan.bytes();
    tracing::info!(
        "sealing {} files ({total} bytes) from {} for case {}",
        plan.files.len(),
        args.evidence.display(),
        args.case.case
    );
    let progress = ByteProgress::new("sealing", quiet);
    let snapshot = || log.snapshot();
    let sealer = keys.sealer(&args.case, &args.sealing, &snapshot, &progress);
    let prov = Provenance {
        started: Some(started),
        ..Provenance::default()
    };
    let sealed =
        seal(plan, &sealer, &prov).context("sealing failed; no package was left behind")?;
    let secs = (Utc::now() - started).num_milliseconds().max(1) as f64 / 1000.0;
    tracing::info!(
        "sealed in {secs:.1} s ({:.0} MB/s)",
        total as f64 / 1e6 / secs
    );
    crate::outcome::print_outcome(&sealed, lang, args.json)?;
    Ok(exit_code(&sealed))
}

/// 0 when every source is complete, 3 when the package has gaps.
pub fn exit_code(sealed: &Sealed) -> ExitCode {
    match sealed.seal.completeness {
        Completeness::Complete => ExitCode::SUCCESS,
        Completeness::Incomplete => ExitCode::from(EXIT_INCOMPLETE),
    }
}

/// Who can open the package, and the key that signs it.
pub struct Keys {
    pub recipients: Recipients,
    pub signing_key: SigningKey,
}

impl Keys {
    pub fn from_flags(r: &RecipientArgs, sealing: &SealingArgs) -> Result<Self> {
        let recipients = if r.passphrase || r.passphrase_env.is_some() {
            Recipients::passphrase(read_passphrase(r.passphrase_env.as_deref(), true)?)?
        } else {
            Recipients::from_keys(&r.recipients, &r.recipients_files)?
        };
        let signing_key = match &sealing.signing_key {
            Some(path) => SigningKey::load(path)?,
            None => SigningKey::generate(),
        };
        Ok(Self {
            recipients,
            signing_key,
        })
    }

    /// The sealer of this command: the case flags, these keys, the run's log
    /// and a progress display.
    pub fn sealer<'a>(
        &'a self,
        case: &'a CaseArgs,
        sealing: &SealingArgs,
        log: &'a (dyn Fn() -> String + Sync),
        progress: &'a ByteProgress,
    ) -> Sealer<'a> {
        Sealer {
            case_id: &case.case,
            examiner: &case.examiner,
            note: case.note.as_deref(),
            out_dir: &case.out,
            recipients: &self.recipients,
            signing_key: &self.signing_key,
            zip: zip_options(sealing),
            command_line: redact_args(std::env::args()),
            log,
            progress,
        }
    }
}

/// Compression settings from the flags.
fn zip_options(sealing: &SealingArgs) -> ZipOptions {
    let mut zip = ZipOptions {
        level: sealing.level,
        ..ZipOptions::default()
    };
    if let Some(t) = sealing.threads {
        zip.threads = t.max(1);
    }
    zip
}
