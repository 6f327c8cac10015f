//! The two derived sets every rule uses: the attacker context (addresses,
//! sessions, apps seen doing what an attacker does) and the baseline (where the
//! user is known to sign in from). Most single events are dual-use; linking an
//! object or event to attacker context is what raises its severity, so a
//! one-off benign event stays low.

use crate::facts::{flag, Facts, SignIn, Sym, STRONG_RISKS};
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// Failed passwords from one address before it gets in: a spray.
pub const SPRAY_FAILURES: usize = 3;
/// User agents of attack tools and scripts (Microsoft-Analyzer-Suite's list,
/// <https://github.com/evild3ad/Microsoft-Analyzer-Suite>, and Sigma's rules).
pub const TOOL_AGENTS: &[&str] = &[
    "python-requests",
    "python/",
    "axios/",
    "fasthttp",
    "postmanruntime/",
    "aadinternals",
    "azurehound",
    "roadtools",
    "go-http-client",
    "curl/",
    "bav2ropc",
];

/// Attacker context and baseline.
pub struct Context {
    pub ips: HashSet<Sym>,
    pub sessions: HashSet<Sym>,
    pub apps: HashSet<Sym>,
    /// Addresses and networks the user signs in from with MFA on a known device.
    pub baseline_ips: HashSet<Sym>,
    pub baseline_asns: HashSet<u32>,
    /// The first and last event in attacker context.
    pub first: Option<DateTime<Utc>>,
    pub last_signin: Option<DateTime<Utc>>,
    /// When the window of "new during the incident" starts.
    pub window_start: Option<DateTime<Utc>>,
}

impl Context {
    pub fn build(f: &Facts) -> Self {
        let mut c = Context {
            ips: HashSet::new(),
            sessions: HashSet::new(),
            apps: HashSet::new(),
            baseline_ips: HashSet::new(),
            baseline_asns: HashSet::new(),
            first: None,
            last_signin: None,
            window_start: None,
        };
        c.baseline(f);
        c.seed_from_risk(f);
        c.seed_from_replay(f);
        c.seed_from_spray(f);
        c.seed_from_tools(f);
        c.expand(f);
        c.times(f);
        c
    }

    /// Where the user signs in with MFA from a known device.
    fn baseline(&mut self, f: &Facts) {
        for s in f.signins.iter().filter(|s| {
            s.ok()
                && s.has(flag::MFA)
                && s.has(flag::KNOWN_DEVICE)
                && s.device_id != 0
                && !s.has(flag::RISK_STRONG)
        }) {
            self.baseline_ips.insert(s.ip);
            if s.asn != 0 {
                self.baseline_asns.insert(s.asn);
            }
        }
    }

    fn add(&mut self, s: &SignIn) {
        if s.ip != 0 && !self.baseline_ips.contains(&s.ip) {
            self.ips.insert(s.ip);
        }
        if s.session != 0 {
            self.sessions.insert(s.session);
        }
    }

    /// Identity Protection's precise verdicts: the detections' addresses and
    /// the sign-ins they name.
    fn seed_from_risk(&mut self, f: &Facts) {
        let mut named: HashSet<&str> = HashSet::new();
        for (_, d) in &f.detections {
            let kind = d["riskEventType"].as_str().unwrap_or("");
            // anomalousToken is precise only at high risk (Microsoft: "a higher
            // than normal chance that some ... are false positives at low and
            // medium risk levels").
            let strong = STRONG_RISKS.iter().any(|k| k.eq_ignore_ascii_case(kind))
                && (!kind.eq_ignore_ascii_case("anomalousToken")
                    || d["riskLevel"].as_str() == Some("high"));
            if !strong {
                continue;
            }
            if let Some(ip) = d["ipAddress"].as_str().and_then(|a| f.strings.find(a)) {
                if !self.baseline_ips.contains(&ip) {
                    self.ips.insert(ip);
                }
            }
            named.extend(d["requestId"].as_str());
        }
        if !named.is_empty() {
            for s in &f.signins {
                if f.signin_ids
                    .get(s)
                    .is_some_and(|id| named.contains(id.as_str()))
                {
                    self.add(s);
                }
            }
        }
        for s in f.signins.iter().filter(|s| s.has(flag::RISK_STRONG)) {
            self.add(s);
        }
        // A weak verdict (anonymised address, unfamiliar features, travel) joins
        // only with a second, independent signal: a successful sign-in from that
        // address on a network and in a country the user's known sign-ins never use.
        let countries: HashSet<Sym> = f
            .signins
            .iter()
            .filter(|s| self.baseline_ips.contains(&s.ip))
            .map(|s| s.country)
            .collect();
        for (_, d) in &f.detections {
            let Some(ip) = d["ipAddress"].as_str().and_then(|a| f.strings.find(a)) else {
                continue;
            };
            if self.ips.contains(&ip) || self.baseline_ips.contains(&ip) {
                continue;
            }
            let second = f.signins.iter().find(|s| {
                s.ip == ip
                    && s.ok()
                    && !self.baseline_asns.contains(&s.asn)
                    && !countries.contains(&s.country)
            });
            if let Some(s) = second {
                self.add(s);
            }
        }
    }

