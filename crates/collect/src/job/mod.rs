//! The whole collect job, as `collect` and `demo` run it: the work folder (new,
//! or an interrupted run's), the targets, the windows, every source (Purview
//! first), messages, the privileged-account warning, attachments, imports, the
//! custody events of the collection, sealing, and cleanup.

mod params;
mod supplement;

pub use params::RunParams;
use supplement::SealedRecord;
pub use supplement::{resume_command, FetchLater};

use crate::auth::TokenProvider;
use crate::collector::{Collector, Observer};
use crate::exchange::{check_access, Access, NotReadOnly};
use crate::graph::{GraphError, Pacer, RawSink, ReadOnlyClient};
use crate::journal::Journal;
use crate::retry::RetryPolicy;
use crate::{linked_apps, messages, resolve_target, CollectError};
use futures_util::future::join_all;
use m365_preserve_import::{import_into, ImportError, ImportOptions};
use m365_preserve_package::content::plan_content;
use m365_preserve_package::custody::{append_to_work_log, CustodyAction, CustodyEvent};
use m365_preserve_package::evidence::{write_summary, SourceSummary};
use m365_preserve_package::seal::{seal, Provenance, Sealed, Sealer};
use m365_preserve_package::workdir::WorkDir;
use m365_preserve_package::PackageError;
use m365_preserve_sources::{AuditApi, Linked, Plan, PlanInput, Source, SpScope, Target};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Queries in flight at once unless `--concurrency` says otherwise.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// What to collect.
#[derive(Debug, Clone)]
pub struct Collection {
    /// The compromised users (UPNs).
    pub users: Vec<String>,
    /// The sources; empty: every collected source.
    pub sources: Vec<Source>,
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// Messages to keep as `.eml`; message trace also finds every recipient of each.
    pub message_ids: Vec<String>,
    /// Senders whose every recipient in the tenant message trace finds.
    pub phish_senders: Vec<String>,
    pub sp_scope: SpScope,
    /// None: v1.0, or beta where v1.0 does not serve the API.
    pub audit_api: Option<AuditApi>,
    /// Queries in flight at once (1: one source after another).
    pub concurrency: usize,
    /// Files added byte for byte.
    pub attach: Vec<PathBuf>,
    /// Exports imported into the same package.
    pub imports: Vec<PathBuf>,
    pub import_options: ImportOptions,
    /// The work folder of an interrupted run to continue.
    pub resume: Option<PathBuf>,
    pub keep_workdir: bool,
    /// The victim's account (`interview.json`), sealed with the evidence.
    pub interview: Option<PathBuf>,
    /// Also collect the Exchange Online sources (`--exchange`).
    pub exchange: bool,
}

/// How to reach the tenant.
pub struct Connection {
    pub http: reqwest::Client,
    pub tokens: Arc<TokenProvider>,
    pub retry: RetryPolicy,
    /// Simulated seconds per real second (only the simulator runs faster).
    pub time_scale: f64,
    /// The cloud's name, for the acquisition record.
    pub cloud: Option<String>,
}

/// What a collection produced.
pub struct Collected {
    pub sealed: Sealed,
    pub summaries: Vec<SourceSummary>,
    /// The triage report sealed in the package.
    pub report: m365_preserve_report::Report,
    /// The work folder, when it was kept.
    pub workdir: Option<PathBuf>,
}

