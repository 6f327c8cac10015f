//! Command-line definitions (clap derive). Every option that takes a value also
//! reads an `M365_PRESERVE_*` environment variable.

use clap::CommandFactory;
use clap::{Args, Parser, Subcommand};
use m365_preserve_package::custody::CustodyAction;
use m365_preserve_report::Lang;
use m365_preserve_sources::Source;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "m365-preserve",
    version,
    about = "Preserve the evidence of a compromised Microsoft 365 / Entra ID account in a sealed, encrypted, chain-of-custody package",
    after_help = "Exit codes: 0 success; 3 sealed, but some source is partial or unavailable; 2 usage error; 1 failure."
)]
pub struct Cli {
    /// Print only errors (and the final summary on stdout).
    #[arg(long, short, global = true, env = "M365_PRESERVE_QUIET", value_parser = clap::builder::FalseyValueParser::new())]
    pub quiet: bool,
    /// More detail in the log (-v: debug, -vv: trace).
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Language of the report and the console summary (default: from LANG / LC_ALL).
    #[arg(long, global = true, value_enum, env = "M365_PRESERVE_LANG")]
    pub lang: Option<LangArg>,
    #[command(subcommand)]
    pub command: Command,
}

/// A language of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LangArg {
    Ja,
    En,
}

impl Cli {
    /// The language asked for, or the locale's.
    pub fn language(&self) -> Lang {
        match self.lang {
            Some(LangArg::Ja) => Lang::Ja,
            Some(LangArg::En) => Lang::En,
            None => Lang::from_env(),
        }
    }
}

impl Cli {
    /// Gives each imported file the `--as` written before it (clap keeps the
    /// options and the files apart; their positions say which goes with which).
    pub fn place_declarations(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        let (Command::Import(args), Some(("import", m))) =
            (&mut self.command, matches.subcommand())
        else {
            return Ok(());
        };
        let files: Vec<usize> = m
            .indices_of("files")
            .map(Iterator::collect)
            .unwrap_or_default();
        let said: Vec<usize> = m
            .indices_of("declared")
            .map(Iterator::collect)
            .unwrap_or_default();
        if let (Some(last), Some(file)) = (said.last(), files.last()) {
            if last > file {
                return Err(Cli::command().error(
                    clap::error::ErrorKind::ArgumentConflict,
                    format!(
                        "--as {} is not followed by a file: put it before the files it describes",
                        args.declared[said.len() - 1]
                    ),
                ));
            }
        }
        for (file, at) in files.iter().enumerate() {
            if let Some(i) = said.iter().rposition(|s| s < at) {
                args.placed.insert(file, args.declared[i]);
            }
        }
        Ok(())
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Seal(SealArgs),
    Verify(VerifyArgs),
    Open(OpenArgs),
    #[command(subcommand)]
    Custody(CustodyCommand),
    Keygen(KeygenArgs),
    Doctor(DoctorArgs),
    Collect(Box<CollectArgs>),
    Demo(DemoArgs),
    Sim(SimArgs),
    Import(Box<ImportArgs>),
    Send(SendArgs),
    Report(ReportArgs),
    Interview(InterviewArgs),
}

/// Make (or re-make) the triage report of a package or of an opened package.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  m365-preserve report out/IR-2026-042_20261125T061500Z.zip.age --identity firm.agekey --to ./report-042
  m365-preserve report --evidence ./case-042 --to ./report-042 --lang ja

The report is derived from the evidence: the same evidence gives the same findings.json.
It is written to a new or empty folder; the package and the evidence are never changed.")]
pub struct ReportArgs {
    /// The package (any of its four files); it is verified and decrypted to a private temporary folder.
    #[arg(required_unless_present = "evidence", conflicts_with = "evidence")]
    pub package: Option<PathBuf>,
    #[command(flatten)]
    pub identity: IdentityArgs,
    /// An opened package (or a work folder) instead of a package.
    #[arg(long, value_name = "DIR")]
    pub evidence: Option<PathBuf>,
    /// Folder for the report (new or empty; default: report-<case or folder name>).
    #[arg(long, value_name = "DIR")]
    pub to: Option<PathBuf>,
    #[command(flatten)]
    pub checks: CheckArgs,
}

/// Record the victim's account of what happened (the checklist's first step).
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  m365-preserve interview --out interview.json             # asks the questions at the terminal
  m365-preserve interview --template > interview.json      # a file to fill in
Seal it with the evidence: m365-preserve collect ... --interview interview.json")]
pub struct InterviewArgs {
    /// Print a file to fill in instead of asking.
    #[arg(long)]
    pub template: bool,
    /// Where to write the answers.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "interview.json",
        conflicts_with = "template"
    )]
    pub out: PathBuf,
}

