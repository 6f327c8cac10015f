//! The simulated Entra ID token endpoints
//! (<https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow>,
//! <https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code>):
//!
//! - `POST /{tenant}/oauth2/v2.0/token` with `grant_type` `client_credentials`
//!   (client secret, or a certificate's JWT assertion), the device-code grant, or
//!   `refresh_token` (device-code sessions);
//! - `POST /{tenant}/oauth2/v2.0/devicecode`.
//!
//! `{tenant}` is the fixture's tenant id or default domain (AADSTS90002
//! otherwise). Apps, secrets (as SHA-256), certificates, roles and delegated
//! scopes come from the fixture's `Tenant.apps`; tokens are issued through
//! `Shared::tokens`, so the Graph and Management routes recognise them. Failures
//! use Entra's OAuth error JSON. Secrets and assertions are never logged and
//! never quoted back in an error.
//!
//! Durations the client reads (`expires_in`, the device-code `interval`) are
//! real seconds, like every `Retry-After` the simulator sends, while the token's
//! `exp` claim is on the simulated clock: with a time scale of 60, a token that
//! lives 3599 simulated seconds is advertised as `expires_in: 59`, so a client
//! that renews before `expires_in` never presents an expired token.

mod assertion;
mod device;
mod form;
mod refresh;
mod response;
mod scope;

