//! `acquisition.json`: who acquired the evidence, with what, where and when.

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const ACQUISITION_FORMAT: &str = "m365-preserve-acquisition/1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Tool {
    pub fn this() -> Self {
        Self {
            name: crate::TOOL_NAME.into(),
            version: crate::TOOL_VERSION.into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Host {
    pub hostname: String,
    pub os: String,
    pub arch: String,
}

impl Host {
    pub fn this() -> Self {
        let name = gethostname::gethostname();
        let hostname = match name.to_string_lossy().trim() {
            "" => "unknown".to_string(),
            h => h.to_string(),
        };
        Self {
            hostname,
            os: std::env::consts::OS.into(),
            arch: std::env::consts::ARCH.into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Clock {
    /// Where times come from (`system clock`).
    pub source: String,
    /// All times in this package are UTC.
    pub timezone: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Acquisition {
    pub format: String,
    pub case_id: String,
    pub examiner: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub tool: Tool,
    pub host: Host,
    /// The operator's token identity (tenant, app, roles) for API collections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud: Option<String>,
    /// The command line, with secret values redacted.
    pub command_line: Vec<String>,
    /// The earlier package of the same collection this one completes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplements: Option<EarlierPackage>,
    pub clock: Clock,
    pub started: String,
    pub finished: String,
}

/// A package named by a later one: its ciphertext's file name and SHA-256, the
/// identity a recipient can check against the earlier seal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarlierPackage {
    pub file: String,
    pub sha256: String,
}

/// Replaces values of options whose names suggest secrets with `<redacted>`.
/// Secrets are never accepted on the command line; this is a second guard.
/// A URL's query (an Azure SAS, a presigned signature) is redacted too.
pub fn redact_args(args: impl IntoIterator<Item = String>) -> Vec<String> {
    let secretish = |flag: &str| {
        let f = flag.trim_start_matches('-').to_ascii_lowercase();
        !f.ends_with("-env")
            && !f.ends_with("-file")
            && ["secret", "password", "passphrase", "token"]
                .iter()
                .any(|w| f.contains(w))
    };
    let mut out = Vec::new();
    let mut redact_next = false;
    for arg in args {
        // A URL's query may hold a credential (an Azure SAS, a presigned signature).
        let arg = match arg.split_once("://").and_then(|_| arg.split_once('?')) {
            Some((url, _)) => format!("{url}?<redacted>"),
            None => arg,
        };
        if redact_next {
            out.push("<redacted>".into());
            redact_next = false;
        } else if let Some((flag, _)) = arg.split_once('=').filter(|(f, _)| f.starts_with("--")) {
            if secretish(flag) {
                out.push(format!("{flag}=<redacted>"));
            } else {
                out.push(arg);
            }
        } else {
            // `--passphrase` alone is a switch; only options taking values are redacted.
            redact_next = arg.starts_with("--") && secretish(&arg) && arg != "--passphrase";
            out.push(arg);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_secret_values_but_not_variable_names() {
        let args = [
            "x",
            "--client-secret",
            "s3cr3t",
            "--token=abc",
            "--passphrase-env",
            "VAR",
            "--passphrase",
            "--case",
            "C",
            "--send",
            "https://a.blob.core.windows.net/c?sp=cw&sig=abc",
            "--send=https://a.blob.core.windows.net/c?sig=abc",
        ]
        .map(String::from);
        assert_eq!(
            redact_args(args),
            [
                "x",
                "--client-secret",
                "<redacted>",
                "--token=<redacted>",
                "--passphrase-env",
                "VAR",
                "--passphrase",
                "--case",
                "C",
                "--send",
                "https://a.blob.core.windows.net/c?<redacted>",
                "--send=https://a.blob.core.windows.net/c?<redacted>",
            ]
        );
    }
}