/// Who can decrypt the package.
#[derive(Debug, Args)]
pub struct RecipientArgs {
    /// Encrypt to this public key: age1..., ssh-ed25519 ... or ssh-rsa ... (repeatable).
    #[arg(
        long = "recipient",
        short = 'r',
        value_name = "KEY",
        env = "M365_PRESERVE_RECIPIENT",
        value_delimiter = ','
    )]
    pub recipients: Vec<String>,
    /// Encrypt to every key in this file (one per line, # comments).
    #[arg(
        long = "recipients-file",
        short = 'R',
        value_name = "FILE",
        env = "M365_PRESERVE_RECIPIENTS_FILE"
    )]
    pub recipients_files: Vec<PathBuf>,
    /// Encrypt to a passphrase typed at the terminal (twice) instead of keys.
    #[arg(long, conflicts_with_all = ["recipients", "recipients_files"])]
    pub passphrase: bool,
    /// Read the passphrase from this environment variable (for automation).
    #[arg(long, value_name = "VAR", conflicts_with_all = ["recipients", "recipients_files"])]
    pub passphrase_env: Option<String>,
}

/// How a package is decrypted.
#[derive(Debug, Args)]
pub struct IdentityArgs {
    /// age identity file (AGE-SECRET-KEY-1...) or unencrypted OpenSSH private key.
    #[arg(long, short = 'i', value_name = "FILE", env = "M365_PRESERVE_IDENTITY")]
    pub identity: Option<PathBuf>,
    /// The package is passphrase-encrypted: ask for the passphrase at the terminal.
    #[arg(long, conflicts_with = "identity")]
    pub passphrase: bool,
    /// Read the passphrase from this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with = "identity")]
    pub passphrase_env: Option<String>,
}

/// Seal a folder of evidence into an encrypted, signed package.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  m365-preserve seal --evidence ./evidence --case IR-2026-042 --examiner 'Sato Hanako' \\
      --out ./package --recipient age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
  m365-preserve seal --evidence ./evidence --case IR-2026-042 --examiner Sato --out ./package \\
      --recipients-file firm-keys.txt --signing-key ~/.ssh/id_ed25519 --note 'portal downloads'
  M365_SEAL_PASS=... m365-preserve seal --evidence ./e --case C1 --examiner Sato --out ./p --passphrase-env M365_SEAL_PASS

A folder with an evidence/ subfolder is taken as laid out like the package (evidence/, raw/...);
any other folder's files are all placed under evidence/.")]
pub struct SealArgs {
    /// Folder of evidence to seal.
    #[arg(long, value_name = "DIR", env = "M365_PRESERVE_EVIDENCE")]
    pub evidence: PathBuf,
    #[command(flatten)]
    pub case: CaseArgs,
    #[command(flatten)]
    pub recipients: RecipientArgs,
    #[command(flatten)]
    pub sealing: SealingArgs,
    /// Print one JSON document instead of the summary.
    #[arg(long)]
    pub json: bool,
}

/// Case identity written into the package.
#[derive(Debug, Args)]
pub struct CaseArgs {
    /// Case identifier (used in file names).
    #[arg(long, value_name = "ID", env = "M365_PRESERVE_CASE")]
    pub case: String,
    /// Name of the person sealing the evidence.
    #[arg(long, value_name = "NAME", env = "M365_PRESERVE_EXAMINER")]
    pub examiner: String,
    /// Folder for the package files.
    #[arg(long, value_name = "DIR", env = "M365_PRESERVE_OUT")]
    pub out: PathBuf,
    /// Free-text note kept inside the encrypted package.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
}

/// How the package is signed and compressed.
#[derive(Debug, Args)]
pub struct SealingArgs {
    /// OpenSSH ed25519 private key that signs the seal; without it a key is
    /// generated for this case and its fingerprint printed.
    #[arg(long, value_name = "FILE", env = "M365_PRESERVE_SIGNING_KEY")]
    pub signing_key: Option<PathBuf>,
    /// Deflate level (1 fastest .. 9 smallest).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=9))]
    pub level: u32,
    /// Compression threads (default: all cores).
    #[arg(long, value_name = "N", env = "M365_PRESERVE_THREADS")]
    pub threads: Option<usize>,
}