/// Why a collection stopped.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("cannot create {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} is not the work folder of an interrupted collection (it has no {run})", run = m365_preserve_package::layout::STATE_DIR.to_string() + "/run.json")]
    NotAWorkFolder(PathBuf),
    #[error("{path} is damaged ({source}); start a new collection without --resume")]
    DamagedParams {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("--resume {workdir}: that collection was for case {case} users {users:?} sources {sources:?}; run the same command again with --resume")]
    ResumeMismatch {
        workdir: PathBuf,
        case: String,
        users: Vec<String>,
        sources: Vec<Source>,
    },
    #[error("--since must be before --until")]
    EmptyWindow,
    #[error("--sp-scope linked: cannot list the apps linked to the targets: {0}")]
    LinkedApps(GraphError),
    #[error("--attach {path}: {why}")]
    Attach { path: PathBuf, why: String },
    #[error("import failed; nothing was sealed. Fix or leave out the file and collect again (this run's work folder {workdir} can be deleted): {error}")]
    Import {
        workdir: PathBuf,
        error: Box<ImportError>,
    },
    /// (The command line says where the work folder is and how to continue.)
    #[error("sealing failed: {0}")]
    Seal(Box<PackageError>),
    #[error("cannot write {path}: {error}")]
    Custody {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("the report could not be written: {0}")]
    Report(Box<m365_preserve_report::ReportError>),
    #[error("{0} is read from Exchange Online: add --exchange (it needs a certificate credential and the read-only Exchange roles of the README)")]
    ExchangeNotAskedFor(Source),
    #[error(transparent)]
    NotReadOnly(#[from] NotReadOnly),
    #[error(transparent)]
    Busy(#[from] m365_preserve_package::workdir::LockError),
    #[error(transparent)]
    Auth(#[from] crate::auth::AuthError),
    #[error(transparent)]
    Collect(#[from] CollectError),
}

impl Collection {
    /// Collects and seals; `sealer` says who seals, where and to whom.
    pub async fn run(
        &self,
        conn: &Connection,
        sealer: &Sealer<'_>,
        observer: &dyn Observer,
    ) -> Result<Collected, JobError> {
        let now = chrono::Utc::now();
        let sources = self.sources();
        if let Some(s) = sources.iter().find(|s| s.is_exchange() && !self.exchange) {
            return Err(JobError::ExchangeNotAskedFor(*s));
        }
        std::fs::create_dir_all(sealer.out_dir).map_err(|source| JobError::Create {
            path: sealer.out_dir.to_path_buf(),
            source,
        })?;
        let graph = conn.tokens.endpoints().graph_resource.clone();
        conn.tokens.token(&graph).await?;
        let (workdir, prior) = self.open_workdir(sealer, now)?;
        let _held = workdir.lock()?;
        // A folder sealed with gaps: this run seals only what is still missing.
        let earlier = SealedRecord::load(&workdir)?;
        // A new work folder holds nothing worth resuming until the run's
        // parameters are in it: it goes away if the run stops before.
        let mut unstarted = Unstarted(prior.is_none().then(|| workdir.clone()));
        let client = ReadOnlyClient::new(
            conn.http.clone(),
            conn.tokens.clone(),
            Arc::new(Pacer::documented(conn.time_scale)),
            conn.retry.clone(),
            Some(Arc::new(RawSink::new(&workdir))),
        );
        let base = conn.tokens.endpoints().graph.clone();
        let access = exchange_access(&client, &sources).await?;
        let targets = self.targets(&client, &base).await?;
        let params = match prior {
            Some(p) => p.check_resumed(sealer.case_id, &self.users, &sources, &workdir)?,
            None => RunParams::new_run(self, sealer.case_id, sources.clone(), &client, &base, now)
                .await?
                .save(&workdir)?,
        };
        unstarted.0 = None;
        observer.resumable(workdir.root());
        let journal = Journal::open(&workdir).map_err(CollectError::from)?;
        self.record_start(&workdir, &params, &journal, sealer, earlier.as_ref())?;
        let collector = Collector {
            client: &client,
            graph: base.clone(),
            workdir: workdir.clone(),
            journal,
            gate: tokio::sync::Semaphore::new(self.concurrency.max(1)),
            observer,
            time_scale: conn.time_scale,
            sealed: earlier
                .as_ref()
                .map(SealedRecord::queries)
                .unwrap_or_default(),
        };
        let mut summaries = self
            .collect_sources(
                &collector,
                &targets,
                &params,
                earlier.as_ref(),
                access.as_ref(),
            )
            .await?;
        warn_privileged(&workdir, &mut summaries)?;
        if earlier.is_some() {
            supplement::drop_unchanged(&workdir, &mut summaries)?;
            if !self.attach.is_empty() || !self.imports.is_empty() {
                tracing::info!("--attach and --import files are in the earlier package; this supplementary package holds only the queries it was missing");
            }
        } else {
            self.attach_files(&workdir)?;
            self.import_files(&workdir, &mut summaries)?;
        }
        let gaps = supplement::describe_gaps(&workdir, &mut summaries, &sealer.command_line)?;
        record_finish(&workdir, &client, &summaries, sealer.examiner)?;
        let claims = conn.tokens.identity();
        let info = m365_preserve_report::PackageInfo {
            case_id: sealer.case_id.to_string(),
            own_app_id: claims
                .as_ref()
                .and_then(|c| c["appid"].as_str().or(c["azp"].as_str()).map(String::from)),
            ..Default::default()
        };
        let interview = self.interview.as_deref().filter(|_| earlier.is_none());
        let report = m365_preserve_report::prepare(&workdir, interview, sealer.examiner, &info)
            .map_err(|error| JobError::Report(Box::new(error)))?;
        let supplements = earlier.as_ref().and_then(SealedRecord::latest).cloned();
        let sealed = seal_work(&workdir, conn, sealer, &params, supplements)?;
        let kept = if gaps {
            earlier
                .unwrap_or_default()
                .add(&workdir, &sealed, &summaries)?;
            tracing::info!(
                "work folder kept for the missing queries: {}",
                workdir.root().display()
            );
            Some(workdir.root().to_path_buf())
        } else {
            self.clean_up(&workdir)?
        };
        Ok(Collected {
            sealed,
            summaries,
            report,
            workdir: kept,
        })
    }

    /// Removes the work folder unless it is to be kept; where it was kept.
    fn clean_up(&self, workdir: &WorkDir) -> Result<Option<PathBuf>, JobError> {
        if self.keep_workdir {
            tracing::info!("work folder kept: {}", workdir.root().display());
            return Ok(Some(workdir.root().to_path_buf()));
        }
        std::fs::remove_dir_all(workdir.root()).map_err(|source| CollectError::WorkFolder {
            path: workdir.root().to_path_buf(),
            source,
        })?;
        Ok(None)
    }

    /// The target users, resolved to their objects.
    async fn targets(
        &self,
        client: &ReadOnlyClient,
        base: &url::Url,
    ) -> Result<Vec<Target>, JobError> {
        let mut targets = Vec::new();
        for upn in &self.users {
            let t = resolve_target(client, base, upn).await?;
            tracing::info!("target {} ({}) = {}", t.upn, t.display_name, t.id);
            targets.push(t);
        }
        Ok(targets)
    }

    /// The sources asked for, in the order asked (default: the catalogue's,
    /// with `--exchange` also Exchange Online's).
    fn sources(&self) -> Vec<Source> {
        if self.sources.is_empty() {
            let exchange = self.exchange.then(Source::exchange).into_iter().flatten();
            return Source::collected().chain(exchange).collect();
        }
        let mut v: Vec<Source> = Vec::new();
        for s in &self.sources {
            if !v.contains(s) {
                v.push(*s);
            }
        }
        v
    }

    /// The work folder: a new private one, or the interrupted run's (`--resume`)
    /// with what that run was asked for.
    fn open_workdir(
        &self,
        sealer: &Sealer<'_>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(WorkDir, Option<RunParams>), JobError> {
        if let Some(dir) = &self.resume {
            let workdir = WorkDir::at(dir);
            let prior = RunParams::load(&workdir)?;
            warn_unfinished_packages(sealer.out_dir);
            return Ok((workdir, Some(prior)));
        }
        let dir = sealer.out_dir.join(WorkDir::name_for(sealer.case_id, now));
        let workdir = WorkDir::create(&dir).map_err(|source| JobError::Create {
            path: dir.clone(),
            source,
        })?;
        Ok((workdir, None))
    }

    /// The custody events and log lines that open a run.
    fn record_start(
        &self,
        workdir: &WorkDir,
        params: &RunParams,
        journal: &Journal,
        sealer: &Sealer<'_>,
        earlier: Option<&SealedRecord>,
    ) -> Result<(), JobError> {
        let by = sealer.examiner;
        let events = if let Some(package) = earlier.and_then(SealedRecord::latest) {
            tracing::warn!(
                "{} was sealed with gaps as {}: this run fetches only the queries it is missing and seals them as a supplementary package",
                workdir.root().display(),
                package.file
            );
            vec![event(
                CustodyAction::CollectionResumed,
                by,
                json!({"supplements": package, "queries_already_done": journal.finished()}),
            )]
        } else if self.resume.is_some() {
            tracing::warn!(
                "resuming the interrupted collection in {}: {} queries were finished and are kept",
                workdir.root().display(),
                journal.finished()
            );
            vec![
                event(
                    CustodyAction::CollectionInterrupted,
                    by,
                    json!({"detected_at_resume": true}),
                ),
                event(
                    CustodyAction::CollectionResumed,
                    by,
                    json!({"queries_already_done": journal.finished()}),
                ),
            ]
        } else {
            tracing::info!(
                "work folder {} (if this run is interrupted, run the same command again with --resume {})",
                workdir.root().display(),
                workdir.root().display()
            );
            vec![event(
                CustodyAction::CollectionStarted,
                by,
                json!({"users": params.users, "sources": params.sources, "window": params.entra}),
            )]
        };
        custody(workdir, events)?;
        tracing::warn!(
            "records older than {} are already gone from Entra; the oldest in the window expire within hours, so the oldest windows are collected first",
            params.entra.since.format("%Y-%m-%d %H:%M UTC")
        );
        Ok(())
    }

    /// Every source of the plan (Purview first), then the messages.
    async fn collect_sources(
        &self,
        collector: &Collector<'_>,
        targets: &[Target],
        params: &RunParams,
        earlier: Option<&SealedRecord>,
        access: Option<&Access>,
    ) -> Result<Vec<SourceSummary>, JobError> {
        let linked = self.linked(collector, targets, params).await?;
        let (internet_message_ids, untraced) = match params.sources.contains(&Source::MessageTrace)
        {
            true => crate::more::internet_ids(collector, targets, &params.message_ids).await,
            false => Default::default(),
        };
        let wanted = |s: &Source| !earlier.is_some_and(|e| e.is_complete(*s));
        let not_asked =
            Access::Unavailable("Exchange Online was not asked for (--exchange)".into());
        let access = access.unwrap_or(&not_asked);
        let input = PlanInput {
            targets,
            entra: params.entra,
            purview: params.purview,
            linked: linked.as_ref(),
            message_ids: &params.message_ids,
            trace: params.trace,
            internet_message_ids: &internet_message_ids,
            phish_senders: &params.phish_senders,
        };
        // Purview first: its queries take minutes on Microsoft's side, so they
        // are created before anything else takes the concurrency slots.
        let mut order: Vec<Source> = params.sources.iter().copied().filter(wanted).collect();
        order.sort_by_key(|s| *s != Source::PurviewAudit);
        let runs = order.into_iter().map(|source| {
            let plan = source.plan(&input);
            async move {
                match plan {
                    Plan::AuditLogQueries { windows, upns } => {
                        collector
                            .purview(
                                (windows, upns),
                                targets,
                                params.purview,
                                params.audit_api,
                                &params.case,
                            )
                            .await
                    }
                    Plan::Queries(queries) => {
                        collector
                            .run_checked(source, &queries, params.window_of(source))
                            .await
                    }
                    Plan::Messages { ids } => messages(collector, targets, &ids).await,
                    Plan::Cmdlets(cmdlets) => {
                        collector.exchange_source(source, &cmdlets, access).await
                    }
                    Plan::ImportOnly => collector.import_only(source),
                }
            }
        });
        let mut summaries: Vec<SourceSummary> = if self.concurrency == 1 {
            let mut v = Vec::new();
            for r in runs {
                v.push(r.await?);
            }
            v
        } else {
            join_all(runs).await.into_iter().collect::<Result<_, _>>()?
        };
        summaries.sort_by_key(|s| params.sources.iter().position(|p| p.as_str() == s.source));
        let context = crate::more::Context {
            input: &input,
            trace_asked: params.trace_asked,
            untraced: &untraced,
        };
        crate::more::annotate(collector, &mut summaries, &context)?;
        if !params.message_ids.is_empty()
            && !params.sources.contains(&Source::Messages)
            && wanted(&Source::Messages)
        {
            let plan = Source::Messages.plan(&input);
            if let Plan::Messages { ids } = plan {
                summaries.push(messages(collector, targets, &ids).await?);
            }
        }
        Ok(summaries)
    }

    /// The apps linked to the targets, when service-principal sign-ins are
    /// narrowed to them.
    async fn linked(
        &self,
        collector: &Collector<'_>,
        targets: &[Target],
        params: &RunParams,
    ) -> Result<Option<Linked>, JobError> {
        if params.sp_scope != SpScope::Linked
            || !params.sources.contains(&Source::SigninsServicePrincipal)
        {
            return Ok(None);
        }
        let linked = linked_apps(collector, targets)
            .await
            .map_err(JobError::LinkedApps)?;
        tracing::info!(
            "service-principal sign-ins of {} linked service principals and {} owned apps",
            linked.service_principal_ids.len(),
            linked.app_ids.len()
        );
        Ok(Some(linked))
    }

    /// `--attach`: each file byte for byte under `evidence/attachments/`.
    fn attach_files(&self, workdir: &WorkDir) -> Result<(), JobError> {
        let dir = workdir.attachments_dir();
        // A resumed run attaches the same files again, from scratch.
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| JobError::Attach {
                path: dir.clone(),
                why: e.to_string(),
            })?;
        }
        workdir
            .forget_originals_under(m365_preserve_package::layout::ATTACHMENTS_DIR)
            .map_err(|e| JobError::Attach {
                path: workdir.originals(),
                why: e.to_string(),
            })?;
        let mut names = m365_preserve_package::names::NameTable::default();
        for file in &self.attach {
            let bad = |why: String| JobError::Attach {
                path: file.clone(),
                why,
            };
            let name = file
                .file_name()
                .ok_or_else(|| bad("give a file, not a folder".into()))?;
            let stored = names.claim(&m365_preserve_package::names::os_text(name));
            std::fs::create_dir_all(&dir).map_err(|e| bad(e.to_string()))?;
            std::fs::copy(file, dir.join(&stored.name)).map_err(|e| bad(e.to_string()))?;
            if let Some(original) = &stored.original {
                let rel = format!(
                    "{}/{}",
                    m365_preserve_package::layout::ATTACHMENTS_DIR,
                    stored.name
                );
                workdir
                    .record_original(&rel, original)
                    .map_err(|e| bad(e.to_string()))?;
            }
        }
        Ok(())
    }

    /// `--import`: the files' records join the collected sources.
    fn import_files(
        &self,
        workdir: &WorkDir,
        summaries: &mut Vec<SourceSummary>,
    ) -> Result<(), JobError> {
        if self.imports.is_empty() {
            return Ok(());
        }
        let report =
            import_into(workdir, &self.imports, &self.import_options).map_err(|error| {
                JobError::Import {
                    workdir: workdir.root().to_path_buf(),
                    error: Box::new(error),
                }
            })?;
        for merged in report.sources {
            match summaries.iter_mut().find(|s| s.source == merged.source) {
                Some(s) => *s = merged,
                None => summaries.push(merged),
            }
        }
        Ok(())
    }
}

/// With Exchange sources to collect: what the app may run there. Refuses
/// (before anything is collected) an app that could change the tenant.
async fn exchange_access(
    client: &ReadOnlyClient,
    sources: &[Source],
) -> Result<Option<Access>, JobError> {
    if !sources.iter().any(|s| s.is_exchange()) {
        return Ok(None);
    }
    let tenant = client
        .tokens()
        .identity()
        .and_then(|c| c["tid"].as_str().map(String::from))
        .unwrap_or_default();
    let access = check_access(client, &tenant).await?;
    match &access {
        Access::ReadOnly { cmdlets } => tracing::info!(
            "Exchange Online: the app may run {} cmdlets, all Get- ({})",
            cmdlets.len(),
            cmdlets.join(", ")
        ),
        Access::Unavailable(why) => tracing::warn!("Exchange Online sources unavailable: {why}"),
    }
    Ok(Some(access))
}

/// Seals the work folder, with the operator's token identity as provenance.
fn seal_work(
    workdir: &WorkDir,
    conn: &Connection,
    sealer: &Sealer<'_>,
    params: &RunParams,
    supplements: Option<m365_preserve_package::acquisition::EarlierPackage>,
) -> Result<Sealed, JobError> {
    let claims = conn.tokens.identity();
    let provenance = Provenance {
        started: Some(params.started),
        tenant_id: claims
            .as_ref()
            .and_then(|c| c["tid"].as_str().map(String::from)),
        cloud: conn.cloud.clone(),
        operator: Some(json!({"flow": conn.tokens.credential_kind(), "token_claims": claims})),
        supplements,
    };
    plan_content(workdir.root())
        .and_then(|plan| seal(plan, sealer, &provenance))
        .map_err(|error| JobError::Seal(Box::new(error)))
}

/// A new work folder, removed when dropped (unless taken).
struct Unstarted(Option<WorkDir>);

impl Drop for Unstarted {
    fn drop(&mut self) {
        if let Some(w) = &self.0 {
            let _ = std::fs::remove_dir_all(w.root());
        }
    }
}

fn event(action: CustodyAction, by: &str, details: Value) -> CustodyEvent {
    let mut e = CustodyEvent::new(action, by);
    e.details = Some(details);
    e
}

/// Appends collection-time custody events to the work folder's log.
fn custody(workdir: &WorkDir, events: Vec<CustodyEvent>) -> Result<(), JobError> {
    append_to_work_log(workdir, events).map_err(|error| JobError::Custody {
        path: workdir.custody_log(),
        error,
    })
}

fn record_finish(
    workdir: &WorkDir,
    client: &ReadOnlyClient,
    summaries: &[SourceSummary],
    by: &str,
) -> Result<(), JobError> {
    let (requests, retries, throttled) = client.counters();
    tracing::info!("{requests} requests, {retries} retries, {throttled} throttled responses");
    custody(
        workdir,
        vec![event(
            CustodyAction::CollectionFinished,
            by,
            json!({
                "requests": requests, "retries": retries, "throttled": throttled,
                "sources": summaries.iter().map(|s| json!({"source": s.source, "status": s.status, "records": s.records})).collect::<Vec<_>>(),
            }),
        )],
    )
}

/// A run killed while sealing leaves `.partial` files, never a package: say
/// they are not evidence (the tool never deletes them itself).
fn warn_unfinished_packages(out: &Path) {
    let Ok(entries) = std::fs::read_dir(out) else {
        return;
    };
    for p in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        let name = p.file_name().unwrap_or_default().to_string_lossy();
        if name.ends_with(m365_preserve_package::seal::PARTIAL_SUFFIX) {
            tracing::warn!("{} is what an interrupted run was sealing when it was killed; it is not evidence and can be deleted", p.display());
        }
    }
}

/// A target holding a directory role (active or eligible) needs specialists:
/// said on the console and in the manifest.
fn warn_privileged(workdir: &WorkDir, summaries: &mut [SourceSummary]) -> Result<(), JobError> {
    let roles = Source::UserRoles.as_str();
    for s in summaries
        .iter_mut()
        .filter(|s| s.source == roles && s.records > 0)
    {
        let text = format!(
            "PRIVILEGED ACCOUNT: a target holds {} directory role assignment(s). A compromised administrator can change the whole tenant: call incident-response specialists now.",
            s.records
        );
        tracing::warn!("{text}");
        s.details.insert("warning".into(), json!(text));
        write_summary(workdir, s).map_err(CollectError::from)?;
    }
    Ok(())
}
