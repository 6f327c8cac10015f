//! Where a package goes: an Azure container (SAS URL) or an S3 bucket, parsed
//! once, with the secret kept apart from everything that is ever shown.

use crate::error::DestinationError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use url::Url;

/// A storage location: a container or bucket and an optional prefix.
#[derive(Clone)]
pub enum Destination {
    Azure(AzureDest),
    S3(S3Dest),
}

/// An Azure container (and prefix) with its SAS.
#[derive(Clone)]
pub struct AzureDest {
    /// `scheme://host/path` of the container and prefix, without query.
    pub base: Url,
    /// The SAS query string: the secret. Never displayed.
    sas: String,
    pub sas_info: SasInfo,
}

/// The parts of a SAS that are not secret (everything but `sig`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct SasInfo {
    /// `sp`: the permissions (r read, a add, c create, w write, d delete, l list, i immutability...).
    pub permissions: Option<String>,
    /// `se`: when the SAS expires.
    pub expiry: Option<String>,
    /// `st`: when it starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// `sr` (service SAS: c container, b blob) or `srt` (account SAS).
    pub resource: Option<String>,
    /// `sv`: the signed version.
    pub version: Option<String>,
    /// `spr`: https or https,http.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// `si`: a stored access policy on the container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

impl SasInfo {
    /// Whether the SAS grants permission letter `p` (unknown when the
    /// permissions come from a stored access policy).
    pub fn allows(&self, p: char) -> Option<bool> {
        self.permissions.as_ref().map(|sp| sp.contains(p))
    }
}

/// An S3 bucket (and prefix) with the credentials to sign for it.
#[derive(Clone)]
pub struct S3Dest {
    pub bucket: String,
    /// "" or ending in `/`.
    pub prefix: String,
    pub endpoint: Url,
    pub region: String,
    /// Path-style URLs (`endpoint/bucket/key`) for custom endpoints.
    pub path_style: bool,
    pub(crate) credentials: rusty_s3::Credentials,
    pub credentials_from: String,
}

/// Object Lock / immutability retention to ask for on every object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    pub mode: RetentionMode,
    pub until: DateTime<Utc>,
}

/// S3 Object Lock modes
/// (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html#object-lock-retention-modes>);
/// on Azure, COMPLIANCE asks for a locked and GOVERNANCE for an unlocked
/// blob immutability policy
/// (<https://learn.microsoft.com/azure/storage/blobs/immutable-version-level-worm-policies>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum RetentionMode {
    // Nobody, not even the account's root user, can shorten it or delete the object.
    Compliance,
    // Users with a special permission (s3:BypassGovernanceRetention) can lift it.
    Governance,
}

impl RetentionMode {
    pub fn s3(self) -> &'static str {
        match self {
            RetentionMode::Compliance => "COMPLIANCE",
            RetentionMode::Governance => "GOVERNANCE",
        }
    }

    pub fn azure(self) -> &'static str {
        match self {
            RetentionMode::Compliance => "Locked",
            RetentionMode::Governance => "Unlocked",
        }
    }
}

/// What is done with a destination: writing (send) or reading (verify).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Write,
    Read,
}

/// Plain `http://` only for loopback addresses (emulators, tests).
fn check_scheme(url: &Url) -> Result<(), DestinationError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(DestinationError::PlainHttp(redact_url(url))),
        other => Err(DestinationError::Scheme(other.to_string())),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// A URL without its query and fragment (where a SAS or a presigned
/// signature lives) and without user info.
pub fn redact_url(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string()
}

