#!/usr/bin/env python3
"""Lower bound of a collection's wall time, from the simulator's request log.

Every request is put on the throttle budget it counts against (DESIGN.md,
graph-api.md section 13). No collector can finish before
  - every budget has served its requests at its documented rate, nor before
  - the Purview audit queries have run server-side (created -> succeeded on the
    simulator's timetable) and their record pages were read after that.
The bound is the largest of these, in simulated seconds; divided by the time
scale it is real seconds.

    collect_bound.py REQUEST_LOG TIME_SCALE PROFILE
prints: bound_seconds_real  and a per-budget breakdown on stderr.
"""
import json
import math
import re
import sys

RATES = {  # requests per window (seconds), as documented
    "reports": (5, 10.0),
    "identity-protection": (1, 1.0),
    # Message trace: 100 per 5 minutes per tenant, shared with other apps
    # (the collector takes at most half of it, MESSAGE_TRACE_PACE).
    "message-trace": (100, 300.0),
    # Defender XDR alerts and incidents: 150 per minute per app.
    "security": (150, 60.0),
}
# Simulated audit-query timetable: (queued, done) seconds per profile.
AUDIT_DONE = {"realistic": 240.0, "fast": 3.0}


def budget(method, path):
    p = path.split("?")[0]
    if "/security/auditLog/queries" in p:
        return "audit-records" if p.endswith("/records") else "audit-query"
    if re.search(r"/auditLogs/(signIns|directoryAudits)|/authentication/methods|/reports/authenticationMethods", p):
        return "reports"
    if "/identityProtection/" in p or "/identity/conditionalAccess/" in p:
        return "identity-protection"
    if "/admin/exchange/tracing/" in p:
        return "message-trace"
    if re.search(r"/security/(alerts_v2|incidents)", p):
        return "security"
    if re.search(r"/mailFolders|/messageRules|/mailboxSettings|/messages/", p):
        return "outlook"
    if p.startswith("/api/v1.0/"):
        return "management"
    if "/oauth2/" in p or p.endswith("/token"):
        return "token"
    return "directory"


def main():
    log, scale, profile = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    counts = {}
    audit_posts = 0
    for line in open(log, encoding="utf-8"):
        r = json.loads(line)
        if r.get("status", 0) >= 400:
            continue  # a retried request is not part of the minimum
        b = budget(r["method"], r["path"])
        if b == "audit-query" and r["method"] == "POST":
            audit_posts += 1
        counts[b] = counts.get(b, 0) + 1
    bounds = {}
    for b, (n, window) in RATES.items():
        k = counts.get(b, 0)
        # k requests at n per window: the last one goes out after (ceil(k/n)-1) windows.
        bounds[b] = max(0, math.ceil(k / n) - 1) * window if k else 0.0
    if audit_posts:
        bounds["audit-query"] = AUDIT_DONE[profile]
    for b, s in sorted(bounds.items()):
        print(f"  {b:22} {counts.get(b, 0):6} requests  >= {s:8.1f} s simulated", file=sys.stderr)
    for b in sorted(set(counts) - set(bounds)):
        print(f"  {b:22} {counts[b]:6} requests  (latency-bound)", file=sys.stderr)
    print(f"{max(bounds.values(), default=0.0) / scale:.3f}")


if __name__ == "__main__":
    main()
