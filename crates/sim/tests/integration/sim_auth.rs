//! The simulator's token endpoints and Management Activity API, over loopback
//! HTTP, against a small in-code fixture: client secret, certificate assertions
//! in both formats and every way to get them wrong, device code with each
//! simulated user, refresh, and content listing/paging/blobs, validation errors
//! and AF429 throttling.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use m365_preserve_sim::fixture::{Fixture, Licence};
use m365_preserve_sim::shared::{Shared, SimClock, VecSource, GRAPH_RESOURCE, MANAGE_RESOURCE};
use m365_preserve_sim::token::{Claims, TokenStore};
use m365_preserve_sim::{auth, management};
use reqwest::StatusCode;
use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer};
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

/// The claims of a JWT (its middle part), as a client reads them.
fn decode_claims(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

const TENANT: &str = "5d3e2b1a-7c4f-4e8a-9b21-0a6f3c9d8e71";
const DOMAIN: &str = "contoso.onmicrosoft.com";
const OTHER_TENANT: &str = "0b9d0a55-1f3e-4d0c-8a7e-2c6b5e4f3a21";
const SECRET: &str = "Zx8Q~secret.value-Not_To_Echo";

/// App-only collector: secret, certificate, Graph and Management roles.
const COLLECTOR: &str = "a1b2c3d4-0000-4000-8000-000000000001";
/// App-only app without ActivityFeed.Read.
const NO_FEED: &str = "a1b2c3d4-0000-4000-8000-000000000002";
/// Public clients whose display names choose the simulated user.
const OPERATOR: &str = "a1b2c3d4-0000-4000-8000-000000000010";
const DECLINER: &str = "a1b2c3d4-0000-4000-8000-000000000011";
const EXPIRER: &str = "a1b2c3d4-0000-4000-8000-000000000012";
const SLOW: &str = "a1b2c3d4-0000-4000-8000-000000000013";
/// Not a public client: may not use the device-code flow.
const CONFIDENTIAL: &str = "a1b2c3d4-0000-4000-8000-000000000014";

const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";
const MANAGE_DEFAULT: &str = "https://manage.office.com/.default";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

// ---------------------------------------------------------------- fixture ----

/// The collector's certificate and key (made once: RSA key generation is slow).
struct TestCert {
    key: RsaPrivateKey,
    der: Vec<u8>,
    pem: String,
}

fn cert() -> &'static TestCert {
    static CERT: OnceLock<TestCert> = OnceLock::new();
    CERT.get_or_init(|| {
        use std::str::FromStr;
        use x509_cert::builder::{Builder, CertificateBuilder, Profile};
        use x509_cert::der::{pem::LineEnding, Encode, EncodePem};
        let key = RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
        let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new(key.clone());
        let spki =
            x509_cert::spki::SubjectPublicKeyInfoOwned::from_key(key.to_public_key()).unwrap();
        let cert = CertificateBuilder::new(
            Profile::Root,
            x509_cert::serial_number::SerialNumber::from(1u32),
            x509_cert::time::Validity::from_now(std::time::Duration::from_secs(86_400)).unwrap(),
            x509_cert::name::Name::from_str("CN=m365-preserve collector").unwrap(),
            spki,
            &signer,
        )
        .unwrap()
        .build::<rsa::pkcs1v15::Signature>()
        .unwrap();
        TestCert {
            der: cert.to_der().unwrap(),
            pem: cert.to_pem(LineEnding::LF).unwrap(),
            key,
        }
    })
}

fn apps() -> Value {
    let secret_sha256 = hex::encode(Sha256::digest(SECRET));
    let public = |id: &str, name: &str| {
        json!({"clientId": id, "displayName": name, "publicClient": true,
               "delegatedScopes": ["AuditLog.Read.All", "Directory.Read.All", "ActivityFeed.Read"]})
    };
    json!([
        {"clientId": COLLECTOR, "displayName": "IR Collector", "secretSha256": secret_sha256,
         "certificates": [{"certificatePem": cert().pem}],
         "roles": ["AuditLog.Read.All", "Directory.Read.All", "ActivityFeed.Read"]},
        {"clientId": NO_FEED, "displayName": "Graph only", "secretSha256": secret_sha256,
         "roles": ["AuditLog.Read.All"]},
        public(OPERATOR, "Operator CLI"),
        public(DECLINER, "Operator CLI (declined)"),
        public(EXPIRER, "Operator CLI (expired)"),
        public(SLOW, "Operator CLI (slow)"),
        {"clientId": CONFIDENTIAL, "displayName": "Confidential", "delegatedScopes": ["AuditLog.Read.All"]},
    ])
}

/// One Management-API record at `time` (a Graph auditLogRecord wrapping it).
fn audit_record(n: usize, time: DateTime<Utc>, workload: Option<&str>, record_type: i64) -> Value {
    let id = format!("00000000-0000-4000-8000-{n:012}");
    let mut audit = json!({
        "CreationTime": time.format("%Y-%m-%dT%H:%M:%S").to_string(),
        "Id": id, "Operation": "MailItemsAccessed", "OrganizationId": TENANT,
        "RecordType": record_type, "UserKey": "10037FFE91510806",
        "UserId": "victim@contoso.onmicrosoft.com", "ClientIP": "203.0.113.7",
    });
    if let Some(w) = workload {
        audit["Workload"] = json!(w);
    }
    json!({"id": id, "createdDateTime": time.to_rfc3339_opts(SecondsFormat::Secs, true), "auditData": audit})
}