/// Check a package's integrity, provenance and custody.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  m365-preserve verify out/IR-2026-042_20261125T061500Z.zip.age
  m365-preserve verify out/IR-2026-042_20261125T061500Z.zip.age --identity firm.agekey --json
  m365-preserve verify out/IR-2026-042_20261125T061500Z.seal.json --signer SHA256:Qx...
  m365-preserve verify 's3://ir-evidence/IR-2026-042/IR-2026-042_20261125T061500Z.zip.age' -i firm.agekey

Without --identity: seal signature, ciphertext hash, custody chain. With it: also
decryption, zip structure, every file against manifest.json and SHA256SUMS, Merkle root.")]
pub struct VerifyArgs {
    /// Any of the package's files (.zip.age, .seal.json, .seal.json.sig, .custody.jsonl), local
    /// or in storage: 'https://ACCOUNT.blob.core.windows.net/CONTAINER/FILE?SAS' (a SAS with r)
    /// or s3://BUCKET/KEY (read in place).
    pub package: PathBuf,
    #[command(flatten)]
    pub identity: IdentityArgs,
    #[command(flatten)]
    pub checks: CheckArgs,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Require the seal to be signed by this key (SHA256:... fingerprint or OpenSSH public key).
    #[arg(long, value_name = "FINGERPRINT", env = "M365_PRESERVE_SIGNER")]
    pub signer: Option<String>,
    /// Refuse entries over 1 MiB that expand more than this many times (zip bombs).
    #[arg(long, default_value_t = 200, value_name = "N")]
    pub max_ratio: u64,
}

/// Verify a package, then extract it safely into a new folder.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  m365-preserve open out/IR-2026-042_20261125T061500Z.zip.age --identity firm.agekey --to ./case-042

The folder must be new or empty. Files are extracted to a staging folder inside it and
moved into place only when every check passes; nothing is written outside it.")]
pub struct OpenArgs {
    /// Any of the package's files, local or in storage (https://...?SAS, s3://...).
    pub package: PathBuf,
    #[command(flatten)]
    pub identity: IdentityArgs,
    /// Destination folder (new or empty).
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
    #[command(flatten)]
    pub checks: CheckArgs,
    #[arg(long)]
    pub json: bool,
}

/// Record or show custody events (outside the encryption).
#[derive(Debug, Subcommand)]
pub enum CustodyCommand {
    Record(CustodyRecordArgs),
    Show(CustodyShowArgs),
}

/// Append a signed, chained hand-over event after re-hashing the ciphertext.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  m365-preserve custody record out/C1_20261125T061500Z.zip.age --action transferred \\
      --by 'Sato Hanako' --to 'Example IR K.K.' --method 'SFTP upload, ticket 4411' --signing-key ~/.ssh/id_ed25519
  m365-preserve custody record out/C1_20261125T061500Z.zip.age --action received --by 'J. Doe'")]
pub struct CustodyRecordArgs {
    /// Any of the package's files, local or in storage (https://...?SAS, s3://...): in storage,
    /// the log with the new line is written as a new custody object, never over the old one.
    pub package: PathBuf,
    /// transferred, received, verified, opened, copied or disposed.
    #[arg(long, value_enum)]
    pub action: Handover,
    /// Who performs the action.
    #[arg(long, value_name = "NAME", env = "M365_PRESERVE_BY")]
    pub by: String,
    /// Who receives the package (for transfers).
    #[arg(long, value_name = "NAME")]
    pub to: Option<String>,
    /// How (courier and tracking number, SFTP host, USB serial...).
    #[arg(long, value_name = "TEXT")]
    pub method: Option<String>,
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// OpenSSH ed25519 key that signs the line (default: a one-time key; its fingerprint is printed).
    #[arg(long, value_name = "FILE", env = "M365_PRESERVE_SIGNING_KEY")]
    pub signing_key: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

/// A hand-over action (`custody record --action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Handover {
    Transferred,
    Received,
    Verified,
    Opened,
    Copied,
    Disposed,
}

