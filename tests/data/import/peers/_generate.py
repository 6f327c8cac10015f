#!/usr/bin/env python3
"""Generate the self-written fixtures described in ../import-formats.md.

All values are invented (fictional tenant contoso-jp.onmicrosoft.com, documentation
IP ranges 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32, made-up GUIDs).
No content is copied from any third-party file; only column names / key names
(which are facts about the formats) follow the documented layouts.

Run:  python3 _generate.py      (writes next to this script)
"""
import json
import os
import datetime as dt

OUT = os.path.dirname(os.path.abspath(__file__))
BOM = "\ufeff"
CRLF = "\r\n"

# --------------------------------------------------------------------------- ids
TENANT = "contoso-jp.onmicrosoft.com"
TENANT_ID = "7d3f1c2a-5b8e-4f60-9a1d-2c4e6b8a0f13"
HANAKO = "hanako.sato@contoso-jp.onmicrosoft.com"
HANAKO_ID = "3b9e2f41-7c5a-4d8e-b1f0-6a2c9d4e8b57"
HANAKO_NAME = "佐藤 花子"
TARO = "taro.yamada@contoso-jp.onmicrosoft.com"
TARO_ID = "a41c7e90-2d3b-4f5a-8c6e-9b0d1e2f3a4b"
TARO_NAME = "山田 太郎"
ADMIN = "it.admin@contoso-jp.onmicrosoft.com"
ADMIN_ID = "c0ffee00-1111-4222-8333-944455556666"
EVIL_IP = "203.0.113.45"
HOME_IP = "198.51.100.23"
V6_IP = "2001:db8:4a::1f"
EXFIL = "collector@exfil.example"
BAD_APP_ID = "9f8e7d6c-5b4a-4392-8170-6e5d4c3b2a19"      # invented "MailSync Pro" app
BAD_APP_SP = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
GRAPH_APPID = "00000003-0000-0000-c000-000000000000"      # Microsoft Graph (well-known id)
GRAPH_SP = "5e4d3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c"
EXO_APPID = "00000002-0000-0ff1-ce00-000000000000"        # Office 365 Exchange Online (well-known id)
OWA_APPID = "00000002-0000-0ff1-ce00-000000000000"
MI_ID = "6c5b4a39-2817-4f06-95e4-d3c2b1a09f8e"
MAILBOX_GUID = "0f1e2d3c-4b5a-4697-8877-665544332211"


def w(name, text, bom=True, newline=CRLF):
    """Write text; convert '\n' to the requested newline unless already CRLF-joined."""
    path = os.path.join(OUT, name)
    data = (BOM if bom else "") + text
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(data)
    return path


# --------------------------------------------------------------------------- CSV writers
class Null:
    pass


NULL = Null()  # a PowerShell $null property value (Export-Csv 5.1 writes nothing, unquoted)


def ps_csv(header, rows):
    """Emulate Windows PowerShell 5.1 Export-Csv -NoTypeInformation:
    header and every non-null field double-quoted, '"' doubled, $null written as an
    unquoted empty field (observed in the corpus MailboxRules.csv), CRLF record ends."""
    def cell(v):
        if isinstance(v, Null) or v is None:
            return ""
        if isinstance(v, bool):
            v = "True" if v else "False"
        return '"' + str(v).replace('"', '""') + '"'
    lines = [",".join('"' + h + '"' for h in header)]
    for r in rows:
        lines.append(",".join(cell(r.get(h, NULL)) for h in header))
    return CRLF.join(lines) + CRLF


def rfc_csv(header, rows, quote_space=True):
    """Minimal RFC 4180 quoting used for the Log Analytics / Purview fixtures
    (quote when the field has , " CR LF, or a space).  See import-formats.md: the exact
    portal quoting rule is NOT confirmed."""
    def q(s):
        s = "" if s is None else str(s)
        if any(c in s for c in [",", '"', "\r", "\n"]) or (quote_space and " " in s):
            return '"' + s.replace('"', '""') + '"'
        return s
    lines = [",".join(q(h) for h in header)]
    for r in rows:
        lines.append(",".join(q(r.get(h, "")) for h in header))
    return CRLF.join(lines) + CRLF