    /// One session, two networks: the later network replays a stolen cookie.
    fn seed_from_replay(&mut self, f: &Facts) {
        for pair in replayed_sessions(f) {
            self.add(pair.1);
        }
    }

    /// Failed passwords from one address, then success from it.
    fn seed_from_spray(&mut self, f: &Facts) {
        for s in sprays(f).into_iter().filter_map(|x| x.success) {
            self.add(s);
        }
    }

    /// Successful sign-ins by attack tools.
    fn seed_from_tools(&mut self, f: &Facts) {
        for s in f.signins.iter().filter(|s| s.ok()) {
            let ua = f.strings.get(s.user_agent).to_ascii_lowercase();
            if TOOL_AGENTS.iter().any(|t| ua.contains(t)) && !self.baseline_ips.contains(&s.ip) {
                self.add(s);
            }
        }
    }

    /// One hop at a time until stable: the sessions of attacker addresses and
    /// the addresses of attacker sessions.
    fn expand(&mut self, f: &Facts) {
        loop {
            let before = (self.ips.len(), self.sessions.len());
            for s in &f.signins {
                let in_a = (s.ip != 0 && self.ips.contains(&s.ip))
                    || (s.session != 0 && self.sessions.contains(&s.session));
                if in_a {
                    self.add(s);
                    if s.kind == crate::facts::Kind::ServicePrincipal && s.app_id != 0 {
                        self.apps.insert(s.app_id);
                    }
                }
            }
            for r in &f.purview {
                let in_a = (r.ip != 0 && self.ips.contains(&r.ip))
                    || (r.session != 0 && self.sessions.contains(&r.session));
                if in_a && r.session != 0 {
                    self.sessions.insert(r.session);
                }
            }
            if (self.ips.len(), self.sessions.len()) == before {
                break;
            }
        }
    }

    fn times(&mut self, f: &Facts) {
        let mut first: Option<DateTime<Utc>> = None;
        let mut last: Option<DateTime<Utc>> = None;
        for s in f.signins.iter().filter(|s| self.signin(s)) {
            let t = s.at();
            first = Some(first.map_or(t, |x| x.min(t)));
            if s.ok() {
                last = Some(last.map_or(t, |x| x.max(t)));
            }
        }
        for r in f
            .purview
            .iter()
            .filter(|r| self.ip(r.ip) || self.session(r.session))
        {
            let t = r.at();
            first = Some(first.map_or(t, |x| x.min(t)));
        }
        self.first = first;
        self.last_signin = last;
        self.window_start = first.map(|t| t - Duration::hours(24));
    }

    pub fn ip(&self, ip: Sym) -> bool {
        ip != 0 && self.ips.contains(&ip)
    }

    pub fn session(&self, s: Sym) -> bool {
        s != 0 && self.sessions.contains(&s)
    }

    /// Whether a sign-in is in attacker context.
    pub fn signin(&self, s: &SignIn) -> bool {
        self.ip(s.ip) || self.session(s.session)
    }

    /// Whether an address string (from an audit record) is in attacker context.
    pub fn address(&self, f: &Facts, address: &str) -> bool {
        f.strings
            .find(crate::values::normalise_ip(address))
            .is_some_and(|ip| self.ip(ip))
    }

    /// Whether `t` falls in the incident's window.
    pub fn in_window(&self, t: Option<DateTime<Utc>>) -> bool {
        match (self.window_start, t) {
            (Some(start), Some(t)) => t >= start,
            _ => false,
        }
    }