/// Five workloads every hour for 30 hours, one crowded Exchange hour, a record
/// with only a RecordType, one too recent to be published yet, one 8 days old.
fn audit_records(now: DateTime<Utc>) -> Vec<Value> {
    let workloads = [
        ("Exchange", 2),
        ("AzureActiveDirectory", 15),
        ("SharePoint", 6),
        ("OneDrive", 6),
        ("MicrosoftTeams", 25),
    ];
    let mut out = Vec::new();
    for hours_ago in 1..=30 {
        for (i, (workload, record_type)) in workloads.iter().enumerate() {
            let t = now - Duration::hours(hours_ago) + Duration::minutes(7 * i as i64 + 1);
            out.push(audit_record(out.len(), t, Some(workload), *record_type));
        }
    }
    for k in 0..12 {
        let t = now - Duration::hours(5) + Duration::minutes(k);
        out.push(audit_record(out.len(), t, Some("Exchange"), 2));
    }
    out.push(audit_record(out.len(), now - Duration::hours(3), None, 15));
    out.push(audit_record(
        out.len(),
        now - Duration::minutes(5),
        Some("Exchange"),
        2,
    ));
    out.push(audit_record(
        out.len(),
        now - Duration::days(8),
        Some("Exchange"),
        2,
    ));
    out
}

fn fixture(now: DateTime<Utc>) -> Fixture {
    let tenant = serde_json::from_value(json!({
        "tenantId": TENANT, "displayName": "Contoso", "defaultDomain": DOMAIN,
        "licence": "p2", "anchor": now.to_rfc3339(), "apps": apps(), "users": [],
    }))
    .unwrap();
    Fixture {
        dir: std::path::PathBuf::new(),
        tenant,
        signins: Vec::new(),
        directory_audits: Vec::new(),
        audit_records: audit_records(now),
    }
}

// ----------------------------------------------------------------- server ----

struct Sim {
    base: String,
    shared: Arc<Shared>,
    http: reqwest::Client,
}

struct Reply {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    text: String,
    json: Value,
}

impl Sim {
    /// Both routers on a loopback port; `feed_limit` lowers the Management API budget.
    async fn start(scale: f64, feed_limit: Option<u32>) -> Self {
        let now = Utc::now();
        let shared = Arc::new(Shared {
            fixture: Arc::new(fixture(now)),
            signins: Box::new(VecSource::sorted_desc(vec![], "createdDateTime")),
            licence: Licence::P2,
            tokens: TokenStore::default(),
            clock: SimClock::new(now, scale),
        });
        let feed = match feed_limit {
            Some(limit) => management::router_with_limit(shared.clone(), limit),
            None => management::router(shared.clone()),
        };
        let app = auth::router(shared.clone()).merge(feed);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            base,
            shared,
            http: reqwest::Client::new(),
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.shared.clock.now()
    }

    fn token_url(&self) -> String {
        format!("{}/{TENANT}/oauth2/v2.0/token", self.base)
    }

    async fn reply(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            json,
        }
    }

    async fn post_form(&self, url: &str, form: &[(&str, &str)]) -> Reply {
        Self::reply(self.http.post(url).form(form).send().await.unwrap()).await
    }

    async fn token(&self, form: &[(&str, &str)]) -> Reply {
        self.post_form(&self.token_url(), form).await
    }

    async fn secret_token(&self, client_id: &str, scope: &str) -> String {
        let r = self
            .token(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("scope", scope),
                ("client_secret", SECRET),
            ])
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.json["access_token"].as_str().unwrap().to_string()
    }

    async fn get(&self, url: &str, token: Option<&str>) -> Reply {
        let mut request = self.http.get(url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        Self::reply(request.send().await.unwrap()).await
    }

    fn feed(&self, path: &str) -> String {
        format!("{}/api/v1.0/{TENANT}/activity/feed/{path}", self.base)
    }
}

/// Asserts an Entra OAuth error body: `error`, `error_codes`, the description's
/// layout, and that `secret` appears nowhere in it.
fn assert_oauth_error(r: &Reply, status: StatusCode, error: &str, code: u32, secret: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.json["error"], error, "{}", r.text);
    assert_eq!(r.json["error_codes"], json!([code]), "{}", r.text);
    let description = r.json["error_description"].as_str().unwrap();
    assert!(
        description.starts_with(&format!("AADSTS{code}: ")),
        "{description}"
    );
    for part in ["\r\nTrace ID: ", "\r\nCorrelation ID: ", "\r\nTimestamp: "] {
        assert!(description.contains(part), "{description}");
    }
    for key in ["timestamp", "trace_id", "correlation_id"] {
        assert!(r.json[key].is_string(), "{key}: {}", r.text);
    }
    assert_eq!(
        r.json["error_uri"],
        format!("https://login.microsoftonline.com/error?code={code}")
    );
    assert!(
        !r.text.contains(secret),
        "the error quotes the credential: {}",
        r.text
    );
}

fn assert_feed_error(r: &Reply, status: StatusCode, code: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.json["error"]["code"], code, "{}", r.text);
    assert!(r.json["error"]["message"].is_string(), "{}", r.text);
}

// ------------------------------------------------------- client secret ----

#[tokio::test]
async fn client_secret_gets_app_only_tokens_for_graph_and_the_management_api() {
    let sim = Sim::start(1.0, None).await;
    for (tenant, scope, aud) in [
        (TENANT, GRAPH_DEFAULT, GRAPH_RESOURCE),
        (DOMAIN, MANAGE_DEFAULT, MANAGE_RESOURCE),
        (&TENANT.to_uppercase(), GRAPH_DEFAULT, GRAPH_RESOURCE),
    ] {
        let url = format!("{}/{tenant}/oauth2/v2.0/token", sim.base);
        let r = sim
            .post_form(
                &url,
                &[
                    ("client_id", COLLECTOR),
                    ("scope", scope),
                    ("client_secret", SECRET),
                    ("grant_type", "client_credentials"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.headers["cache-control"], "no-store, no-cache");
        assert_eq!(r.json["token_type"], "Bearer");
        assert_eq!(
            (
                r.json["expires_in"].as_i64(),
                r.json["ext_expires_in"].as_i64()
            ),
            (Some(3599), Some(3599))
        );
        let claims = decode_claims(r.json["access_token"].as_str().unwrap()).unwrap();
        assert_eq!(
            (claims["tid"].as_str(), claims["appid"].as_str()),
            (Some(TENANT), Some(COLLECTOR))
        );
        assert_eq!(claims["aud"], aud);
        assert_eq!(
            claims["roles"],
            json!([
                "AuditLog.Read.All",
                "Directory.Read.All",
                "ActivityFeed.Read"
            ])
        );
        assert!(claims.get("scp").is_none());
        let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
        assert_eq!(lifetime, 3599);
    }
}

#[tokio::test]
async fn a_wrong_secret_gives_a_clear_error_that_does_not_echo_it() {
    let sim = Sim::start(1.0, None).await;
    let wrong = "Wrong~Secret.Guess-123";
    let correlation = "3f1c8f4e-2a6b-4c3d-9e8f-1a2b3c4d5e6f";
    let response = sim
        .http
        .post(sim.token_url())
        .header("client-request-id", correlation)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", COLLECTOR),
            ("scope", GRAPH_DEFAULT),
            ("client_secret", wrong),
        ])
        .send()
        .await
        .unwrap();
    let r = Sim::reply(response).await;
    assert_oauth_error(
        &r,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        7000215,
        wrong,
    );
    assert!(!r.text.contains(SECRET));
    assert!(r.json["error_description"]
        .as_str()
        .unwrap()
        .contains("Invalid client secret provided"));
    assert_eq!(r.json["correlation_id"], correlation);
    // A secret of another app is just as wrong.
    let r = sim
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", OPERATOR),
            ("scope", GRAPH_DEFAULT),
            ("client_secret", SECRET),
        ])
        .await;
    assert_oauth_error(
        &r,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        7000215,
        SECRET,
    );
}