impl Destination {
    /// Parses `--to`: an Azure container SAS URL or `s3://BUCKET[/PREFIX]`.
    pub fn parse(text: &str, env: &dyn Env) -> Result<Self, DestinationError> {
        if let Some(rest) = text.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            return S3Dest::new(bucket, prefix, env).map(Destination::S3);
        }
        let url = Url::parse(text).map_err(|e| DestinationError::NotAUrl(e.to_string()))?;
        check_scheme(&url)?;
        AzureDest::new(url).map(Destination::Azure)
    }

    /// The destination as shown and recorded: no SAS, no keys.
    pub fn display(&self) -> String {
        match self {
            Destination::Azure(a) => a.base.to_string().trim_end_matches('/').to_string(),
            Destination::S3(s) => {
                let prefix = s.prefix.trim_end_matches('/');
                let at = if s.is_aws() {
                    String::new()
                } else {
                    format!(" at {}", redact_url(&s.endpoint).trim_end_matches('/'))
                };
                if prefix.is_empty() {
                    format!("s3://{}{at}", s.bucket)
                } else {
                    format!("s3://{}/{prefix}{at}", s.bucket)
                }
            }
        }
    }

    /// The destination for the custody log: where, and with what kind of
    /// credential (its non-secret parts only).
    pub fn record(&self) -> Value {
        match self {
            Destination::Azure(a) => json!({
                "service": "azure-blob",
                "url": self.display(),
                "sas": a.sas_info,
            }),
            Destination::S3(s) => json!({
                "service": "s3",
                "bucket": s.bucket,
                "prefix": s.prefix,
                "endpoint": redact_url(&s.endpoint),
                "region": s.region,
                "credentials": s.credentials_from,
            }),
        }
    }

    /// How the transfer was made, in words, for the custody event's `method`.
    pub fn method(&self) -> String {
        match self {
            Destination::Azure(a) => format!(
                "m365-preserve send: Azure Blob Storage, container SAS (sp={})",
                a.sas_info
                    .permissions
                    .as_deref()
                    .unwrap_or("from a stored policy")
            ),
            Destination::S3(_) => "m365-preserve send: Amazon S3 API (SigV4)".to_string(),
        }
    }

    /// The full name of an object under the prefix.
    pub fn object_name(&self, file_name: &str) -> String {
        match self {
            Destination::Azure(a) => {
                let path = a.base.path().trim_matches('/');
                // The first segment is the container (the second, on an
                // emulator's path-style URL); the rest is the prefix.
                let skip = if a.path_style() { 2 } else { 1 };
                let prefix: Vec<&str> = path.split('/').skip(skip).collect();
                if prefix.is_empty() || prefix == [""] {
                    file_name.to_string()
                } else {
                    format!("{}/{file_name}", prefix.join("/"))
                }
            }
            Destination::S3(s) => format!("{}{file_name}", s.prefix),
        }
    }

    /// Values that must never appear anywhere (for tests and a last guard).
    pub fn secrets(&self) -> Vec<String> {
        match self {
            Destination::Azure(a) => a
                .sas_pairs()
                .filter(|(k, _)| k == "sig")
                .map(|(_, v)| v)
                .collect(),
            Destination::S3(s) => {
                let mut v = vec![s.credentials.secret().to_string()];
                v.extend(s.credentials.token().map(String::from));
                v
            }
        }
    }

    /// Refuses what cannot work before anything is sent: an expired SAS, one
    /// without the permissions `access` needs. Returns warnings to show.
    pub fn check(
        &self,
        access: Access,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, DestinationError> {
        let Destination::Azure(a) = self else {
            return Ok(Vec::new());
        };
        let info = &a.sas_info;
        if let Some(se) = &info.expiry {
            if let Ok(t) = DateTime::parse_from_rfc3339(se) {
                if t < now {
                    return Err(DestinationError::SasExpired(se.clone()));
                }
            }
        }
        let mut warnings = Vec::new();
        match access {
            Access::Write => {
                if info.allows('w') == Some(false) {
                    return Err(DestinationError::SasCannotWrite(
                        info.permissions.clone().unwrap_or_default(),
                    ));
                }
                for (p, what) in [
                    ('d', "delete"),
                    ('x', "delete versions"),
                    ('y', "permanently delete"),
                ] {
                    if info.allows(p) == Some(true) {
                        warnings.push(format!(
                            "the SAS also allows the holder to {what} blobs (sp={}); a write-only SAS (sp=cw) is enough for sending",
                            info.permissions.as_deref().unwrap_or_default()
                        ));
                    }
                }
            }
            Access::Read => {
                if info.allows('r') == Some(false) {
                    return Err(DestinationError::SasCannotRead(
                        info.permissions.clone().unwrap_or_default(),
                    ));
                }
            }
        }
        Ok(warnings)
    }
}

impl fmt::Debug for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Destination({})", self.display())
    }
}

