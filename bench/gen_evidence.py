#!/usr/bin/env python3
"""Deterministic sign-in-like evidence for benchmarking `m365-preserve seal`.

Writes two files into OUTDIR:

  entra-signins-interactive.json  a JSON array, one record per line ("[\\n",
                                  records joined by ",\\n", "\\n]\\n"), each record
                                  in the Microsoft Graph beta signIn shape;
  entra-signins-interactive.csv   the flattened view of the same records, as the
                                  tool's evidence writer makes it: UTF-8 BOM, CRLF,
                                  nested objects as dotted columns
                                  (location.geoCoordinates.latitude), arrays as
                                  compact JSON text, null as an empty cell.

Each file gets about half of --size. Both files are cut from the same seeded
record stream: record i is the same sign-in in both. A CSV row is shorter than
its JSON record, so the CSV holds every record of the JSON and then continues
the same stream until it has filled its half.

Speed: a pool of varied records (users with Japanese and ASCII names, apps,
cities, devices, error codes, Conditional Access outcomes, MFA steps...) is
built first, each serialised once to a JSON and a CSV template; every emitted
record then picks a pool entry at random and gets its own id, request id,
correlation id, token id and time. Within any 32 KiB deflate window the records
are different pool entries, so the compression ratio is that of real logs (same
keys, varying values, many random ids), not of a repeated line.

Same --seed and --size: byte-identical output.

  python3 bench/gen_evidence.py bench/out/evidence-1G --size 1G
"""

import argparse
import base64
import csv
import io
import json
import os
import random
import re
import sys
import time

SOURCE = "entra-signins-interactive"
BOM = "\ufeff"

# Placeholders replaced per record. Only [A-Z@] characters: they need no JSON
# escaping and no CSV quoting, so a template stays valid whatever fills them.
P_ID, P_TS, P_CORR, P_TOK, P_SESS = "@@ID@@", "@@TS@@", "@@CORR@@", "@@TOK@@", "@@SESS@@"
PLACEHOLDERS = (P_ID, P_TS, P_CORR, P_TOK, P_SESS)

SURNAMES = [
    ("佐藤", "sato"), ("鈴木", "suzuki"), ("高橋", "takahashi"), ("田中", "tanaka"),
    ("伊藤", "ito"), ("渡辺", "watanabe"), ("山本", "yamamoto"), ("中村", "nakamura"),
    ("小林", "kobayashi"), ("加藤", "kato"), ("吉田", "yoshida"), ("山田", "yamada"),
    ("佐々木", "sasaki"), ("山口", "yamaguchi"), ("松本", "matsumoto"), ("井上", "inoue"),
    ("木村", "kimura"), ("林", "hayashi"), ("斎藤", "saito"), ("清水", "shimizu"),
    ("森", "mori"), ("池田", "ikeda"), ("橋本", "hashimoto"), ("阿部", "abe"),
]
GIVEN = [
    ("翔太", "shota"), ("陽菜", "hina"), ("蓮", "ren"), ("結衣", "yui"), ("大翔", "hiroto"),
    ("さくら", "sakura"), ("健太", "kenta"), ("美咲", "misaki"), ("拓也", "takuya"),
    ("葵", "aoi"), ("直樹", "naoki"), ("花子", "hanako"), ("太郎", "taro"), ("優子", "yuko"),
    ("誠", "makoto"), ("恵", "megumi"), ("大輔", "daisuke"), ("愛", "ai"), ("亮", "ryo"),
    ("真由美", "mayumi"),
]
ASCII_FIRST = [
    "James", "Mary", "Robert", "Patricia", "Michael", "Jennifer", "David", "Linda",
    "William", "Elizabeth", "Daniel", "Sarah", "Thomas", "Emily", "Kevin", "Olivia",
    "Wei", "Priya", "Carlos", "Anna",
]
ASCII_LAST = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Martin", "Lee", "Chen",
    "Kumar", "Rodriguez", "Nguyen", "Walker",
]
DOMAINS = ["contoso.co.jp", "contoso.onmicrosoft.com", "fabrikam.jp"]