impl From<Handover> for CustodyAction {
    fn from(h: Handover) -> Self {
        match h {
            Handover::Transferred => CustodyAction::Transferred,
            Handover::Received => CustodyAction::Received,
            Handover::Verified => CustodyAction::Verified,
            Handover::Opened => CustodyAction::Opened,
            Handover::Copied => CustodyAction::Copied,
            Handover::Disposed => CustodyAction::Disposed,
        }
    }
}

/// Print the custody log and check its chain and signatures.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  m365-preserve custody show out/C1_20261125T061500Z.zip.age")]
pub struct CustodyShowArgs {
    /// Any of the package's files, local or in storage (https://...?SAS, s3://...).
    pub package: PathBuf,
    #[arg(long)]
    pub json: bool,
}

/// Create an age identity (for the receiving firm) and/or an SSH signing key (for the sealer).
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  m365-preserve keygen --age-identity firm.agekey          # prints the age1... public key to give the sealer
  m365-preserve keygen --signing-key sealer_ed25519        # writes sealer_ed25519 and sealer_ed25519.pub
Files are created with mode 0600 and never overwritten.")]
pub struct KeygenArgs {
    /// Write a new age identity here.
    #[arg(long, value_name = "FILE", required_unless_present = "signing_key")]
    pub age_identity: Option<PathBuf>,
    /// Write a new ssh-ed25519 signing key here (and FILE.pub).
    #[arg(long, value_name = "FILE")]
    pub signing_key: Option<PathBuf>,
    /// Comment for the SSH key.
    #[arg(long, default_value = "m365-preserve")]
    pub comment: String,
}

/// How to reach the tenant and authenticate (shared by `collect` and `doctor`).
/// Exactly one credential: a client secret (from an environment variable), a
/// certificate, device code, or an access token (from an environment variable).
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("credential").required(true).multiple(false)
    .args(["client_secret_env", "certificate", "device_code", "access_token_env"])))]
pub struct ConnectArgs {
    /// Tenant id (GUID) or domain (contoso.onmicrosoft.com).
    #[arg(long, value_name = "TENANT", env = "M365_PRESERVE_TENANT")]
    pub tenant: String,
    /// Application (client) id of the app registration.
    #[arg(long, value_name = "GUID", env = "M365_PRESERVE_CLIENT_ID")]
    pub client_id: Option<String>,
    /// Name of the environment variable holding the client secret (never the secret itself).
    #[arg(long, value_name = "VAR", requires = "client_id")]
    pub client_secret_env: Option<String>,
    /// PEM certificate registered on the app (certificate credential).
    #[arg(long, value_name = "PEM", requires_all = ["client_id", "private_key"])]
    pub certificate: Option<PathBuf>,
    /// PEM RSA private key of --certificate (unencrypted).
    #[arg(long, value_name = "PEM", requires = "certificate")]
    pub private_key: Option<PathBuf>,
    /// Client-assertion format: ps256 (x5t#S256, current) or rs256 (x5t, older).
    #[arg(long, value_enum, default_value = "ps256")]
    pub assertion: m365_preserve_collect::auth::AssertionAlg,
    /// Sign in as an administrator on another device (delegated permissions).
    #[arg(long, requires = "client_id")]
    pub device_code: bool,
    /// Name of the environment variable holding an access token obtained elsewhere.
    #[arg(long, value_name = "VAR")]
    pub access_token_env: Option<String>,
    /// Microsoft cloud.
    #[arg(
        long,
        value_enum,
        default_value = "global",
        env = "M365_PRESERVE_CLOUD"
    )]
    pub cloud: m365_preserve_collect::auth::Cloud,
    /// Override the Graph host (http:// only on loopback, e.g. the simulator).
    #[arg(long, value_name = "URL", env = "M365_PRESERVE_GRAPH_URL")]
    pub graph_url: Option<String>,
    /// Override the sign-in host.
    #[arg(long, value_name = "URL", env = "M365_PRESERVE_LOGIN_URL")]
    pub login_url: Option<String>,
    /// Override the Office 365 Management Activity API host.
    #[arg(long, value_name = "URL", env = "M365_PRESERVE_MANAGE_URL")]
    pub manage_url: Option<String>,
    /// Override the Exchange Online host (with --exchange).
    #[arg(long, value_name = "URL", env = "M365_PRESERVE_EXCHANGE_URL")]
    pub exchange_url: Option<String>,
    /// Simulator only: its clock runs this many times faster (pacing and waits shrink).
    #[arg(long, hide = true, default_value_t = 1.0)]
    pub time_scale: f64,
}