impl AzureDest {
    fn new(mut url: Url) -> Result<Self, DestinationError> {
        let sas = url.query().unwrap_or_default().to_string();
        url.set_query(None);
        url.set_fragment(None);
        let dest = Self {
            base: url,
            sas,
            sas_info: SasInfo::default(),
        };
        let mut info = SasInfo::default();
        let mut has_sig = false;
        for (k, v) in dest.sas_pairs() {
            match k.as_str() {
                "sp" => info.permissions = Some(v),
                "se" => info.expiry = Some(v),
                "st" => info.start = Some(v),
                "sr" | "srt" => info.resource = Some(v),
                "sv" => info.version = Some(v),
                "spr" => info.protocol = Some(v),
                "si" => info.policy = Some(v),
                "sig" => has_sig = true,
                _ => {}
            }
        }
        if !has_sig {
            return Err(DestinationError::NoSas(redact_url(&dest.base)));
        }
        if dest.base.path().trim_matches('/').is_empty() {
            return Err(DestinationError::NoContainer(redact_url(&dest.base)));
        }
        Ok(Self {
            sas_info: info,
            ..dest
        })
    }

    fn sas_pairs(&self) -> impl Iterator<Item = (String, String)> + '_ {
        url::form_urlencoded::parse(self.sas.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
    }

    /// Emulators (Azurite) name the account in the path: `host/ACCOUNT/CONTAINER`.
    fn path_style(&self) -> bool {
        !self
            .base
            .host_str()
            .is_some_and(|h| h.contains(".blob.") || h.contains(".dfs."))
    }

    /// The URL of object `name` (already including the prefix), SAS included:
    /// only ever handed to the HTTP client.
    pub(crate) fn object_url(&self, name: &str) -> Url {
        let mut u = self.base.clone();
        {
            let container_path: Vec<String> = self
                .base
                .path_segments()
                .map(|s| s.filter(|x| !x.is_empty()).map(String::from).collect())
                .unwrap_or_default();
            let skip = if self.path_style() { 2 } else { 1 };
            let mut segs = u.path_segments_mut().expect("http URL");
            segs.clear();
            for s in container_path.iter().take(skip) {
                segs.push(s);
            }
            for s in name.split('/') {
                segs.push(s);
            }
        }
        u.set_query(Some(&self.sas));
        u
    }
}

/// The environment and files the S3 credentials come from (a trait so tests
/// can give their own).
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
    fn home(&self) -> Option<PathBuf>;
}

/// The process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }

    fn home(&self) -> Option<PathBuf> {
        self.var("HOME").map(PathBuf::from)
    }
}

impl S3Dest {
    fn new(bucket: &str, prefix: &str, env: &dyn Env) -> Result<Self, DestinationError> {
        if bucket.is_empty() {
            return Err(DestinationError::NoBucket);
        }
        let prefix = match prefix.trim_matches('/') {
            "" => String::new(),
            p => format!("{p}/"),
        };
        let profile = env.var("AWS_PROFILE").unwrap_or_else(|| "default".into());
        let config = read_ini(env, "AWS_CONFIG_FILE", ".aws/config");
        let section = if profile == "default" {
            "default".to_string()
        } else {
            format!("profile {profile}")
        };
        let region = env
            .var("AWS_REGION")
            .or_else(|| env.var("AWS_DEFAULT_REGION"))
            .or_else(|| ini_value(&config, &section, "region"))
            .unwrap_or_else(|| "us-east-1".into());
        let (credentials, credentials_from) = credentials(env, &profile)?;
        let custom = env
            .var("AWS_ENDPOINT_URL_S3")
            .or_else(|| env.var("AWS_ENDPOINT_URL"));
        let (endpoint, path_style) = match custom {
            Some(e) => {
                let url =
                    Url::parse(&e).map_err(|err| DestinationError::BadEndpoint(err.to_string()))?;
                check_scheme(&url)?;
                (url, true)
            }
            None => (
                Url::parse(&format!("https://s3.{region}.amazonaws.com"))
                    .map_err(|err| DestinationError::BadEndpoint(err.to_string()))?,
                false,
            ),
        };
        Ok(Self {
            bucket: bucket.to_string(),
            prefix,
            endpoint,
            region,
            path_style,
            credentials,
            credentials_from,
        })
    }