#[tokio::test]
async fn malformed_or_unknown_requests_get_the_oauth_error_shape() {
    let sim = Sim::start(1.0, None).await;
    let ok = [
        ("grant_type", "client_credentials"),
        ("client_id", COLLECTOR),
        ("scope", GRAPH_DEFAULT),
        ("client_secret", SECRET),
    ];
    let with = |name: &str, value: &'static str| -> Vec<(&'static str, &'static str)> {
        ok.iter()
            .map(|&(n, v)| if n == name { (n, value) } else { (n, v) })
            .collect()
    };
    let without = |name: &str| -> Vec<(&'static str, &'static str)> {
        ok.iter().copied().filter(|(n, _)| *n != name).collect()
    };
    let bad = StatusCode::BAD_REQUEST;

    let url = format!("{}/{OTHER_TENANT}/oauth2/v2.0/token", sim.base);
    assert_oauth_error(
        &sim.post_form(&url, &ok).await,
        bad,
        "invalid_request",
        90002,
        SECRET,
    );
    let url = format!("{}/fabrikam.onmicrosoft.com/oauth2/v2.0/token", sim.base);
    assert_oauth_error(
        &sim.post_form(&url, &ok).await,
        bad,
        "invalid_request",
        90002,
        SECRET,
    );

    let r = sim
        .token(&with("scope", "https://graph.microsoft.com/User.Read.All"))
        .await;
    assert_oauth_error(&r, bad, "invalid_scope", 70011, SECRET);
    let r = sim
        .token(&with("scope", "https://example.com/.default"))
        .await;
    assert_oauth_error(&r, bad, "invalid_scope", 70011, SECRET);
    let r = sim.token(&without("grant_type")).await;
    assert_oauth_error(&r, bad, "invalid_request", 900144, SECRET);
    assert!(r.text.contains("'grant_type'"));
    assert_oauth_error(
        &sim.token(&without("scope")).await,
        bad,
        "invalid_request",
        900144,
        SECRET,
    );
    let r = sim.token(&with("grant_type", "password")).await;
    assert_oauth_error(&r, bad, "unsupported_grant_type", 70003, SECRET);
    let r = sim
        .token(&with("client_id", "99999999-0000-4000-8000-000000000000"))
        .await;
    assert_oauth_error(&r, bad, "unauthorized_client", 700016, SECRET);
    let r = sim.token(&without("client_secret")).await;
    assert_oauth_error(
        &r,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        7000218,
        SECRET,
    );

    let mut twice = ok.to_vec();
    twice.push(("client_secret", SECRET));
    assert_oauth_error(
        &sim.token(&twice).await,
        bad,
        "invalid_request",
        9002313,
        SECRET,
    );
    let mut both = ok.to_vec();
    both.push(("client_assertion", "x.y.z"));
    both.push(("client_assertion_type", JWT_BEARER));
    assert_oauth_error(
        &sim.token(&both).await,
        bad,
        "invalid_request",
        9002313,
        SECRET,
    );

    // Not form-encoded at all.
    let response = sim
        .http
        .post(sim.token_url())
        .header("content-type", "application/json")
        .body(r#"{"grant_type":"client_credentials"}"#)
        .send()
        .await
        .unwrap();
    assert_oauth_error(
        &Sim::reply(response).await,
        bad,
        "invalid_request",
        900144,
        SECRET,
    );
}

// ------------------------------------------------ certificate assertions ----

#[derive(Clone, Copy)]
enum Format {
    /// PS256 with `x5t#S256`.
    Ps256,
    /// RS256 with `x5t`.
    Rs256,
}

fn thumbprint_headers(format: Format) -> Value {
    let c = cert();
    match format {
        Format::Ps256 => json!({"alg": "PS256", "typ": "JWT",
            "x5t#S256": URL_SAFE_NO_PAD.encode(Sha256::digest(&c.der))}),
        Format::Rs256 => json!({"alg": "RS256", "typ": "JWT",
            "x5t": URL_SAFE_NO_PAD.encode(<sha1::Sha1 as Digest>::digest(&c.der))}),
    }
}

