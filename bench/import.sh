#!/usr/bin/env bash
# Benchmark of `m365-preserve import` on a generated Entra portal sign-in CSV and on
# a generated Azure Monitor storage export (PT1H.json), in the same run as a naive
# Python loop (csv.DictReader -> one JSON line per row) on the same CSV: records/s,
# MB/s (input bytes, MB = 10^6), peak RSS (/usr/bin/time -v) and the ratio of our
# CSV import's MB/s to the loop's. The import is the whole command (copy + hash,
# parse, map, evidence JSON + CSV view, report, seal).
#
#   bash bench/import.sh [SIZE]        SIZE like 1G (default), 256M
#
# Environment: RUNS=3 timed runs each (fastest wall time reported, highest RSS);
# MAX_RSS_MIB=150 the limit the script checks; CARGO_TARGET_DIR is honoured.
# Everything is written under bench/out/ (gitignored); inputs are regenerated only
# when missing (the generators are deterministic).
set -euo pipefail

SIZE="${1:-1G}"
RUNS="${RUNS:-3}"
MAX_RSS_MIB="${MAX_RSS_MIB:-150}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/bench/out"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/m365-preserve"
CSV_IN="$OUT/InteractiveSignIns_2026-11-01_2026-11-25-$SIZE.csv"
PT1H_IN="$OUT/PT1H-$SIZE.json"
mkdir -p "$OUT"
log() { printf '[bench] %s\n' "$*" >&2; }

[ -x /usr/bin/time ] || { log "/usr/bin/time is missing: apt-get install -y time"; exit 1; }
log "building the release binary"
(cd "$ROOT" && cargo build --release -q)
[ -s "$CSV_IN" ] || { log "generating $CSV_IN"; python3 "$ROOT/bench/gen_portal_csv.py" --size "$SIZE" --out "$CSV_IN" >&2; }
[ -s "$PT1H_IN" ] || { log "generating $PT1H_IN"; python3 "$ROOT/bench/gen_pt1h.py" --size "$SIZE" --out "$PT1H_IN" >&2; }
KEYFILE="$OUT/import-bench.agekey"
[ -s "$KEYFILE" ] || "$BIN" keygen --age-identity "$KEYFILE" >/dev/null
AGE_KEY=$(sed -n 's/^# public key: //p' "$KEYFILE")
busy=$(awk '{print $1}' /proc/loadavg)
log "load average before the runs: $busy (on $(nproc) cores; other work skews every number)"

wall_of() { awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$1" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }'; }
rss_of() { awk -F': ' '/Maximum resident set size/ {print $2}' "$1"; }

# best_of NAME CMD...: fastest wall time and highest RSS over RUNS runs.
best_of() {
    local name=$1; shift
    local best="" rss_max=0
    for run in $(seq 1 "$RUNS"); do
        rm -rf "$OUT/import-pkg" "$OUT/loop.jsonl"; sync
        /usr/bin/time -v -o "$OUT/time-$name.txt" "$@" > "$OUT/stdout-$name.json"
        local wall rss
        wall=$(wall_of "$OUT/time-$name.txt"); rss=$(rss_of "$OUT/time-$name.txt")
        log "$name run $run: ${wall}s, peak RSS $((rss / 1024)) MiB"
        if [ -z "$best" ] || awk "BEGIN{exit !($wall < $best)}"; then best=$wall; fi
        [ "$rss" -gt "$rss_max" ] && rss_max=$rss
    done
    echo "$best $rss_max"
}

IMPORT_FLAGS=(--case BENCH-IMPORT --examiner 'Bench Runner' --out "$OUT/import-pkg" -r "$AGE_KEY" --quiet --json --no-local-report)
records_of() {
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(sum(s['records'] for s in d['import']['sources']))" "$OUT/stdout-$1.json"
}

cat "$CSV_IN" "$PT1H_IN" >/dev/null   # page cache
read -r csv_wall csv_rss < <(best_of csv "$BIN" import "$CSV_IN" "${IMPORT_FLAGS[@]}")
csv_records=$(records_of csv)
read -r pt1h_wall pt1h_rss < <(best_of pt1h "$BIN" import "$PT1H_IN" "${IMPORT_FLAGS[@]}")
pt1h_records=$(records_of pt1h)
LOOP='import csv, json, sys
with open(sys.argv[1], newline="", encoding="utf-8-sig") as f, open(sys.argv[2], "w", encoding="utf-8") as out:
    for row in csv.DictReader(f):
        out.write(json.dumps(row, ensure_ascii=False) + "\n")'
read -r loop_wall loop_rss < <(best_of loop python3 -c "$LOOP" "$CSV_IN" "$OUT/loop.jsonl")
loop_records=$(($(wc -l < "$CSV_IN") - 1))
rm -rf "$OUT/import-pkg" "$OUT/loop.jsonl"

python3 - "$(stat -c %s "$CSV_IN")" "$(stat -c %s "$PT1H_IN")" "$csv_records" "$csv_wall" "$csv_rss" \
    "$pt1h_records" "$pt1h_wall" "$pt1h_rss" "$loop_records" "$loop_wall" "$loop_rss" "$MAX_RSS_MIB" <<'PY'
import sys
a = sys.argv[1:]
csv_size, pt1h_size = int(a[0]), int(a[1])
rows = [
    ("m365-preserve import, portal sign-in CSV", csv_size, int(a[2]), float(a[3]), int(a[4])),
    ("m365-preserve import, PT1H.json", pt1h_size, int(a[5]), float(a[6]), int(a[7])),
    ("python3 csv.DictReader -> JSON lines, same CSV", csv_size, int(a[8]), float(a[9]), int(a[10])),
]
limit = int(a[11])
print("| run | input | records | wall (best) | records/s | MB/s | peak RSS |")
print("|---|---|---|---|---|---|---|")
for name, size, records, wall, rss in rows:
    print("| %s | %.0f MB | %d | %.1f s | %.0f | %.1f | %.0f MiB |" % (name, size / 1e6, records, wall, records / wall, size / 1e6 / wall, rss / 1024))
ratio = (csv_size / rows[0][3]) / (csv_size / rows[2][3])
print("\nimport of the CSV vs the Python loop: %.2fx (target: at least 3x)" % ratio)
over = [r[0] for r in rows[:2] if r[4] / 1024 > limit]
if over:
    print("FAIL: peak RSS over %d MiB: %s" % (limit, ", ".join(over))); sys.exit(1)
PY