/// The preflight: permissions, licences, retention and prerequisites of each source, with the fixes.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  M365_SECRET=... m365-preserve doctor --tenant contoso.onmicrosoft.com --client-id 11111111-2222-3333-4444-555555555555 --client-secret-env M365_SECRET
  m365-preserve doctor --tenant contoso.onmicrosoft.com --client-id ... --certificate app.pem --private-key app.key
  m365-preserve doctor --tenant contoso.onmicrosoft.com --client-id ... --device-code
  m365-preserve doctor --tenant contoso.onmicrosoft.com --client-id ... --certificate app.pem --private-key app.key --exchange

No evidence is collected and nothing in the tenant is changed.")]
pub struct DoctorArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// A compromised user (repeatable): also check their own licences (Purview Audit
    /// Premium, which keeps their records a year, is per user).
    #[arg(long = "user", value_name = "UPN")]
    pub users: Vec<String>,
    /// Also check Exchange Online: the app's Exchange roles (read-only?), the
    /// cmdlets each Exchange source needs, and whether the unified audit log ingests.
    #[arg(long, requires = "certificate")]
    pub exchange: bool,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

/// Run the simulated Microsoft 365 tenant (Graph, token endpoint, Management
/// Activity API) on 127.0.0.1, for tests and demonstrations without a tenant.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  m365-preserve sim                                   # the built-in scenario (samples/README.md)
  m365-preserve sim --fixture samples/tenant --port 8400
  m365-preserve sim --large-signins 1000000 --profile fast   # generated sign-ins, for benchmarks
  m365-preserve sim --fixture samples/tenant --profile fast --licence free --log sim-requests.jsonl
  m365-preserve sim --fixture samples/tenant --time-scale 60 --faults 42 --fault-rate 0.2

Point collect at the printed URL with --graph-url URL --login-url URL --manage-url URL.
Every request is answered read-only: any method but GET (except the token POSTs and the
audit-log query POST) is refused with 405 and logged as a read-only violation.
An audit-log query whose displayName contains \"fail\" ends in status failed (test hook).")]
pub struct SimArgs {
    /// Fixture folder (tenant.json, signins.jsonl, directory-audits.jsonl, audit-records.jsonl,
    /// messages/); default: the built-in compromise scenario of samples/README.md.
    #[arg(long, value_name = "DIR", env = "M365_PRESERVE_SIM_FIXTURE")]
    pub fixture: Option<PathBuf>,
    /// Serve N generated sign-ins (the `large` profile) instead of the fixture's.
    #[arg(long, value_name = "N")]
    pub large_signins: Option<usize>,
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 0,
        env = "M365_PRESERVE_SIM_PORT"
    )]
    pub port: u16,
    /// fast: no added latency; realistic: per-page latencies like the real service.
    #[arg(long, value_enum, default_value_t = m365_preserve_sim::server::Profile::Realistic)]
    pub profile: m365_preserve_sim::server::Profile,
    /// Simulated seconds per real second (throttle windows, latencies, token lifetimes shrink).
    #[arg(long, value_name = "X", default_value_t = 1.0, value_parser = positive_f64)]
    pub time_scale: f64,
    /// Inject faults (429, 503, 504, resets, truncated bodies, expired tokens) seeded with SEED.
    #[arg(long, value_name = "SEED")]
    pub faults: Option<u64>,
    /// Probability that a request is faulted (with --faults).
    #[arg(long, value_name = "P", default_value_t = 0.1, requires = "faults", value_parser = probability)]
    pub fault_rate: f64,
    /// Graph paths under PATH (e.g. /devices) answer 503 to every request: an outage that outlasts every retry.
    #[arg(long, value_name = "PATH")]
    pub outage: Vec<String>,
    /// Licence of the tenant (overrides the fixture's).
    #[arg(long, value_enum)]
    pub licence: Option<m365_preserve_sim::fixture::Licence>,
    /// Append one JSON line per request to FILE.
    #[arg(long, value_name = "FILE", env = "M365_PRESERVE_SIM_LOG")]
    pub log: Option<PathBuf>,
    /// The simulated present (default: now); fixture times are moved to end here.
    #[arg(long, value_name = "RFC3339", value_parser = rfc3339)]
    pub now: Option<chrono::DateTime<chrono::Utc>>,
    /// Audit-log filters older than the retention window: empty (answer what is kept) or reject (400).
    #[arg(long, value_enum, default_value_t = m365_preserve_sim::server::OldFilters::Empty)]
    pub old_filters: m365_preserve_sim::server::OldFilters,
    /// Records one Purview audit-log query may return (more: isRecordCountLimitExceeded).
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub audit_record_limit: usize,
}