/// A compact JWS over `header` and `claims`, signed with the collector's key
/// using the header's algorithm.
fn sign(header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let key = cert().key.clone();
    let signature = if header["alg"] == "PS256" {
        rsa::pss::BlindedSigningKey::<Sha256>::new(key)
            .sign_with_rng(&mut rand::thread_rng(), input.as_bytes())
            .to_vec()
    } else {
        rsa::pkcs1v15::SigningKey::<Sha256>::new(key)
            .sign(input.as_bytes())
            .to_vec()
    };
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn claims(sim: &Sim, aud: &str) -> Value {
    let now = sim.now().timestamp();
    json!({"aud": aud, "iss": COLLECTOR, "sub": COLLECTOR, "jti": uuid::Uuid::new_v4().to_string(),
           "nbf": now, "iat": now, "exp": now + 600})
}

async fn assertion_token(sim: &Sim, assertion: &str, scope: &str) -> Reply {
    sim.token(&[
        ("grant_type", "client_credentials"),
        ("client_id", COLLECTOR),
        ("scope", scope),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
    ])
    .await
}

#[tokio::test]
async fn certificate_assertions_are_accepted_in_both_documented_formats() {
    let sim = Sim::start(1.0, None).await;
    let public_aud = format!("https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token");
    let domain_aud = format!("{}/{DOMAIN}/oauth2/v2.0/token", sim.base);
    for (format, aud, scope, resource) in [
        (
            Format::Ps256,
            sim.token_url(),
            GRAPH_DEFAULT,
            GRAPH_RESOURCE,
        ),
        (
            Format::Rs256,
            sim.token_url(),
            MANAGE_DEFAULT,
            MANAGE_RESOURCE,
        ),
        (
            Format::Ps256,
            public_aud.clone(),
            MANAGE_DEFAULT,
            MANAGE_RESOURCE,
        ),
        (Format::Rs256, domain_aud, GRAPH_DEFAULT, GRAPH_RESOURCE),
    ] {
        let assertion = sign(&thumbprint_headers(format), &claims(&sim, &aud));
        let r = assertion_token(&sim, &assertion, scope).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let token_claims = decode_claims(r.json["access_token"].as_str().unwrap()).unwrap();
        assert_eq!(
            (token_claims["aud"].as_str(), token_claims["appid"].as_str()),
            (Some(resource), Some(COLLECTOR))
        );
    }
    // `aud` may also be an array naming the endpoint.
    let mut c = claims(&sim, "unused");
    c["aud"] = json!(["https://example.com", public_aud]);
    let r = assertion_token(
        &sim,
        &sign(&thumbprint_headers(Format::Ps256), &c),
        GRAPH_DEFAULT,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn an_assertion_signed_with_an_expired_certificate_is_refused() {
    // The test certificate is valid for a day from when it is made (the
    // other tests show it accepted); here three simulated days pass in 300 ms.
    cert();
    let sim = Sim::start(1_000_000.0, None).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let late = sign(
        &thumbprint_headers(Format::Ps256),
        &claims(&sim, &sim.token_url()),
    );
    let r = assertion_token(&sim, &late, GRAPH_DEFAULT).await;
    assert_oauth_error(
        &r,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        700027,
        &late,
    );
    assert!(
        r.text.contains("The key used is expired") && r.text.contains("Found key 'Start="),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn bad_certificate_assertions_are_refused_with_entra_codes() {
    let sim = Sim::start(1.0, None).await;
    let aud = sim.token_url();
    let now = sim.now().timestamp();
    let unauthorized = StatusCode::UNAUTHORIZED;
    let refuse = |assertion: String, status: StatusCode, error: &'static str, code: u32| {
        let sim = &sim;
        async move {
            let r = assertion_token(sim, &assertion, GRAPH_DEFAULT).await;
            assert_oauth_error(&r, status, error, code, &assertion);
        }
    };
    for format in [Format::Ps256, Format::Rs256] {
        let header = thumbprint_headers(format);

        // Signature tampered with: one byte of it changed.
        let good = sign(&header, &claims(&sim, &aud));
        let (input, signature) = good.rsplit_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
        bytes[10] ^= 0x01;
        let tampered = format!("{input}.{}", URL_SAFE_NO_PAD.encode(&bytes));
        refuse(tampered, unauthorized, "invalid_client", 700027).await;

        // Claims changed after signing.
        let (header_b64, rest) = good.split_once('.').unwrap();
        let signature = rest.rsplit_once('.').unwrap().1;
        let mut forged = claims(&sim, &aud);
        forged["exp"] = json!(now + 86_400);
        let forged = format!(
            "{header_b64}.{}.{signature}",
            URL_SAFE_NO_PAD.encode(forged.to_string())
        );
        refuse(forged, unauthorized, "invalid_client", 700027).await;

        // Unknown certificate.
        let mut unknown = header.clone();
        let field = if matches!(format, Format::Ps256) {
            "x5t#S256"
        } else {
            "x5t"
        };
        unknown[field] = json!(URL_SAFE_NO_PAD.encode([7u8; 20]));
        let assertion = sign(&unknown, &claims(&sim, &aud));
        let r = assertion_token(&sim, &assertion, GRAPH_DEFAULT).await;
        assert_oauth_error(&r, unauthorized, "invalid_client", 700027, &assertion);
        assert!(r.text.contains("The key was not found"), "{}", r.text);

        // Wrong audience.
        let wrong_aud = claims(
            &sim,
            "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        );
        refuse(
            sign(&header, &wrong_aud),
            unauthorized,
            "invalid_client",
            50027,
        )
        .await;

        // Expired, and not yet valid (beyond the 5 minutes of skew).
        let mut expired = claims(&sim, &aud);
        expired["nbf"] = json!(now - 1200);
        expired["exp"] = json!(now - 600);
        refuse(
            sign(&header, &expired),
            unauthorized,
            "invalid_client",
            700024,
        )
        .await;
        let mut early = claims(&sim, &aud);
        early["nbf"] = json!(now + 1200);
        early["exp"] = json!(now + 1800);
        refuse(
            sign(&header, &early),
            unauthorized,
            "invalid_client",
            700024,
        )
        .await;
        // Within the skew is fine.
        let mut skewed = claims(&sim, &aud);
        skewed["nbf"] = json!(now + 120);
        let r = assertion_token(&sim, &sign(&header, &skewed), GRAPH_DEFAULT).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);

        // Replayed jti.
        let once = sign(&header, &claims(&sim, &aud));
        assert_eq!(
            assertion_token(&sim, &once, GRAPH_DEFAULT).await.status,
            StatusCode::OK
        );
        refuse(once, unauthorized, "invalid_client", 50013).await;
        let mut no_jti = claims(&sim, &aud);
        no_jti.as_object_mut().unwrap().remove("jti");
        refuse(
            sign(&header, &no_jti),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            50027,
        )
        .await;

        // Issuer and subject.
        let mut other_app = claims(&sim, &aud);
        other_app["iss"] = json!(NO_FEED);
        other_app["sub"] = json!(NO_FEED);
        refuse(
            sign(&header, &other_app),
            unauthorized,
            "invalid_client",
            700021,
        )
        .await;
        let mut mismatch = claims(&sim, &aud);
        mismatch["sub"] = json!(NO_FEED);
        refuse(
            sign(&header, &mismatch),
            unauthorized,
            "invalid_client",
            50048,
        )
        .await;
    }

    // The formats are not mixed: PS256 names x5t#S256, RS256 names x5t.
    let mut ps256_x5t = thumbprint_headers(Format::Rs256);
    ps256_x5t["alg"] = json!("PS256");
    let mut rs256_s256 = thumbprint_headers(Format::Ps256);
    rs256_s256["alg"] = json!("RS256");
    let mut hs256 = thumbprint_headers(Format::Ps256);
    hs256["alg"] = json!("HS256");
    for header in [ps256_x5t, rs256_s256, hs256] {
        let assertion = sign(&header, &claims(&sim, &aud));
        refuse(assertion, StatusCode::BAD_REQUEST, "invalid_request", 50027).await;
    }
    for garbage in ["not-a-jwt", "a.b.c", "eyJhbGciOiJQUzI1NiJ9..sig"] {
        refuse(
            garbage.to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            50027,
        )
        .await;
    }
    // The assertion type must be the JWT bearer one.
    let r = sim
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", COLLECTOR),
            ("scope", GRAPH_DEFAULT),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
            ),
            ("client_assertion", "x.y.z"),
        ])
        .await;
    assert_oauth_error(
        &r,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        9002313,
        "x.y.z",
    );
}

// ----------------------------------------------------------- device code ----

async fn device_code(sim: &Sim, client_id: &str, scope: &str) -> Reply {
    let url = format!("{}/{TENANT}/oauth2/v2.0/devicecode", sim.base);
    sim.post_form(&url, &[("client_id", client_id), ("scope", scope)])
        .await
}

async fn poll(sim: &Sim, client_id: &str, code: &str) -> Reply {
    sim.token(&[
        ("grant_type", DEVICE_CODE_GRANT),
        ("client_id", client_id),
        ("device_code", code),
    ])
    .await
}

/// Waits `seconds` of simulated time.
async fn wait(sim: &Sim, seconds: u64) {
    sim.shared
        .clock
        .sleep(std::time::Duration::from_secs(seconds))
        .await
}

/// Polls once per interval (`interval` simulated seconds) until something else
/// than `authorization_pending` comes back; returns the pending count and it.
async fn poll_until_done(sim: &Sim, client_id: &str, code: &str, interval: u64) -> (usize, Reply) {
    let mut pending = 0;
    loop {
        wait(sim, interval).await;
        let r = poll(sim, client_id, code).await;
        if r.json["error"] != "authorization_pending" {
            return (pending, r);
        }
        assert_oauth_error(
            &r,
            StatusCode::BAD_REQUEST,
            "authorization_pending",
            70016,
            code,
        );
        pending += 1;
    }
}

#[tokio::test]
async fn device_code_is_pending_twice_then_gives_delegated_and_refresh_tokens() {
    let sim = Sim::start(1000.0, None).await;
    let r = device_code(
        &sim,
        OPERATOR,
        "AuditLog.Read.All Directory.Read.All offline_access",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let user_code = r.json["user_code"].as_str().unwrap();
    assert_eq!(
        r.json["verification_uri"],
        "https://microsoft.com/devicelogin"
    );
    assert_eq!(
        r.json["message"],
        format!("To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code {user_code} to authenticate.")
    );
    // Real seconds at this time scale: 5 simulated seconds round up to 1, and the
    // code outlives a real minute.
    assert_eq!(
        (r.json["interval"].as_i64(), r.json["expires_in"].as_i64()),
        (Some(1), Some(60))
    );
    let code = r.json["device_code"].as_str().unwrap();

    let (pending, r) = poll_until_done(&sim, OPERATOR, code, 10).await;
    assert_eq!(pending, 2);
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["token_type"], "Bearer");
    assert_eq!(
        r.json["scope"],
        "AuditLog.Read.All Directory.Read.All ActivityFeed.Read offline_access"
    );
    let claims = decode_claims(r.json["access_token"].as_str().unwrap()).unwrap();
    assert_eq!(
        (claims["aud"].as_str(), claims["appid"].as_str()),
        (Some(GRAPH_RESOURCE), Some(OPERATOR))
    );
    assert_eq!(
        claims["scp"],
        "AuditLog.Read.All Directory.Read.All ActivityFeed.Read"
    );
    assert!(claims.get("roles").is_none());
    let refresh_token = r.json["refresh_token"].as_str().unwrap().to_string();

    // The code is spent.
    let again = poll(&sim, OPERATOR, code).await;
    assert_oauth_error(
        &again,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        90120,
        code,
    );

    // The refresh token renews the session, here for the Management API, whose
    // routes accept the delegated token.
    let r = sim
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", OPERATOR),
            ("refresh_token", &refresh_token),
            (
                "scope",
                "https://manage.office.com/ActivityFeed.Read offline_access",
            ),
        ])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.json["refresh_token"].is_string());
    let manage = r.json["access_token"].as_str().unwrap();
    assert_eq!(decode_claims(manage).unwrap()["aud"], MANAGE_RESOURCE);
    let list = sim.get(&sim.feed("subscriptions/list"), Some(manage)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);

    // Another client cannot redeem it; a made-up one is refused.
    for (client, token) in [
        (DECLINER, refresh_token.as_str()),
        (OPERATOR, "1.AXEAnot-a-token"),
    ] {
        let r = sim
            .token(&[
                ("grant_type", "refresh_token"),
                ("client_id", client),
                ("refresh_token", token),
            ])
            .await;
        assert_oauth_error(&r, StatusCode::BAD_REQUEST, "invalid_grant", 70000, token);
    }
}

