#!/usr/bin/env python3
"""Writes the id-conflict fixtures (self-written, invented values): an anonymised
Management Activity API content blob whose records reuse the id "ANONYMIZED",
and a classic Purview export whose rows repeat ids. Deterministic; run from this
folder: python3 _id_conflicts.py"""
import csv, io, json

ORG = "3a327c2e-38a7-40f7-981c-b714065e067a"


def record(i, rid, op, rtype, workload, when):
    return {"CreationTime": when, "Id": rid, "Operation": op, "OrganizationId": ORG, "RecordType": rtype,
            "ResultStatus": "Succeeded", "UserKey": "ANONYMIZED", "UserType": 0, "Version": 1,
            "Workload": workload, "ClientIP": "203.0.113.%d" % (40 + i), "ObjectId": "ANONYMIZED",
            "UserId": "ANONYMIZED"}


# 8 records: 5 carry "ANONYMIZED" with 4 different contents (one repeated
# byte for byte), 3 have their own ids (one of them repeated).
blob = [
    record(0, "ANONYMIZED", "MailItemsAccessed", 50, "Exchange", "2026-11-18T01:20:00"),
    record(1, "ANONYMIZED", "Send", 2, "Exchange", "2026-11-18T01:21:00"),
    record(2, "ANONYMIZED", "UserLoggedIn", 15, "AzureActiveDirectory", "2026-11-18T01:22:00"),
    record(0, "ANONYMIZED", "MailItemsAccessed", 50, "Exchange", "2026-11-18T01:20:00"),
    record(3, "ANONYMIZED", "FileDownloaded", 6, "SharePoint", "2026-11-18T01:23:00"),
    record(4, "7b1e0c2a-0000-4000-8000-000000000001", "New-InboxRule", 1, "Exchange", "2026-11-18T01:14:03"),
    record(5, "7b1e0c2a-0000-4000-8000-000000000002", "Set-Mailbox", 1, "Exchange", "2026-11-18T01:15:00"),
    record(4, "7b1e0c2a-0000-4000-8000-000000000001", "New-InboxRule", 1, "Exchange", "2026-11-18T01:14:03"),
]
with open("management-api-blob-anonymized.json", "w", encoding="utf-8", newline="\n") as f:
    json.dump(blob, f, indent=1, ensure_ascii=False)
    f.write("\n")

# Classic Purview export, 6 rows: id ...0010 three times with two contents,
# id ...0011 twice byte for byte, id ...0012 once.
rows = [
    record(0, "5c2d0000-0000-4000-8000-000000000010", "MailItemsAccessed", 50, "Exchange", "2026-11-18T02:00:00"),
    record(1, "5c2d0000-0000-4000-8000-000000000010", "MailItemsAccessed", 50, "Exchange", "2026-11-18T02:05:00"),
    record(0, "5c2d0000-0000-4000-8000-000000000010", "MailItemsAccessed", 50, "Exchange", "2026-11-18T02:00:00"),
    record(2, "5c2d0000-0000-4000-8000-000000000011", "UserLoggedIn", 15, "AzureActiveDirectory", "2026-11-18T02:10:00"),
    record(2, "5c2d0000-0000-4000-8000-000000000011", "UserLoggedIn", 15, "AzureActiveDirectory", "2026-11-18T02:10:00"),
    record(3, "5c2d0000-0000-4000-8000-000000000012", "FileAccessed", 6, "SharePoint", "2026-11-18T02:20:00"),
]
buf = io.StringIO()
w = csv.writer(buf, lineterminator="\r\n")
w.writerow(["CreationDate", "UserIds", "Operations", "AuditData"])
for r in rows:
    h, m = r["CreationTime"][11:13], r["CreationTime"][14:16]
    w.writerow(["11/18/2026 %d:%s:00 AM" % (int(h), m), "ANONYMIZED", r["Operation"],
                json.dumps(r, separators=(",", ":"), ensure_ascii=False)])
with open("purview-classic-repeated-ids.csv", "w", encoding="utf-8", newline="") as f:
    f.write(buf.getvalue())