use self::assertion::{AssertionVerifier, Expected};
use self::device::DeviceFlows;
use self::form::Form;
use self::refresh::RefreshTokens;
use self::response::{correlation_id, no_store_json, OAuthError};
use self::scope::Delegated;
use super::fixture::App;
use super::shared::{request_base, Shared};
use super::token::Claims;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Lifetime of issued access tokens, simulated seconds (Entra's client-credentials
/// responses show 3599).
const TOKEN_LIFETIME_SECS: i64 = 3599;

/// The device-code grant type (RFC 8628).
const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The only client assertion type Entra accepts (RFC 7523).
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The public login host, which assertions made for the real service name in
/// their `aud`; accepted alongside the simulator's own address.
const PUBLIC_LOGIN_HOST: &str = "https://login.microsoftonline.com";

/// The token and device-code endpoints for `shared`'s fixture.
pub fn router(shared: Arc<Shared>) -> Router {
    let state = Arc::new(AuthState {
        assertions: AssertionVerifier::new(&shared.fixture.tenant.apps),
        devices: DeviceFlows::default(),
        refresh: RefreshTokens::default(),
        shared,
    });
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route(
            "/{tenant}/oauth2/v2.0/devicecode",
            post(device_authorization),
        )
        .with_state(state)
}

struct AuthState {
    shared: Arc<Shared>,
    assertions: AssertionVerifier,
    devices: DeviceFlows,
    refresh: RefreshTokens,
}

impl AuthState {
    /// The registered app `client_id` names (AADSTS700016 when there is none).
    fn app(&self, client_id: &str) -> Result<&App, OAuthError> {
        self.shared
            .fixture
            .tenant
            .apps
            .iter()
            .find(|a| a.client_id.eq_ignore_ascii_case(client_id))
            .ok_or_else(|| {
                OAuthError::bad_request(
                    "unauthorized_client",
                    700016,
                    format!(
                        "Application with identifier '{client_id}' was not found in the directory '{}'. This can \
                         happen if the application has not been installed by the administrator of the tenant.",
                        self.shared.fixture.tenant.default_domain
                    ),
                )
            })
    }

    /// A new access token for `aud`, and its advertised lifetime in real seconds.
    fn access_token(
        &self,
        appid: &str,
        aud: &str,
        roles: Vec<String>,
        scp: Option<String>,
    ) -> (String, i64) {
        let iat = self.shared.clock.now().timestamp();
        let token = self.shared.tokens.issue(Claims {
            tid: self.shared.tenant_id().to_string(),
            appid: appid.to_string(),
            aud: aud.to_string(),
            roles,
            scp,
            exp: iat + TOKEN_LIFETIME_SECS,
            iat,
        });
        let expires_in =
            ((TOKEN_LIFETIME_SECS as f64 / self.shared.clock.scale()).floor() as i64).max(1);
        (token, expires_in)
    }
}

/// A request to either endpoint whose tenant, address and body have been read.
struct TokenRequest {
    /// The tenant as the client wrote it in the path.
    tenant: String,
    /// `http://host:port` the client addressed.
    base: String,
    form: Form,
}

impl TokenRequest {
    fn read(
        state: &AuthState,
        tenant: Result<Path<String>, PathRejection>,
        headers: &HeaderMap,
        uri: &Uri,
        body: &[u8],
    ) -> Result<Self, OAuthError> {
        let tenant_info = &state.shared.fixture.tenant;
        let tenant = tenant.map(|Path(t)| t).unwrap_or_default();
        if !tenant.eq_ignore_ascii_case(&tenant_info.tenant_id)
            && !tenant.eq_ignore_ascii_case(&tenant_info.default_domain)
        {
            return Err(OAuthError::invalid_request(
                90002,
                format!(
                    "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing \
                     into the correct cloud."
                ),
            ));
        }
        let base = request_base(headers, uri).ok_or_else(|| {
            OAuthError::invalid_request(
                9002313,
                "Invalid request. Request is malformed or invalid: no valid Host.",
            )
        })?;
        Ok(Self {
            tenant,
            base,
            form: Form::parse(body)?,
        })
    }

    /// The token endpoint URLs a client assertion may name as its `aud`: this
    /// endpoint at the address the client used or at the public login host,
    /// with the tenant written as in the request, as id or as domain.
    fn assertion_audiences(&self, state: &AuthState) -> Vec<String> {
        let tenant = &state.shared.fixture.tenant;
        let tenants = [
            self.tenant.as_str(),
            &tenant.tenant_id,
            &tenant.default_domain,
        ];
        [self.base.as_str(), PUBLIC_LOGIN_HOST]
            .iter()
            .flat_map(|base| tenants.map(|t| format!("{base}/{t}/oauth2/v2.0/token")))
            .collect()
    }
}

/// `POST /{tenant}/oauth2/v2.0/token`.
async fn token(
    State(state): State<Arc<AuthState>>,
    tenant: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    TokenRequest::read(&state, tenant, &headers, &uri, &body)
        .and_then(|request| grant(&state, &request))
        .unwrap_or_else(|e| e.render(state.shared.clock.now(), &correlation_id(&headers)))
}

fn grant(state: &AuthState, request: &TokenRequest) -> Result<Response, OAuthError> {
    match request.form.require("grant_type")? {
        "client_credentials" => client_credentials(state, request),
        DEVICE_CODE_GRANT => device_code_grant(state, request),
        "refresh_token" => refresh_grant(state, request),
        other => Err(OAuthError::bad_request(
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{other}'."),
        )),
    }
}

/// App-only token: the app proves itself with its secret or a certificate
/// assertion and gets its application permissions as `roles`.
fn client_credentials(state: &AuthState, request: &TokenRequest) -> Result<Response, OAuthError> {
    let form = &request.form;
    let app = state.app(form.require("client_id")?)?;
    let resource = scope::app_only(form.require("scope")?)?;
    match (form.get("client_secret"), form.get("client_assertion")) {
        (Some(_), Some(_)) => {
            return Err(OAuthError::invalid_request(
                9002313,
                "Invalid request. Request is malformed or invalid: present either client_secret or \
                 client_assertion, not both.",
            ))
        }
        (Some(secret), None) => check_secret(app, secret)?,
        (None, Some(assertion)) => {
            if form.get("client_assertion_type") != Some(JWT_BEARER) {
                return Err(OAuthError::invalid_request(
                    9002313,
                    format!("Invalid request. Request is malformed or invalid: client_assertion_type must be {JWT_BEARER}."),
                ));
            }
            let audiences = request.assertion_audiences(state);
            state.assertions.verify(
                assertion,
                &Expected {
                    client_id: &app.client_id,
                    audiences: &audiences,
                    now: state.shared.clock.now().timestamp(),
                },
            )?;
        }
        (None, None) => {
            return Err(OAuthError::invalid_client(
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            ))
        }
    }
    let (access_token, expires_in) =
        state.access_token(&app.client_id, resource, app.roles.clone(), None);
    tracing::debug!(client_id = %app.client_id, resource, "simulator issued an app-only token");
    Ok(no_store_json(
        StatusCode::OK,
        &json!({
            "token_type": "Bearer",
            "expires_in": expires_in,
            "ext_expires_in": expires_in,
            "access_token": access_token,
        }),
    ))
}

/// Compares the secret's SHA-256 with the registered one in constant time, so
/// response timing says nothing about how close a guess was (AADSTS7000215).
fn check_secret(app: &App, secret: &str) -> Result<(), OAuthError> {
    let presented = hex::encode(Sha256::digest(secret.as_bytes()));
    let registered = app
        .secret_sha256
        .as_deref()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let same = presented.len() == registered.len()
        && presented
            .bytes()
            .zip(registered.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    same.then_some(()).ok_or_else(|| {
        OAuthError::invalid_client(
            7000215,
            format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret \
                 value, not the client secret ID, for a secret added to app '{}'.",
                app.client_id
            ),
        )
    })
}

/// `POST /{tenant}/oauth2/v2.0/devicecode`: starts a device-code sign-in.
async fn device_authorization(
    State(state): State<Arc<AuthState>>,
    tenant: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    TokenRequest::read(&state, tenant, &headers, &uri, &body)
        .and_then(|request| start_device_flow(&state, &request))
        .unwrap_or_else(|e| e.render(state.shared.clock.now(), &correlation_id(&headers)))
}

fn start_device_flow(state: &AuthState, request: &TokenRequest) -> Result<Response, OAuthError> {
    let app = state.app(request.form.require("client_id")?)?;
    let wanted = scope::delegated(request.form.require("scope")?)?;
    let code = state.devices.start(&state.shared.clock, app, wanted);
    Ok(no_store_json(
        StatusCode::OK,
        &json!({
            "user_code": code.user_code,
            "device_code": code.device_code,
            "verification_uri": device::VERIFICATION_URI,
            "expires_in": code.expires_in,
            "interval": code.interval,
            "message": format!(
                "To sign in, use a web browser to open the page {} and enter the code {} to authenticate.",
                device::VERIFICATION_URI, code.user_code
            ),
        }),
    ))
}

/// A poll of the token endpoint with a device code. Only public clients may
/// use the flow; Entra says so at this point, after the user has signed in
/// (AADSTS7000218, as for a confidential client that sent no credential).
fn device_code_grant(state: &AuthState, request: &TokenRequest) -> Result<Response, OAuthError> {
    let app = state.app(request.form.require("client_id")?)?;
    if !app.public_client {
        return Err(OAuthError::invalid_client(
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'. \
             (The app is not configured to allow public client flows.)",
        ));
    }
    let device_code = request.form.require("device_code")?;
    let approved = state
        .devices
        .poll(state.shared.clock.now(), &app.client_id, device_code)?;
    delegated_tokens(state, app, approved)
}

/// Renews a device-code session's token, possibly for another resource.
fn refresh_grant(state: &AuthState, request: &TokenRequest) -> Result<Response, OAuthError> {
    let app = state.app(request.form.require("client_id")?)?;
    let refresh_token = request.form.require("refresh_token")?;
    let previous = state
        .refresh
        .redeem(state.shared.clock.now(), &app.client_id, refresh_token)?;
    let wanted = match request.form.get("scope") {
        Some(scope) => scope::delegated(scope)?,
        None => previous,
    };
    // Entra keeps issuing refresh tokens along a refresh-token chain.
    delegated_tokens(
        state,
        app,
        Delegated {
            offline_access: true,
            ..wanted
        },
    )
}

/// The token response of a signed-in user: delegated permissions as `scp`, no
/// `roles`, and a refresh token when `offline_access` was asked for.
fn delegated_tokens(
    state: &AuthState,
    app: &App,
    wanted: Delegated,
) -> Result<Response, OAuthError> {
    let granted = wanted.granted(app)?;
    let (access_token, expires_in) = state.access_token(
        &app.client_id,
        wanted.resource,
        Vec::new(),
        Some(granted.join(" ")),
    );
    let mut body = json!({
        "token_type": "Bearer",
        "scope": wanted.response_scope(&granted),
        "expires_in": expires_in,
        "ext_expires_in": expires_in,
        "access_token": access_token,
    });
    if wanted.offline_access {
        let refresh_token = state
            .refresh
            .issue(state.shared.clock.now(), &app.client_id, wanted);
        body["refresh_token"] = json!(refresh_token);
    }
    tracing::debug!(client_id = %app.client_id, "simulator issued a delegated token");
    Ok(no_store_json(StatusCode::OK, &body))
}