#[tokio::test]
async fn device_code_without_offline_access_gives_no_refresh_token() {
    let sim = Sim::start(1000.0, None).await;
    let r = device_code(
        &sim,
        OPERATOR,
        "https://graph.microsoft.com/AuditLog.Read.All",
    )
    .await;
    let code = r.json["device_code"].as_str().unwrap();
    let (_, r) = poll_until_done(&sim, OPERATOR, code, 10).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.json.get("refresh_token").is_none(), "{}", r.text);
    assert!(!r.json["scope"].as_str().unwrap().contains("offline_access"));
}

#[tokio::test]
async fn polling_faster_than_the_interval_is_told_to_slow_down() {
    // Real time: the interval is 5 real seconds, so immediate polls are early.
    let sim = Sim::start(1.0, None).await;
    let r = device_code(&sim, OPERATOR, "AuditLog.Read.All").await;
    assert_eq!(r.json["interval"], 5);
    let code = r.json["device_code"].as_str().unwrap();
    for _ in 0..2 {
        let r = poll(&sim, OPERATOR, code).await;
        assert_oauth_error(&r, StatusCode::BAD_REQUEST, "slow_down", 70016, code);
    }
}

#[tokio::test]
async fn the_simulated_user_is_chosen_by_the_app_display_name() {
    let sim = Sim::start(1000.0, None).await;
    let bad = StatusCode::BAD_REQUEST;

    let code = device_code(&sim, DECLINER, "AuditLog.Read.All").await.json["device_code"].clone();
    let code = code.as_str().unwrap();
    wait(&sim, 10).await;
    assert_oauth_error(
        &poll(&sim, DECLINER, code).await,
        bad,
        "authorization_declined",
        65004,
        code,
    );
    wait(&sim, 10).await;
    assert_oauth_error(
        &poll(&sim, DECLINER, code).await,
        bad,
        "invalid_grant",
        90120,
        code,
    );

    let code = device_code(&sim, EXPIRER, "AuditLog.Read.All").await.json["device_code"].clone();
    let code = code.as_str().unwrap();
    wait(&sim, 10).await;
    assert_oauth_error(
        &poll(&sim, EXPIRER, code).await,
        bad,
        "expired_token",
        70019,
        code,
    );

    // "slow": slow_down on the first poll however patient, then the usual.
    let code = device_code(&sim, SLOW, "AuditLog.Read.All").await.json["device_code"].clone();
    let code = code.as_str().unwrap();
    wait(&sim, 10).await;
    assert_oauth_error(&poll(&sim, SLOW, code).await, bad, "slow_down", 70016, code);
    let (pending, r) = poll_until_done(&sim, SLOW, code, 15).await;
    assert_eq!((pending, r.status), (2, StatusCode::OK), "{}", r.text);

    // Only public clients may use the flow, which Entra says when polled.
    let r = device_code(&sim, CONFIDENTIAL, "AuditLog.Read.All").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let code = r.json["device_code"].as_str().unwrap();
    wait(&sim, 10).await;
    let r = poll(&sim, CONFIDENTIAL, code).await;
    assert_oauth_error(
        &r,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        7000218,
        code,
    );

    // Unknown code; scopes for two resources; unknown client.
    let r = poll(&sim, OPERATOR, "DAQABIQEAAADnot-issued").await;
    assert_oauth_error(
        &r,
        bad,
        "bad_verification_code",
        70018,
        "DAQABIQEAAADnot-issued",
    );
    let r = device_code(
        &sim,
        OPERATOR,
        "AuditLog.Read.All https://manage.office.com/ActivityFeed.Read",
    )
    .await;
    assert_oauth_error(&r, bad, "invalid_scope", 700022, SECRET);
    let r = device_code(
        &sim,
        "99999999-0000-4000-8000-000000000000",
        "AuditLog.Read.All",
    )
    .await;
    assert_oauth_error(&r, bad, "unauthorized_client", 700016, SECRET);
}

