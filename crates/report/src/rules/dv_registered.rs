//! DV-01: devices registered to the user during the incident: a device the
//! attacker registers holds a primary refresh token that survives session
//! revocation until the device is deleted or disabled
//! (<https://learn.microsoft.com/entra/identity/devices/concept-primary-refresh-token>).

use super::{audit_ip, Input, Rule};
use crate::context::audits_named;
use crate::finding::{Category, Draft, Severity};
use m365_preserve_sources::Source;

pub const RULE: Rule = Rule {
    id: "DV-01",
    category: Category::Device,
    needs: &[Source::Devices],
    run,
};

fn run(i: &Input) -> Vec<Draft> {
    let mut out = Vec::new();
    for rec in &i.facts.devices {
        let d = &rec.1;
        let registered = super::when(d, "registrationDateTime");
        if !i.ctx.in_window(registered) {
            continue;
        }
        let name = d["displayName"].as_str().unwrap_or("");
        let device_id = d["deviceId"].as_str().unwrap_or("");
        let audits: Vec<_> = audits_named(
            &i.facts.audits,
            &[
                "Register device",
                "Add device",
                "Add registered owner to device",
                "Add registered users to device",
            ],
        )
        .filter(|(_, a)| super::targets(a, d["id"].as_str().unwrap_or("")))
        .collect();
        let used_by_attacker = i.facts.strings.find(device_id).is_some_and(|sym| {
            i.facts
                .signins
                .iter()
                .any(|s| s.device_id == sym && i.ctx.signin(s))
        });
        let linked = used_by_attacker
            || audits
                .iter()
                .any(|(_, a)| i.ctx.address(i.facts, audit_ip(a)))
            || i.ctx.near_attacker_signin(i.facts, registered);
        let unmanaged = d["isManaged"].as_bool() != Some(true);
        out.push(
            Draft::new(
                RULE.id,
                RULE.category,
                if unmanaged {
                    Severity::Medium
                } else {
                    Severity::Low
                },
            )
            .message("dv-01")
            .arg("name", name)
            .arg("trust", d["trustType"].as_str().unwrap_or(""))
            .arg("os", d["operatingSystem"].as_str().unwrap_or(""))
            .subject(name)
            .seen(registered)
            .evidence([i.record(Source::Devices, rec)])
            .evidence(audits.iter().map(|a| i.record(Source::EntraAudit, a)))
            .linked(linked),
        );
    }
    out
}