    fn is_aws(&self) -> bool {
        !self.path_style
    }

    pub(crate) fn bucket(&self) -> rusty_s3::Bucket {
        let style = if self.path_style {
            rusty_s3::UrlStyle::Path
        } else {
            rusty_s3::UrlStyle::VirtualHost
        };
        rusty_s3::Bucket::new(
            self.endpoint.clone(),
            style,
            self.bucket.clone(),
            self.region.clone(),
        )
        .expect("endpoint checked when parsed")
    }
}

/// Credentials from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (and
/// `AWS_SESSION_TOKEN`), else from the shared credentials file's profile
/// (<https://docs.aws.amazon.com/sdkref/latest/guide/file-format.html>).
fn credentials(
    env: &dyn Env,
    profile: &str,
) -> Result<(rusty_s3::Credentials, String), DestinationError> {
    if let (Some(key), Some(secret)) = (
        env.var("AWS_ACCESS_KEY_ID"),
        env.var("AWS_SECRET_ACCESS_KEY"),
    ) {
        let c = match env.var("AWS_SESSION_TOKEN") {
            Some(t) => rusty_s3::Credentials::new_with_token(key, secret, t),
            None => rusty_s3::Credentials::new(key, secret),
        };
        return Ok((c, "environment (AWS_ACCESS_KEY_ID)".into()));
    }
    let file = read_ini(env, "AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
    let key = ini_value(&file, profile, "aws_access_key_id");
    let secret = ini_value(&file, profile, "aws_secret_access_key");
    match (key, secret) {
        (Some(k), Some(s)) => {
            let c = match ini_value(&file, profile, "aws_session_token") {
                Some(t) => rusty_s3::Credentials::new_with_token(k, s, t),
                None => rusty_s3::Credentials::new(k, s),
            };
            Ok((c, format!("shared credentials file, profile {profile}")))
        }
        _ => Err(DestinationError::NoCredentials(profile.to_string())),
    }
}

fn read_ini(env: &dyn Env, var: &str, default: &str) -> String {
    let path = env
        .var(var)
        .map(PathBuf::from)
        .or_else(|| env.home().map(|h| h.join(default)));
    path.and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default()
}

/// `key` in `[section]` of an INI text.
fn ini_value(text: &str, section: &str, key: &str) -> Option<String> {
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = s.trim().to_string();
        } else if current == section {
            if let Some((k, v)) = line.split_once('=') {
                if k.trim() == key {
                    return Some(v.trim().to_string());
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    pub(crate) struct FakeEnv(pub HashMap<&'static str, String>, pub Option<PathBuf>);

    impl Env for FakeEnv {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).cloned()
        }
        fn home(&self) -> Option<PathBuf> {
            self.1.clone()
        }
    }

    fn env(pairs: &[(&'static str, &str)]) -> FakeEnv {
        FakeEnv(
            pairs.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            None,
        )
    }

    const SAS: &str = "sv=2021-12-02&sp=cw&se=2099-01-01T00%3A00%3A00Z&sr=c&sig=S3CRET%2Bsig%3D";

    #[test]
    fn azure_url_keeps_the_sas_out_of_everything_shown() {
        let d = Destination::parse(
            &format!("https://acct.blob.core.windows.net/evidence/case-42?{SAS}"),
            &env(&[]),
        )
        .unwrap();
        assert_eq!(
            d.display(),
            "https://acct.blob.core.windows.net/evidence/case-42"
        );
        let record = d.record().to_string();
        assert!(!record.contains("S3CRET"), "{record}");
        assert!(record.contains("\"permissions\":\"cw\""), "{record}");
        assert!(!format!("{d:?}").contains("S3CRET"));
        assert_eq!(d.secrets(), ["S3CRET+sig="]);
        assert_eq!(d.object_name("C_1.zip.age"), "case-42/C_1.zip.age");
        let Destination::Azure(a) = &d else { panic!() };
        let u = a.object_url("case-42/C_1.zip.age");
        assert_eq!(u.path(), "/evidence/case-42/C_1.zip.age");
        assert!(u.query().unwrap().contains("sig="));
    }

    #[test]
    fn emulator_urls_name_the_account_in_the_path() {
        let d = Destination::parse(
            &format!("http://127.0.0.1:10000/devstoreaccount1/evidence?{SAS}"),
            &env(&[]),
        )
        .unwrap();
        assert_eq!(d.object_name("C_1.seal.json"), "C_1.seal.json");
        let Destination::Azure(a) = &d else { panic!() };
        assert_eq!(
            a.object_url("C_1.seal.json").path(),
            "/devstoreaccount1/evidence/C_1.seal.json"
        );
    }

    #[test]
    fn refuses_plain_http_off_loopback_missing_sas_and_expired_sas() {
        let e = Destination::parse(
            &format!("http://acct.blob.core.windows.net/c?{SAS}"),
            &env(&[]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("https"), "{e}");
        assert!(!e.to_string().contains("S3CRET"), "{e}");
        let e = Destination::parse("https://acct.blob.core.windows.net/c", &env(&[])).unwrap_err();
        assert!(e.to_string().contains("SAS"), "{e}");
        let d = Destination::parse(
            "https://a.blob.core.windows.net/c?sp=cw&se=2020-01-01T00:00:00Z&sig=x",
            &env(&[]),
        )
        .unwrap();
        let e = d.check(Access::Write, Utc::now()).unwrap_err();
        assert!(e.to_string().contains("expired"), "{e}");
    }

    #[test]
    fn sas_permissions_are_checked_for_what_is_done() {
        let parse = |sp: &str| {
            Destination::parse(
                &format!("https://a.blob.core.windows.net/c?sp={sp}&sig=x"),
                &env(&[]),
            )
            .unwrap()
        };
        assert!(parse("cw")
            .check(Access::Write, Utc::now())
            .unwrap()
            .is_empty());
        let w = parse("racwd").check(Access::Write, Utc::now()).unwrap();
        assert!(w[0].contains("delete"), "{w:?}");
        assert!(parse("r").check(Access::Write, Utc::now()).is_err());
        assert!(parse("cw").check(Access::Read, Utc::now()).is_err());
        assert!(parse("rl").check(Access::Read, Utc::now()).is_ok());
    }

    #[test]
    fn s3_credentials_from_the_environment_or_the_profile() {
        let d = Destination::parse(
            "s3://evidence-bucket/cases/42/",
            &env(&[
                ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"),
                ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI"),
                ("AWS_REGION", "ap-northeast-1"),
            ]),
        )
        .unwrap();
        assert_eq!(d.display(), "s3://evidence-bucket/cases/42");
        assert_eq!(d.object_name("C.zip.age"), "cases/42/C.zip.age");
        assert_eq!(d.secrets(), ["wJalrXUtnFEMI"]);
        assert!(!d.record().to_string().contains("wJalrXUtnFEMI"));
        let Destination::S3(s) = &d else { panic!() };
        assert_eq!(
            s.endpoint.as_str(),
            "https://s3.ap-northeast-1.amazonaws.com/"
        );
        assert!(!s.path_style);

        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir(home.path().join(".aws")).unwrap();
        std::fs::write(
            home.path().join(".aws/credentials"),
            "[default]\naws_access_key_id = A\naws_secret_access_key = B\n[firm]\naws_access_key_id = K\naws_secret_access_key = S\n",
        )
        .unwrap();
        std::fs::write(
            home.path().join(".aws/config"),
            "[profile firm]\nregion = eu-west-1\n",
        )
        .unwrap();
        let mut e = env(&[
            ("AWS_PROFILE", "firm"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
        ]);
        e.1 = Some(home.path().to_path_buf());
        let d = Destination::parse("s3://b", &e).unwrap();
        let Destination::S3(s) = &d else { panic!() };
        assert_eq!((s.region.as_str(), s.path_style), ("eu-west-1", true));
        assert_eq!(s.credentials_from, "shared credentials file, profile firm");
        assert_eq!(d.display(), "s3://b at http://127.0.0.1:4566");
        let e = Destination::parse("s3://b", &env(&[])).unwrap_err();
        assert!(e.to_string().contains("AWS_ACCESS_KEY_ID"), "{e}");
    }
}
