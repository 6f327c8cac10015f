#!/usr/bin/env bash
# Benchmark of `m365-preserve collect` against the simulator (loopback only):
#   1. the built-in scenario, realistic profile, at a fixed --time-scale, all 32
#      sources of the victim with the phishing sender's recipients: wall time
#      against the lower bound set by the documented throttle budgets and the
#      Purview query's server-side time (bench/collect_bound.py), and against the
#      same collection with --concurrency 1 (one query at a time, the way existing
#      tools collect);
#   2. the large profile (1,000,000 generated sign-ins by default): every sign-in
#      of every employee, peak RSS of the collector (sampled every second into
#      bench/out/collect/large-rss.tsv, so the phase that peaks can be told);
#      then the triage report of the same evidence, as the IR firm re-renders
#      it (`open`, then `report --evidence`): its wall time against the
#      collection's and its peak RSS.
#
#   bash bench/collect.sh
#
# Environment: TIME_SCALE=20 (simulated seconds per real second for step 1),
# LARGE=1000000 (sign-ins for step 2; 0 skips it), LARGE_SCALE=20 (its time scale:
# the simulator's tokens live one simulated hour, and at x100 an overloaded
# simulator kept requests queued past the collector's renewal margin of five
# simulated minutes, so some were answered 401 "expired"), REALISTIC=1 (0 skips
# step 1).
# Results: stdout and bench/out/collect-results.md.
set -euo pipefail

TIME_SCALE="${TIME_SCALE:-20}"
LARGE="${LARGE:-1000000}"
LARGE_SCALE="${LARGE_SCALE:-20}"
REALISTIC="${REALISTIC:-1}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/bench/out/collect"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/m365-preserve"
log() { printf '[bench] %s\n' "$*" >&2; }

(cd "$ROOT" && cargo build --release -q)
rm -rf "$OUT" && mkdir -p "$OUT"
"$BIN" keygen --age-identity "$OUT/firm.key" >/dev/null 2>&1
KEY="$(grep -o 'age1[a-z0-9]*' "$OUT/firm.key" | head -1)"
export BENCH_SECRET=sim-demo-secret
VICTIM=hanako.sato@contoso-jp.onmicrosoft.com
PHISH_SENDER=ichiro.tanaka@fabrikam-shoji.co.jp
CLIENT=668e9a44-67cf-4034-9586-151d88ebb224