#[tokio::test]
async fn unconsented_delegated_permissions_fail_at_sign_in() {
    let sim = Sim::start(1000.0, None).await;
    let r = device_code(&sim, OPERATOR, "Mail.ReadWrite offline_access").await;
    let code = r.json["device_code"].as_str().unwrap();
    let (_, r) = poll_until_done(&sim, OPERATOR, code, 10).await;
    assert_oauth_error(&r, StatusCode::BAD_REQUEST, "invalid_grant", 65001, code);
    assert!(r.text.contains("Mail.ReadWrite"), "{}", r.text);
}

// ----------------------------------------------- Management Activity API ----

/// Follows `NextPageUri` from `first`; returns every listed blob entry and the
/// number of pages.
async fn list_all(sim: &Sim, token: &str, first: String) -> (Vec<Value>, usize) {
    let mut blobs = Vec::new();
    let mut pages = 0;
    let mut next = Some(first);
    while let Some(url) = next {
        let r = sim.get(&url, Some(token)).await;
        assert_eq!(r.status, StatusCode::OK, "{url}: {}", r.text);
        let page = r.json.as_array().unwrap();
        assert!(page.len() <= management::PAGE_SIZE);
        pages += 1;
        blobs.extend(page.iter().cloned());
        next = r
            .headers
            .get("NextPageUri")
            .map(|v| v.to_str().unwrap().to_string());
        if let Some(next) = &next {
            assert!(
                next.starts_with(&sim.feed("subscriptions/content?")),
                "{next}"
            );
            assert_eq!(page.len(), management::PAGE_SIZE);
        }
    }
    (blobs, pages)
}

/// The fixture's auditData records by Id.
fn fixture_records(sim: &Sim) -> HashMap<String, Value> {
    sim.shared
        .fixture
        .audit_records
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["auditData"].clone(),
            )
        })
        .collect()
}

fn creation_time(audit: &Value) -> DateTime<Utc> {
    let text = audit["CreationTime"].as_str().unwrap();
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
        .unwrap()
        .and_utc()
}