    /// Whether `t` is within minutes of a sign-in in attacker context.
    pub fn near_attacker_signin(&self, f: &Facts, t: Option<DateTime<Utc>>) -> bool {
        let Some(t) = t else { return false };
        f.signins.iter().any(|s| {
            self.signin(s) && s.ok() && {
                let d = t - s.at();
                d >= Duration::minutes(-30) && d <= Duration::hours(1)
            }
        })
    }
}

/// A session whose later sign-in comes from another network and country:
/// (first sign-in, replaying sign-in).
pub fn replayed_sessions(f: &Facts) -> Vec<(&SignIn, &SignIn)> {
    /// No sign-in of the session seen yet.
    const NONE: u32 = u32::MAX;
    let count = u32::try_from(f.signins.len()).expect("fewer than 2^32 sign-ins");
    let at = |n: u32| &f.signins[n as usize];
    let mut order: Vec<u32> = (0..count).filter(|&n| at(n).session != 0).collect();
    order.sort_by_key(|&n| {
        let s = at(n);
        (s.time, s.kind, s.index)
    });
    // The first sign-in of each session, by position: a dense table, since
    // nearly every sign-in has a session of its own (a map of a million
    // entries took five times the room).
    let mut first = vec![NONE; f.sessions.slots()];
    let mut out = Vec::new();
    let mut flagged: HashSet<Sym> = HashSet::new();
    for n in order {
        let s = at(n);
        let Some(slot) = f.sessions.slot(s.session) else {
            continue;
        };
        match first[slot] {
            NONE => first[slot] = n,
            m => {
                let f0 = at(m);
                let other_network = s.asn != 0 && f0.asn != 0 && s.asn != f0.asn;
                let other_country = s.country != 0 && f0.country != 0 && s.country != f0.country;
                if other_network && other_country && s.ok() && flagged.insert(s.session) {
                    out.push((f0, s));
                }
            }
        }
    }
    out
}

/// Failed passwords from one address, and what the address got afterwards.
pub struct Spray<'a> {
    pub ip: Sym,
    pub failures: Vec<&'a SignIn>,
    pub lockouts: usize,
    /// The first success from the address after the failures.
    pub success: Option<&'a SignIn>,
    /// MFA stopped it after a correct password (password known to someone else).
    pub mfa_blocked: Option<&'a SignIn>,
}

/// Password failures (50126, 50053) grouped by address, with what followed.
pub fn sprays(f: &Facts) -> Vec<Spray<'_>> {
    let mut by_ip: HashMap<Sym, Vec<&SignIn>> = HashMap::new();
    for s in f
        .signins
        .iter()
        .filter(|s| s.kind == crate::facts::Kind::Interactive && s.ip != 0)
    {
        by_ip.entry(s.ip).or_default().push(s);
    }
    let mut out: Vec<Spray> = Vec::new();
    for (ip, mut list) in by_ip {
        list.sort_by_key(|s| (s.time, s.index));
        let failures: Vec<&SignIn> = list
            .iter()
            .copied()
            .filter(|s| s.error == 50126 || s.error == 50053)
            .collect();
        let Some(first_failure) = failures.first() else {
            continue;
        };
        let after =
            |s: &&&SignIn| s.time >= first_failure.time && s.error != 50126 && s.error != 50053;
        let success = list.iter().filter(after).find(|s| s.ok()).copied();
        let mfa_blocked = list
            .iter()
            .filter(after)
            .find(|s| matches!(s.error, 50074 | 50076 | 500121 | 53003 | 50158))
            .copied();
        out.push(Spray {
            ip,
            lockouts: failures.iter().filter(|s| s.error == 50053).count(),
            failures,
            success,
            mfa_blocked,
        });
    }
    out.sort_by_key(|s| (s.failures[0].time, s.ip));
    out.retain(|s| s.failures.len() >= SPRAY_FAILURES || s.lockouts > 0 || s.success.is_some());
    out
}

/// The records of `audits` whose activity is one of `names` (folded).
pub fn audits_named<'a>(
    audits: &'a [(u64, Value)],
    names: &[&str],
) -> impl Iterator<Item = &'a (u64, Value)> + 'a {
    let names: Vec<String> = names.iter().map(|n| crate::values::fold(n)).collect();
    audits.iter().filter(move |(_, a)| {
        let act = crate::values::fold(a["activityDisplayName"].as_str().unwrap_or(""));
        names.contains(&act)
    })
}
