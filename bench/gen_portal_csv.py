#!/usr/bin/env python3
"""Deterministic Entra admin center sign-in download (InteractiveSignIns_*.csv) for
the import benchmark: the current 57-column header with its quirks (trailing
spaces, the duplicated "Incoming token type", "Autonomous system  number"), UTF-8
with BOM, CRLF, realistic values. The same --seed and --size give the same bytes.

    python3 bench/gen_portal_csv.py --size 1G --out bench/out/InteractiveSignIns_2026-11-01_2026-11-25.csv
"""
import argparse, csv, io, random

HEADER = ("Date (UTC),Request ID,User agent,Correlation ID,User ID,User,Username,User type,Cross tenant access type,"
          "Incoming token type,Authentication Protocol,Unique token identifier,Original transfer method,Client credential type,"
          "Token Protection - Sign In Session,Token Protection - Sign In Session StatusCode,Application,Application ID ,"
          "App owner tenant ID,Resource,Resource ID ,Resource tenant ID,Resource owner tenant ID,Home tenant ID,Home tenant name,"
          "IP address,Location,Status,Sign-in error code,Failure reason,Client app,Device ID,Browser,Operating System,Compliant,"
          "Managed,Join Type,Multifactor authentication result,Multifactor authentication auth method,"
          "Multifactor authentication auth detail,Authentication requirement,Sign-in identifier,Session ID,"
          "IP address (seen by resource),Through Global Secure Access,Global Secure Access IP address,Autonomous system  number,"
          "Flagged for review,Token issuer type,Incoming token type,Token issuer name,Latency,Conditional Access,"
          "Managed Identity type,Associated Resource Id,Federated Token Id,Federated Token Issuer").split(",")
TENANT = "3a327c2e-38a7-40f7-981c-b714065e067a"
USERS = [("%08x-1111-4222-8333-%012x" % (i, i), "社員 %03d" % i, "user%03d@contoso-jp.onmicrosoft.com" % i) for i in range(32)]
APPS = [("Microsoft Office 365 Portal", "00000006-0000-0ff1-ce00-000000000000"), ("One Outlook Web", "9199bf20-a13f-4107-85dc-02114787ef48"),
        ("Microsoft Teams", "1fec8e78-bce4-4aaf-ab1b-5451cc387264"), ("Azure Portal", "c44b4083-3bb0-49c1-b47d-974e53cbdf3c")]
PLACES = ["Chiyoda, Tokyo, JP", "Osaka, Osaka, JP", "Amsterdam, Noord-Holland, NL", "Lagos, Lagos, NG"]
UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0"


def uid(rng):
    return "%08x-%04x-4%03x-8%03x-%012x" % (rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12), rng.getrandbits(12), rng.getrandbits(48))


def row(i, rng):
    user = USERS[i % len(USERS)]
    app = APPS[i % len(APPS)]
    ok = rng.random() > 0.1
    t = 1_762_000_000 + i * 2
    day, rem = divmod(t - 1_761_955_200, 86400)
    date = "2025-11-%02dT%02d:%02d:%02dZ" % (1 + day % 28, rem // 3600, rem // 60 % 60, rem % 60)
    return [date, uid(rng), UA, uid(rng), user[0], user[1], user[2], "Member", "None", "None", "None",
            "dG9rZW4t%016x" % rng.getrandbits(64), "None", "None", "Unbound", "0", app[0], app[1],
            "f8cdef31-a31e-4b4a-93e4-5f571e91255a", "Office 365 Exchange Online", "00000002-0000-0ff1-ce00-000000000000", TENANT,
            "f8cdef31-a31e-4b4a-93e4-5f571e91255a", TENANT, "コントソ株式会社", "192.0.2.%d" % (i % 250), PLACES[i % len(PLACES)],
            "Success" if ok else "Failure", "0" if ok else "50126", "Other." if ok else "Error validating credentials due to invalid username or password.",
            "Browser", "", "Edge 130.0.0", "Windows10", "False", "False", "", "", "", "", "Single-factor authentication", user[2],
            uid(rng), "", "False", "", str(64496 + i % 16), "False", "AzureAD", "None", "", str(50 + i % 400), "Not Applied", "None", "", "", ""]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--size", default="1G", help="target size: 1G, 256M, 10M")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    unit = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    size = int(a.size[:-1]) * unit[a.size[-1].upper()] if a.size[-1].isalpha() else int(a.size)
    rng = random.Random(a.seed)
    written = 0
    with open(a.out, "wb") as f:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(HEADER)
        f.write(b"\xef\xbb\xbf")
        i = 0
        while written < size:
            for _ in range(2000):
                w.writerow(row(i, rng))
                i += 1
            data = buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
            f.write(data)
            written += len(data)
    print("%d rows, %d bytes" % (i, written + 3))


if __name__ == "__main__":
    main()
