//! The device authorization grant (RFC 8628;
//! <https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code>), with a
//! simulated user on the other side of the browser.
//!
//! Test hook: the user's behaviour is chosen by the display name of the fixture
//! app that asked for the code (case-insensitive, first match wins), so tests of
//! the real binary select it through the fixture:
//!
//! | display name contains | polls are answered |
//! |---|---|
//! | `declined` | `authorization_declined` |
//! | `expired`  | `expired_token` (the user never got to it in time) |
//! | `slow`     | `slow_down` (whatever the timing), then as below |
//! | otherwise  | `authorization_pending` twice, then tokens |
//!
//! Whatever the app, a poll sooner than the interval after the previous one (or
//! after the code was issued) is answered `slow_down` and the interval grows by
//! five seconds (RFC 8628 3.5; Entra does not document `slow_down`, but a client
//! must handle it). A code that has passed its lifetime is `expired_token`; a
//! code already redeemed or declined is `invalid_grant` (AADSTS90120).
//!
//! Time: the interval (5 s) and lifetime (15 min) are simulated time, but the
//! `interval` and `expires_in` a client reads are real seconds, like every
//! duration the simulator sends: whole seconds as the protocol types them, the
//! interval rounded up (at least 1) so a client that waits it is never early,
//! and the lifetime stretched, if the time scale is high, to at least a real
//! minute, so a client pacing by the advertised interval (and adding five real
//! seconds per `slow_down`, as RFC 8628 says) can still finish.

use super::response::OAuthError;
use super::scope::Delegated;
use crate::fixture::App;
use crate::shared::SimClock;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use std::collections::HashMap;
use std::sync::Mutex;

/// Entra's polling interval, simulated seconds.
const INTERVAL_SECS: i64 = 5;
/// Entra's device-code lifetime ("the user has 15 minutes to sign in").
const LIFETIME_SECS: i64 = 900;
/// What `slow_down` adds to the interval (RFC 8628 3.5).
const SLOW_DOWN_SECS: i64 = 5;
/// Polls an approving user leaves pending before signing in.
const PENDING_POLLS: u32 = 2;
/// Real seconds a code lives at least, whatever the time scale.
const MIN_REAL_LIFETIME_SECS: f64 = 60.0;
/// How long finished or expired codes are remembered, to answer them properly.
const KEEP_AFTER_EXPIRY_SECS: i64 = 3600;

/// Where users go to enter the code.
pub(super) const VERIFICATION_URI: &str = "https://microsoft.com/devicelogin";

/// What the simulated user does with the code (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum User {
    Approves,
    Declines,
    NeverFinishes,
    ApprovesAfterSlowDown,
}

