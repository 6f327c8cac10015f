//! Where to get tokens and call APIs, per Microsoft cloud
//! (<https://learn.microsoft.com/graph/deployments>).

use serde::Serialize;
use url::Url;

/// A Microsoft cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    /// Worldwide (includes Microsoft 365 GCC).
    Global,
    /// US Government GCC High (L4).
    Usgov,
    /// US Government DoD (L5).
    Usgovdod,
    /// China, operated by 21Vianet.
    China,
}

/// Hosts of one cloud, and the resource identifiers tokens are requested for.
#[derive(Debug, Clone, Serialize)]
pub struct Endpoints {
    pub cloud: Cloud,
    pub login: Url,
    pub graph: Url,
    /// Office 365 Management Activity API (absent where Microsoft documents none).
    pub manage: Option<Url>,
    /// Token audience for Graph (`<resource>/.default` is the scope).
    pub graph_resource: String,
    pub manage_resource: Option<String>,
    /// Exchange Online's admin API host (`--exchange`), and its token audience
    /// (`<resource>/.default`), per shared/reference/exchange-rest.md §1.4.
    pub exchange: Url,
    pub exchange_resource: String,
}

/// Why an endpoint URL was refused.
#[derive(Debug, thiserror::Error)]
#[error("{flag} {url:?}: {why}")]
pub struct EndpointError {
    pub flag: &'static str,
    pub url: String,
    pub why: String,
}

fn url(s: &str) -> Url {
    Url::parse(s).expect("built-in URL")
}

impl Endpoints {
    pub fn for_cloud(cloud: Cloud) -> Self {
        let (login, graph, manage, exchange) = match cloud {
            Cloud::Global => (
                "https://login.microsoftonline.com",
                "https://graph.microsoft.com",
                Some("https://manage.office.com"),
                "https://outlook.office365.com",
            ),
            Cloud::Usgov => (
                "https://login.microsoftonline.us",
                "https://graph.microsoft.us",
                Some("https://manage.office365.us"),
                "https://outlook.office365.us",
            ),
            Cloud::Usgovdod => (
                "https://login.microsoftonline.us",
                "https://dod-graph.microsoft.us",
                Some("https://manage.protection.apps.mil"),
                "https://outlook-dod.office365.us",
            ),
            Cloud::China => (
                "https://login.chinacloudapi.cn",
                "https://microsoftgraph.chinacloudapi.cn",
                None,
                "https://outlook.office365.cn",
            ),
        };
        Self {
            cloud,
            login: url(login),
            graph: url(graph),
            manage: manage.map(url),
            graph_resource: graph.to_string(),
            manage_resource: manage.map(String::from),
            exchange: url(exchange),
            exchange_resource: exchange.to_string(),
        }
    }

    /// Replaces the Exchange Online host (`--exchange-url`, for the
    /// simulator); the token audience stays the cloud's.
    pub fn with_exchange_override(mut self, exchange: Option<&str>) -> Result<Self, EndpointError> {
        if let Some(e) = exchange {
            self.exchange = checked("--exchange-url", e)?;
        }
        Ok(self)
    }

    /// Replaces hosts (for the simulator or a proxy). Token audiences stay the
    /// cloud's. Plain `http://` is accepted only for loopback addresses.
    pub fn with_overrides(
        mut self,
        graph: Option<&str>,
        login: Option<&str>,
        manage: Option<&str>,
    ) -> Result<Self, EndpointError> {
        if let Some(g) = graph {
            self.graph = checked("--graph-url", g)?;
        }
        if let Some(l) = login {
            self.login = checked("--login-url", l)?;
        }
        if let Some(m) = manage {
            self.manage = Some(checked("--manage-url", m)?);
            if self.manage_resource.is_none() {
                self.manage_resource = Some("https://manage.office.com".into());
            }
        }
        Ok(self)
    }

    /// `https://login.../{tenant}/oauth2/v2.0/{leaf}`.
    pub fn token_url(&self, tenant: &str, leaf: &str) -> Url {
        let mut u = self.login.clone();
        u.set_path(&format!("{}/oauth2/v2.0/{leaf}", tenant_path(tenant)));
        u
    }
}

fn tenant_path(tenant: &str) -> String {
    url::form_urlencoded::byte_serialize(tenant.as_bytes()).collect()
}

fn checked(flag: &'static str, raw: &str) -> Result<Url, EndpointError> {
    let err = |why: &str| EndpointError {
        flag,
        url: raw.to_string(),
        why: why.to_string(),
    };
    let u = Url::parse(raw).map_err(|e| err(&e.to_string()))?;
    match u.scheme() {
        "https" => {}
        "http" => {
            let loopback = match u.host() {
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                Some(url::Host::Domain(d)) => d == "localhost",
                None => false,
            };
            if !loopback {
                return Err(err("plain http:// is allowed only for loopback addresses (127.0.0.1, ::1, localhost); use https://"));
            }
        }
        _ => return Err(err("must be an https:// URL")),
    }
    if u.path() != "/" || u.query().is_some() {
        return Err(err("give only scheme, host and port (no path)"));
    }
    Ok(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clouds_and_overrides() {
        let e = Endpoints::for_cloud(Cloud::Usgovdod);
        assert_eq!(e.graph.as_str(), "https://dod-graph.microsoft.us/");
        assert!(Endpoints::for_cloud(Cloud::China).manage.is_none());
        assert_eq!(e.exchange_resource, "https://outlook-dod.office365.us");
        let e = Endpoints::for_cloud(Cloud::Global)
            .with_exchange_override(Some("http://127.0.0.1:9"))
            .unwrap();
        assert_eq!(e.exchange.as_str(), "http://127.0.0.1:9/");
        assert_eq!(e.exchange_resource, "https://outlook.office365.com");
        let e = Endpoints::for_cloud(Cloud::Global)
            .with_overrides(Some("http://127.0.0.1:8080"), Some("http://[::1]:9"), None)
            .unwrap();
        assert_eq!(e.graph_resource, "https://graph.microsoft.com");
        assert_eq!(
            e.token_url("contoso.onmicrosoft.com", "token").as_str(),
            "http://[::1]:9/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        for bad in [
            "http://10.0.0.1",
            "http://example.com",
            "ftp://127.0.0.1",
            "https://x/path",
        ] {
            assert!(
                Endpoints::for_cloud(Cloud::Global)
                    .with_overrides(Some(bad), None, None)
                    .is_err(),
                "{bad}"
            );
        }
    }
}
