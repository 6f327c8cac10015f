//! The `large` profile: any number of sign-ins over the 30 days before `now`,
//! each generated on demand from its index alone, so a million records cost no
//! memory and can be served in any order.
//!
//! Building a beta signIn `Value` from scratch is dominated by allocation and
//! key hashing, so the profile first builds one template per combination of
//! person, client and place (a few hundred), and record `i` is a clone of one of
//! them with its per-request fields (id, time, correlation, session, token id)
//! drawn from `i`.

use super::catalogue::*;
use super::ids::{random_guid, request_id, secs, token_identifier};
use super::signins::{browser_signin, desktop_refresh, mobile_refresh, workload_run, DESKTOP_APPS};
use crate::shared::RecordSource;
use chrono::{DateTime, Duration, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use std::borrow::Cow;

/// Generated sign-ins, newest first: record `i` is the same on every call, run and
/// machine. Users are the default tenant's employees (the victim among them), so
/// per-user filters find records; all four sign-in types occur.
#[derive(Debug, Clone)]
pub struct LargeSignIns {
    count: usize,
    now: DateTime<Utc>,
    /// Templates by kind of activity; see `Templates::build`.
    templates: Templates,
}

#[derive(Debug, Clone)]
struct Templates {
    /// Per person: browser sign-in (PRT), browser sign-in with fresh MFA, each
    /// desktop app, the phone; at the office, then at home.
    people: Vec<Vec<Value>>,
    /// The daemons and managed identities, one per resource they use.
    workloads: Vec<Value>,
}

impl Templates {
    /// Variants per person and place: two browser sign-ins, the desktop apps, the phone.
    const PER_PLACE: usize = 2 + DESKTOP_APPS.len() + 1;

    fn build() -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(0x1a76_e7e5);
        let rng = &mut rng;
        let epoch = DateTime::<Utc>::UNIX_EPOCH;
        let people = roster()
            .iter()
            .map(|member| {
                let mut variants = Vec::new();
                for place in [member.office(), member.home()] {
                    for fresh in [false, true] {
                        let session = random_guid(rng);
                        let signin = browser_signin(rng, member, place, epoch, session, fresh)
                            .pop()
                            .expect("a sign-in");
                        variants.push(signin.to_value());
                    }
                    for apps in DESKTOP_APPS {
                        let mut s = desktop_refresh(rng, member, place, epoch);
                        (s.app, s.resource) = apps;
                        variants.push(s.to_value());
                    }
                    variants.push(mobile_refresh(rng, member, epoch).to_value());
                }
                variants
            })
            .collect();
        let mut workloads = Vec::new();
        for app in [HR_SYNC, BACKUP, INVOICE_FUNCTION, AUTOMATION_IDENTITY] {
            for slot in 0..2 {
                workloads.push(workload_run(rng, app, slot, epoch).to_value());
            }
        }
        Templates { people, workloads }
    }
}

/// `count` sign-ins spread over the 30 days up to `now`.
pub fn large_signins(count: usize, now: DateTime<Utc>) -> LargeSignIns {
    LargeSignIns {
        count,
        now,
        templates: Templates::build(),
    }
}

impl LargeSignIns {
    /// Record `i`'s time: slot `i` of `count` equal slots back from `now`, at a
    /// random point inside the slot, so times never increase with `i`.
    fn time(&self, i: usize, rng: &mut impl Rng) -> DateTime<Utc> {
        let span_ms = Duration::days(30).num_milliseconds() as f64;
        let offset = (i as f64 + rng.gen::<f64>()) * span_ms / self.count as f64;
        self.now - Duration::milliseconds(offset as i64)
    }

    fn record(&self, i: usize) -> Value {
        // One generator per record, seeded by its index: O(1) random access.
        let mut rng = ChaCha8Rng::seed_from_u64(0x1a76_e000_0000_0000 ^ i as u64);
        let rng = &mut rng;
        let time = self.time(i, rng);
        // About a quarter browser sign-ins, 45% app token refreshes, 30% workloads.
        let pick = rng.gen_range(0..100);
        let template = if pick < 70 {
            let person = &self.templates.people[rng.gen_range(0..self.templates.people.len())];
            let at_home = rng.gen_bool(0.3) as usize * Templates::PER_PLACE;
            let variant = match pick {
                0..=24 => rng.gen_bool(0.12) as usize,
                25..=59 => 2 + rng.gen_range(0..DESKTOP_APPS.len()),
                _ => Templates::PER_PLACE - 1,
            };
            &person[at_home + variant]
        } else {
            &self.templates.workloads[rng.gen_range(0..self.templates.workloads.len())]
        };
        let mut record = template.clone();
        let id = request_id(rng);
        let when = secs(time);
        record["id"] = Value::String(id.to_string());
        record["createdDateTime"] = Value::String(when.clone());
        record["correlationId"] = Value::String(random_guid(rng).to_string());
        record["uniqueTokenIdentifier"] = Value::String(token_identifier(&id));
        record["processingTimeInMilliseconds"] = Value::from(rng.gen_range(20u32..420));
        if record["isInteractive"] == true {
            record["originalRequestId"] = record["id"].clone();
        }
        if record["sessionId"] != "" {
            record["sessionId"] = Value::String(random_guid(rng).to_string());
        }
        if let Some(steps) = record["authenticationDetails"].as_array_mut() {
            for step in steps {
                step["authenticationStepDateTime"] = Value::String(when.clone());
            }
        }
        record
    }
}

impl RecordSource for LargeSignIns {
    fn len(&self) -> usize {
        self.count
    }

    fn get(&self, i: usize) -> Cow<'_, Value> {
        Cow::Owned(self.record(i))
    }
}