#[tokio::test]
async fn content_is_listed_in_pages_and_blobs_hold_the_records_with_duplicates() {
    let sim = Sim::start(1.0, None).await;
    let token = sim.secret_token(COLLECTOR, MANAGE_DEFAULT).await;

    let r = sim.get(&sim.feed("subscriptions/list"), Some(&token)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let types: Vec<&str> = r
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["contentType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "Audit.AzureActiveDirectory",
            "Audit.Exchange",
            "Audit.SharePoint",
            "Audit.General"
        ]
    );
    assert!(r
        .json
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["status"] == "enabled" && s["webhook"].is_null()));

    let fixture = fixture_records(&sim);
    let now = sim.now();
    for (content_type, workloads) in [
        ("Audit.Exchange", &["Exchange"][..]),
        ("Audit.AzureActiveDirectory", &["AzureActiveDirectory"][..]),
        ("Audit.SharePoint", &["SharePoint", "OneDrive"][..]),
        ("Audit.General", &["MicrosoftTeams"][..]),
    ] {
        let first = format!(
            "{}?contentType={content_type}&PublisherIdentifier={TENANT}",
            sim.feed("subscriptions/content")
        );
        let (blobs, pages) = list_all(&sim, &token, first).await;
        assert!(pages >= 5, "{content_type}: {pages} pages");
        let mut ids = Vec::new();
        let mut created_before = String::new();
        for blob in &blobs {
            assert_eq!(blob["contentType"], content_type);
            let created = blob["contentCreated"].as_str().unwrap();
            assert!(
                created.ends_with('Z') && created > created_before.as_str(),
                "{created}"
            );
            created_before = created.to_string();
            let uri = blob["contentUri"].as_str().unwrap();
            assert_eq!(
                uri,
                sim.feed(&format!("audit/{}", blob["contentId"].as_str().unwrap()))
            );
            let r = sim
                .get(&format!("{uri}?PublisherIdentifier={TENANT}"), Some(&token))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            for record in r.json.as_array().unwrap() {
                let id = record["Id"].as_str().unwrap();
                assert_eq!(
                    record, &fixture[id],
                    "records are served exactly as in the fixture"
                );
                let workload = record
                    .get("Workload")
                    .and_then(Value::as_str)
                    .unwrap_or("AzureActiveDirectory");
                assert!(workloads.contains(&workload), "{content_type}: {record}");
                ids.push(id.to_string());
            }
        }
        let unique: HashSet<&String> = ids.iter().collect();
        assert!(
            unique.len() < ids.len(),
            "{content_type}: no duplicate records across blobs"
        );
        // Everything from 22 to 2 hours ago is there; nothing newer than the
        // blobs' creation delay or older than the window allows.
        for (id, audit) in &fixture {
            let t = creation_time(audit);
            let workload = audit
                .get("Workload")
                .and_then(Value::as_str)
                .unwrap_or("AzureActiveDirectory");
            if !workloads.contains(&workload) {
                continue;
            }
            if t >= now - Duration::hours(22) && t <= now - Duration::hours(2) {
                assert!(unique.contains(id), "{content_type}: {id} at {t} missing");
            }
            if t < now - Duration::hours(26) || t > now - Duration::minutes(30) {
                assert!(!unique.contains(id), "{content_type}: {id} at {t} listed");
            }
        }
    }
}

