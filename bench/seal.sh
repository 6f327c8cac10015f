#!/usr/bin/env bash
# Benchmark of `m365-preserve seal` / `verify --identity` against the shell pipeline
#   sha256sum inputs; zip -r -6 - DIR | age -r KEY > out.zip.age; sha256sum out.zip.age
#
#   bash bench/seal.sh [SIZE]        SIZE like 1G (default), 256M, 2G
#
# Environment:
#   RSS_SIZE=256M   size of the second, smaller input used to check that peak RSS
#                   does not grow with the input (skipped when equal to SIZE)
#   RUNS=3          timed runs per measurement; the fastest wall time is reported
#   EXTRA=1         also run seal --level 6 (same deflate level as zip -6); EXTRA=0 skips
#
# Everything is written under bench/out/ (gitignored). Generated evidence is kept
# between runs (it is deterministic) and regenerated only when the generator or the
# size changes. Results: the table on stdout and bench/out/results-SIZE.md.
set -euo pipefail

SIZE="${1:-1G}"
RSS_SIZE="${RSS_SIZE:-256M}"
RUNS="${RUNS:-3}"
EXTRA="${EXTRA:-1}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/bench/out"
BIN="$ROOT/target/release/m365-preserve"
GEN="$ROOT/bench/gen_evidence.py"
mkdir -p "$OUT"

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- tools
need_pkg() { # command debian-package
    command -v "$1" >/dev/null 2>&1 && return 0
    [ "$(id -u)" -eq 0 ] || die "$1 is missing: apt-get install -y $2"
    log "installing $2 (for $1)"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q "$2" >/dev/null 2>&1; then
        apt-get update -q >/dev/null
        apt-get install -y -q "$2" >/dev/null
    fi
    command -v "$1" >/dev/null 2>&1 || die "could not install $2"
}
[ -x /usr/bin/time ] || need_pkg /usr/bin/time time
need_pkg zip zip
need_pkg age age
need_pkg sha256sum coreutils
need_pkg python3 python3
command -v cargo >/dev/null 2>&1 || die "cargo is missing"

# ---------------------------------------------------------------- build
log "cargo build --release"
(cd "$ROOT" && cargo build --release --quiet)
[ -x "$BIN" ] || die "$BIN was not built"

# ---------------------------------------------------------------- data
# bytes SIZE -> integer bytes (same units as the generator: K/M/G/T = 2^10...)
bytes_of() {
    python3 - "$1" <<'EOF'
import re, sys
m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*", sys.argv[1], re.I)
if not m:
    sys.exit(f"not a size: {sys.argv[1]}")
print(int(float(m.group(1)) * {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}[m.group(2).upper()]))
EOF
}