fn positive_f64(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(format!("{s:?} is not a positive number")),
    }
}

fn probability(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if (0.0..=1.0).contains(&x) => Ok(x),
        _ => Err(format!("{s:?} is not a probability between 0 and 1")),
    }
}

fn rfc3339(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| format!("{s:?} is not an RFC 3339 time: {e}"))
}

/// Preserve the evidence of compromised users, then seal it.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  M365_SECRET=... m365-preserve collect --tenant contoso.onmicrosoft.com --client-id <app id> \\
      --client-secret-env M365_SECRET --user hanako.sato@contoso.com --case IR-2026-042 \\
      --examiner 'Sato Hanako' --out ./package --recipient age1...
  m365-preserve collect ... --since 2026-11-01T00:00:00Z --sources entra-audit,user,mailbox-rules
  m365-preserve collect ... --certificate app.pem --private-key app.key --exchange

Windows default to what the tenant still retains (7 days on Entra ID Free, 30 on P1/P2).
Exit codes: 0 every source complete; 3 sealed, but some source is partial, unavailable or
failed (the summary and the manifest say why); 1 nothing sealed.")]
pub struct CollectArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// A compromised user (UPN); repeatable.
    #[arg(long = "user", value_name = "UPN", required = true)]
    pub users: Vec<String>,
    #[command(flatten)]
    pub case: CaseArgs,
    #[command(flatten)]
    pub recipients: RecipientArgs,
    #[command(flatten)]
    pub sealing: SealingArgs,
    /// Start of the window (RFC 3339; default: the oldest the tenant retains).
    #[arg(long, value_name = "RFC3339")]
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// End of the window, exclusive (RFC 3339; default: now).
    #[arg(long, value_name = "RFC3339")]
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// Only these sources (comma-separated names; default: all).
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = Source::collectable)]
    pub sources: Vec<Source>,
    /// Files to add as evidence byte for byte (screenshots, saved .eml/.msg).
    #[arg(long, value_name = "FILE")]
    pub attach: Vec<PathBuf>,
    /// Portal downloads or exports to import into the same package (e.g. sign-ins from the
    /// Entra admin center on an Entra ID Free tenant, where the API answers 403).
    #[arg(long = "import", value_name = "FILE")]
    pub imports: Vec<PathBuf>,
    #[command(flatten)]
    pub provenance: ProvenanceArgs,
    #[command(flatten)]
    pub reporting: ReportingArgs,
    /// Keep the work folder after sealing.
    #[arg(long)]
    pub keep_workdir: bool,
    /// Continue an interrupted collection from its work folder (run the same command again,
    /// adding this flag): finished queries are kept, only the missing ones are fetched.
    #[arg(long, value_name = "WORKDIR", env = "M365_PRESERVE_RESUME")]
    pub resume: Option<PathBuf>,
    /// A message to preserve as .eml (its Graph id; repeatable). Exchange regenerates MIME
    /// on export, so the bytes are what the service sent, not the original transmission.
    #[arg(long = "message-id", value_name = "ID")]
    pub message_ids: Vec<String>,
    /// A phishing sender's address (repeatable): message trace lists every recipient of
    /// their mail in the tenant, the colleagues to warn (as it does for each --message-id).
    #[arg(long = "phish-sender", value_name = "ADDRESS")]
    pub phish_senders: Vec<String>,
    /// Service-principal sign-ins: the whole tenant (an attacker's app is not known in
    /// advance) or only the apps linked to the targets (owned, consented, assigned).
    #[arg(long, value_enum, default_value_t = m365_preserve_sources::SpScope::Tenant)]
    pub sp_scope: m365_preserve_sources::SpScope,
    /// Also collect from Exchange Online what Graph cannot see: hidden inbox rules, mailbox
    /// forwarding, permissions, transport rules, audit configuration. Needs a certificate
    /// credential and the app's read-only Exchange roles (README); refuses to run if the
    /// app can run any Exchange cmdlet that is not a Get-.
    #[arg(long, requires = "certificate")]
    pub exchange: bool,
    /// Graph version of the Purview audit-log query API. Default: v1.0, or beta
    /// where the tenant's v1.0 does not serve it (as from July 2025 to July 2026);
    /// the manifest says which served.
    #[arg(long, value_enum)]
    pub audit_api: Option<m365_preserve_sources::AuditApi>,
    /// How many sources collect at once (default: all; 1 collects one after another).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), env = "M365_PRESERVE_CONCURRENCY")]
    pub concurrency: Option<u32>,
    #[command(flatten)]
    pub send: SendAfterArgs,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

