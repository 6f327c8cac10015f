//! The built-in simulated tenant: コントソ株式会社 (`contoso-jp.onmicrosoft.com`),
//! where the accounting clerk 佐藤 花子 falls for an adversary-in-the-middle
//! phish. The attacker replays her session, hides and forwards mail with inbox
//! rules, adds their own Authenticator, registers a device and an application
//! with a secret, consents it to Mail.Read, invites a guest and sends a
//! fraudulent payment instruction; thirty colleagues, the tenant's daemons and
//! managed identities go about their month around it.
//!
//! samples/README.md tells the story with a timeline and documents the fixture
//! format; `samples/tenant/` is [`write_fixture`] of [`default_fixture`], and
//! tests/scenario.rs keeps the two identical. Everything derives from fixed
//! seeds and name-based GUIDs, so the output is byte-identical on every run and
//! machine (never use an unseeded generator or the clock here).
//!
//! The `large` profile ([`large_signins`]) generates any number of sign-ins of
//! the same tenant on demand, for benchmarks.

mod audits;
mod catalogue;
mod directory;
mod exchange;
mod ids;
mod large;
mod messages;
mod more;
mod purview;
mod shape;
mod signins;
mod story;

pub use catalogue::TENANT_ID;
pub use large::{large_signins, LargeSignIns};
pub use story::PARTNER_SENDER as PHISH_SENDER;

use super::fixture::Fixture;
use std::io;
use std::path::{Component, Path, PathBuf};

/// The instant the fixture's record times are written against (see
/// [`super::fixture`]): the morning the responder starts collecting.
pub const ANCHOR: &str = "2026-11-25T00:00:00Z";

/// Client id of the `m365-preserve` app registration in the simulated tenant.
pub const TOOL_CLIENT_ID: &str = catalogue::TOOL.id;

/// Client id of `limited-reader`, which holds only User.Read.All.
pub const LIMITED_CLIENT_ID: &str = catalogue::LIMITED.id;

/// The client secret of both apps. It exists only in the simulator: the fixture
/// stores its SHA-256, and no real tenant accepts it.
pub const DEMO_SECRET: &str = "sim-demo-secret";

/// A certificate registered on the `m365-preserve` app, and its private key, for
/// certificate sign-in (which `--exchange` requires). Like [`DEMO_SECRET`] they
/// exist only in the simulator: no real tenant has this certificate registered,
/// and the key is public in this repository.
pub const DEMO_CERTIFICATE_PEM: &str = include_str!("../../data/demo-app.pem");
pub const DEMO_PRIVATE_KEY_PEM: &str = include_str!("../../data/demo-app.key");

/// The cmdlets the collector app's custom read-only Exchange roles hold.
pub use exchange::READ_ONLY_CMDLETS;

/// The compromise scenario, complete and in memory (`dir` is empty: its
/// messages come from [`message_mime`]).
pub fn default_fixture() -> Fixture {
    let signins = signins::generate();
    let mut tenant = directory::tenant(&signins);
    tenant.exchange = exchange::exchange(&tenant.mailboxes);
    let mut fixture = Fixture {
        dir: PathBuf::new(),
        tenant,
        directory_audits: audits::generate(&signins),
        audit_records: purview::generate(&signins),
        signins,
    };
    shape::fill_fixture(&mut fixture);
    fixture
}

/// Writes `fixture` as a fixture folder: `tenant.json` (pretty, in the struct's
/// key order, final newline), the three JSON Lines files (one compact record per
/// line, newest first as given) and every message its mailboxes reference.
pub fn write_fixture(fixture: &Fixture, dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut tenant = serde_json::to_string_pretty(&fixture.tenant)?;
    tenant.push('\n');
    std::fs::write(dir.join("tenant.json"), tenant)?;
    for (name, records) in [
        ("signins.jsonl", &fixture.signins),
        ("directory-audits.jsonl", &fixture.directory_audits),
        ("audit-records.jsonl", &fixture.audit_records),
    ] {
        let mut text = String::new();
        for record in records {
            text.push_str(&serde_json::to_string(record)?);
            text.push('\n');
        }
        std::fs::write(dir.join(name), text)?;
    }
    for eml in message_paths(fixture) {
        let target = dir.join(&eml);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(target, message_mime(fixture, &eml)?)?;
    }
    Ok(())
}

/// The `eml` paths the fixture's mailboxes reference, in mailbox order.
pub fn message_paths(fixture: &Fixture) -> Vec<String> {
    fixture
        .tenant
        .mailboxes
        .values()
        .flat_map(|m| &m.messages)
        .filter_map(|m| m["eml"].as_str().map(str::to_string))
        .collect()
}

/// The MIME of a message a mailbox references (`eml`, relative to the fixture
/// folder). A fixture read from disk answers from its folder; the in-memory
/// default fixture, which has none, from the scenario itself.
pub fn message_mime(fixture: &Fixture, eml: &str) -> io::Result<Vec<u8>> {
    let relative = Path::new(eml);
    if !relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("message path {eml:?} must stay inside the fixture folder"),
        ));
    }
    if !fixture.dir.as_os_str().is_empty() {
        return std::fs::read(fixture.dir.join(relative));
    }
    messages::ALL
        .iter()
        .find(|m| m.eml_path() == eml)
        .map(|m| m.mime().into_bytes())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("the built-in scenario has no message {eml:?}"),
            )
        })
}