# ensure_data SIZE -> prints the evidence folder
ensure_data() {
    local size="$1" dir="$OUT/evidence-$1" stamp="$OUT/evidence-$1.stamp" want
    want="$(sha256sum "$GEN" | cut -d' ' -f1) size=$(bytes_of "$size")"
    if [ -d "$dir" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        log "reusing $dir"
    else
        log "generating $size of evidence into $dir"
        rm -rf "$dir" "$stamp"
        python3 "$GEN" "$dir" --size "$size" >&2
        echo "$want" >"$stamp"
    fi
    echo "$dir"
}

dir_bytes() { find "$1" -type f -printf '%s\n' | awk '{s += $1} END {printf "%d\n", s}'; }
warm() { cat "$1"/* >/dev/null; } # inputs come from the page cache in every run

EVID="$(ensure_data "$SIZE")"
INPUT_BYTES="$(dir_bytes "$EVID")"
SMALL=""
if [ "$(bytes_of "$RSS_SIZE")" != "$(bytes_of "$SIZE")" ]; then
    SMALL="$(ensure_data "$RSS_SIZE")"
    SMALL_BYTES="$(dir_bytes "$SMALL")"
fi

# ---------------------------------------------------------------- keys
KEYFILE="$OUT/bench.agekey"
if [ ! -f "$KEYFILE" ]; then
    "$BIN" keygen --age-identity "$KEYFILE" >/dev/null
fi
PUBKEY="$(sed -n 's/^# public key: *//p' "$KEYFILE")"
[[ "$PUBKEY" == age1* ]] || die "no public key in $KEYFILE"

# ---------------------------------------------------------------- measuring
# measure NAME CMD... : runs CMD under /usr/bin/time -v RUNS times (cleaning its
# output first via the function clean_NAME if defined); sets WALL (s, fastest run),
# RSS_KB (peak, max over runs), CPU (user+sys s of the fastest run).
measure() {
    local name="$1"; shift
    local best="" rss=0 cpu="" i tf w r c
    for ((i = 1; i <= RUNS; i++)); do
        if declare -F "clean_$name" >/dev/null; then "clean_$name"; fi
        sync
        tf="$OUT/time-$name.txt"
        if ! /usr/bin/time -v -o "$tf" "$@" >"$OUT/stdout-$name.txt" 2>"$OUT/stderr-$name.txt"; then
            cat "$OUT/stderr-$name.txt" "$OUT/stdout-$name.txt" >&2
            die "$name failed (see $tf)"
        fi
        w="$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (j = 1; j <= n; j++) s = s * 60 + p[j]; print s}' "$tf")"
        r="$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tf")"
        c="$(awk -F': ' '/User time \(seconds\)/ {u = $2} /System time \(seconds\)/ {s = $2} END {printf "%.2f", u + s}' "$tf")"
        log "$name run $i: ${w}s wall, ${c}s cpu, $((r / 1024)) MiB peak RSS"
        if [ -z "$best" ] || awk -v a="$w" -v b="$best" 'BEGIN {exit !(a < b)}'; then best="$w"; cpu="$c"; fi
        [ "$r" -gt "$rss" ] && rss="$r"
    done
    WALL="$best"; RSS_KB="$rss"; CPU="$cpu"
}

mbps() { awk -v b="$1" -v s="$2" 'BEGIN {printf "%.0f", b / 1e6 / s}'; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
package_of() { ls "$1"/*.zip.age; }

ROWS=()
row() { # label wall cpu rss_kb bytes_for_rate output_bytes
    ROWS+=("$(printf '| %s | %.2f | %.2f | %s | %s | %s |' "$1" "$2" "$3" "$(mbps "$5" "$2")" "$(mib "$4")" "$6")")
}

# Other work on the machine skews every number: say so. busy_pct: share of all
# cores busy over the next 2 seconds (from /proc/stat).
busy_pct() {
    local a b
    a="$(head -1 /proc/stat)"; sleep 2; b="$(head -1 /proc/stat)"
    awk -v a="$a" -v b="$b" 'BEGIN {
        n = split(a, x); split(b, y); t = 0
        for (i = 2; i <= n; i++) t += y[i] - x[i]
        idle = (y[5] - x[5]) + (y[6] - x[6])
        printf "%.0f", (t > 0) ? (100 * (t - idle) / t) : 0 }'
}
BUSY_BEFORE="$(busy_pct)"
if [ "$BUSY_BEFORE" -gt 10 ]; then
    log "warning: the CPUs are already ${BUSY_BEFORE}% busy; other processes will skew the numbers"
fi

SEAL_ARGS=(--case BENCH-1 --examiner "Bench Runner" -r "$PUBKEY" --quiet)

# a. our seal, default settings
clean_seal() { rm -rf "$OUT/seal"; }
warm "$EVID"
log "a. m365-preserve seal (defaults) on $SIZE"
measure seal "$BIN" seal --evidence "$EVID" --out "$OUT/seal" "${SEAL_ARGS[@]}"
SEAL_WALL=$WALL SEAL_RSS=$RSS_KB
PKG="$(package_of "$OUT/seal")"
SEAL_OUT_BYTES="$(stat -c %s "$PKG")"
row "m365-preserve seal (level 1, all cores)" "$WALL" "$CPU" "$RSS_KB" "$INPUT_BYTES" "$SEAL_OUT_BYTES"

# seal --threads 1: the parallel speed-up
clean_seal1() { rm -rf "$OUT/seal-t1"; }
log "m365-preserve seal --threads 1 on $SIZE"
measure seal1 "$BIN" seal --evidence "$EVID" --out "$OUT/seal-t1" --threads 1 "${SEAL_ARGS[@]}"
SEAL1_WALL=$WALL
row "m365-preserve seal --threads 1" "$WALL" "$CPU" "$RSS_KB" "$INPUT_BYTES" "$(stat -c %s "$(package_of "$OUT/seal-t1")")"
rm -rf "$OUT/seal-t1"

if [ "$EXTRA" = 1 ]; then
    clean_seal6() { rm -rf "$OUT/seal-l6"; }
    log "m365-preserve seal --level 6 on $SIZE"
    measure seal6 "$BIN" seal --evidence "$EVID" --out "$OUT/seal-l6" --level 6 "${SEAL_ARGS[@]}"
    SEAL6_WALL=$WALL
    row "m365-preserve seal --level 6 (all cores)" "$WALL" "$CPU" "$RSS_KB" "$INPUT_BYTES" "$(stat -c %s "$(package_of "$OUT/seal-l6")")"
    rm -rf "$OUT/seal-l6"
fi

# b. the shell pipeline: hash the inputs, zip | age, hash the output
clean_pipeline() { rm -rf "$OUT/pipeline"; mkdir -p "$OUT/pipeline"; }
log "b. sha256sum + zip -r -6 | age -r + sha256sum on $SIZE"
PIPE_SCRIPT='set -euo pipefail
cd "$1"
find "$2" -type f -print0 | sort -z | xargs -0 sha256sum >"$3/SHA256SUMS"
zip -q -r -6 - "$2" | age -r "$4" >"$3/evidence.zip.age"
sha256sum "$3/evidence.zip.age" >>"$3/SHA256SUMS"'
measure pipeline bash -c "$PIPE_SCRIPT" pipeline "$(dirname "$EVID")" "$(basename "$EVID")" "$OUT/pipeline" "$PUBKEY"
PIPE_WALL=$WALL
row "sha256sum + zip -r -6 \\| age -r + sha256sum" "$WALL" "$CPU" "$RSS_KB" "$INPUT_BYTES" "$(stat -c %s "$OUT/pipeline/evidence.zip.age")"
rm -rf "$OUT/pipeline"

# c. full verification of our package
log "c. m365-preserve verify --identity on $SIZE"
measure verify "$BIN" verify "$PKG" --identity "$KEYFILE"
grep -q 'Result: all .* checks passed' "$OUT/stdout-verify.txt" || die "verify did not pass: $(cat "$OUT/stdout-verify.txt")"
VERIFY_WALL=$WALL
row "m365-preserve verify --identity" "$WALL" "$CPU" "$RSS_KB" "$INPUT_BYTES" "-"

# peak RSS on a smaller input
if [ -n "$SMALL" ]; then
    clean_sealsmall() { rm -rf "$OUT/seal-small"; }
    warm "$SMALL"
    log "m365-preserve seal (defaults) on $RSS_SIZE, for peak RSS"
    measure sealsmall "$BIN" seal --evidence "$SMALL" --out "$OUT/seal-small" "${SEAL_ARGS[@]}"
    SMALL_RSS=$RSS_KB
    row "m365-preserve seal (defaults), $RSS_SIZE input" "$WALL" "$CPU" "$RSS_KB" "$SMALL_BYTES" "$(stat -c %s "$(package_of "$OUT/seal-small")")"
    rm -rf "$OUT/seal-small"
fi

# ---------------------------------------------------------------- report
RATIO="$(awk -v p="$PIPE_WALL" -v s="$SEAL_WALL" 'BEGIN {printf "%.2f", p / s}')"
SPEEDUP="$(awk -v a="$SEAL1_WALL" -v b="$SEAL_WALL" 'BEGIN {printf "%.2f", a / b}')"
VERIFY_MBPS="$(mbps "$INPUT_BYTES" "$VERIFY_WALL")"
verdict() { if [ "$1" = 1 ]; then echo MET; else echo "NOT MET"; fi; }
T1=$(awk -v r="$RATIO" 'BEGIN {print (r >= 3) ? 1 : 0}')
MAX_RSS=$SEAL_RSS
[ -n "$SMALL" ] && [ "$SMALL_RSS" -gt "$MAX_RSS" ] && MAX_RSS=$SMALL_RSS
T2=$(awk -v k="$MAX_RSS" 'BEGIN {print (k <= 100 * 1024) ? 1 : 0}')
T3=$(awk -v m="$VERIFY_MBPS" 'BEGIN {print (m >= 300) ? 1 : 0}')

RESULTS="$OUT/results-$SIZE.md"
{
    echo "Input: $INPUT_BYTES bytes ($SIZE) in $(find "$EVID" -type f | wc -l) files; $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
    echo "Build: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)$(cd "$ROOT" && git diff --quiet -- src 2>/dev/null || echo ' + uncommitted changes in src/'), $("$BIN" --version)"
    echo "Runs per measurement: $RUNS (fastest wall time reported); CPUs ${BUSY_BEFORE}% busy with other work just before the measurements"
    echo
    echo "| Measurement | Wall (s) | CPU user+sys (s) | MB/s of input | Peak RSS (MiB) | Output bytes |"
    echo "|---|---:|---:|---:|---:|---:|"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "- Pipeline time / our seal time: **${RATIO}x** (target >= 3x): $(verdict "$T1")"
    echo "- Peak RSS of seal: $(mib "$SEAL_RSS") MiB on $SIZE$([ -n "$SMALL" ] && echo ", $(mib "$SMALL_RSS") MiB on $RSS_SIZE") (target <= 100 MiB whatever the size): $(verdict "$T2")"
    echo "- verify --identity: **${VERIFY_MBPS} MB/s** of content (target >= 300 MB/s): $(verdict "$T3")"
    echo "- Parallel speed-up of seal (--threads 1 / default): ${SPEEDUP}x"
    [ "$EXTRA" = 1 ] && echo "- seal --level 6 / default (level 1) time: $(awk -v a="$SEAL6_WALL" -v b="$SEAL_WALL" 'BEGIN {printf "%.2f", a / b}')x"
    echo
    echo "MB = 10^6 bytes. The pipeline's peak RSS is that of its largest single process (GNU time, wait4)."
} >"$RESULTS"
echo
cat "$RESULTS"
log "results written to $RESULTS"