/// Run the whole job on the built-in simulated tenant: simulator, collection,
/// sealing and verification, on loopback, with a throw-away key.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  m365-preserve demo            # writes ./m365-preserve-demo/")]
pub struct DemoArgs {
    /// Folder for the demo's package and key.
    #[arg(long, value_name = "DIR", default_value = "m365-preserve-demo")]
    pub out: PathBuf,
}

/// Import portal downloads, diagnostic-settings exports and Exchange Online
/// PowerShell exports, then seal them like a collection.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  m365-preserve import InteractiveSignIns_2026-11-18_2026-11-25.csv \\
      InteractiveSignIns_AuthDetails_2026-11-18_2026-11-25.csv AuditLog_20261125_061500.csv \\
      --case IR-2026-042 --examiner 'Sato Hanako' --out ./package --recipient age1... \\
      --downloaded-at 2026-11-25T06:00:00Z --downloaded-by 'Sato Hanako (Reports Reader)'
  m365-preserve import PT1H.json inbox-rules.csv --case C1 --examiner Sato --out ./p --passphrase

Formats are recognised by content (then by file name: keep the portal's names, which tell
interactive from non-interactive sign-ins). Each file is sealed byte for byte under
evidence/imported/ and its records join the standard evidence files, de-duplicated by id.
Exit codes: 0 complete; 3 sealed, but rows were skipped (--skip-bad-rows); 1 nothing sealed.")]
pub struct ImportArgs {
    /// Exported files to import.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The format of the files that follow, when neither their content nor their
    /// name can tell (a renamed sign-in download; a tool's file under another
    /// name); only a variant of the kind the content shows is accepted.
    #[arg(long = "as", id = "declared", value_name = "VARIANT", value_enum, action = clap::ArgAction::Append)]
    pub declared: Vec<m365_preserve_import::Variant>,
    /// `--as` per file (by its index), from the positions on the command line.
    #[arg(skip)]
    pub placed: std::collections::BTreeMap<usize, m365_preserve_import::Variant>,
    #[command(flatten)]
    pub case: CaseArgs,
    #[command(flatten)]
    pub recipients: RecipientArgs,
    #[command(flatten)]
    pub sealing: SealingArgs,
    #[command(flatten)]
    pub provenance: ProvenanceArgs,
    #[command(flatten)]
    pub send: SendAfterArgs,
    #[command(flatten)]
    pub reporting: ReportingArgs,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

/// The report that ends a collection or an import.
#[derive(Debug, Args)]
pub struct ReportingArgs {
    /// The victim's account (from `m365-preserve interview`), sealed with the evidence.
    #[arg(long, value_name = "FILE", env = "M365_PRESERVE_INTERVIEW")]
    pub interview: Option<PathBuf>,
    /// Do not write the administrator's copy of the report beside the package.
    #[arg(long)]
    pub no_local_report: bool,
}

/// Where imported files came from, and what to do with unreadable rows.
#[derive(Debug, Args)]
pub struct ProvenanceArgs {
    /// When the files were downloaded (RFC 3339), recorded in custody.
    #[arg(long, value_name = "RFC3339", value_parser = rfc3339)]
    pub downloaded_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Who downloaded the files, recorded in custody.
    #[arg(long, value_name = "NAME")]
    pub downloaded_by: Option<String>,
    /// Skip unreadable rows (each listed in the manifest, the source marked
    /// partial, exit code 3) instead of stopping.
    #[arg(long)]
    pub skip_bad_rows: bool,
}

impl ProvenanceArgs {
    pub fn options(&self, case: &CaseArgs) -> m365_preserve_import::ImportOptions {
        m365_preserve_import::ImportOptions {
            skip_bad_rows: self.skip_bad_rows,
            examiner: case.examiner.clone(),
            downloaded_at: self
                .downloaded_at
                .map(m365_preserve_package::timefmt::format_utc),
            downloaded_by: self.downloaded_by.clone(),
            note: case.note.clone(),
            declared: Default::default(),
        }
    }
}

/// Upload a sealed package into the receiving firm's storage: every piece checked by the
/// service on arrival, nothing overwritten, a signed receipt in the custody log.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  m365-preserve send out/IR-2026-042_20261125T061500Z.zip.age \\
      --to 'https://irfirm.blob.core.windows.net/evidence?sv=2022-11-02&sp=cw&se=...&sr=c&sig=...'
  AWS_PROFILE=irfirm m365-preserve send out/IR-2026-042_20261125T061500Z.zip.age \\
      --to s3://irfirm-evidence/IR-2026-042 --retain-until 2027-12-31T00:00:00Z --by 'Sato Hanako'

Azure: a container SAS with sp=cw is enough. S3: credentials from AWS_ACCESS_KEY_ID /
AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN) or the AWS_PROFILE profile; AWS_ENDPOINT_URL_S3 or
AWS_ENDPOINT_URL for S3-compatible storage. The archive, the seal and its signature are uploaded
first, then a signed 'transferred' event with every receipt is added to the custody log, which is
uploaded last. Interrupted? Run the same command again: it continues. The SAS and keys are never
printed or recorded.")]
pub struct SendArgs {
    /// Any of the package's files (.zip.age, .seal.json, .seal.json.sig, .custody.jsonl).
    pub package: PathBuf,
    /// The container SAS URL (https://ACCOUNT.blob.core.windows.net/CONTAINER[/PREFIX]?SAS) or
    /// s3://BUCKET[/PREFIX]; quote it in the shell.
    // hide_env_values: the variable holds the SAS, which --help would print.
    #[arg(
        long,
        value_name = "URL",
        env = "M365_PRESERVE_SEND_TO",
        hide_env_values = true
    )]
    pub to: String,
    /// Who sends (default: the seal's examiner).
    #[arg(long, value_name = "NAME", env = "M365_PRESERVE_BY")]
    pub by: Option<String>,
    /// A note for the custody event.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// OpenSSH ed25519 key that signs the custody event (default: a one-time key; its fingerprint is printed).
    #[arg(long, value_name = "FILE", env = "M365_PRESERVE_SIGNING_KEY")]
    pub signing_key: Option<PathBuf>,
    #[command(flatten)]
    pub options: UploadArgs,
    /// Print one JSON document (the receipts).
    #[arg(long)]
    pub json: bool,
}