impl User {
    fn of(app: &App) -> Self {
        let name = app.display_name.to_lowercase();
        if name.contains("declined") {
            User::Declines
        } else if name.contains("expired") {
            User::NeverFinishes
        } else if name.contains("slow") {
            User::ApprovesAfterSlowDown
        } else {
            User::Approves
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting,
    Finished,
}

struct Session {
    client_id: String,
    request: Delegated,
    user: User,
    expires: DateTime<Utc>,
    interval: Duration,
    last_poll: DateTime<Utc>,
    pending_polls: u32,
    slowed_down: bool,
    state: State,
}

/// The answer to a device authorization request.
pub(super) struct Authorization {
    pub device_code: String,
    pub user_code: String,
    /// Real seconds.
    pub expires_in: i64,
    /// Real seconds.
    pub interval: i64,
}

/// Outstanding device codes.
#[derive(Default)]
pub(super) struct DeviceFlows {
    sessions: Mutex<HashMap<String, Session>>,
}

impl DeviceFlows {
    /// Issues a code for `app` asking for `request`.
    pub(super) fn start(&self, clock: &SimClock, app: &App, request: Delegated) -> Authorization {
        let now = clock.now();
        let interval = ((INTERVAL_SECS as f64 / clock.scale()).ceil() as i64).max(1);
        let lifetime_secs = (LIFETIME_SECS as f64).max(MIN_REAL_LIFETIME_SECS * clock.scale());
        let device_code = random_device_code();
        let session = Session {
            client_id: app.client_id.clone(),
            request,
            user: User::of(app),
            expires: now + Duration::milliseconds((lifetime_secs * 1000.0) as i64),
            interval: Duration::seconds(INTERVAL_SECS),
            last_poll: now,
            pending_polls: 0,
            slowed_down: false,
            state: State::Waiting,
        };
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let forget_before = now - Duration::seconds(KEEP_AFTER_EXPIRY_SECS);
        sessions.retain(|_, s| s.expires > forget_before);
        sessions.insert(device_code.clone(), session);
        Authorization {
            device_code,
            user_code: random_user_code(),
            expires_in: ((lifetime_secs / clock.scale()).floor() as i64).max(1),
            interval,
        }
    }

    /// One poll of the token endpoint by `client_id` with `device_code`: the
    /// request the user approved, or why there is no token (yet).
    pub(super) fn poll(
        &self,
        now: DateTime<Utc>,
        client_id: &str,
        device_code: &str,
    ) -> Result<Delegated, OAuthError> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let session = sessions
            .get_mut(device_code)
            .filter(|s| s.client_id == client_id)
            .ok_or_else(|| {
                OAuthError::bad_request(
                    "bad_verification_code",
                    70018,
                    "Invalid verification code: the device_code is not one this tenant issued to this client.",
                )
            })?;
        if session.state == State::Finished {
            return Err(OAuthError::bad_request(
                "invalid_grant",
                90120,
                "The request was already authorized or declined.",
            ));
        }
        if now >= session.expires {
            return Err(expired());
        }
        let early = now - session.last_poll < session.interval;
        session.last_poll = now;
        if early {
            session.interval += Duration::seconds(SLOW_DOWN_SECS);
            return Err(slow_down());
        }
        match session.user {
            User::Declines => {
                session.state = State::Finished;
                Err(OAuthError::bad_request(
                    "authorization_declined",
                    65004,
                    "User declined to consent to access the app.",
                ))
            }
            User::NeverFinishes => Err(expired()),
            User::ApprovesAfterSlowDown if !session.slowed_down => {
                session.slowed_down = true;
                session.interval += Duration::seconds(SLOW_DOWN_SECS);
                Err(slow_down())
            }
            _ if session.pending_polls < PENDING_POLLS => {
                session.pending_polls += 1;
                Err(OAuthError::bad_request(
                    "authorization_pending",
                    70016,
                    "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
                ))
            }
            _ => {
                session.state = State::Finished;
                Ok(session.request.clone())
            }
        }
    }
}

fn expired() -> OAuthError {
    OAuthError::bad_request("expired_token", 70019, "Verification code expired.")
}

fn slow_down() -> OAuthError {
    OAuthError::bad_request(
        "slow_down",
        70016,
        "OAuth 2.0 device flow error. Polling too frequently: wait the interval between polls, \
         increased by 5 seconds (RFC 8628 section 3.5).",
    )
}

/// An opaque, unguessable device code.
fn random_device_code() -> String {
    let mut bytes = [0u8; 48];
    rand::thread_rng().fill(&mut bytes[..]);
    format!("DAQABIQEAAAD{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Nine characters a person can type without confusing 0/O or 1/I.
fn random_user_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..9)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(display_name: &str) -> App {
        serde_json::from_value(serde_json::json!({
            "clientId": "c1", "displayName": display_name, "publicClient": true
        }))
        .unwrap()
    }

    fn request() -> Delegated {
        super::super::scope::delegated("AuditLog.Read.All").unwrap()
    }

    fn error(result: Result<Delegated, OAuthError>) -> String {
        format!("{:?}", result.unwrap_err())
    }

    #[test]
    fn advertises_real_seconds_and_expires_on_the_simulated_clock() {
        let clock = SimClock::new(Utc::now(), 1.0);
        let flows = DeviceFlows::default();
        let code = flows.start(&clock, &app("Operator"), request());
        assert_eq!((code.interval, code.expires_in), (5, 900));
        let later = clock.now() + Duration::seconds(901);
        assert!(error(flows.poll(later, "c1", &code.device_code)).contains("expired_token"));

        let fast = SimClock::new(Utc::now(), 1000.0);
        let code = flows.start(&fast, &app("Operator"), request());
        assert_eq!((code.interval, code.expires_in), (1, 60));
    }

    #[test]
    fn an_approving_user_leaves_two_polls_pending_and_a_code_is_redeemed_once() {
        let clock = SimClock::new(Utc::now(), 1.0);
        let flows = DeviceFlows::default();
        let code = flows.start(&clock, &app("Operator"), request());
        let at = |s: i64| clock.now() + Duration::seconds(s);
        assert!(
            error(flows.poll(at(6), "other", &code.device_code)).contains("bad_verification_code")
        );
        assert!(
            error(flows.poll(at(12), "c1", &code.device_code)).contains("authorization_pending")
        );
        assert!(
            error(flows.poll(at(18), "c1", &code.device_code)).contains("authorization_pending")
        );
        assert_eq!(
            flows.poll(at(24), "c1", &code.device_code).unwrap(),
            request()
        );
        assert!(error(flows.poll(at(30), "c1", &code.device_code)).contains("90120"));
    }
}