#[tokio::test]
async fn next_page_uri_keeps_the_requested_window() {
    let sim = Sim::start(1.0, None).await;
    let token = sim.secret_token(COLLECTOR, MANAGE_DEFAULT).await;
    let start = (sim.now() - Duration::hours(23))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let end = (sim.now() - Duration::hours(1))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let url = format!(
        "{}?contentType=Audit.Exchange&startTime={start}&endTime={end}",
        sim.feed("subscriptions/content")
    );
    let r = sim.get(&url, Some(&token)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let next = url::Url::parse(r.headers["NextPageUri"].to_str().unwrap()).unwrap();
    let query: HashMap<String, String> = next.query_pairs().into_owned().collect();
    assert_eq!(query["contentType"], "Audit.Exchange");
    assert_eq!((&query["startTime"], &query["endTime"]), (&start, &end));
    assert!(query.contains_key("nextPage"));

    let (blobs, _) = list_all(&sim, &token, url).await;
    let first_page: Vec<&Value> = r.json.as_array().unwrap().iter().collect();
    assert_eq!(
        blobs.iter().take(first_page.len()).collect::<Vec<_>>(),
        first_page
    );
    let ids: HashSet<&str> = blobs
        .iter()
        .map(|b| b["contentId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), blobs.len(), "a blob is listed once");

    let bad_page = format!(
        "{}?contentType=Audit.Exchange&nextPage=nope",
        sim.feed("subscriptions/content")
    );
    assert_feed_error(
        &sim.get(&bad_page, Some(&token)).await,
        StatusCode::BAD_REQUEST,
        "AF20031",
    );
}

#[tokio::test]
async fn content_listing_parameters_are_validated() {
    let sim = Sim::start(1.0, None).await;
    let token = sim.secret_token(COLLECTOR, MANAGE_DEFAULT).await;
    let content = sim.feed("subscriptions/content");
    let day = |d: i64| {
        (sim.now() - Duration::days(d))
            .format("%Y-%m-%d")
            .to_string()
    };
    let at = |h: i64| {
        (sim.now() - Duration::hours(h))
            .format("%Y-%m-%dT%H:%M:%S")
            .to_string()
    };
    let bad = StatusCode::BAD_REQUEST;
    for (query, code) in [
        (
            format!("contentType=Audit.Exchange&startTime={}", at(5)),
            "AF20055",
        ),
        (
            format!("contentType=Audit.Exchange&endTime={}", at(5)),
            "AF20055",
        ),
        (
            format!(
                "contentType=Audit.Exchange&startTime={}&endTime={}",
                at(30),
                at(5)
            ),
            "AF20055",
        ),
        (
            format!(
                "contentType=Audit.Exchange&startTime={}&endTime={}",
                at(5),
                at(6)
            ),
            "AF20055",
        ),
        (
            format!(
                "contentType=Audit.Exchange&startTime={}&endTime={}",
                day(8),
                day(7)
            ),
            "AF20055",
        ),
        (
            format!(
                "contentType=Audit.Exchange&startTime=yesterday&endTime={}",
                at(1)
            ),
            "AF20002",
        ),
        ("contentType=Audit.Nothing".to_string(), "AF20020"),
        ("contentType=DLP.All".to_string(), "AF20022"),
        ("startTime=2026-01-01".to_string(), "AF20001"),
    ] {
        let r = sim.get(&format!("{content}?{query}"), Some(&token)).await;
        assert_feed_error(&r, bad, code);
    }
    // Exactly 24 hours, in the date-only layout, ending today, is fine.
    let r = sim
        .get(
            &format!(
                "{content}?contentType=audit.exchange&startTime={}&endTime={}",
                day(1),
                day(0)
            ),
            Some(&token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let blob = |id: &str| sim.feed(&format!("audit/{id}"));
    let r = sim
        .get(
            &blob("20260101000000000$20260101000000000$abc$def$00"),
            Some(&token),
        )
        .await;
    assert_feed_error(&r, bad, "AF20050");
    let r = sim.get(&blob("not-a-content-id"), Some(&token)).await;
    assert_feed_error(&r, bad, "AF20052");
}

#[tokio::test]
async fn the_management_api_needs_its_own_token_role_and_tenant() {
    let sim = Sim::start(1.0, None).await;
    let list = sim.feed("subscriptions/list");
    let r = sim.get(&list, None).await;
    assert_feed_error(&r, StatusCode::UNAUTHORIZED, "AF10001");
    assert_eq!(r.headers["www-authenticate"], "Bearer");
    let graph = sim.secret_token(COLLECTOR, GRAPH_DEFAULT).await;
    assert_feed_error(
        &sim.get(&list, Some(&graph)).await,
        StatusCode::UNAUTHORIZED,
        "AF10001",
    );
    let no_feed = sim.secret_token(NO_FEED, MANAGE_DEFAULT).await;
    let r = sim.get(&list, Some(&no_feed)).await;
    assert_feed_error(&r, StatusCode::FORBIDDEN, "AF10001");
    assert!(r.text.contains("(AuditLog.Read.All)"), "{}", r.text);

    let token = sim.secret_token(COLLECTOR, MANAGE_DEFAULT).await;
    let other = format!(
        "{}/api/v1.0/{OTHER_TENANT}/activity/feed/subscriptions/list",
        sim.base
    );
    assert_feed_error(
        &sim.get(&other, Some(&token)).await,
        StatusCode::BAD_REQUEST,
        "AF20010",
    );
    let domain = format!(
        "{}/api/v1.0/{DOMAIN}/activity/feed/subscriptions/list",
        sim.base
    );
    assert_feed_error(
        &sim.get(&domain, Some(&token)).await,
        StatusCode::BAD_REQUEST,
        "AF20013",
    );

    // An expired token is no token.
    let now = sim.now().timestamp();
    let stale = sim.shared.tokens.issue(Claims {
        tid: TENANT.into(),
        appid: COLLECTOR.into(),
        aud: MANAGE_RESOURCE.into(),
        roles: vec!["ActivityFeed.Read".into()],
        scp: None,
        exp: now - 1,
        iat: now - 3600,
    });
    assert_feed_error(
        &sim.get(&list, Some(&stale)).await,
        StatusCode::UNAUTHORIZED,
        "AF10001",
    );

    // start answers for a known content type (and changes nothing).
    let start = sim
        .http
        .post(format!(
            "{}?contentType=Audit.Exchange",
            sim.feed("subscriptions/start")
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let r = Sim::reply(start).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.json,
        json!({"contentType": "Audit.Exchange", "status": "enabled", "webhook": null})
    );
}

#[tokio::test]
async fn throttling_is_af429_inside_an_http_403_and_lifts_after_a_minute() {
    // 600x: a simulated minute is a tenth of a real second.
    let sim = Sim::start(600.0, Some(3)).await;
    let now = sim.now().timestamp();
    let token = sim.shared.tokens.issue(Claims {
        tid: TENANT.into(),
        appid: COLLECTOR.into(),
        aud: MANAGE_RESOURCE.into(),
        roles: vec!["ActivityFeed.Read".into()],
        scp: None,
        exp: now + 86_400,
        iat: now,
    });
    let publisher = "46b472a7-c68e-4adf-8ade-3db49497518e";
    let list = format!(
        "{}?PublisherIdentifier={publisher}",
        sim.feed("subscriptions/list")
    );
    let mut statuses = Vec::new();
    let mut throttled = None;
    for _ in 0..6 {
        let r = sim.get(&list, Some(&token)).await;
        statuses.push(r.status);
        if r.status == StatusCode::FORBIDDEN {
            throttled.get_or_insert(r);
        }
    }
    let throttled = throttled.expect("the budget of 3 per minute was never enforced");
    assert_feed_error(&throttled, StatusCode::FORBIDDEN, "AF429");
    assert_eq!(
        throttled.json["error"]["message"],
        format!("Too many requests. Method=ListSubscriptions, PublisherId={publisher}")
    );
    assert!(throttled.headers.get("retry-after").is_none());
    assert!(
        statuses.iter().take(3).any(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    wait(&sim, 61).await;
    assert_eq!(sim.get(&list, Some(&token)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn blobs_older_than_seven_days_have_expired() {
    // 1,000,000x: a real second is over eleven simulated days.
    let sim = Sim::start(1_000_000.0, None).await;
    let now = sim.now().timestamp();
    let token = sim.shared.tokens.issue(Claims {
        tid: TENANT.into(),
        appid: COLLECTOR.into(),
        aud: MANAGE_RESOURCE.into(),
        roles: vec!["ActivityFeed.Read".into()],
        scp: None,
        exp: now + 86_400 * 365,
        iat: now,
    });
    let r = sim
        .get(
            &format!(
                "{}?contentType=Audit.Exchange",
                sim.feed("subscriptions/content")
            ),
            Some(&token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let uri = r.json[0]["contentUri"].as_str().unwrap().to_string();
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert_feed_error(
        &sim.get(&uri, Some(&token)).await,
        StatusCode::BAD_REQUEST,
        "AF20051",
    );
}
