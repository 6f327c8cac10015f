//! Gaps that can be fetched later. A collection sealed with a partial or failed
//! source keeps its work folder and records here what the package holds; a run
//! with `--resume` of that folder then fetches only the queries no package
//! holds yet and seals them as a supplementary package naming the earlier one.

use super::JobError;
use crate::journal::Journal;
use crate::CollectError;
use m365_preserve_package::acquisition::EarlierPackage;
use m365_preserve_package::evidence::{write_summary, SourceStatus, SourceSummary};
use m365_preserve_package::seal::Sealed;
use m365_preserve_package::workdir::WorkDir;
use m365_preserve_sources::Source;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// `.m365-preserve/sealed.json`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct SealedRecord {
    /// Every package sealed from the folder, oldest first.
    packages: Vec<EarlierPackage>,
    /// Journal keys of the queries some package holds, by source.
    queries: HashMap<Source, Vec<String>>,
    /// Sources some package holds complete: not collected again.
    complete: Vec<Source>,
}

/// The queries earlier packages hold, by source.
pub(crate) type SealedQueries = HashMap<Source, HashSet<String>>;

impl SealedRecord {
    /// The record of a folder sealed with gaps; `None` for any other folder.
    pub fn load(workdir: &WorkDir) -> Result<Option<Self>, JobError> {
        let path = workdir.sealed_record();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(CollectError::WorkFolder { path, source }.into()),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| JobError::DamagedParams { path, source })
    }

    /// The package the next one supplements.
    pub fn latest(&self) -> Option<&EarlierPackage> {
        self.packages.last()
    }

    pub fn is_complete(&self, source: Source) -> bool {
        self.complete.contains(&source)
    }

    pub fn queries(&self) -> SealedQueries {
        self.queries
            .iter()
            .map(|(s, keys)| (*s, keys.iter().cloned().collect()))
            .collect()
    }

    /// Adds `sealed` (holding every query the journal has finished and the
    /// complete sources of `summaries`), saves the record and moves what was
    /// sealed aside.
    pub fn add(
        mut self,
        workdir: &WorkDir,
        sealed: &Sealed,
        summaries: &[SourceSummary],
    ) -> Result<(), JobError> {
        let journal = Journal::open(workdir).map_err(CollectError::from)?;
        for (source, key) in journal.keys() {
            let keys = self.queries.entry(source).or_default();
            if !keys.iter().any(|k| k == key) {
                keys.push(key.to_string());
            }
        }
        for s in summaries
            .iter()
            .filter(|s| s.status == SourceStatus::Complete)
        {
            if let Ok(source) = s.source.parse::<Source>() {
                if !self.complete.contains(&source) {
                    self.complete.push(source);
                }
            }
        }
        let file = sealed.seal.ciphertext.file.clone();
        self.packages.push(EarlierPackage {
            file: file.clone(),
            sha256: sealed.seal.ciphertext.sha256.clone(),
        });
        let path = workdir.sealed_record();
        let text = serde_json::to_vec_pretty(&self).expect("the record serialises");
        m365_preserve_package::workdir::write_atomically(&path, &text)
            .map_err(|source| CollectError::WorkFolder { path, source })?;
        workdir
            .set_aside_sealed(&file)
            .map_err(|source| CollectError::WorkFolder {
                path: workdir.root().to_path_buf(),
                source,
            })?;
        Ok(())
    }
}

/// Drops from a supplementary package the sources that gained nothing: every
/// query they ran is already in an earlier package.
pub(crate) fn drop_unchanged(
    workdir: &WorkDir,
    summaries: &mut Vec<SourceSummary>,
) -> Result<(), JobError> {
    let mut kept = Vec::new();
    for s in summaries.drain(..) {
        let fetched = s.details.get("queries_done").and_then(|v| v.as_u64());
        if fetched != Some(0) || s.status != SourceStatus::Complete {
            kept.push(s);
            continue;
        }
        let mut paths: Vec<_> = s.files.iter().map(|f| workdir.path(&f.path)).collect();
        paths.push(workdir.summary(&s.source));
        for path in paths {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(CollectError::WorkFolder { path, source }.into()),
            }
        }
    }
    *summaries = kept;
    Ok(())
}

/// How to fetch a gap later: the run's own command continued on its work
/// folder, or the source alone into a new package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchLater {
    pub resume: String,
    pub new_package: String,
}

impl FetchLater {
    /// From the run's command line (secrets already redacted).
    pub fn new(command_line: &[String], workdir: &Path, source: &str) -> Self {
        let mut again = without(command_line, &["--resume", "--sources"]);
        again.extend(["--sources".to_string(), source.to_string()]);
        Self {
            resume: resume_command(command_line, workdir),
            new_package: shell_line(&again),
        }
    }

    /// The manifest's form of it, under the source's `details.fetch_later`.
    pub fn from_details(s: &SourceSummary) -> Option<Self> {
        serde_json::from_value(s.details.get("fetch_later")?.clone()).ok()
    }
}

/// The run's command (secrets already redacted) continued on `workdir`: what
/// fetches the queries it did not finish.
pub fn resume_command(command_line: &[String], workdir: &Path) -> String {
    let mut resume = without(command_line, &["--resume"]);
    resume.extend(["--resume".to_string(), workdir.display().to_string()]);
    shell_line(&resume)
}

/// `args` without the options named (and their values).
fn without(args: &[String], options: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut skip_value = false;
    for a in args {
        if std::mem::take(&mut skip_value) {
            continue;
        }
        if options.contains(&a.as_str()) {
            skip_value = true;
        } else if !options
            .iter()
            .any(|o| a.strip_prefix(o).is_some_and(|r| r.starts_with('=')))
        {
            out.push(a.clone());
        }
    }
    out
}

fn shell_line(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            shlex::try_quote(a)
                .map(|q| q.into_owned())
                .unwrap_or_else(|_| a.clone())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Says in the manifest, for each partial or failed source, how to fetch what
/// is missing; whether there was any such gap.
pub(crate) fn describe_gaps(
    workdir: &WorkDir,
    summaries: &mut [SourceSummary],
    command_line: &[String],
) -> Result<bool, JobError> {
    let mut any = false;
    // Only failed queries can be fetched again; a gap for another reason (the
    // service no longer keeps those days) says so in its reason instead.
    for s in summaries.iter_mut().filter(|s| {
        matches!(s.status, SourceStatus::Partial | SourceStatus::Failed)
            && s.details.contains_key("problems")
    }) {
        any = true;
        let fetch = FetchLater::new(command_line, workdir.root(), &s.source);
        s.details.insert("fetch_later".into(), json!(fetch));
        write_summary(workdir, s).map_err(CollectError::from)?;
    }
    Ok(any)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn the_commands_continue_the_run_or_take_the_source_alone() {
        let line = args(&[
            "m365-preserve",
            "collect",
            "--user",
            "a@b.example",
            "--sources=devices,user",
            "--resume",
            "/old",
            "--case",
            "CASE 1",
        ]);
        let f = FetchLater::new(&line, Path::new("/out/CASE work"), "devices");
        assert_eq!(
            f.resume,
            "m365-preserve collect --user a@b.example '--sources=devices,user' --case 'CASE 1' --resume '/out/CASE work'"
        );
        assert_eq!(
            f.new_package,
            "m365-preserve collect --user a@b.example --case 'CASE 1' --sources devices"
        );
    }
}