# --------------------------------------------------------------------------- JSON writers
def _ps51_escape(s):
    out = []
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch in "<>&'":
            out.append("\\u%04x" % ord(ch))      # PowerShell/PowerShell#7693
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def ps51_json(v, col=0):
    """Emulate Windows PowerShell 5.1 ConvertTo-Json pretty output: 4-space steps
    measured from the column of the opening bracket, two spaces after ':',
    empty arrays as '[' blank-line ']' (layout observed in the corpus files)."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return json.dumps(v)
    if isinstance(v, str):
        return _ps51_escape(v)
    if isinstance(v, PSDate):
        return '"' + v.ps51() + '"'
    pad = " " * (col + 4)
    if isinstance(v, list):
        if not v:
            return "[" + CRLF + CRLF + " " * col + "]"
        items = [pad + ps51_json(x, col + 4) for x in v]
        return "[" + CRLF + ("," + CRLF).join(items) + CRLF + " " * col + "]"
    if isinstance(v, dict):
        if not v:
            return "{" + CRLF + CRLF + " " * col + "}"
        items = []
        for k, x in v.items():
            lead = _ps51_escape(k) + ":  "
            items.append(pad + lead + ps51_json(x, col + 4 + len(lead)))
        return "{" + CRLF + ("," + CRLF).join(items) + CRLF + " " * col + "}"
    raise TypeError(type(v))


def ps51_compress(v):
    if isinstance(v, dict):
        return "{" + ",".join(_ps51_escape(k) + ":" + ps51_compress(x) for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ",".join(ps51_compress(x) for x in v) + "]"
    if isinstance(v, PSDate):
        return '"' + v.ps51() + '"'
    if isinstance(v, str):
        return _ps51_escape(v)
    return ps51_json(v)


def compact(v):
    """Service-side compact JSON (what the UAL service returns in AuditData)."""
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


class PSDate:
    """A .NET DateTime as PowerShell would hold it (UTC)."""
    def __init__(self, d):
        self.d = d

    def ps51(self):  # ConvertTo-Json in Windows PowerShell 5.1
        ms = int((self.d - dt.datetime(1970, 1, 1)).total_seconds() * 1000)
        return "\\/Date(%d)\\/" % ms   # JSON text \/Date(ms)\/ (escaped solidus), as 5.1 writes it

    def enus(self):  # [datetime].ToString() under en-US culture (Export-Csv)
        h = self.d.hour % 12 or 12
        ampm = "AM" if self.d.hour < 12 else "PM"
        return "%d/%d/%d %d:%02d:%02d %s" % (self.d.month, self.d.day, self.d.year, h,
                                             self.d.minute, self.d.second, ampm)

    def enus_g(self):  # Get-Date -Format g under en-US (no seconds)
        h = self.d.hour % 12 or 12
        ampm = "AM" if self.d.hour < 12 else "PM"
        return "%d/%d/%d %d:%02d %s" % (self.d.month, self.d.day, self.d.year, h, self.d.minute, ampm)


def la_time(d, frac7):
    """Azure portal Log Analytics CSV date text, en-US: 'M/D/YYYY, h:mm:ss.fff AM' (ms)."""
    h = d.hour % 12 or 12
    ampm = "AM" if d.hour < 12 else "PM"
    return "%d/%d/%d, %d:%02d:%02d.%s %s" % (d.month, d.day, d.year, h, d.minute, d.second,
                                              frac7[:3], ampm)


def iso(d, frac="", z="Z"):
    return d.strftime("%Y-%m-%dT%H:%M:%S") + (("." + frac) if frac else "") + z


T = dt.datetime
t1 = T(2026, 6, 15, 3, 5, 11)      # attacker sign-in
t2 = T(2026, 6, 15, 3, 9, 47)      # token refresh
t3 = T(2026, 6, 15, 3, 12, 9)      # inbox rule created
t4 = T(2026, 6, 15, 3, 14, 30)     # forwarding set
t5 = T(2026, 6, 15, 3, 20, 2)      # consent
t6 = T(2026, 6, 15, 12, 40, 24)    # mail access
t0 = T(2026, 6, 14, 23, 58, 40)    # legit sign-in (JST morning)

# =========================================================================== Graph objects
def signin(i, when, frac, upn, name, uid, ip, app, appid, res, resid, err, reason, types,
           interactive, city, state, cc, lat, lon, browser, os_, cap_result, auth_req,
           details=None, ua="Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0",
           cred="none", sp_name=None, sp_id="", msi=None):
    """Graph beta signIn object, key order as in the MES corpus sign-in files (73 keys)."""
    return {
        "id": "5f0c%04x-1d2e-4c3b-9a8f-7e6d5c4b3a2%d" % (i, i % 10),
        "createdDateTime": iso(when, frac),
        "userDisplayName": name,
        "userPrincipalName": upn,
        "userId": uid,
        "appId": appid,
        "appDisplayName": app,
        "ipAddress": ip,
        "ipAddressFromResourceProvider": None,
        "clientAppUsed": "Browser" if interactive else "Mobile Apps and Desktop clients",
        "userAgent": ua,
        "correlationId": "0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c%02d" % i,
        "conditionalAccessStatus": "success" if cap_result == "success" else "notApplied",
        "originalRequestId": "",
        "isInteractive": interactive,
        "tokenIssuerName": "",
        "tokenIssuerType": "AzureAD",
        "clientCredentialType": cred,
        "processingTimeInMilliseconds": 112 + i,
        "riskDetail": "none",
        "riskLevelAggregated": "none",
        "riskLevelDuringSignIn": "medium" if ip == EVIL_IP else "none",
        "riskState": "atRisk" if ip == EVIL_IP else "none",
        "riskEventTypes_v2": ["unfamiliarFeatures"] if ip == EVIL_IP else [],
        "resourceDisplayName": res,
        "resourceId": resid,
        "resourceTenantId": TENANT_ID,
        "homeTenantId": TENANT_ID,
        "homeTenantName": "",
        "authenticationMethodsUsed": [],
        "authenticationRequirement": auth_req,
        "signInIdentifier": upn or "",
        "signInIdentifierType": None,
        "servicePrincipalName": sp_name,
        "signInEventTypes": types,
        "servicePrincipalId": sp_id,
        "federatedCredentialId": None,
        "userType": "member",
        "flaggedForReview": False,
        "isTenantRestricted": False,
        "autonomousSystemNumber": 64500 + i,
        "crossTenantAccessType": "none",
        "servicePrincipalCredentialKeyId": None,
        "servicePrincipalCredentialThumbprint": "",
        "uniqueTokenIdentifier": "dGVzdC10b2tlbi1pZC0%02d" % i,
        "incomingTokenType": "none" if interactive else "refreshToken",
        "authenticationProtocol": "none",
        "resourceServicePrincipalId": GRAPH_SP,
        "signInTokenProtectionStatus": "none",
        "originalTransferMethod": "none",
        "isThroughGlobalSecureAccess": False,
        "globalSecureAccessIpAddress": None,
        "sessionId": "8d7c6b5a-4f3e-4d2c-9b1a-0f9e8d7c6b5a",
        "appOwnerTenantId": "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
        "resourceOwnerTenantId": "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
        "mfaDetail": {"authMethod": None, "authDetail": None},
        "authenticationAppDeviceDetails": None,
        "conditionalAccessAudiences": [],
        "status": {"errorCode": err, "failureReason": reason, "additionalDetails": None},
        "deviceDetail": {"deviceId": "", "displayName": "", "operatingSystem": os_,
                         "browser": browser, "isCompliant": False, "isManaged": False,
                         "trustType": ""},
        "location": {"city": city, "state": state, "countryOrRegion": cc,
                     "geoCoordinates": {"altitude": None, "latitude": lat, "longitude": lon}},
        "appliedConditionalAccessPolicies": [
            {"id": "b7a6c5d4-e3f2-4a1b-8c9d-0e1f2a3b4c5d",
             "displayName": "CA001 - 全ユーザー MFA 必須",
             "enforcedGrantControls": ["Mfa"], "enforcedSessionControls": [],
             "result": cap_result}],
        "authenticationContextClassReferences": [],
        "authenticationProcessingDetails": [{"key": "Legacy TLS (TLS 1.0, 1.1, 3DES)", "value": "False"}],
        "networkLocationDetails": [],
        "authenticationDetails": details or [],
        "authenticationRequirementPolicies": [],
        "sessionLifetimePolicies": [],
        "privateLinkDetails": {"policyId": "", "policyName": "", "resourceId": "", "policyTenantId": ""},
        "appliedEventListeners": [],
        "authenticationAppPolicyEvaluationDetails": [],
        "managedServiceIdentity": msi or {"msiType": "none", "associatedResourceId": None,
                                          "federatedTokenId": None, "federatedTokenIssuer": None},
        "tokenProtectionStatusDetails": {"signInSessionStatus": "unbound", "signInSessionStatusCode": 1002},
    }


def auth_ok(when):
    return [
    {"authenticationStepDateTime": iso(when), "authenticationMethod": "Password",
     "authenticationMethodDetail": "Password in the cloud", "succeeded": True,
     "authenticationStepResultDetail": "Correct password", "authenticationStepRequirement": "Primary authentication"},
    {"authenticationStepDateTime": iso(when), "authenticationMethod": "Mobile app notification",
     "authenticationMethodDetail": None, "succeeded": True,
     "authenticationStepResultDetail": "MFA successfully completed", "authenticationStepRequirement": "Multi-factor authentication"},
    ]

SIGNINS = [
    signin(1, t0, "4123456", HANAKO, HANAKO_NAME, HANAKO_ID, HOME_IP, "OfficeHome", "4765445b-32c6-49b0-83e6-1d93765276ca",
           "OfficeHome", "4765445b-32c6-49b0-83e6-1d93765276ca", 0, "Other.", ["interactiveUser"], True,
           "Chiyoda", "Tokyo", "JP", 35.6940, 139.7536, "Edge 126.0.0", "Windows10", "success", "multiFactorAuthentication",
           details=auth_ok(t0)),
    signin(2, t1, "4823456", HANAKO, HANAKO_NAME, HANAKO_ID, EVIL_IP, "One Outlook Web", "9199bf20-a13f-4107-85dc-02114787ef48",
           "Office 365 Exchange Online", EXO_APPID, 0, "Other.", ["interactiveUser"], True,
           "Amsterdam", "Noord-Holland", "NL", 52.3740, 4.8897, "Chrome 126.0.0", "Linux", "success", "multiFactorAuthentication",
           details=auth_ok(t1)),
    signin(3, t1, "1000000", HANAKO, HANAKO_NAME, HANAKO_ID, EVIL_IP, "One Outlook Web", "9199bf20-a13f-4107-85dc-02114787ef48",
           "Office 365 Exchange Online", EXO_APPID, 50074, "Strong Authentication is required.", ["interactiveUser"], True,
           "Amsterdam", "Noord-Holland", "NL", 52.3740, 4.8897, "Chrome 126.0.0", "Linux", "notApplied", "multiFactorAuthentication"),
    signin(4, t2, "0034567", HANAKO, HANAKO_NAME, HANAKO_ID, V6_IP, "MailSync Pro", BAD_APP_ID,
           "Microsoft Graph", GRAPH_APPID, 0, "Other.", ["nonInteractiveUser"], False,
           "Amsterdam", "Noord-Holland", "NL", 52.3740, 4.8897, "", "", "notApplied", "singleFactorAuthentication",
           ua="python-requests/2.32.3"),
]


def audit(i, when, frac, cat, act, op, initiator_upn, initiator_id, ip, targets, details, result="success", app=None):
    return {
        "id": "Directory_%s_CJP%02d_%d" % ("4e3d2c1b-0a9f-48e7-b6d5-c4b3a2918%03d" % i, i, 41000000 + i),
        "category": cat,
        "correlationId": "4e3d2c1b-0a9f-48e7-b6d5-c4b3a2918%03d" % i,
        "result": result,
        "resultReason": "",
        "activityDisplayName": act,
        "activityDateTime": iso(when, frac),
        "loggedByService": "Core Directory",
        "operationType": op,
        "initiatedBy": {
            "app": app,
            "user": None if app else {"id": initiator_id, "displayName": None,
                                      "userPrincipalName": initiator_upn, "ipAddress": ip,
                                      "userType": None, "homeTenantId": None, "homeTenantName": None}},
        "targetResources": targets,
        "additionalDetails": details,
    }


AUDITS = [
    audit(1, t5, "2893401", "ApplicationManagement", "Consent to application", "Assign", HANAKO, HANAKO_ID, EVIL_IP,
          [{"id": BAD_APP_SP, "displayName": "MailSync Pro", "type": "ServicePrincipal", "userPrincipalName": None,
            "groupType": None, "modifiedProperties": [
                {"displayName": "ConsentContext.IsAdminConsent", "oldValue": None, "newValue": "\"False\""},
                {"displayName": "ConsentAction.Permissions", "oldValue": None,
                 "newValue": "\"[] => [[Id: x1y2z3, ClientId: %s, PrincipalId: %s, ResourceId: %s, ConsentType: Principal, Scope: Mail.ReadWrite offline_access User.Read]]; \"" % (BAD_APP_SP, HANAKO_ID, GRAPH_SP)},
                {"displayName": "TargetId.ServicePrincipalNames", "oldValue": None, "newValue": "\"%s\"" % BAD_APP_ID}]}],
          [{"key": "User-Agent", "value": "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0"},
           {"key": "AppId", "value": BAD_APP_ID}]),
    audit(2, t5 + dt.timedelta(seconds=1), "31", "ApplicationManagement", "Add delegated permission grant", "Add", HANAKO, HANAKO_ID, EVIL_IP,
          [{"id": GRAPH_SP, "displayName": "Microsoft Graph", "type": "ServicePrincipal", "userPrincipalName": None,
            "groupType": None, "modifiedProperties": [
                {"displayName": "DelegatedPermissionGrant.Scope", "oldValue": "\"\"", "newValue": "\"Mail.ReadWrite offline_access User.Read\""}]},
           {"id": BAD_APP_SP, "displayName": None, "type": "ServicePrincipal", "userPrincipalName": None,
            "groupType": None, "modifiedProperties": []}],
          []),
    audit(3, t6, "", "UserManagement", "User registered security info", "Add", HANAKO, HANAKO_ID, EVIL_IP,
          [{"id": HANAKO_ID, "displayName": HANAKO_NAME, "type": "User", "userPrincipalName": HANAKO,
            "groupType": None, "modifiedProperties": []}],
          [{"key": "AuthenticationMethod", "value": "Authenticator App"}]),
    audit(4, t6 + dt.timedelta(minutes=30), "9", "UserManagement", "Reset password (by admin)", "Update", ADMIN, ADMIN_ID, HOME_IP,
          [{"id": HANAKO_ID, "displayName": None, "type": "User", "userPrincipalName": HANAKO,
            "groupType": None, "modifiedProperties": []}],
          [], ),
]

# =========================================================================== UAL records (AuditData)
ORG = "contoso-jp.onmicrosoft.com"
RULE_NAME = "請求書"   # Japanese rule name ("invoice")
UAL = []

UAL.append(("AzureActiveDirectoryStsLogon", t1, HANAKO, "UserLoggedIn", {
    "CreationTime": iso(t1, z=""), "Id": "a1000001-0000-4000-8000-000000000001", "Operation": "UserLoggedIn",
    "OrganizationId": TENANT_ID, "RecordType": 15, "ResultStatus": "Success", "UserKey": HANAKO_ID,
    "UserType": 0, "Version": 1, "Workload": "AzureActiveDirectory", "ClientIP": EVIL_IP, "ObjectId": EXO_APPID,
    "UserId": HANAKO, "AzureActiveDirectoryEventType": 1,
    "ExtendedProperties": [{"Name": "ResultStatusDetail", "Value": "Redirect"},
                           {"Name": "UserAgent", "Value": "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0"},
                           {"Name": "RequestType", "Value": "OAuth2:Authorize"}],
    "ModifiedProperties": [],
    "Actor": [{"ID": HANAKO_ID, "Type": 0}, {"ID": HANAKO, "Type": 5}],
    "ActorContextId": TENANT_ID, "ActorIpAddress": EVIL_IP, "InterSystemsId": "b1000001-0000-4000-8000-000000000001",
    "IntraSystemId": "c1000001-0000-4000-8000-000000000001", "SupportTicketId": "",
    "Target": [{"ID": EXO_APPID, "Type": 0}], "TargetContextId": TENANT_ID,
    "ApplicationId": "9199bf20-a13f-4107-85dc-02114787ef48",
    "DeviceProperties": [{"Name": "OS", "Value": "Linux"}, {"Name": "BrowserType", "Value": "Chrome"},
                         {"Name": "SessionId", "Value": "8d7c6b5a-4f3e-4d2c-9b1a-0f9e8d7c6b5a"}],
    "ErrorNumber": "0"}))

UAL.append(("ExchangeAdmin", t3, HANAKO, "New-InboxRule", {
    "CreationTime": iso(t3, z=""), "Id": "a1000002-0000-4000-8000-000000000002", "Operation": "New-InboxRule",
    "OrganizationId": TENANT_ID, "RecordType": 1, "ResultStatus": "True", "UserKey": "10032001ABCDE123",
    "UserType": 0, "Version": 1, "Workload": "Exchange", "ClientIP": EVIL_IP + ":51234", "ObjectId": HANAKO + "\\" + RULE_NAME,
    "UserId": HANAKO, "AppId": "00000002-0000-0ff1-ce00-000000000000", "ClientAppId": "",
    "ExternalAccess": False, "OrganizationName": ORG, "OriginatingServer": "TYCP286MB1234 (15.20.7900.012)",
    "Parameters": [{"Name": "AlwaysDeleteOutlookRulesBlob", "Value": "False"},
                   {"Name": "Force", "Value": "False"},
                   {"Name": "MoveToFolder", "Value": "RSS Feeds"},
                   {"Name": "Name", "Value": RULE_NAME},
                   {"Name": "SubjectOrBodyContainsWords", "Value": "請求書;invoice;payment"},
                   {"Name": "MarkAsRead", "Value": "True"},
                   {"Name": "StopProcessingRules", "Value": "True"}],
    "SessionId": "8d7c6b5a-4f3e-4d2c-9b1a-0f9e8d7c6b5a"}))

UAL.append(("ExchangeAdmin", t4, HANAKO, "Set-Mailbox", {
    "CreationTime": iso(t4, z=""), "Id": "a1000003-0000-4000-8000-000000000003", "Operation": "Set-Mailbox",
    "OrganizationId": TENANT_ID, "RecordType": 1, "ResultStatus": "True", "UserKey": "10032001ABCDE123",
    "UserType": 0, "Version": 1, "Workload": "Exchange", "ClientIP": "[" + V6_IP + "]:443", "ObjectId": HANAKO,
    "UserId": HANAKO, "ExternalAccess": False, "OrganizationName": ORG,
    "OriginatingServer": "TYCP286MB1234 (15.20.7900.012)",
    "Parameters": [{"Name": "Identity", "Value": HANAKO},
                   {"Name": "ForwardingSmtpAddress", "Value": "smtp:" + EXFIL},
                   {"Name": "DeliverToMailboxAndForward", "Value": "True"}]}))

UAL.append(("AzureActiveDirectory", t5, HANAKO, "Consent to application.", {
    "CreationTime": iso(t5, z=""), "Id": "a1000004-0000-4000-8000-000000000004", "Operation": "Consent to application.",
    "OrganizationId": TENANT_ID, "RecordType": 8, "ResultStatus": "Success", "UserKey": HANAKO_ID + "@" + ORG,
    "UserType": 0, "Version": 1, "Workload": "AzureActiveDirectory", "ObjectId": BAD_APP_SP, "UserId": HANAKO,
    "AzureActiveDirectoryEventType": 1, "ExtendedProperties": [{"Name": "additionalDetails", "Value": "{\"User-Agent\":\"Mozilla/5.0\",\"AppId\":\"" + BAD_APP_ID + "\"}"}],
    "ModifiedProperties": [{"Name": "ConsentContext.IsAdminConsent", "NewValue": "False", "OldValue": ""},
                           {"Name": "ConsentAction.Permissions",
                            "NewValue": "[] => [[Id: x1y2z3, ClientId: " + BAD_APP_SP + ", ConsentType: Principal, Scope: Mail.ReadWrite offline_access User.Read]];\r\n",
                            "OldValue": ""}],
    "Actor": [{"ID": HANAKO, "Type": 5}, {"ID": HANAKO_ID, "Type": 2}],
    "ActorContextId": TENANT_ID, "InterSystemsId": "b1000004-0000-4000-8000-000000000004",
    "IntraSystemId": "c1000004-0000-4000-8000-000000000004", "SupportTicketId": "",
    "Target": [{"ID": BAD_APP_SP, "Type": 2}, {"ID": "MailSync Pro", "Type": 1}], "TargetContextId": TENANT_ID}))

UAL.append(("ExchangeItemAggregated", t6, HANAKO, "MailItemsAccessed", {
    "CreationTime": iso(t6, z=""), "Id": "a1000005-0000-4000-8000-000000000005", "Operation": "MailItemsAccessed",
    "OrganizationId": TENANT_ID, "RecordType": 50, "ResultStatus": "Succeeded", "UserKey": "10032001ABCDE123",
    "UserType": 0, "Version": 1, "Workload": "Exchange", "UserId": HANAKO, "AppId": BAD_APP_ID,
    "ClientAppId": BAD_APP_ID, "ClientIPAddress": V6_IP, "ClientInfoString": "Client=REST;Client=RESTSystem;;",
    "ExternalAccess": False, "InternalLogonType": 0, "LogonType": 0, "LogonUserSid": "S-1-5-21-1111111111-2222222222-3333333333-44444",
    "MailboxGuid": MAILBOX_GUID, "MailboxOwnerSid": "S-1-5-21-1111111111-2222222222-3333333333-44444",
    "MailboxOwnerUPN": HANAKO, "OperationProperties": [{"Name": "MailAccessType", "Value": "Bind"},
                                                        {"Name": "IsThrottled", "Value": "False"}],
    "OrganizationName": ORG, "OriginatingServer": "TYCP286MB1234 (15.20.7900.012)\r\n",
    "Folders": [{"FolderItems": [{"InternetMessageId": "<TY0PR01MB0001@contoso-jp.example>", "SizeInBytes": 48211}],
                 "Id": "LgAAAADUMMYFOLDER01", "Path": "\\Inbox"}],
    "OperationCount": 1}))

# =========================================================================== MES fixtures
def mes():
    # ---- sign-ins: Get-GraphEntraSignInLogs -Output JSON (one file per Graph page)
    w("mes-signinlogs.json", ps51_json(SIGNINS) + CRLF)
    # SOF-ELK form: one compressed object per line
    w("mes-signinlogs-sofelk.json", "".join(ps51_compress(s) + CRLF for s in SIGNINS))
    # ---- directory audit
    w("mes-auditlogs.json", ps51_json(AUDITS) + CRLF)
    # same records as PowerShell 7 would write them (2-space Newtonsoft layout, no BOM with -Encoding UTF8)
    w("mes-auditlogs-ps7.json", json.dumps(AUDITS, ensure_ascii=False, indent=2).replace("\n", CRLF) + CRLF, bom=False)

    # ---- UAL via Get-UAL (Search-UnifiedAuditLog), 4.x
    cols = ["RecordType", "CreationDate", "UserIds", "Operations", "AuditData", "ResultIndex", "ResultCount",
            "Identity", "IsValid", "ObjectState"]
    rows, objs, jl, ado = [], [], [], []
    for n, (rt, when, uid, op, ad) in enumerate(UAL, 1):
        rows.append({"RecordType": rt, "CreationDate": PSDate(when).enus(), "UserIds": uid, "Operations": op,
                     "AuditData": compact(ad), "ResultIndex": n, "ResultCount": len(UAL),
                     "Identity": ad["Id"], "IsValid": True, "ObjectState": "Unchanged"})
        base = {"RecordType": rt, "CreationDate": PSDate(when), "UserIds": uid, "Operations": op,
                "AuditData": ad, "ResultIndex": n, "ResultCount": len(UAL), "Identity": ad["Id"],
                "IsValid": True, "ObjectState": "Unchanged"}
        objs.append(base)
        jl.append(ps51_compress(dict(base, AuditData=compact(ad))))
        ado.append(compact(ad))
    w("mes-ual.csv", ps_csv(cols, rows))
    # -Output JSON: AuditData parsed, ConvertTo-Json -Depth 100, then Add-Content "`n" (extra blank line)
    w("mes-ual.json", ps51_json(objs) + CRLF + "\n" + CRLF)
    # -Output JSONL (wrapper kept, AuditData still a JSON string)
    w("mes-ual.jsonl", "".join(x + CRLF for x in jl))
    # -Output JSONL -AuditDataOnly (raw AuditData strings)
    w("mes-ual-auditdataonly.jsonl", "".join(x + CRLF for x in ado))

    # ---- UAL via Get-UALGraph (security/auditLog/queries records)
    svc = {"ExchangeAdmin": "Exchange", "ExchangeItemAggregated": "Exchange",
           "AzureActiveDirectory": "AzureActiveDirectory", "AzureActiveDirectoryStsLogon": "AzureActiveDirectory"}
    grecs = []
    for rt, when, uid, op, ad in UAL:
        grecs.append({
            "id": ad["Id"], "createdDateTime": iso(when),
            "auditLogRecordType": rt[0].lower() + rt[1:], "operation": op, "organizationId": TENANT_ID,
            "userType": "regular", "userId": uid, "service": svc[rt], "objectId": ad.get("ObjectId", ""),
            "userPrincipalName": uid, "clientIp": ad.get("ClientIP", ad.get("ClientIPAddress", "")),
            "administrativeUnits": [], "auditData": ad})
    gcols = ["id", "createdDateTime", "auditLogRecordType", "operation", "organizationId", "userType", "userId",
             "service", "objectId", "userPrincipalName", "clientIp", "administrativeUnits", "auditData"]
    grows = [dict(g, administrativeUnits="", auditData=ps51_json(g["auditData"])) for g in grecs]
    w("mes-ualgraph.csv", ps_csv(gcols, grows))          # auditData = multi-line pretty JSON cell
    body = "[" + CRLF
    for k, g in enumerate(grecs):
        if k:
            body += ","
        body += "\r\n" + ps51_json(g)
    body += "]" + CRLF
    w("mes-ualgraph.json", body)
    w("mes-ualgraph.jsonl", "".join(ps51_compress(g["auditData"]) + CRLF for g in grecs))

    # ---- inbox rules, three historical layouts + Graph variant
    desc1 = ("If the message:\r\n\tthe message includes specific words in the subject or body '請求書' or 'invoice' or 'payment'\r\n"
             "Take the following actions:\r\n\tmove the message to folder 'RSS Feeds'\r\n\tand mark the message as read\r\n"
             "\tand stop processing more rules on this message\r\n")
    desc2 = ("If the message:\r\n\tthe message was received from 'taro.yamada@contoso-jp.onmicrosoft.com'\r\n"
             "Take the following actions:\r\n\tforward the message to 'Collector'\r\n")
    desc3 = ("If the message:\r\n\tthe message includes specific words in the subject 'セキュリティ警告'\r\n"
             "Take the following actions:\r\n\tdelete the message\r\n")
    fwd = '"Collector" [SMTP:%s]' % EXFIL
    frm = '"%s" [SMTP:%s]' % (TARO_NAME, TARO)
    rules = [
        dict(UserName=HANAKO, RuleName=RULE_NAME, Enabled=True, Priority=1, RuleIdentity="16501239876543210497",
             StopProcessingRules=True, CopyToFolder=NULL, MoveToFolder="RSS Feeds", RedirectTo=NULL, ForwardTo=NULL,
             ForwardAsAttachmentTo=NULL, ApplyCategory=NULL, MarkImportance=NULL, MarkAsRead=True, DeleteMessage=False,
             SoftDeleteMessage=False, From=NULL, SubjectContainsWords=NULL,
             SubjectOrBodyContainsWords=["請求書", "invoice", "payment"], BodyContainsWords=NULL, HasAttachment=False,
             Description=desc1, InError=False, ErrorType="None"),
        dict(UserName=HANAKO, RuleName=".", Enabled=True, Priority=2, RuleIdentity="16501239876543210498",
             StopProcessingRules=False, CopyToFolder=NULL, MoveToFolder=NULL, RedirectTo=NULL, ForwardTo=[fwd],
             ForwardAsAttachmentTo=NULL, ApplyCategory=NULL, MarkImportance=NULL, MarkAsRead=False, DeleteMessage=False,
             SoftDeleteMessage=False, From=[frm], SubjectContainsWords=NULL, SubjectOrBodyContainsWords=NULL,
             BodyContainsWords=NULL, HasAttachment=False, Description=desc2, InError=False, ErrorType="None"),
        dict(UserName=HANAKO, RuleName="Security notices ", Enabled=True, Priority=3, RuleIdentity="16501239876543210499",
             StopProcessingRules=True, CopyToFolder=NULL, MoveToFolder=NULL, RedirectTo=NULL, ForwardTo=NULL,
             ForwardAsAttachmentTo=NULL, ApplyCategory=["Finance", "要確認"], MarkImportance="Low", MarkAsRead=False,
             DeleteMessage=True, SoftDeleteMessage=False, From=NULL, SubjectContainsWords=["セキュリティ警告"],
             SubjectOrBodyContainsWords=NULL, BodyContainsWords=NULL, HasAttachment=False, Description=desc3,
             InError=False, ErrorType="None"),
    ]

    def joined(v, sep):  # v4.1: (x -join ", ") ; pre-4.1: PSObject collection ToString (space) / $null
        if isinstance(v, Null):
            return "" if sep == ", " else NULL
        if isinstance(v, list):
            return sep.join(v)
        return v

    c24 = ["UserName", "RuleName", "Enabled", "Priority", "RuleIdentity", "StopProcessingRules", "CopyToFolder",
           "MoveToFolder", "RedirectTo", "ForwardTo", "ForwardAsAttachmentTo", "ApplyCategory", "MarkImportance",
           "MarkAsRead", "DeleteMessage", "SoftDeleteMessage", "From", "SubjectContainsWords",
           "SubjectOrBodyContainsWords", "BodyContainsWords", "HasAttachment", "Description", "InError", "ErrorType"]
    joined_cols = {"CopyToFolder", "MoveToFolder", "RedirectTo", "ForwardTo", "ForwardAsAttachmentTo", "ApplyCategory",
                   "From", "SubjectContainsWords", "SubjectOrBodyContainsWords", "BodyContainsWords"}
    r41 = [{k: (joined(r[k], ", ") if k in joined_cols else r[k]) for k in c24} for r in rules]
    w("mes-mailboxrules-24col.csv", ps_csv(c24, r41))
    # 3.0.4 - 4.0.2 variant: no -join on most multi-valued columns (space-joined by PowerShell), -join only on
    # ApplyCategory/SubjectContainsWords/SubjectOrBodyContainsWords/BodyContainsWords
    join304 = {"ApplyCategory", "SubjectContainsWords", "SubjectOrBodyContainsWords", "BodyContainsWords"}
    r304 = []
    for r in rules:
        o = {}
        for k in c24:
            v = r[k]
            if k in join304:
                o[k] = ", ".join(v) if isinstance(v, list) else ""
            elif isinstance(v, list):
                o[k] = " ".join(v)
            else:
                o[k] = v
        r304.append(o)
    w("mes-mailboxrules-24col-v304.csv", ps_csv(c24, r304))
    c8a = ["UserName", "RuleName", "RuleEnabled", "CopytoFolder", "MovetoFolder", "RedirectTo", "ForwardTo", "TextDescription"]
    w("mes-mailboxrules-8col.csv", ps_csv(c8a, [
        {"UserName": r["UserName"], "RuleName": r["RuleName"], "RuleEnabled": r["Enabled"],
         "CopytoFolder": joined(r["CopyToFolder"], " "), "MovetoFolder": joined(r["MoveToFolder"], " "),
         "RedirectTo": joined(r["RedirectTo"], " "), "ForwardTo": joined(r["ForwardTo"], " "),
         "TextDescription": r["Description"]} for r in rules]))
    c8b = ["UserName", "RuleName", "Enabled", "CopyToFolder", "MoveToFolder", "RedirectTo", "ForwardTo", "Description"]
    w("mes-mailboxrules-8col-v3.csv", ps_csv(c8b, [
        {"UserName": r["UserName"], "RuleName": r["RuleName"], "Enabled": r["Enabled"],
         "CopyToFolder": joined(r["CopyToFolder"], " "), "MoveToFolder": joined(r["MoveToFolder"], " "),
         "RedirectTo": joined(r["RedirectTo"], " "), "ForwardTo": joined(r["ForwardTo"], " "),
         "Description": r["Description"]} for r in rules]))
    cg = ["UserPrincipalName", "RuleName", "Sequence", "Enabled", "ForwardTo", "RedirectTo", "ForwardAsAttachment",
          "Delete", "PermanentDelete", "MoveToFolder", "StopProcessingRules", "MarkAsRead", "From", "SubjectContains",
          "BodyContains", "HasAttachments", "IsImportant", "RuleId"]
    w("mes-mailboxrulesgraph.csv", ps_csv(cg, [
        dict(UserPrincipalName=HANAKO, RuleName=RULE_NAME, Sequence=1, Enabled=True, ForwardTo=NULL, RedirectTo=NULL,
             ForwardAsAttachment=NULL, Delete=NULL, PermanentDelete=NULL,
             MoveToFolder="FolderID: AAMkADUMMYRSSFEEDSFOLDER0001AAA=", StopProcessingRules=True, MarkAsRead=True,
             From=NULL, SubjectContains=NULL, BodyContains=NULL, HasAttachments=NULL, IsImportant=NULL,
             RuleId="AQAAAJ5dZp8="),
        dict(UserPrincipalName=HANAKO, RuleName=".", Sequence=2, Enabled=True, ForwardTo=EXFIL, RedirectTo=NULL,
             ForwardAsAttachment=NULL, Delete=NULL, PermanentDelete=NULL, MoveToFolder=NULL, StopProcessingRules=NULL,
             MarkAsRead=NULL, From=TARO, SubjectContains=NULL, BodyContains=NULL, HasAttachments=NULL,
             IsImportant=NULL, RuleId="AQAAAJ5dZqA="),
        dict(UserPrincipalName=TARO, RuleName="Newsletter", Sequence=1, Enabled=False, ForwardTo=NULL, RedirectTo=NULL,
             ForwardAsAttachment=NULL, Delete=True, PermanentDelete=False, MoveToFolder=NULL, StopProcessingRules=NULL,
             MarkAsRead=NULL, From=NULL, SubjectContains="newsletter; ニュースレター", BodyContains=NULL,
             HasAttachments=NULL, IsImportant="low", RuleId="AQAAAJ5dZqE="),
    ]))

    # ---- OAuth permissions (Get-OAuthPermissionsGraph): header = first (Delegated) object's 25 keys
    co = ["PermissionType", "AppId", "ClientObjectId", "AppDisplayName", "ResourceObjectId", "ResourceDisplayName",
          "Permission", "ConsentType", "PrincipalObjectId", "PrincipalDisplayName", "Homepage", "PublisherName",
          "ReplyUrls", "ExpiryTime", "CreatedDateTime", "AppOwnerOrganizationId", "ApplicationStatus",
          "ApplicationVisibility", "AssignmentRequired", "IsAppProxy", "PublisherDisplayName", "VerifiedPublisherId",
          "AddedDateTime", "SignInAudience", "ApplicationType"]
    common = dict(AppId=BAD_APP_ID, ClientObjectId=BAD_APP_SP, AppDisplayName="MailSync Pro",
                  ResourceObjectId=GRAPH_SP, ResourceDisplayName="Microsoft Graph", Homepage="https://mailsync.example/",
                  PublisherName="", ReplyUrls="https://mailsync.example/auth, http://localhost:8400/",
                  CreatedDateTime=NULL, AppOwnerOrganizationId="0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                  ApplicationStatus="Enabled", ApplicationVisibility="Visible", AssignmentRequired="No",
                  IsAppProxy="No", PublisherDisplayName=NULL, VerifiedPublisherId=NULL, AddedDateTime=NULL,
                  SignInAudience="AzureADMultipleOrgs", ApplicationType="")
    orows = []
    for perm in ["Mail.ReadWrite", "offline_access", "User.Read"]:
        orows.append(dict(common, PermissionType="Delegated", Permission=perm, ConsentType="Principal",
                          PrincipalObjectId=HANAKO_ID, PrincipalDisplayName=HANAKO_NAME, ExpiryTime=NULL))
    # Application rows: IsEnabled/Description/CreationTimestamp exist on the object but are dropped by Export-Csv
    orows.append(dict(common, PermissionType="Application", AppId="2b3c4d5e-6f70-4812-9a3b-4c5d6e7f8091",
                      ClientObjectId="3c4d5e6f-7081-4923-8b4c-5d6e7f809102", AppDisplayName="経費精算システム",
                      Permission="Mail.Read", ConsentType="AllPrincipals", PrincipalObjectId=NULL,
                      PrincipalDisplayName="", Homepage=NULL, ReplyUrls="", SignInAudience="AzureADMyOrg",
                      AppOwnerOrganizationId=TENANT_ID, ApplicationType="Enterprise Application"))
    w("mes-oauthpermissions.csv", ps_csv(co, orows))

    # ---- MFA (Get-MFA, 4.1 layout)
    cm = ["user", "MFAstatus", "email", "fido2", "app", "password", "phone", "softwareoath", "hellobusiness",
          "temporaryAccessPass", "certificateBasedAuthConfiguration", "qrcodepin"]
    f = False
    w("mes-mfa-authenticationmethods.csv", ps_csv(cm, [
        dict(user=HANAKO, MFAstatus="Enabled", email=f, fido2=f, app=True, password=True, phone=True, softwareoath=f,
             hellobusiness=f, temporaryAccessPass=f, certificateBasedAuthConfiguration=f, qrcodepin=f),
        dict(user=TARO, MFAstatus="Disabled", email=f, fido2=f, app=f, password=True, phone=f, softwareoath=f,
             hellobusiness=f, temporaryAccessPass=f, certificateBasedAuthConfiguration=f, qrcodepin=f),
        dict(user=ADMIN, MFAstatus="Enabled", email=f, fido2=True, app=True, password=True, phone=f, softwareoath=f,
             hellobusiness=True, temporaryAccessPass=f, certificateBasedAuthConfiguration=f, qrcodepin=f),
    ]))
    cr = ["id", "userPrincipalName", "userDisplayName", "isAdmin", "isSsprRegistered", "isSsprEnabled",
          "isSsprCapable", "isMfaRegistered", "isMfaCapable", "isPasswordlessCapable", "lastUpdatedDateTime",
          "methodsRegistered", "isSystemPreferredAuthenticationMethodEnabled", "systemPreferredAuthenticationMethods",
          "userPreferredMethodForSecondaryAuthentication", "userType"]
    w("mes-mfa-userregistrationdetails.csv", ps_csv(cr, [
        dict(id=HANAKO_ID, userPrincipalName=HANAKO, userDisplayName=HANAKO_NAME, isAdmin=f, isSsprRegistered=True,
             isSsprEnabled=True, isSsprCapable=True, isMfaRegistered=True, isMfaCapable=True, isPasswordlessCapable=f,
             lastUpdatedDateTime="2026-06-15T12:41:02.1234567Z",
             methodsRegistered="mobilePhone, microsoftAuthenticatorPush, microsoftAuthenticatorPasswordless",
             isSystemPreferredAuthenticationMethodEnabled=True, systemPreferredAuthenticationMethods="push",
             userPreferredMethodForSecondaryAuthentication="push", userType="member"),
        dict(id=TARO_ID, userPrincipalName=TARO, userDisplayName=TARO_NAME, isAdmin=f, isSsprRegistered=f,
             isSsprEnabled=True, isSsprCapable=f, isMfaRegistered=f, isMfaCapable=f, isPasswordlessCapable=f,
             lastUpdatedDateTime="2026-06-01T00:00:00Z", methodsRegistered="",
             isSystemPreferredAuthenticationMethodEnabled=True, systemPreferredAuthenticationMethods="",
             userPreferredMethodForSecondaryAuthentication="", userType="member"),
        dict(id=ADMIN_ID, userPrincipalName=ADMIN, userDisplayName="IT 管理者", isAdmin=True, isSsprRegistered=True,
             isSsprEnabled=True, isSsprCapable=True, isMfaRegistered=True, isMfaCapable=True, isPasswordlessCapable=True,
             lastUpdatedDateTime="2026-05-20T08:15:00Z", methodsRegistered="fido2, windowsHelloForBusiness, microsoftAuthenticatorPush",
             isSystemPreferredAuthenticationMethodEnabled=True, systemPreferredAuthenticationMethods="fido2",
             userPreferredMethodForSecondaryAuthentication="push", userType="member"),
    ]))
    return rules


# =========================================================================== Hawk fixtures
INBOXRULE_PROPS = [
    "Description", "Enabled", "Identity", "InError", "ErrorType", "MailboxOwnerId", "Name", "Priority", "RuleIdentity",
    "SupportedByTask", "ApplyCategory", "ApplySystemCategory", "BodyContainsWords", "CopyToFolder", "DeleteMessage",
    "DeleteSystemCategory", "ExceptIfBodyContainsWords", "ExceptIfFlaggedForAction", "ExceptIfFrom",
    "ExceptIfFromAddressContainsWords", "ExceptIfFromSubscription", "ExceptIfHasAttachment", "ExceptIfHasClassification",
    "ExceptIfHeaderContainsWords", "ExceptIfMessageTypeMatches", "ExceptIfMyNameInCcBox", "ExceptIfMyNameInToBox",
    "ExceptIfMyNameInToOrCcBox", "ExceptIfMyNameNotInToBox", "ExceptIfReceivedAfterDate", "ExceptIfReceivedBeforeDate",
    "ExceptIfRecipientAddressContainsWords", "ExceptIfSentOnlyToMe", "ExceptIfSentTo", "ExceptIfSubjectContainsWords",
    "ExceptIfSubjectOrBodyContainsWords", "ExceptIfWithImportance", "ExceptIfWithinSizeRangeMaximum",
    "ExceptIfWithinSizeRangeMinimum", "ExceptIfWithSensitivity", "FlaggedForAction", "ForwardAsAttachmentTo",
    "ForwardTo", "From", "FromAddressContainsWords", "FromSubscription", "HasAttachment", "HasClassification",
    "HeaderContainsWords", "MarkAsRead", "MarkImportance", "MessageTypeMatches", "MoveToFolder", "MyNameInCcBox",
    "MyNameInToBox", "MyNameInToOrCcBox", "MyNameNotInToBox", "ReceivedAfterDate", "ReceivedBeforeDate",
    "RecipientAddressContainsWords", "RedirectTo", "SendTextMessageNotificationTo", "SentOnlyToMe", "SentTo",
    "StopProcessingRules", "SubjectContainsWords", "SubjectOrBodyContainsWords", "WithImportance",
    "WithinSizeRangeMaximum", "WithinSizeRangeMinimum", "WithSensitivity", "IsValid", "ObjectState"]
BOOL_FALSE_PROPS = {"DeleteMessage", "ExceptIfHasAttachment", "ExceptIfMyNameInCcBox", "ExceptIfMyNameInToBox",
                    "ExceptIfMyNameInToOrCcBox", "ExceptIfMyNameNotInToBox", "ExceptIfSentOnlyToMe", "HasAttachment",
                    "MarkAsRead", "MyNameInCcBox", "MyNameInToBox", "MyNameInToOrCcBox", "MyNameNotInToBox",
                    "SentOnlyToMe", "StopProcessingRules", "InError"}


def hawk(rules):
    def exo_rule(r):
        o = {p: NULL for p in INBOXRULE_PROPS}
        for p in BOOL_FALSE_PROPS:
            o[p] = False
        o.update({
            "Description": r["Description"].replace("\r\n", " ").replace("\t", ""),   # Hawk flattens Description
            "Enabled": r["Enabled"], "Identity": HANAKO_ID + "\\" + r["RuleIdentity"], "InError": False,
            "ErrorType": "None", "MailboxOwnerId": HANAKO_ID, "Name": r["RuleName"], "Priority": r["Priority"],
            "RuleIdentity": r["RuleIdentity"], "SupportedByTask": True,
            "FlaggedForAction": NULL, "IsValid": True, "ObjectState": "Unchanged",
            "StopProcessingRules": r["StopProcessingRules"], "MarkAsRead": r["MarkAsRead"],
            "DeleteMessage": r["DeleteMessage"], "MarkImportance": r["MarkImportance"],
        })
        for k in ["ForwardTo", "From", "ApplyCategory", "SubjectContainsWords", "SubjectOrBodyContainsWords"]:
            v = r[k]
            o[k] = " ".join(v) if isinstance(v, list) else NULL     # PSObject collection -> $OFS (space)
        o["MoveToFolder"] = r["MoveToFolder"]
        return o

    erules = [exo_rule(r) for r in rules]
    w("hawk-inboxrules.csv", ps_csv(INBOXRULE_PROPS, erules))
    # _Investigate_InboxRules_<short>.json: -append, one ConvertTo-Json per rule -> concatenated objects
    inv = [(r, src) for r, src in zip(erules, rules) if src["DeleteMessage"] or isinstance(src["ForwardTo"], list)]

    def js(o, src):
        d = {}
        for k, v in o.items():
            if k in ("ForwardTo", "From", "ApplyCategory", "SubjectContainsWords", "SubjectOrBodyContainsWords"):
                d[k] = src[k] if isinstance(src[k], list) else None   # arrays stay arrays in JSON
            elif isinstance(v, Null):
                d[k] = None
            else:
                d[k] = v
        return d
    w("hawk-investigate-inboxrules.json", "".join(ps51_json(js(o, src)) + CRLF for o, src in inv))

    # Tenant\User_ForwardingReport.csv (-append across users)
    cf = ["DisplayName", "UserPrincipalName", "PrimarySmtpAddress", "ForwardingSmtpAddress", "ForwardingAddress",
          "DeliverToMailboxAndForward", "WhenChangedUTC"]
    w("hawk-user-forwardingreport.csv", ps_csv(cf, [
        dict(DisplayName=HANAKO_NAME, UserPrincipalName=HANAKO, PrimarySmtpAddress=HANAKO,
             ForwardingSmtpAddress="smtp:" + EXFIL, ForwardingAddress=NULL, DeliverToMailboxAndForward=True,
             WhenChangedUTC=PSDate(t4).enus()),
        dict(DisplayName=TARO_NAME, UserPrincipalName=TARO, PrimarySmtpAddress=TARO, ForwardingSmtpAddress=NULL,
             ForwardingAddress=NULL, DeliverToMailboxAndForward=False, WhenChangedUTC=PSDate(T(2026, 3, 2, 1, 0, 0)).enus()),
        dict(DisplayName="総務部 共有", UserPrincipalName="soumu@contoso-jp.onmicrosoft.com",
             PrimarySmtpAddress="soumu@contoso-jp.onmicrosoft.com", ForwardingSmtpAddress=NULL,
             ForwardingAddress="山田 太郎", DeliverToMailboxAndForward=True,
             WhenChangedUTC=PSDate(T(2025, 11, 20, 6, 30, 0)).enus()),
    ]))

    # Tenant\Consent_Grants.csv  (Get-AzureADPSPermission + ConsentGrantRiskCategory)
    cc = ["PermissionType", "ClientObjectId", "ClientDisplayName", "ResourceObjectId", "ResourceDisplayName",
          "Permission", "ConsentType", "PrincipalObjectId", "PrincipalDisplayName", "ConsentGrantRiskCategory"]
    d = dict(PermissionType="Delegated", ClientObjectId=BAD_APP_SP, ClientDisplayName="MailSync Pro",
             ResourceObjectId=GRAPH_SP, ResourceDisplayName="Microsoft Graph", ConsentType="Principal",
             PrincipalObjectId=HANAKO_ID, PrincipalDisplayName=HANAKO_NAME)
    w("hawk-consent-grants.csv", ps_csv(cc, [
        dict(d, Permission="Mail.ReadWrite", ConsentGrantRiskCategory="High Risk"),
        dict(d, Permission="offline_access", ConsentGrantRiskCategory=""),
        dict(d, Permission="User.Read", ConsentGrantRiskCategory="High Risk"),
        dict(PermissionType="Application", ClientObjectId="3c4d5e6f-7081-4923-8b4c-5d6e7f809102",
             ClientDisplayName="経費精算システム", ResourceObjectId=GRAPH_SP, ResourceDisplayName="Microsoft Graph",
             Permission="User.Read.All", ConsentGrantRiskCategory="High Risk"),
    ]))

    # Converted_Authentication_Logs_<short>.csv (Import-AzureAuthenticationLog over UAL AuditData)
    logons = [UAL[0][4],
              dict(UAL[0][4], Id="a1000011-0000-4000-8000-000000000011", CreationTime=iso(t0, z=""),
                   ClientIP=HOME_IP, ActorIpAddress=HOME_IP),
              dict(UAL[0][4], Id="a1000012-0000-4000-8000-000000000012", Operation="UserLoginFailed",
                   ResultStatus="Failed", CreationTime=iso(t1 - dt.timedelta(seconds=40), z=""), ErrorNumber="50126",
                   LogonError="InvalidUserNameOrPassword")]
    base, rows = [], []
    for e in logons:
        row = {}
        for name in sorted(e.keys(), key=str.lower):          # Get-Member returns names sorted
            if name not in base:
                base.append(name)
            v = e[name]
            if name == "ExtendedProperties":
                for ep in v:
                    if ep["Name"] not in base:
                        base.append(ep["Name"])
                    row.setdefault(ep["Name"], ep["Value"])
                row["ExtendedProperties"] = ",".join(ep["Name"] + ":" for ep in v)   # Hawk uses $ep.v (bug): no values
            elif name in ("Actor", "Target"):
                row[name] = ",".join("%s:%s" % (a["ID"], a["Type"]) for a in v)
            elif name == "CreationTime":
                row[name] = PSDate(dt.datetime.strptime(v, "%Y-%m-%dT%H:%M:%S")).enus_g()
            elif isinstance(v, list):
                row[name] = "System.Object[]"
            else:
                row.setdefault(name, v)
        rows.append(row)
    order = [c for c in ["CreationTime", "UserId", "Workload", "ClientIP", "CountryName", "KnownMicrosoftIP"] if c in base]
    order += [c for c in base if c not in order]
    rows.sort(key=lambda r: r["CreationTime"])                  # Sort-Object on the 'g' *string*
    w("hawk-converted-authentication-logs.csv", ps_csv(order, rows))

    # Tenant\Simple_Admin_Inbox_Rules_Creation.csv  (Get-SimpleUnifiedAuditLog)
    rt, when, uid, op, ad = UAL[1]
    params = ad["Parameters"]
    first = ["CreationTime", "Workload", "RecordType", "Operation", "ResultStatus", "ClientIP", "UserId", "Id",
             "OrganizationId", "UserType", "UserKey", "ObjectId"]
    rec = {k: ad[k] for k in first if k in ad}
    rec["RecordType"] = ad["RecordType"]          # AuditData's integer overwrote the wrapper's enum name
    rec["ParameterString"] = " | ".join("%s=%s" % (p["Name"], p["Value"]) for p in params)
    for p in sorted(params, key=lambda p: p["Name"]):
        rec["Param_" + p["Name"]] = p["Value"]
    def fmt(v):
        return "'" + v + "'" if (" " in v or ";" in v) else ("$" + v.lower() if v in ("True", "False") else v)
    rest = {"CreationDate": PSDate(when).enus(), "UserIds": uid, "Operations": op, "ResultIndex": 1, "ResultCount": 2,
            "Identity": ad["Id"], "IsValid": True, "ObjectState": "Unchanged", "AppId": ad["AppId"],
            "ClientAppId": "", "ExternalAccess": False, "OrganizationName": ORG,
            "OriginatingServer": ad["OriginatingServer"], "SessionId": ad["SessionId"], "Version": 1,
            "FullCommand": op + " " + " ".join("-%s %s" % (p["Name"], fmt(p["Value"])) for p in params)}
    rec.update(rest)
    hdr = list(rec.keys())
    rec2 = dict(rec, CreationTime="2026-06-15T02:58:51", Id="a1000013-0000-4000-8000-000000000013",
                UserId=ADMIN, ClientIP=HOME_IP, ObjectId=TARO + "\\Archive",
                ParameterString="Mailbox=%s | Name=Archive | MoveToFolder=Archive" % TARO,
                Param_Name="Archive", Param_MoveToFolder="Archive", Identity="a1000013-0000-4000-8000-000000000013",
                UserIds=ADMIN, CreationDate=PSDate(T(2026, 6, 15, 2, 58, 51)).enus(),
                FullCommand="New-InboxRule -Mailbox %s -Name Archive -MoveToFolder Archive" % TARO)
    for k in ("Param_SubjectOrBodyContainsWords", "Param_MarkAsRead", "Param_StopProcessingRules",
              "Param_AlwaysDeleteOutlookRulesBlob", "Param_Force"):
        rec2[k] = NULL
    rec2["Param_Mailbox"] = TARO     # not in header (first object lacks it) -> silently dropped by Export-Csv
    w("hawk-simple-admin-inbox-rules-creation.csv", ps_csv(hdr, [rec, rec2]))
    # raw UAL objects as Hawk writes them (Admin_Inbox_Rules_Creation.csv) = same shape as mes-ual.csv
    cols = ["RecordType", "CreationDate", "UserIds", "Operations", "AuditData", "ResultIndex", "ResultCount",
            "Identity", "IsValid", "ObjectState"]
    w("hawk-admin-inbox-rules-creation.csv", ps_csv(cols, [
        {"RecordType": rt, "CreationDate": PSDate(when).enus(), "UserIds": uid, "Operations": op,
         "AuditData": compact(ad), "ResultIndex": 1, "ResultCount": 1, "Identity": ad["Id"], "IsValid": True,
         "ObjectState": "Unchanged"}]))


# =========================================================================== Log Analytics fixtures
SIGNIN_LA_ORDER = [  # plausible schema order (see import-formats.md §LA); importers must map by name
    "TenantId", "SourceSystem", "TimeGenerated", "ResourceId", "OperationName", "OperationVersion", "Category",
    "ResultType", "ResultSignature", "ResultDescription", "DurationMs", "CorrelationId", "Resource", "ResourceGroup",
    "ResourceProvider", "Identity", "Level", "Location", "AlternateSignInName", "AppDisplayName", "AppId",
    "AuthenticationContextClassReferences", "AuthenticationDetails", "AppliedEventListeners",
    "AuthenticationMethodsUsed", "AuthenticationProcessingDetails", "AuthenticationRequirement",
    "AuthenticationRequirementPolicies", "ClientAppUsed", "ConditionalAccessPolicies", "ConditionalAccessStatus",
    "CreatedDateTime", "DeviceDetail", "IsInteractive", "Id", "IPAddress", "IsRisky", "LocationDetails", "MfaDetail",
    "NetworkLocationDetails", "OriginalRequestId", "ProcessingTimeInMilliseconds", "RiskDetail", "RiskEventTypes",
    "RiskEventTypes_V2", "RiskLevelAggregated", "RiskLevelDuringSignIn", "RiskState", "ResourceDisplayName",
    "ResourceIdentity", "ResourceServicePrincipalId", "ServicePrincipalId", "ServicePrincipalName", "Status",
    "TokenIssuerName", "TokenIssuerType", "UserAgent", "UserDisplayName", "UserId", "UserPrincipalName",
    "AADTenantId", "UserType", "FlaggedForReview", "IPAddressFromResourceProvider", "SignInIdentifier",
    "SignInIdentifierType", "ResourceTenantId", "HomeTenantId", "UniqueTokenIdentifier", "SessionLifetimePolicies",
    "AutonomousSystemNumber", "AuthenticationProtocol", "CrossTenantAccessType", "AppliedConditionalAccessPolicies",
    "RiskLevel", "Type"]
DATETIME_COLS = {"TimeGenerated", "CreatedDateTime", "ActivityDateTime", "TokenIssuedAt", "Start_Time",
                 "ElevationTime", "ElevationApprovedTime", "RiskLastUpdatedDateTime", "DetectedDateTime",
                 "LastUpdatedDateTime"}


def la_header(cols):
    return [c + " [UTC]" if c in DATETIME_COLS else c for c in cols]


def la_bool(b):
    return "true" if b else "false"


def la_signin_row(s, frac, table="SigninLogs", category="SignInLogs"):
    when = dt.datetime.strptime(s["createdDateTime"][:19], "%Y-%m-%dT%H:%M:%S")
    loc = s["location"]
    r = {
        "TenantId": "11112222-3333-4444-5555-666677778888", "SourceSystem": "Azure AD",
        "TimeGenerated": la_time(when, frac), "ResourceId": "/tenants/%s/providers/Microsoft.aadiam" % TENANT_ID,
        "OperationName": "Sign-in activity", "OperationVersion": "1.0", "Category": category,
        "ResultType": str(s["status"]["errorCode"]),
        "ResultSignature": "SUCCESS" if s["status"]["errorCode"] == 0 else "None",
        "ResultDescription": s["status"]["failureReason"] if s["status"]["errorCode"] else "",
        "DurationMs": "0", "CorrelationId": s["correlationId"], "Resource": "Microsoft.aadiam",
        "ResourceGroup": "Microsoft.aadiam", "ResourceProvider": "", "Identity": s["userDisplayName"], "Level": "4",
        "Location": loc["countryOrRegion"], "AlternateSignInName": s["userPrincipalName"],
        "AppDisplayName": s["appDisplayName"], "AppId": s["appId"], "AuthenticationContextClassReferences": "[]",
        "AuthenticationDetails": compact(s["authenticationDetails"]), "AppliedEventListeners": "[]",
        "AuthenticationMethodsUsed": "[]", "AuthenticationProcessingDetails": compact(s["authenticationProcessingDetails"]),
        "AuthenticationRequirement": s["authenticationRequirement"], "AuthenticationRequirementPolicies": "[]",
        "ClientAppUsed": s["clientAppUsed"], "ConditionalAccessPolicies": compact(s["appliedConditionalAccessPolicies"]),
        "ConditionalAccessStatus": s["conditionalAccessStatus"], "CreatedDateTime": la_time(when, frac),
        "DeviceDetail": compact({"operatingSystem": s["deviceDetail"]["operatingSystem"],
                                 "browser": s["deviceDetail"]["browser"]}),
        "IsInteractive": la_bool(s["isInteractive"]), "Id": s["id"], "IPAddress": s["ipAddress"],
        "IsRisky": la_bool(s["riskState"] == "atRisk"),
        "LocationDetails": compact({"city": loc["city"], "state": loc["state"], "countryOrRegion": loc["countryOrRegion"],
                                    "geoCoordinates": {"latitude": loc["geoCoordinates"]["latitude"],
                                                       "longitude": loc["geoCoordinates"]["longitude"]}}),
        "MfaDetail": "{}", "NetworkLocationDetails": "[]", "OriginalRequestId": "",
        "ProcessingTimeInMilliseconds": str(s["processingTimeInMilliseconds"]), "RiskDetail": s["riskDetail"],
        "RiskEventTypes": "[]", "RiskEventTypes_V2": compact(s["riskEventTypes_v2"]),
        "RiskLevelAggregated": s["riskLevelAggregated"], "RiskLevelDuringSignIn": s["riskLevelDuringSignIn"],
        "RiskState": s["riskState"], "ResourceDisplayName": s["resourceDisplayName"],
        "ResourceIdentity": s["resourceId"], "ResourceServicePrincipalId": s["resourceServicePrincipalId"],
        "ServicePrincipalId": "", "ServicePrincipalName": "",
        "Status": compact({"errorCode": s["status"]["errorCode"]} if s["status"]["errorCode"] == 0 else
                          {"errorCode": s["status"]["errorCode"], "failureReason": s["status"]["failureReason"]}),
        "TokenIssuerName": "", "TokenIssuerType": "AzureAD", "UserAgent": s["userAgent"],
        "UserDisplayName": s["userDisplayName"], "UserId": s["userId"], "UserPrincipalName": s["userPrincipalName"],
        "AADTenantId": TENANT_ID, "UserType": "Member", "FlaggedForReview": "false",
        "IPAddressFromResourceProvider": "", "SignInIdentifier": s["userPrincipalName"], "SignInIdentifierType": "",
        "ResourceTenantId": TENANT_ID, "HomeTenantId": TENANT_ID, "UniqueTokenIdentifier": s["uniqueTokenIdentifier"],
        "SessionLifetimePolicies": "[]", "AutonomousSystemNumber": str(s["autonomousSystemNumber"]),
        "AuthenticationProtocol": "none", "CrossTenantAccessType": "none", "AppliedConditionalAccessPolicies": "",
        "RiskLevel": "", "Type": table,
    }
    return r


def la():
    fr = ["4123456", "4823456", "1000000", "0034567"]
    inter = [la_signin_row(s, fr[i]) for i, s in enumerate(SIGNINS[:3])]
    hdr = la_header(SIGNIN_LA_ORDER)
    rows = [{(c + " [UTC]" if c in DATETIME_COLS else c): v for c, v in r.items()} for r in inter]
    w("la-signinlogs.csv", rfc_csv(hdr, rows))

    # JSON form: Log Analytics query API response (tables/columns/rows); dynamic values as JSON text
    types = {"TimeGenerated": "datetime", "CreatedDateTime": "datetime", "DurationMs": "long",
             "IsInteractive": "bool", "IsRisky": "bool", "FlaggedForReview": "bool",
             "ConditionalAccessPolicies": "dynamic", "DeviceDetail": "dynamic", "LocationDetails": "dynamic",
             "MfaDetail": "dynamic", "Status": "dynamic", "AppliedEventListeners": "dynamic"}
    api_rows = []
    for i, s in enumerate(SIGNINS[:3]):
        r = la_signin_row(s, fr[i])
        iso_t = s["createdDateTime"]
        row = []
        for c in SIGNIN_LA_ORDER:
            v = r[c]
            t = types.get(c, "string")
            if t == "datetime":
                v = iso_t
            elif t == "bool":
                v = v == "true"
            elif t == "long":
                v = int(v)
            row.append(v)
        api_rows.append(row)
    api = {"tables": [{"name": "PrimaryResult",
                       "columns": [{"name": c, "type": types.get(c, "string")} for c in SIGNIN_LA_ORDER],
                       "rows": api_rows}]}
    w("la-signinlogs.json", json.dumps(api, ensure_ascii=False, indent=2) + "\n", bom=False, newline="\n")

    # AADNonInteractiveUserSignInLogs: string-typed detail columns, ProcessingTimeInMs, SignInEventTypes
    ni = la_signin_row(SIGNINS[3], fr[3], "AADNonInteractiveUserSignInLogs", "NonInteractiveUserSignInLogs")
    ni.pop("ProcessingTimeInMilliseconds")
    ni["ProcessingTimeInMs"] = "151"
    ni["SignInEventTypes"] = '["nonInteractiveUser"]'
    ni["ConditionalAccessPoliciesV2"] = "[]"
    ni_cols = [c if c != "ProcessingTimeInMilliseconds" else "ProcessingTimeInMs" for c in SIGNIN_LA_ORDER]
    for extra in ["SignInEventTypes", "ConditionalAccessPoliciesV2"]:
        ni_cols.insert(ni_cols.index("Type"), extra)
    for drop in ["ResourceId", "Resource", "ResourceProvider", "ServicePrincipalName", "SignInIdentifier",
                 "IPAddressFromResourceProvider", "FlaggedForReview", "AADTenantId", "AppliedConditionalAccessPolicies", "RiskLevel"]:
        ni_cols.remove(drop)
    ni2 = dict(ni, Id="5f0c0009-1d2e-4c3b-9a8f-7e6d5c4b3a29", TimeGenerated=la_time(t2 + dt.timedelta(minutes=58), "7700000"),
               CreatedDateTime=la_time(t2 + dt.timedelta(minutes=58), "7700000"))
    ni3 = dict(ni, Id="5f0c000a-1d2e-4c3b-9a8f-7e6d5c4b3a20", AppDisplayName="Microsoft Office",
               AppId="d3590ed6-52b3-4102-aeff-aad2292ab01c", IPAddress=HOME_IP, Location="JP",
               LocationDetails=compact({"city": "Chiyoda", "state": "Tokyo", "countryOrRegion": "JP",
                                        "geoCoordinates": {"latitude": 35.694, "longitude": 139.7536}}),
               TimeGenerated=la_time(t0 + dt.timedelta(minutes=5), "1200000"),
               CreatedDateTime=la_time(t0 + dt.timedelta(minutes=5), "1200000"))
    nrows = [{(c + " [UTC]" if c in DATETIME_COLS else c): r.get(c, "") for c in ni_cols} for r in (ni, ni2, ni3)]
    w("la-aadnoninteractiveusersigninlogs.csv", rfc_csv(la_header(ni_cols), nrows))

    # union SigninLogs, AADNonInteractiveUserSignInLogs | project ... -> *_dynamic / *_string pairs
    ucols = ["TimeGenerated", "Type", "UserPrincipalName", "IPAddress", "ResultType", "AppDisplayName",
             "Status_dynamic", "Status_string", "LocationDetails_dynamic", "LocationDetails_string",
             "DeviceDetail_dynamic", "DeviceDetail_string", "ConditionalAccessPolicies_dynamic",
             "ConditionalAccessPolicies_string", "MfaDetail_dynamic", "MfaDetail_string"]
    urows = []
    for r in inter[:2] + [ni, ni3]:
        suf = "_dynamic" if r["Type"] == "SigninLogs" else "_string"
        o = {"TimeGenerated": r["TimeGenerated"], "Type": r["Type"], "UserPrincipalName": r["UserPrincipalName"],
             "IPAddress": r["IPAddress"], "ResultType": r["ResultType"], "AppDisplayName": r["AppDisplayName"]}
        for c in ["Status", "LocationDetails", "DeviceDetail", "ConditionalAccessPolicies", "MfaDetail"]:
            o[c + suf] = r[c]
        urows.append({(c + " [UTC]" if c in DATETIME_COLS else c): v for c, v in o.items()})
    w("la-union-signin-dynamic-string.csv", rfc_csv(la_header(ucols), urows))

    # AADServicePrincipalSignInLogs / AADManagedIdentitySignInLogs (same 34 non-billing columns)
    spcols = ["TenantId", "SourceSystem", "TimeGenerated", "OperationName", "OperationVersion", "Category",
              "ResultType", "ResultSignature", "ResultDescription", "DurationMs", "CorrelationId", "ResourceGroup",
              "Identity", "Level", "Location", "AppId", "AuthenticationContextClassReferences",
              "AuthenticationProcessingDetails", "ConditionalAccessPolicies", "ConditionalAccessStatus",
              "FederatedCredentialId", "Id", "IPAddress", "LocationDetails", "ResourceDisplayName", "ResourceIdentity",
              "ResourceServicePrincipalId", "ServicePrincipalCredentialKeyId", "ServicePrincipalCredentialThumbprint",
              "ServicePrincipalId", "ServicePrincipalName", "UniqueTokenIdentifier", "Type"]

    def sp_row(i, when, frac, table, cat, name, appid, spid, ip, err, desc, keyid="", thumb="", fed=""):
        return {"TenantId": "11112222-3333-4444-5555-666677778888", "SourceSystem": "Azure AD",
                "TimeGenerated": la_time(when, frac), "OperationName": "Sign-in activity", "OperationVersion": "1.0",
                "Category": cat, "ResultType": str(err), "ResultSignature": "SUCCESS" if err == 0 else "None",
                "ResultDescription": desc, "DurationMs": "0", "CorrelationId": "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c%02d" % i,
                "ResourceGroup": "Microsoft.aadiam", "Identity": name, "Level": "4", "Location": "JP" if ip != EVIL_IP else "NL",
                "AppId": appid, "AuthenticationContextClassReferences": "[]",
                "AuthenticationProcessingDetails": '[{"key":"Azure AD App Authentication Library","value":"Family: MSAL Library: MSAL.Python 1.28.0 Platform: Python"}]',
                "ConditionalAccessPolicies": "[]", "ConditionalAccessStatus": "notApplied",
                "FederatedCredentialId": fed, "Id": "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c%02d" % i, "IPAddress": ip,
                "LocationDetails": compact({"city": "Osaka" if ip != EVIL_IP else "Amsterdam",
                                            "state": "Osaka" if ip != EVIL_IP else "Noord-Holland",
                                            "countryOrRegion": "JP" if ip != EVIL_IP else "NL",
                                            "geoCoordinates": {}}),
                "ResourceDisplayName": "Microsoft Graph", "ResourceIdentity": GRAPH_APPID,
                "ResourceServicePrincipalId": GRAPH_SP, "ServicePrincipalCredentialKeyId": keyid,
                "ServicePrincipalCredentialThumbprint": thumb, "ServicePrincipalId": spid, "ServicePrincipalName": name,
                "UniqueTokenIdentifier": "c3AtdG9rZW4t%02d" % i, "Type": table}

    sp = [sp_row(1, t6, "1110000", "AADServicePrincipalSignInLogs", "ServicePrincipalSignInLogs", "MailSync Pro",
                 BAD_APP_ID, BAD_APP_SP, EVIL_IP, 0, "", keyid="d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6"),
          sp_row(2, t6 + dt.timedelta(seconds=3), "2220000", "AADServicePrincipalSignInLogs", "ServicePrincipalSignInLogs",
                 "MailSync Pro", BAD_APP_ID, BAD_APP_SP, EVIL_IP, 7000215, "Invalid client secret provided.",
                 keyid="d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6"),
          sp_row(3, t6, "3330000", "AADServicePrincipalSignInLogs", "ServicePrincipalSignInLogs", "経費精算システム",
                 "2b3c4d5e-6f70-4812-9a3b-4c5d6e7f8091", "3c4d5e6f-7081-4923-8b4c-5d6e7f809102", "192.0.2.10", 0, "",
                 thumb="A1B2C3D4E5F60718293A4B5C6D7E8F9001122334")]
    w("la-aadserviceprincipalsigninlogs.csv", rfc_csv(la_header(spcols),
      [{(c + " [UTC]" if c in DATETIME_COLS else c): r[c] for c in spcols} for r in sp]))
    mi = [sp_row(k, t6 + dt.timedelta(minutes=k), "4440000", "AADManagedIdentitySignInLogs", "ManagedIdentitySignInLogs",
                 "func-contosojp-mailarchive", "e1d2c3b4-a596-4877-8695-a4b3c2d1e0f9", MI_ID, "192.0.2.%d" % (20 + k), 0, "")
          for k in (1, 2, 3)]
    for r in mi:
        r["ServicePrincipalCredentialKeyId"] = ""
        r["LocationDetails"] = "{}"
        r["Location"] = ""
    w("la-aadmanagedidentitysigninlogs.csv", rfc_csv(la_header(spcols),
      [{(c + " [UTC]" if c in DATETIME_COLS else c): r[c] for c in spcols} for r in mi]))

    # AuditLogs
    acols = ["TenantId", "SourceSystem", "TimeGenerated", "ResourceId", "OperationName", "OperationVersion",
             "Category", "ResultType", "ResultSignature", "ResultDescription", "DurationMs", "CorrelationId",
             "Resource", "ResourceGroup", "ResourceProvider", "Identity", "Level", "Location", "AdditionalDetails",
             "Id", "InitiatedBy", "LoggedByService", "Result", "ResultReason", "TargetResources", "AADTenantId",
             "ActivityDisplayName", "ActivityDateTime", "AADOperationType", "Type"]
    arows, ajl = [], []
    fracs = ["2893401", "0000031", "0000000", "0000009"]
    for k, a in enumerate(AUDITS):
        when = dt.datetime.strptime(a["activityDateTime"][:19], "%Y-%m-%dT%H:%M:%S")
        init = {"app": a["initiatedBy"]["app"]} if a["initiatedBy"]["app"] else \
            {"user": {"id": a["initiatedBy"]["user"]["id"], "displayName": None,
                      "userPrincipalName": a["initiatedBy"]["user"]["userPrincipalName"],
                      "ipAddress": a["initiatedBy"]["user"]["ipAddress"], "roles": []}}
        r = {"TenantId": "11112222-3333-4444-5555-666677778888", "SourceSystem": "Azure AD",
             "TimeGenerated": la_time(when, fracs[k]), "ResourceId": "/tenants/%s/providers/Microsoft.aadiam" % TENANT_ID,
             "OperationName": a["activityDisplayName"], "OperationVersion": "1.0", "Category": a["category"],
             "ResultType": "", "ResultSignature": "None", "ResultDescription": "", "DurationMs": "0",
             "CorrelationId": a["correlationId"], "Resource": "Microsoft.aadiam", "ResourceGroup": "Microsoft.aadiam",
             "ResourceProvider": "", "Identity": a["initiatedBy"]["user"]["userPrincipalName"], "Level": "4",
             "Location": "", "AdditionalDetails": compact(a["additionalDetails"]), "Id": a["id"],
             "InitiatedBy": compact(init), "LoggedByService": a["loggedByService"], "Result": a["result"],
             "ResultReason": "", "TargetResources": compact(a["targetResources"]), "AADTenantId": TENANT_ID,
             "ActivityDisplayName": a["activityDisplayName"], "ActivityDateTime": la_time(when, fracs[k]),
             "AADOperationType": a["operationType"], "Type": "AuditLogs"}
        arows.append({(c + " [UTC]" if c in DATETIME_COLS else c): r[c] for c in acols})
        # JSONL records form (Sentinel/Log Analytics query results saved one record per line)
        # the same instants as the CSV rows, as the query API writes them (7 fraction digits)
        iso7 = when.strftime("%Y-%m-%dT%H:%M:%S") + "." + fracs[k] + "Z"
        jr = dict(r, TimeGenerated=iso7, ActivityDateTime=iso7)
        ajl.append(json.dumps(jr, ensure_ascii=False, separators=(",", ":")))
    w("la-auditlogs.csv", rfc_csv(la_header(acols), arows))
    w("la-auditlogs.jsonl", "".join(x + CRLF for x in ajl), bom=False)

    # OfficeActivity (Exchange + SharePoint); OriginatingServer carries a trailing CRLF -> multi-line cell
    ocols = ["TenantId", "RecordType", "TimeGenerated", "Operation", "OrganizationId", "OrganizationId_", "UserType",
             "UserKey", "OfficeWorkload", "ResultStatus", "ResultReasonType", "UserId", "UserId_", "ExternalAccess",
             "OriginatingServer", "OrganizationName", "Logon_Type", "MailboxGuid", "MailboxOwnerUPN",
             "MailboxOwnerSid", "LogonUserSid", "ClientInfoString", "Client_IPAddress", "ClientIP", "Folders",
             "ElevationTime", "SourceSystem", "OfficeId", "SourceRecordId", "Start_Time", "OfficeTenantId",
             "OfficeTenantId_", "OperationProperties", "AppId", "ClientAppId", "Parameters", "OfficeObjectId",
             "Site_Url", "SourceFileName", "SourceFileExtension", "SourceRelativeUrl", "UserAgent", "Type"]
    base = {"TenantId": "11112222-3333-4444-5555-666677778888", "OrganizationId": TENANT_ID,
            "OrganizationId_": TENANT_ID, "UserType": "Regular", "UserId": HANAKO, "UserId_": HANAKO,
            "SourceSystem": "OfficeActivityManager", "OfficeTenantId": TENANT_ID, "OfficeTenantId_": TENANT_ID,
            "Type": "OfficeActivity"}
    orows = []
    for rt_name, when, uid, op, ad in [UAL[1], UAL[2], UAL[4]]:
        r = dict(base)
        r.update({"RecordType": str(ad["RecordType"]), "TimeGenerated": la_time(when, "0000000"), "Operation": op,
                  "UserKey": ad["UserKey"], "OfficeWorkload": ad["Workload"], "ResultStatus": ad["ResultStatus"],
                  "ExternalAccess": la_bool(ad.get("ExternalAccess", False)),
                  "OriginatingServer": ad.get("OriginatingServer", ""), "OrganizationName": ORG,
                  "OfficeId": ad["Id"], "SourceRecordId": ad["Id"], "Start_Time": la_time(when, "0000000"),
                  "ClientIP": ad.get("ClientIP", ""), "Parameters": compact(ad["Parameters"]) if "Parameters" in ad else "",
                  "OfficeObjectId": ad.get("ObjectId", "")})
        if op == "MailItemsAccessed":
            r.update({"ResultReasonType": "Succeeded", "Logon_Type": "Owner", "MailboxGuid": ad["MailboxGuid"],
                      "MailboxOwnerUPN": ad["MailboxOwnerUPN"], "MailboxOwnerSid": ad["MailboxOwnerSid"],
                      "LogonUserSid": ad["LogonUserSid"], "ClientInfoString": ad["ClientInfoString"],
                      "Client_IPAddress": ad["ClientIPAddress"], "Folders": compact(ad["Folders"]),
                      "ElevationTime": la_time(when, "0000000"), "OperationProperties": compact(ad["OperationProperties"]),
                      "AppId": ad["AppId"], "ClientAppId": ad["ClientAppId"]})
        orows.append(r)
    sp_when = t6 + dt.timedelta(minutes=2)
    orows.append(dict(base, RecordType="6", TimeGenerated=la_time(sp_when, "0000000"), Operation="FileDownloaded",
                      UserKey="i:0h.f|membership|10032001abcde123@live.com", OfficeWorkload="SharePoint",
                      ResultStatus="", OfficeId="a1000006-0000-4000-8000-000000000006",
                      SourceRecordId="a1000006-0000-4000-8000-000000000006", Start_Time=la_time(sp_when, "0000000"),
                      ClientIP=V6_IP, OfficeObjectId="https://contosojp.sharepoint.com/sites/keiri/Shared Documents/見積書 2026,Q2.xlsx",
                      Site_Url="https://contosojp.sharepoint.com/sites/keiri/", SourceFileName="見積書 2026,Q2.xlsx",
                      SourceFileExtension="xlsx", SourceRelativeUrl="Shared Documents",
                      UserAgent="python-requests/2.32.3", OrganizationName="", ExternalAccess="false"))
    w("la-officeactivity.csv", rfc_csv(la_header(ocols),
      [{(c + " [UTC]" if c in DATETIME_COLS else c): r.get(c, "") for c in ocols} for r in orows]))

    # MicrosoftGraphActivityLogs
    gcols = ["TenantId", "SourceSystem", "TimeGenerated", "Location", "RequestId", "OperationId", "ClientRequestId",
             "ApiVersion", "RequestMethod", "ResponseStatusCode", "AadTenantId", "IPAddress", "UserAgent", "RequestUri",
             "DurationMs", "ResponseSizeBytes", "SignInActivityId", "Roles", "TokenIssuedAt", "AppId", "UserId",
             "ServicePrincipalId", "Scopes", "IdentityProvider", "ClientAuthMethod", "Wids", "ATContent",
             "ATContentH", "ATContentP", "Type"]

    def g(i, when, frac, method, uri, status, size, uid, spid, scopes, roles, auth, ip, ua, ver="v1.0"):
        return {"TenantId": "11112222-3333-4444-5555-666677778888", "SourceSystem": "", "TimeGenerated": la_time(when, frac),
                "Location": "Japan East", "RequestId": "e5d4c3b2-a190-4f8e-8d7c-6b5a4f3e2d%02d" % i, "OperationId": "",
                "ClientRequestId": "f6e5d4c3-b2a1-4098-9e8d-7c6b5a4f3e%02d" % i, "ApiVersion": ver,
                "RequestMethod": method, "ResponseStatusCode": str(status), "AadTenantId": TENANT_ID, "IPAddress": ip,
                "UserAgent": ua, "RequestUri": uri, "DurationMs": str(120 + i), "ResponseSizeBytes": str(size),
                "SignInActivityId": "dGVzdC10b2tlbi1pZC0%02d" % i, "Roles": roles,
                "TokenIssuedAt": la_time(t2, "0000000"), "AppId": BAD_APP_ID, "UserId": uid, "ServicePrincipalId": spid,
                "Scopes": scopes, "IdentityProvider": "https://sts.windows.net/%s/" % TENANT_ID,
                "ClientAuthMethod": str(auth), "Wids": "b79fbf4d-3ef9-4689-8143-76b194e85509", "ATContent": "",
                "ATContentH": "", "ATContentP": "", "Type": "MicrosoftGraphActivityLogs"}
    ga = [g(1, t6 - dt.timedelta(minutes=1), "1234567", "GET",
            "https://graph.microsoft.com/v1.0/me/messages?$select=id,subject,from,receivedDateTime&$top=100",
            200, 182311, HANAKO_ID, "", "Mail.ReadWrite offline_access User.Read", "", 0, V6_IP, "python-requests/2.32.3"),
          g(2, t6, "2345678", "POST", "https://graph.microsoft.com/v1.0/me/mailFolders/inbox/messageRules",
            201, 642, HANAKO_ID, "", "Mail.ReadWrite offline_access User.Read", "", 0, V6_IP, "python-requests/2.32.3"),
          g(3, t6 + dt.timedelta(minutes=3), "3456789", "GET",
            "https://graph.microsoft.com/v1.0/users/%s/messages/AAMkADUMMY01/$value" % HANAKO, 200, 48211, "",
            BAD_APP_SP, "", "Mail.Read", 1, EVIL_IP, "MailSync/2.1", "v1.0"),
          g(4, t6 + dt.timedelta(minutes=4), "4567890", "GET",
            "https://graph.microsoft.com/beta/auditLogs/signIns?$filter=userPrincipalName eq '%s'" % HANAKO, 403, 311,
            HANAKO_ID, "", "Mail.ReadWrite offline_access User.Read", "", 0, V6_IP, "python-requests/2.32.3", "beta")]
    w("la-graphactivity.csv", rfc_csv(la_header(gcols),
      [{(c + " [UTC]" if c in DATETIME_COLS else c): r[c] for c in gcols} for r in ga]))

    # AADRiskyServicePrincipals / AADServicePrincipalRiskEvents / AADProvisioningLogs (small)
    rcols = ["TenantId", "SourceSystem", "TimeGenerated", "OperationName", "CorrelationId", "Id", "AppId",
             "DisplayName", "AccountEnabled", "IsProcessing", "RiskDetail", "RiskLastUpdatedDateTime", "RiskLevel",
             "RiskState", "ServicePrincipalType", "Type"]
    rr = [{"TenantId": "11112222-3333-4444-5555-666677778888", "SourceSystem": "Azure AD",
           "TimeGenerated": la_time(t6 + dt.timedelta(hours=1), "0000000"), "OperationName": "Risky service principal",
           "CorrelationId": "", "Id": BAD_APP_SP, "AppId": BAD_APP_ID, "DisplayName": "MailSync Pro",
           "AccountEnabled": "true", "IsProcessing": "false", "RiskDetail": "none",
           "RiskLastUpdatedDateTime": la_time(t6 + dt.timedelta(minutes=50), "1230000"), "RiskLevel": "high",
           "RiskState": "atRisk", "ServicePrincipalType": "Application", "Type": "AADRiskyServicePrincipals"},
          {"TenantId": "11112222-3333-4444-5555-666677778888", "SourceSystem": "Azure AD",
           "TimeGenerated": la_time(t6 + dt.timedelta(hours=2), "0000000"), "OperationName": "Risky service principal",
           "CorrelationId": "", "Id": BAD_APP_SP, "AppId": BAD_APP_ID, "DisplayName": "MailSync Pro",
           "AccountEnabled": "false", "IsProcessing": "false", "RiskDetail": "adminConfirmedServicePrincipalCompromised",
           "RiskLastUpdatedDateTime": la_time(t6 + dt.timedelta(hours=1, minutes=55), "9870000"), "RiskLevel": "high",
           "RiskState": "confirmedCompromised", "ServicePrincipalType": "Application", "Type": "AADRiskyServicePrincipals"},
          {"TenantId": "11112222-3333-4444-5555-666677778888", "SourceSystem": "Azure AD",
           "TimeGenerated": la_time(t6 + dt.timedelta(hours=2), "0000000"), "OperationName": "Risky service principal",
           "CorrelationId": "", "Id": "3c4d5e6f-7081-4923-8b4c-5d6e7f809102", "AppId": "2b3c4d5e-6f70-4812-9a3b-4c5d6e7f8091",
           "DisplayName": "経費精算システム", "AccountEnabled": "true", "IsProcessing": "false", "RiskDetail": "none",
           "RiskLastUpdatedDateTime": la_time(t0, "0000000"), "RiskLevel": "low", "RiskState": "dismissed",
           "ServicePrincipalType": "Application", "Type": "AADRiskyServicePrincipals"}]
    w("la-aadriskyserviceprincipals.csv", rfc_csv(la_header(rcols),
      [{(c + " [UTC]" if c in DATETIME_COLS else c): r[c] for c in rcols} for r in rr]))
    ecols = ["TenantId", "SourceSystem", "TimeGenerated", "OperationName", "Activity", "ActivityDateTime",
             "AdditionalInfo", "AppId", "CorrelationId", "DetectedDateTime", "DetectionTimingType", "Id", "IpAddress",
             "KeyIds", "LastUpdatedDateTime", "Location", "RequestId", "RiskDetail", "RiskEventType", "RiskLevel",
             "RiskState", "ServicePrincipalDisplayName", "ServicePrincipalId", "Source", "TokenIssuerType", "Type"]
    er = []
    for k, (evt, ip, lvl) in enumerate([("suspiciousSignins", EVIL_IP, "high"), ("leakedCredentials", "", "high"),
                                        ("anomalousServicePrincipalActivity", EVIL_IP, "medium")], 1):
        when = t6 + dt.timedelta(minutes=10 * k)
        er.append({"TenantId": "11112222-3333-4444-5555-666677778888", "SourceSystem": "Azure AD",
                   "TimeGenerated": la_time(when, "0000000"), "OperationName": "Service principal risk detection",
                   "Activity": "servicePrincipal", "ActivityDateTime": la_time(when - dt.timedelta(minutes=5), "1000000"),
                   "AdditionalInfo": compact([{"Key": "riskReasons", "Value": ["ipNotSeenForTenant"]}]) if ip else "[]",
                   "AppId": BAD_APP_ID, "CorrelationId": "", "DetectedDateTime": la_time(when - dt.timedelta(minutes=5), "1000000"),
                   "DetectionTimingType": "offline", "Id": "rd%030d" % k, "IpAddress": ip,
                   "KeyIds": '["d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6"]',
                   "LastUpdatedDateTime": la_time(when, "0000000"),
                   "Location": compact({"city": "Amsterdam", "state": "Noord-Holland", "countryOrRegion": "NL",
                                        "geoCoordinates": {"latitude": 52.374, "longitude": 4.8897}}) if ip else "{}",
                   "RequestId": "", "RiskDetail": "none", "RiskEventType": evt, "RiskLevel": lvl, "RiskState": "atRisk",
                   "ServicePrincipalDisplayName": "MailSync Pro", "ServicePrincipalId": BAD_APP_SP,
                   "Source": "IdentityProtection", "TokenIssuerType": "AzureAD", "Type": "AADServicePrincipalRiskEvents"})
    w("la-aadserviceprincipalriskevents.csv", rfc_csv(la_header(ecols),
      [{(c + " [UTC]" if c in DATETIME_COLS else c): r[c] for c in ecols} for r in er]))
    pcols = ["TenantId", "SourceSystem", "TimeGenerated", "OperationName", "OperationVersion", "Category",
             "ResultType", "ResultSignature", "ResultDescription", "DurationMs", "CorrelationId", "AADTenantId",
             "ChangeId", "CycleId", "Id", "InitiatedBy", "JobId", "ModifiedProperties", "ProvisioningAction",
             "ProvisioningStatusInfo", "ProvisioningSteps", "ServicePrincipal", "SourceIdentity",
             "TargetIdentity", "TargetSystem", "Type"]
    pr = []
    for k, (act, status) in enumerate([("create", "success"), ("update", "success"), ("disable", "failure")], 1):
        when = t0 - dt.timedelta(hours=k)
        pr.append({"TenantId": "11112222-3333-4444-5555-666677778888", "SourceSystem": "Azure AD",
                   "TimeGenerated": la_time(when, "0000000"), "OperationName": "Provisioning activity",
                   "OperationVersion": "1.0", "Category": "ProvisioningLogs", "ResultType": status.capitalize(),
                   "ResultSignature": "None", "ResultDescription": "" if status == "success" else
                   "対象システムでユーザーが見つかりません (user not found in target)", "DurationMs": "812",
                   "CorrelationId": "p0000000-0000-4000-8000-00000000000%d" % k, "AADTenantId": TENANT_ID,
                   "ChangeId": "c%d" % k, "CycleId": "cycle-20260614-01", "Id": "p%031d" % k,
                   "InitiatedBy": compact({"id": "", "displayName": "Azure AD Provisioning Service", "initiatorType": "system"}),
                   "JobId": "scim.contosojp.0a1b2c3d", "ModifiedProperties": compact(
                       [{"displayName": "displayName", "oldValue": None, "newValue": HANAKO_NAME}]),
                   "ProvisioningAction": act, "ProvisioningStatusInfo": compact({"status": status}),
                   "ProvisioningSteps": compact([{"name": "EntryImport", "provisioningStepType": "import", "status": "success"}]),
                   "ServicePrincipal": compact({"id": "4d5e6f70-8192-4a3b-9c4d-5e6f70819203", "displayName": "HR SaaS SCIM"}),
                   "SourceIdentity": compact({"id": HANAKO_ID, "displayName": HANAKO_NAME, "identityType": "User"}),
                   "TargetIdentity": compact({"id": "hr-00%d" % k, "displayName": HANAKO_NAME, "identityType": "urn:ietf:params:scim:schemas:core:2.0:User"}),
                   "TargetSystem": compact({"id": "scim", "displayName": "HR SaaS"}), "Type": "AADProvisioningLogs"})
    w("la-aadprovisioninglogs.csv", rfc_csv(la_header(pcols),
      [{(c + " [UTC]" if c in DATETIME_COLS else c): r[c] for c in pcols} for r in pr]))


# =========================================================================== Purview (negative control)
def purview():
    cols = ["RecordId", "CreationDate", "RecordType", "Operation", "UserId", "AuditData", "AssociatedAdminUnits",
            "AssociatedAdminUnitsNames"]
    rows = []
    for rt, when, uid, op, ad in UAL:
        rows.append({"RecordId": ad["Id"], "CreationDate": iso(when, "0000000"), "RecordType": str(ad["RecordType"]),
                     "Operation": op, "UserId": uid, "AuditData": compact(ad), "AssociatedAdminUnits": "",
                     "AssociatedAdminUnitsNames": ""})
    w("purview-audit-export.csv", rfc_csv(cols, rows, quote_space=False), bom=False)


if __name__ == "__main__":
    rules = mes()
    hawk(rules)
    la()
    purview()
    print("\n".join(sorted(f for f in os.listdir(OUT) if not f.startswith("_"))))