APPS = [
    ("Office 365 Exchange Online", "00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online"),
    ("Microsoft Teams", "1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams Services"),
    ("Office Home", "4765445b-32c6-49b0-83e6-1d93765276ca", "OfficeHome"),
    ("Microsoft Office", "d3590ed6-52b3-4102-aeff-aad2292ab01c", "Office 365 SharePoint Online"),
    ("Microsoft Authentication Broker", "29d9ed98-a469-4536-ade2-f981bc1d605e", "Windows Azure Active Directory"),
    ("Azure Portal", "c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "Windows Azure Service Management API"),
    ("Microsoft Edge", "ecd6b820-32c2-49b6-98a6-444530e5a77a", "Microsoft Graph"),
    ("One Outlook Web", "9199bf20-a13f-4107-85dc-02114787ef48", "Office 365 Exchange Online"),
    ("OneDrive SyncEngine", "ab9b8c07-8f02-4f72-87fa-80105867a763", "Office 365 SharePoint Online"),
    ("My Signins", "19db86c3-b2b9-44cc-b339-36da233a3be2", "Microsoft Graph"),
    ("Microsoft Azure CLI", "04b07795-8ddb-461a-bbee-02f9e1bf7b46", "Windows Azure Service Management API"),
    ("Microsoft 365 Security and Compliance Center", "80ccca67-54bd-44ab-8625-4b79c4dc7775", "Microsoft Graph"),
    ("Outlook Mobile", "27922004-5251-4030-b22d-91ecd9a37ea4", "Office 365 Exchange Online"),
    ("SharePoint Online Web Client Extensibility", "08e18876-6177-487e-b8b5-cf950c1e598c", "Office 365 SharePoint Online"),
]
RESOURCE_IDS = {
    "Office 365 Exchange Online": "00000002-0000-0ff1-ce00-000000000000",
    "Microsoft Teams Services": "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe",
    "OfficeHome": "4765445b-32c6-49b0-83e6-1d93765276ca",
    "Office 365 SharePoint Online": "00000003-0000-0ff1-ce00-000000000000",
    "Windows Azure Active Directory": "00000002-0000-0000-c000-000000000000",
    "Windows Azure Service Management API": "797f4846-ba00-4fd7-ba43-dac1f8f63013",
    "Microsoft Graph": "00000003-0000-0000-c000-000000000000",
}

# (city, state, country, lat, lon, IPv4 prefixes, ASN)
LOCATIONS = [
    ("Tokyo", "Tokyo", "JP", 35.6895, 139.6917, ["126.", "153.", "60.", "220."], 2516),
    ("Chiyoda", "Tokyo", "JP", 35.694, 139.7536, ["202.", "118."], 4713),
    ("Osaka", "Osaka", "JP", 34.6937, 135.5023, ["106.", "180."], 17676),
    ("Yokohama", "Kanagawa", "JP", 35.4437, 139.638, ["114.", "49."], 2527),
    ("Nagoya", "Aichi", "JP", 35.1815, 136.9066, ["133.", "221."], 2516),
    ("Fukuoka", "Fukuoka", "JP", 33.5904, 130.4017, ["61.", "124."], 17511),
    ("Sapporo", "Hokkaido", "JP", 43.0618, 141.3545, ["27.", "110."], 4713),
    ("Singapore", "Singapore", "SG", 1.3521, 103.8198, ["103.", "175."], 9506),
    ("Amsterdam", "Noord-Holland", "NL", 52.3676, 4.9041, ["185.", "45."], 60781),
    ("Frankfurt am Main", "Hessen", "DE", 50.1109, 8.6821, ["5.", "194."], 24940),
    ("Ashburn", "Virginia", "US", 39.0438, -77.4874, ["52.", "3."], 14618),
    ("Lagos", "Lagos", "NG", 6.5244, 3.3792, ["102.", "197."], 29465),
    ("Moscow", "Moscow", "RU", 55.7558, 37.6173, ["95.", "176."], 8359),
]

DEVICES = [
    ("Windows10", "Edge 131.0.0", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"),
    ("Windows10", "Chrome 131.0.0", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"),
    ("Windows10", "Rich Client 5.2.5.0", "Windows-AzureAD-Authentication-Provider/1.0"),
    ("MacOs", "Safari 18.1", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15"),
    ("MacOs", "Chrome 130.0.0", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"),
    ("Ios 18.1", "Mobile Safari 18.1", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"),
    ("Ios 17.6", "Rich Client 4.9.0", "Outlook-iOS/4.2446.0"),
    ("Android 14", "Chrome Mobile 131.0.0", "Mozilla/5.0 (Linux; Android 14; SO-51D) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"),
    ("Linux", "Python Requests 2.32", "python-requests/2.32.3"),
    ("Linux", "", "axios/1.7.7"),
]

# (errorCode, failureReason, additionalDetails, weight)
STATUSES = [
    (0, None, None, 70),
    (0, None, "MFA requirement satisfied by claim in the token", 12),
    (50126, "Error validating credentials due to invalid username or password.", "The user didn't enter the right credentials.  It's expected to see some number of these errors in your logs due to users making mistakes.", 6),
    (50074, "Strong Authentication is required.", "The user was presented MFA but has not yet completed it.", 4),
    (50140, "This error occurred due to 'Keep me signed in' interrupt when the user was signing in.", None, 3),
    (53003, "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.", None, 2),
    (500121, "Authentication failed during strong authentication request.", "The user didn't complete the MFA prompt.", 2),
    (50053, "Account is locked because user tried to sign in too many times with an incorrect user ID or password.", None, 1),
    (50055, "The password is expired.", None, 1),
]

CA_POLICIES = [
    ("f1b7c6a4-0c3e-4a8e-9d1b-2f6c3e8a9b01", "CA001: Require MFA for all users", ["mfa"], []),
    ("0a8e4b2c-7d19-4f36-b5e2-8c1d9a7f3e02", "CA002: Block legacy authentication", ["block"], []),
    ("5c3d2e1f-9a8b-4c7d-8e6f-1a2b3c4d5e03", "CA003: Require compliant device for admins", ["compliantDevice"], []),
    ("9e8d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c04", "CA004: Sign-in frequency 12h (unmanaged)", [], ["SignInFrequency"]),
    ("3b4c5d6e-7f80-4192-a3b4-c5d6e7f8a905", "CA005: Block countries outside JP/SG", ["block"], []),
    ("7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c06", "CA006: Require phishing-resistant MFA for Azure management", ["authenticationStrength"], []),
]
CA_RESULTS = ["success", "notApplied", "notApplied", "notApplied", "failure", "reportOnlySuccess", "reportOnlyNotApplied", "notEnabled"]

AUTH_METHODS = [
    ("Password", "Password in the cloud", "Correct password"),
    ("Mobile app notification", None, "MFA successfully completed"),
    ("Microsoft Authenticator App", None, "MFA completed in Azure AD"),
    ("Text message", None, "MFA successfully completed"),
    ("Previously satisfied", None, "First factor requirement satisfied by claim in the token"),
    ("Passkey (Microsoft Authenticator)", None, "MFA successfully completed"),
    ("FIDO2 security key", None, "MFA successfully completed"),
]

TENANT_ID = "8c3f2a91-4b5e-4d6c-9a7b-1e2f3a4b5c6d"


def parse_size(text):
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*", text, re.IGNORECASE)
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (examples: 1G, 256M, 1048576)")
    mult = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}[m.group(2).upper()]
    n = int(float(m.group(1)) * mult)
    if n < 64 * 1024:
        raise argparse.ArgumentTypeError("size must be at least 64K")
    return n


def make_uuid(rng):
    h = "%032x" % rng.getrandbits(128)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def make_users(rng, n):
    users = []
    for i in range(n):
        uid = make_uuid(rng)
        dom = rng.choice(DOMAINS)
        kind = rng.random()
        if kind < 0.6:  # Japanese display name, romanised UPN
            (sk, sr), (gk, gr) = rng.choice(SURNAMES), rng.choice(GIVEN)
            sep = rng.choice(["", " ", "\u3000"])
            name = f"{sk}{sep}{gk}"
            upn = f"{gr}.{sr}{'' if i < 200 else i}@{dom}"
        elif kind < 0.8:  # romanised Japanese name
            (_, sr), (_, gr) = rng.choice(SURNAMES), rng.choice(GIVEN)
            name = f"{sr.capitalize()} {gr.capitalize()}"
            upn = f"{sr}.{gr}{i}@{dom}"
        else:
            f, l = rng.choice(ASCII_FIRST), rng.choice(ASCII_LAST)
            name = f"{f} {l}"
            upn = f"{f[0].lower()}{l.lower()}{i}@{dom}"
        home = rng.choices(LOCATIONS[:7], k=1)[0]
        users.append({
            "id": uid, "name": name, "upn": upn, "home": home,
            "devices": [(make_uuid(rng), rng.choice(DEVICES[:8])) for _ in range(rng.randint(1, 3))],
            "guest": rng.random() < 0.05,
        })
    return users


def make_ip(rng, prefixes):
    if rng.random() < 0.08:
        return "2400:%x:%x:%x::%x" % (rng.randrange(0x10000), rng.randrange(0x10000),
                                       rng.randrange(0x10000), rng.randrange(0x10000))
    return f"{rng.choice(prefixes)}{rng.randrange(1, 255)}.{rng.randrange(0, 256)}.{rng.randrange(1, 255)}"


def make_record(rng, users):
    u = rng.choice(users)
    app_name, app_id, resource = rng.choice(APPS)
    roaming = rng.random() < 0.12
    loc = rng.choice(LOCATIONS) if roaming else u["home"]
    city, state, country, lat, lon, prefixes, asn = loc
    attacker = rng.random() < 0.02
    if attacker:
        city, state, country, lat, lon, prefixes, asn = rng.choice(LOCATIONS[8:])
        device_id, (os_name, browser, ua) = "", rng.choice(DEVICES[7:])
        managed = compliant = False
        trust = None
    elif rng.random() < 0.7:
        device_id, (os_name, browser, ua) = rng.choice(u["devices"])
        managed = rng.random() < 0.8
        compliant = managed and rng.random() < 0.9
        trust = rng.choice(["Azure AD joined", "Hybrid Azure AD joined", "Azure AD registered"]) if managed else None
    else:
        device_id, (os_name, browser, ua) = "", rng.choice(DEVICES)
        managed = compliant = False
        trust = None
    code, reason, detail, _ = rng.choices(STATUSES, weights=[s[3] for s in STATUSES], k=1)[0]
    if attacker and rng.random() < 0.5:
        code, reason, detail, _ = STATUSES[2]
    mfa = code in (0, 50074, 500121) and rng.random() < 0.6
    steps = [AUTH_METHODS[0]]
    if mfa:
        steps.append(rng.choice(AUTH_METHODS[1:]))
    elif code == 0 and rng.random() < 0.5:
        steps = [AUTH_METHODS[4]]
    auth_details = []
    for n, (method, mdetail, result) in enumerate(steps):
        ok = code == 0 or (n == 0 and code != 50126)
        auth_details.append({
            "authenticationStepDateTime": P_TS,
            "authenticationMethod": method,
            "authenticationMethodDetail": mdetail,
            "succeeded": ok,
            "authenticationStepResultDetail": result if ok else (reason or "Authentication failed"),
            "authenticationStepRequirement": "Primary authentication" if n == 0 else "Multi-factor authentication",
            "StatusSequence": 0 if n == 0 else rng.randrange(1, 999999999),
            "RequestSequence": rng.randrange(0, 2),
        })
    policies = []
    for pid, pname, grants, sessions in CA_POLICIES:
        result = rng.choice(CA_RESULTS)
        if code == 53003 and pname.startswith("CA005"):
            result = "failure"
        policies.append({
            "id": pid,
            "displayName": pname,
            "enforcedGrantControls": grants if result in ("success", "failure") else [],
            "enforcedSessionControls": sessions if result == "success" else [],
            "sessionControlsNotSatisfied": [],
            "result": result,
            "conditionsSatisfied": "application,users" if result != "notApplied" else "none",
            "conditionsNotSatisfied": "none" if result != "notApplied" else rng.choice(["application", "users", "location", "platform"]),
            "includeRulesSatisfied": [],
            "excludeRulesSatisfied": [],
        })
    ca_status = "failure" if code == 53003 else ("success" if any(p["result"] == "success" for p in policies) else "notApplied")
    jitter_lat = round(lat + rng.uniform(-0.05, 0.05), 5)
    jitter_lon = round(lon + rng.uniform(-0.05, 0.05), 5)
    ip = make_ip(rng, prefixes)
    risk = "high" if attacker and rng.random() < 0.5 else rng.choice(["none"] * 12 + ["low", "medium"])
    client_app = "Browser" if "Mozilla" in ua else ("Mobile Apps and Desktop clients" if "Rich Client" in browser or "Outlook" in ua else "Other clients")
    return {
        "id": P_ID,
        "createdDateTime": P_TS,
        "userDisplayName": u["name"],
        "userPrincipalName": u["upn"],
        "userId": u["id"],
        "userType": "guest" if u["guest"] else "member",
        "appId": app_id,
        "appDisplayName": app_name,
        "ipAddress": ip,
        "ipAddressFromResourceProvider": None,
        "autonomousSystemNumber": asn,
        "clientAppUsed": client_app,
        "userAgent": ua,
        "correlationId": P_CORR,
        "conditionalAccessStatus": ca_status,
        "originalRequestId": P_ID,
        "isInteractive": True,
        "tokenIssuerName": "",
        "tokenIssuerType": "AzureAD",
        "clientCredentialType": "none",
        "processingTimeInMilliseconds": rng.randrange(40, 2500),
        "riskDetail": "none" if risk == "none" else "hidden",
        "riskLevelAggregated": risk,
        "riskLevelDuringSignIn": risk,
        "riskState": "none" if risk == "none" else "atRisk",
        "riskEventTypes_v2": [] if risk == "none" else [rng.choice(["unfamiliarFeatures", "anonymizedIPAddress", "unlikelyTravel", "maliciousIPAddress"])],
        "resourceDisplayName": resource,
        "resourceId": RESOURCE_IDS[resource],
        "resourceTenantId": TENANT_ID,
        "homeTenantId": TENANT_ID,
        "homeTenantName": "Contoso Japan",
        "authenticationMethodsUsed": [s[0] for s in steps] if code == 0 else [],
        "authenticationRequirement": "multiFactorAuthentication" if mfa else "singleFactorAuthentication",
        "signInIdentifier": u["upn"],
        "signInIdentifierType": "userPrincipalName",
        "servicePrincipalName": None,
        "signInEventTypes": ["interactiveUser"],
        "servicePrincipalId": "",
        "federatedCredentialId": "",
        "flaggedForReview": False,
        "isTenantRestricted": False,
        "isThroughGlobalSecureAccess": False,
        "globalSecureAccessIpAddress": None,
        "crossTenantAccessType": "none",
        "incomingTokenType": "none",
        "authenticationProtocol": "none",
        "uniqueTokenIdentifier": P_TOK,
        "sessionId": P_SESS,
        "appTokenProtectionStatus": "unbound",
        "tokenProtectionStatusDetails": {"signInSessionStatus": "unbound", "signInSessionStatusCode": 1002},
        "status": {"errorCode": code, "failureReason": reason, "additionalDetails": detail},
        "deviceDetail": {
            "deviceId": device_id,
            "displayName": ("DESKTOP-%06X" % rng.randrange(1 << 24)) if device_id else "",
            "operatingSystem": os_name,
            "browser": browser,
            "isCompliant": compliant,
            "isManaged": managed,
            "trustType": trust or "",
        },
        "location": {
            "city": city,
            "state": state,
            "countryOrRegion": country,
            "geoCoordinates": {"altitude": None, "latitude": jitter_lat, "longitude": jitter_lon},
        },
        "appliedConditionalAccessPolicies": policies,
        "appliedEventListeners": [],
        "authenticationAppDeviceDetails": None,
        "authenticationAppPolicyEvaluationDetails": [],
        "authenticationContextClassReferences": [],
        "authenticationDetails": auth_details,
        "authenticationProcessingDetails": [
            {"key": "Legacy TLS (TLS 1.0, 1.1, 3DES)", "value": "False"},
            {"key": "Is CAE Token", "value": rng.choice(["True", "False"])},
            {"key": "Oauth Scope Info", "value": json.dumps(rng.sample(["email", "openid", "profile", "offline_access", "Mail.Read", "User.Read", "Files.ReadWrite.All"], rng.randint(1, 4)))},
        ],
        "authenticationRequirementPolicies": [{"requirementProvider": "multiConditionalAccess", "detail": "Conditional Access"}] if mfa else [],
        "networkLocationDetails": [{"networkType": "trustedNamedLocation", "networkNames": ["Head office"]}] if (not roaming and rng.random() < 0.4) else [],
        "managedServiceIdentity": {"msiType": "none", "associatedResourceId": None, "federatedTokenId": None, "federatedTokenIssuer": None},
        "privateLinkDetails": {"policyId": "", "policyName": "", "resourceId": "", "policyTenantId": ""},
        "mfaDetail": {"authMethod": steps[-1][0], "authDetail": None} if mfa else {"authMethod": None, "authDetail": None},
        "sessionLifetimePolicies": [{"expirationRequirement": "signInFrequencyPeriodicReauthentication", "detail": "Sign-in frequency 12h"}] if rng.random() < 0.2 else [],
    }


def flatten(rec, path="", out=None):
    """The tool's flattening rules (src/evidence/flatten.rs)."""
    if out is None:
        out = []
    for k, v in rec.items():
        p = f"{path}.{k}" if path else k
        if isinstance(v, dict) and v:
            flatten(v, p, out)
        elif v is None:
            out.append((p, ""))
        elif isinstance(v, bool):
            out.append((p, "true" if v else "false"))
        elif isinstance(v, (list, dict)):
            out.append((p, json.dumps(v, ensure_ascii=False, separators=(",", ":"))))
        elif isinstance(v, str):
            out.append((p, v))
        else:
            out.append((p, json.dumps(v)))
    return out


def to_format(text):
    """A str.format template: braces escaped, placeholders numbered in PLACEHOLDERS order."""
    t = text.replace("{", "{{").replace("}", "}}")
    for i, ph in enumerate(PLACEHOLDERS):
        t = t.replace(ph, "{%d}" % i)
    return t


def build_pool(seed, size):
    rng = random.Random(seed)
    users = make_users(rng, 600)
    json_t, csv_t, columns = [], [], None
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for _ in range(size):
        rec = make_record(rng, users)
        json_t.append(to_format(json.dumps(rec, ensure_ascii=False, separators=(",", ":"))))
        cells = flatten(rec)
        names = [c[0] for c in cells]
        if columns is None:
            columns = names
        assert names == columns, "every pool record must have the same columns"
        buf.seek(0)
        buf.truncate()
        writer.writerow([c[1] for c in cells])
        csv_t.append(to_format(buf.getvalue()))
    buf.seek(0)
    buf.truncate()
    writer.writerow(columns)
    return json_t, csv_t, buf.getvalue()


class Stream:
    """The per-record values: a pool entry and fresh ids/time, from one seeded RNG."""

    def __init__(self, seed, pool_size):
        self.rng = random.Random(seed * 1_000_003 + 7)
        self.pool_size = pool_size
        self.t = 1795564799  # 2026-11-24T23:59:59Z; newest first, like the portal export
        self.day = None
        self.day_str = ""
        self.sessions = [make_uuid(self.rng) for _ in range(2000)]

    def next(self):
        rng = self.rng
        getbits = rng.getrandbits
        self.t -= getbits(4) >> 1  # 0..7 s between sign-ins
        day, sec = divmod(self.t, 86400)
        if day != self.day:
            self.day = day
            self.day_str = time.strftime("%Y-%m-%dT", time.gmtime(day * 86400))
        ts = "%s%02d:%02d:%02dZ" % (self.day_str, sec // 3600, sec // 60 % 60, sec % 60)
        h = "%032x" % getbits(128)
        rid = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"
        h = "%032x" % getbits(128)
        corr = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-b{h[17:20]}-{h[20:]}"
        tok = base64.urlsafe_b64encode(getbits(128).to_bytes(16, "little"))[:22].decode()
        if getbits(3) == 0:  # now and then a new session replaces an old one
            self.sessions[getbits(11) % 2000] = make_uuid(rng)
        sess = self.sessions[getbits(11) % 2000]
        return getbits(20) % self.pool_size, (rid, ts, corr, tok, sess)


def write_file(path, budget, head, tail, templates, sep, seed, flush_every=4096):
    """Writes head, records (joined by sep) while they fit in budget, then tail. Returns record count."""
    stream = Stream(seed, len(templates))
    tmp = path + ".part"
    written = 0
    records = 0
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        parts = [head]
        size = len(head.encode("utf-8")) + len(tail.encode("utf-8"))
        chunk_chars = []
        while True:
            idx, vals = stream.next()
            text = templates[idx].format(*vals)
            piece_len = len(text.encode("utf-8")) + (len(sep) if records else 0)
            if records and size + piece_len > budget:
                break
            if records:
                parts.append(sep)
            parts.append(text)
            size += piece_len
            records += 1
            if len(parts) >= flush_every:
                f.write("".join(parts))
                parts = []
        parts.append(tail)
        f.write("".join(parts))
        written = size
    os.replace(tmp, path)
    return records, written


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir", help="folder to write (created; existing files of the same name are replaced)")
    ap.add_argument("--size", type=parse_size, default=parse_size("1G"), help="total bytes, e.g. 1G, 256M (default 1G)")
    ap.add_argument("--seed", type=int, default=20261125, help="random seed (default 20261125)")
    ap.add_argument("--pool", type=int, default=6000, help="distinct record templates (default 6000)")
    args = ap.parse_args()

    t0 = time.monotonic()
    os.makedirs(args.outdir, exist_ok=True)
    json_t, csv_t, header = build_pool(args.seed, args.pool)
    half = args.size // 2
    json_path = os.path.join(args.outdir, SOURCE + ".json")
    csv_path = os.path.join(args.outdir, SOURCE + ".csv")
    # Both files draw the same record stream (same stream seed).
    n_json, b_json = write_file(json_path, half, "[\n", "\n]\n", json_t, ",\n", args.seed)
    n_csv, b_csv = write_file(csv_path, args.size - b_json, BOM + header, "", csv_t, "", args.seed)
    secs = time.monotonic() - t0
    total = os.path.getsize(json_path) + os.path.getsize(csv_path)
    print(f"{json_path}: {n_json} records, {os.path.getsize(json_path)} bytes", file=sys.stderr)
    print(f"{csv_path}: {n_csv} records, {os.path.getsize(csv_path)} bytes", file=sys.stderr)
    print(f"generated {total} bytes (asked {args.size}) in {secs:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