/// How to upload (send, collect --send, import --send).
#[derive(Debug, Args)]
pub struct UploadArgs {
    /// Keep every object locked until then (RFC 3339): S3 Object Lock (the bucket must have
    /// Object Lock enabled) or an Azure blob immutability policy (version-level WORM, SAS with i).
    #[arg(long, value_name = "RFC3339", value_parser = rfc3339, env = "M365_PRESERVE_RETAIN_UNTIL")]
    pub retain_until: Option<chrono::DateTime<chrono::Utc>>,
    /// With --retain-until: compliance (nobody can shorten it or delete) or governance
    /// (privileged users can).
    #[arg(long, value_enum, value_name = "MODE", default_value_t = m365_preserve_handover::RetentionMode::Compliance, env = "M365_PRESERVE_RETENTION_MODE")]
    pub retention_mode: m365_preserve_handover::RetentionMode,
    /// Pieces uploaded at once.
    #[arg(long, value_name = "N", default_value_t = 4, env = "M365_PRESERVE_PARALLEL", value_parser = clap::value_parser!(u32).range(1..=64))]
    pub parallel: u32,
    /// Piece size in MiB (tests and benchmarks; default: 8, larger when the file needs it).
    #[arg(
        long,
        hide = true,
        value_name = "MIB",
        env = "M365_PRESERVE_PART_SIZE_MIB"
    )]
    pub part_size_mib: Option<u64>,
}

/// Upload right after sealing (collect, import).
#[derive(Debug, Args)]
pub struct SendAfterArgs {
    /// Upload the package right after sealing, as `send --to URL` does (see `send --help`).
    // hide_env_values: the variable holds the SAS, which --help would print.
    #[arg(
        long = "send",
        value_name = "URL",
        env = "M365_PRESERVE_SEND",
        hide_env_values = true
    )]
    pub send_to: Option<String>,
    #[command(flatten)]
    pub upload: UploadArgs,
}