SIM_PID=""
start_sim() { # name, sim args...
    local name="$1"; shift
    "$BIN" sim "$@" --log "$OUT/$name-requests.jsonl" >"$OUT/$name-sim.out" 2>&1 &
    SIM_PID=$!
    for _ in $(seq 100); do
        URL="$(head -1 "$OUT/$name-sim.out" 2>/dev/null || true)"
        [[ "$URL" == http* ]] && return 0
        sleep 0.1
    done
    echo "simulator did not start" >&2; exit 1
}
stop_sim() { kill "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true; }
trap stop_sim EXIT

collect() { # name, time-scale, extra collect args...
    local name="$1" scale="$2"; shift 2
    /usr/bin/time -v -o "$OUT/$name-time.txt" "$BIN" collect --quiet --json \
        --tenant contoso-jp.onmicrosoft.com --client-id "$CLIENT" --client-secret-env BENCH_SECRET \
        --graph-url "$URL" --login-url "$URL" --manage-url "$URL" --time-scale "$scale" \
        --case "BENCH-$name" --examiner bench --recipient "$KEY" --out "$OUT/$name" "$@" \
        >"$OUT/$name.json" || [ $? -eq 3 ]
}
wall() { awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$OUT/$1-time.txt"; }
rss_mib() { awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$OUT/$1-time.txt"; }
records() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(s["records"] for s in d["sources"]))' "$OUT/$1.json"; }

BOUND=0 C=0 S=0 RATIO=- SPEEDUP=-
if [ "$REALISTIC" != 0 ]; then
log "step 1: realistic profile at --time-scale $TIME_SCALE, all sources of the victim"
start_sim concurrent --profile realistic --time-scale "$TIME_SCALE"
collect concurrent "$TIME_SCALE" --user "$VICTIM" --phish-sender "$PHISH_SENDER"
stop_sim
start_sim sequential --profile realistic --time-scale "$TIME_SCALE"
collect sequential "$TIME_SCALE" --user "$VICTIM" --phish-sender "$PHISH_SENDER" --concurrency 1
stop_sim
BOUND="$(python3 "$ROOT/bench/collect_bound.py" "$OUT/concurrent-requests.jsonl" "$TIME_SCALE" realistic 2>"$OUT/bound.txt")"
C="$(wall concurrent)"; S="$(wall sequential)"
read -r RATIO SPEEDUP < <(python3 -c "import sys; b,c,s=map(float,sys.argv[1:]); print(f'{c/b:.2f} {s/c:.1f}')" "$BOUND" "$C" "$S")
fi

LARGE_LINE="(skipped)" REPORT_LINE="(skipped)"
if [ "$LARGE" != 0 ]; then
    log "step 2: large profile, $LARGE sign-ins"
    start_sim large --profile fast --time-scale "$LARGE_SCALE" --large-signins "$LARGE"
    USERS=()
    while read -r u; do USERS+=(--user "$u"); done < <(python3 -c '
import json,sys
for u in json.load(open(sys.argv[1]))["users"]:
    if u.get("userType") == "Member" and u.get("accountEnabled", True): print(u["userPrincipalName"])' "$ROOT/samples/tenant/tenant.json")
    collect large "$LARGE_SCALE" "${USERS[@]}" --level 1 \
        --sources entra-signins-interactive,entra-signins-noninteractive,entra-signins-serviceprincipal,entra-signins-managedidentity &
    COLLECT_PID=$!
    # RSS of the collector every second (the process /usr/bin/time started).
    while kill -0 "$COLLECT_PID" 2>/dev/null; do
        pid="$(pgrep -f "^$BIN collect" | head -1 || true)"
        [ -n "$pid" ] && awk -v t="$(date +%s)" '/^VmRSS/ {printf "%s\t%.0f\n", t, $2/1024}' "/proc/$pid/status" 2>/dev/null
        sleep 1
    done >"$OUT/large-rss.tsv"
    wait "$COLLECT_PID"
    stop_sim
    COMPLETE="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["completeness"])' "$OUT/large.json")"
    LARGE_LINE="$(records large) records in $(wall large) s, peak RSS $(rss_mib large) MiB"
    [ "$COMPLETE" = complete ] || LARGE_LINE="$LARGE_LINE (NOT COMPLETE: $COMPLETE; see $OUT/large.json)"
    log "step 3: triage report of the large profile's evidence (open, then report --evidence)"
    "$BIN" open "$OUT"/large/*.zip.age --identity "$OUT/firm.key" --to "$OUT/large-opened" --quiet >/dev/null
    /usr/bin/time -v -o "$OUT/report-time.txt" "$BIN" report --quiet --lang en \
        --evidence "$OUT/large-opened" --to "$OUT/large-report" >"$OUT/report.out"
    rm -rf "$OUT/large-opened"
    REPORT_LINE="$(wall report) s ($(python3 -c "import sys; print(f'{100*float(sys.argv[1])/float(sys.argv[2]):.1f}')" "$(wall report)" "$(wall large)") % of the collection), peak RSS $(rss_mib report) MiB"
fi

{
echo "| measurement | value |"
echo "|---|---|"
echo "| lower bound (budgets + Purview query), real s at x$TIME_SCALE | $BOUND |"
[ "$REALISTIC" != 0 ] && echo "| collect, default concurrency | ${C} s, $(records concurrent) records, peak RSS $(rss_mib concurrent) MiB |"
echo "| collect --concurrency 1 | ${S} s |"
echo "| wall / lower bound | ${RATIO}x |"
echo "| speedup over --concurrency 1 | ${SPEEDUP}x |"
echo "| large profile ($LARGE sign-ins, all employees) | $LARGE_LINE |"
echo "| triage report of the large profile's evidence | $REPORT_LINE |"
echo
if [ "$REALISTIC" != 0 ]; then
echo "Per-budget requests of the concurrent run (bench/collect_bound.py):"
echo '```'
cat "$OUT/bound.txt"
echo '```'
fi
} | tee "$OUT/../collect-results.md"
