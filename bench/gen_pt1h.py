#!/usr/bin/env python3
"""Deterministic Azure Monitor storage-account export (PT1H.json) of Entra sign-ins
for the import benchmark: one diagnostic-settings record per line (the envelope
time, resourceId, operationName, category "SignInLogs", ... and the Graph signIn in
"properties"), as a diagnostic setting to a storage account writes them
(https://learn.microsoft.com/entra/identity/monitoring-health/reference-azure-monitor-sign-ins-log-schema).
The same --seed and --size give the same bytes.

    python3 bench/gen_pt1h.py --size 1G --out bench/out/PT1H-1G.json
"""
import argparse, json, random

TENANT = "3a327c2e-38a7-40f7-981c-b714065e067a"
USERS = [("%08x-1111-4222-8333-%012x" % (i, i), "社員 %03d" % i, "user%03d@contoso-jp.onmicrosoft.com" % i) for i in range(32)]
APPS = [("Microsoft Office 365 Portal", "00000006-0000-0ff1-ce00-000000000000"), ("One Outlook Web", "9199bf20-a13f-4107-85dc-02114787ef48"),
        ("Microsoft Teams", "1fec8e78-bce4-4aaf-ab1b-5451cc387264"), ("Azure Portal", "c44b4083-3bb0-49c1-b47d-974e53cbdf3c")]
PLACES = [("Chiyoda", "Tokyo", "JP", 35.694, 139.7536), ("Osaka", "Osaka", "JP", 34.6937, 135.5023),
          ("Amsterdam", "Noord-Holland", "NL", 52.3676, 4.9041), ("Lagos", "Lagos", "NG", 6.5244, 3.3792)]
UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0"


def uid(rng):
    return "%08x-%04x-4%03x-8%03x-%012x" % (rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12), rng.getrandbits(12), rng.getrandbits(48))


def record(i, rng):
    user, app, place = USERS[i % len(USERS)], APPS[i % len(APPS)], PLACES[i % len(PLACES)]
    ok = rng.random() > 0.1
    t = 1_762_000_000 + i * 2
    day, rem = divmod(t - 1_761_955_200, 86400)
    when = "2025-11-%02dT%02d:%02d:%02d.%07dZ" % (1 + day % 28, rem // 3600, rem // 60 % 60, rem % 60, rng.getrandbits(20))
    rid, cid = uid(rng), uid(rng)
    code = 0 if ok else 50126
    props = {
        "id": rid, "createdDateTime": when, "userDisplayName": user[1], "userPrincipalName": user[2], "userId": user[0],
        "appId": app[1], "appDisplayName": app[0], "ipAddress": "192.0.2.%d" % (i % 250), "clientAppUsed": "Browser",
        "userAgent": UA, "correlationId": cid, "conditionalAccessStatus": "notApplied", "isInteractive": True,
        "tokenIssuerType": "AzureAD", "processingTimeInMilliseconds": 50 + i % 400, "riskDetail": "none",
        "riskLevelAggregated": "none", "riskLevelDuringSignIn": "none", "riskState": "none", "riskEventTypes_v2": [],
        "resourceDisplayName": "Office 365 Exchange Online", "resourceId": "00000002-0000-0ff1-ce00-000000000000",
        "authenticationMethodsUsed": [], "authenticationRequirement": "singleFactorAuthentication",
        "status": {"errorCode": code, "failureReason": "Other." if ok else "Error validating credentials due to invalid username or password."},
        "deviceDetail": {"deviceId": "", "displayName": "", "operatingSystem": "Windows10", "browser": "Edge 130.0.0", "isCompliant": False, "isManaged": False, "trustType": ""},
        "location": {"city": place[0], "state": place[1], "countryOrRegion": place[2], "geoCoordinates": {"latitude": place[3], "longitude": place[4]}},
        "appliedConditionalAccessPolicies": [], "authenticationDetails": [
            {"authenticationStepDateTime": when, "authenticationMethod": "Password", "authenticationMethodDetail": "Password in the cloud",
             "succeeded": ok, "authenticationStepResultDetail": "Correct password" if ok else "Invalid username or password"}],
        "uniqueTokenIdentifier": "dG9rZW4t%016x" % rng.getrandbits(64), "sessionId": uid(rng), "autonomousSystemNumber": 64496 + i % 16,
    }
    return {"time": when, "resourceId": "/tenants/%s/providers/Microsoft.aadiam" % TENANT, "operationName": "Sign-in activity",
            "operationVersion": "1.0", "category": "SignInLogs", "tenantId": TENANT, "resultType": str(code),
            "resultSignature": "None", "resultDescription": props["status"]["failureReason"], "durationMs": 0,
            "callerIpAddress": props["ipAddress"], "correlationId": cid, "identity": user[1], "Level": 4, "location": place[2],
            "properties": props}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--size", default="1G", help="target size: 1G, 256M, 10M")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    unit = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    size = int(a.size[:-1]) * unit[a.size[-1].upper()] if a.size[-1].isalpha() else int(a.size)
    rng = random.Random(a.seed)
    written, i = 0, 0
    with open(a.out, "wb") as f:
        while written < size:
            line = (json.dumps(record(i, rng), ensure_ascii=False, separators=(",", ":")) + "\n").encode()
            f.write(line)
            written += len(line)
            i += 1
    print("%s: %d records, %d bytes" % (a.out, i, written))


if __name__ == "__main__":
    main()
