#!/usr/bin/env bash
# Benchmark of `m365-preserve send` against curl uploading the same file to the same
# loopback emulator in the same run, with the sender's peak RSS.
#
#   bash bench/send.sh [SIZE]        SIZE in MiB of random evidence (default 4730)
#
# The default makes a package of about 4,990 MiB (random evidence grows by about 5.5%
# in the zip: deflate at level 1 does not shrink it): close to the largest file that
# the baseline, one curl PUT of the whole file, may send (Azure Put Blob takes at most
# 5,000 MiB, S3's and Rustack's PutObject at most 5 GiB). `send` itself has no such
# limit (it uploads in blocks/parts), and its memory does not depend on the size.
#
# Environment:
#   PROFILE=release   cargo profile of the binary (release, or dev for a quick look)
#   BUILD=1           build the binary first (BUILD=0: use the one in the target dir)
#   PARALLEL=4        send --parallel
#   KEEP=0            keep the generated package (bench/out/send/) afterwards
#
# Needs azurite-blob and rustack on PATH (.ci/run installs both). The emulators keep
# their data on disk under bench/out/send/ (not in memory), removed at the end; the
# run needs about 2x SIZE of free disk. Results: the table on stdout and
# bench/out/send-results.md.
set -euo pipefail

SIZE_MIB="${1:-4730}"
PROFILE="${PROFILE:-release}"
PARALLEL="${PARALLEL:-4}"
KEEP="${KEEP:-0}"
BUILD="${BUILD:-1}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
DIR_PROFILE="$PROFILE"; [ "$PROFILE" = dev ] && DIR_PROFILE=debug
BIN="$TARGET/$DIR_PROFILE/m365-preserve"
OUT="$ROOT/bench/out/send"
log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

for t in azurite-blob rustack curl python3 /usr/bin/time; do
    command -v "$t" >/dev/null 2>&1 || die "$t is missing (bash .ci/run installs the emulators)"
done
if [ "$BUILD" = 1 ]; then
    log "cargo build --profile $PROFILE"
    (cd "$ROOT" && cargo build --profile "$PROFILE" --quiet)
fi
[ -x "$BIN" ] || die "no binary at $BIN"
rm -rf "$OUT"; mkdir -p "$OUT"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    [ "$KEEP" = 1 ] || rm -rf "$OUT"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 300); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.2; done; die "nothing on port $1"; }

# ---------------------------------------------------------------- package
log "sealing ${SIZE_MIB} MiB of random evidence"
mkdir -p "$OUT/ev"
head -c "$((SIZE_MIB << 20))" /dev/urandom > "$OUT/ev/capture.bin"
"$BIN" keygen --age-identity "$OUT/firm.agekey" > "$OUT/keygen.txt"
AGE=$(sed -n 's/^# public key: //p' "$OUT/firm.agekey")
"$BIN" --quiet seal --evidence "$OUT/ev" --case BENCH --examiner bench --out "$OUT/pkg" --recipient "$AGE" > /dev/null
rm -rf "$OUT/ev"
CT=$(ls "$OUT"/pkg/*.zip.age)
BYTES=$(stat -c %s "$CT")
log "package: $BYTES bytes"
# Each send gets a fresh copy of the custody log (a send appends its receipt).
cp "$(ls "$OUT"/pkg/*.custody.jsonl)" "$OUT/custody.orig"
reset_custody() { cp "$OUT/custody.orig" "$(ls "$OUT"/pkg/*.custody.jsonl)"; }

# Times a command (not in a subshell, so that a failure stops the script); the
# caller reads "seconds max_rss_kib" from $OUT/time.txt.
measure() {
    sync
    /usr/bin/time -f '%e %M' -o "$OUT/time.txt" "$@" > "$OUT/cmd.out" 2> "$OUT/cmd.err" ||
        { cat "$OUT/cmd.out" "$OUT/cmd.err" >&2; die "failed: $1 $2"; }
}
mbps() { python3 -c "print(f'{$BYTES/1e6/$1:.0f}')"; }

# ---------------------------------------------------------------- Azurite
AZ_PORT=$(free_port)
mkdir -p "$OUT/azurite"
azurite-blob --blobHost 127.0.0.1 --blobPort "$AZ_PORT" --location "$OUT/azurite" --disableTelemetry > /dev/null 2>&1 &
PIDS+=($!)
wait_port "$AZ_PORT"
SAS=$(python3 - "$AZ_PORT" <<'EOF'
import base64, hmac, hashlib, sys, urllib.parse, urllib.request
key = base64.b64decode("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==")
acc, sv, se, port = "devstoreaccount1", "2021-12-02", "2099-01-01T00:00:00Z", sys.argv[1]
sign = lambda s: base64.b64encode(hmac.new(key, s.encode(), hashlib.sha256).digest()).decode()
asas = urllib.parse.urlencode(dict(sv=sv, ss="b", srt="sco", sp="rwdlac", se=se,
    sig=sign("\n".join([acc, "rwdlac", "b", "sco", "", se, "", "", sv, "", ""]))))
for c in ("bench", "curl"):
    urllib.request.urlopen(urllib.request.Request(
        f"http://127.0.0.1:{port}/{acc}/{c}?restype=container&{asas}", method="PUT",
        headers={"x-ms-version": sv, "Content-Length": "0"}))
def csas(c, sp):
    sts = "\n".join([sp, "", se, f"/blob/{acc}/{c}", "", "", "", sv, "c", "", "", "", "", "", "", ""])
    return urllib.parse.urlencode(dict(sv=sv, sp=sp, se=se, sr="c", sig=sign(sts)))
print(csas("bench", "cw"), csas("curl", "cwd"))
EOF
)
SEND_SAS=${SAS% *}; CURL_SAS=${SAS#* }
AZ="http://127.0.0.1:$AZ_PORT/devstoreaccount1"

took() { read -r "$1" "$2" < "$OUT/time.txt"; }
# The send must have finished with its receipt in the custody log.
check_sent() {
    grep -q '"action":"transferred"' "$(ls "$OUT"/pkg/*.custody.jsonl)" || die "no transferred event after $1"
}

log "Azurite: curl Put Blob of the whole file"
measure curl -sf -X PUT -T "$CT" -H "x-ms-blob-type: BlockBlob" \
    -H "x-ms-version: 2021-12-02" "$AZ/curl/$(basename "$CT")?$CURL_SAS"
took AZ_CURL_S AZ_CURL_RSS
# Free the disk the baseline blob takes before the send writes as much again.
curl -sf -X DELETE -H "x-ms-version: 2021-12-02" "$AZ/curl/$(basename "$CT")?$CURL_SAS" > /dev/null
log "Azurite: m365-preserve send"
reset_custody
measure "$BIN" --quiet send "$CT" --to "$AZ/bench?$SEND_SAS" --parallel "$PARALLEL"
took AZ_SEND_S AZ_SEND_RSS
check_sent Azurite
kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null || true; rm -rf "$OUT/azurite"

# ---------------------------------------------------------------- Rustack
# Rustack spills objects and parts to temporary files: keep them under $OUT.
S3_PORT=$(free_port)
mkdir -p "$OUT/rustack"
TMPDIR="$OUT/rustack" GATEWAY_LISTEN="127.0.0.1:$S3_PORT" SERVICES=s3 S3_SKIP_SIGNATURE_VALIDATION=false \
    ACCESS_KEY=bench SECRET_KEY=test rustack > /dev/null 2>&1 &
PIDS+=($!)
wait_port "$S3_PORT"
S3="http://127.0.0.1:$S3_PORT"
for b in bench curl; do
    curl -sf -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" --user bench:test "$S3/$b" > /dev/null ||
        die "cannot create bucket $b on Rustack"
done
log "Rustack: curl PutObject (SigV4) of the whole file"
measure curl -sf -X PUT -T "$CT" --aws-sigv4 "aws:amz:us-east-1:s3" \
    --user bench:test -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$S3/curl/$(basename "$CT")"
took S3_CURL_S S3_CURL_RSS
# Free the disk the baseline object takes before the send writes as much again.
curl -sf -X DELETE --aws-sigv4 "aws:amz:us-east-1:s3" --user bench:test "$S3/curl/$(basename "$CT")" > /dev/null
log "Rustack: m365-preserve send"
reset_custody
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_ENDPOINT_URL="$S3"
measure "$BIN" --quiet send "$CT" --to s3://bench/cases --parallel "$PARALLEL"
took S3_SEND_S S3_SEND_RSS
check_sent Rustack

# ---------------------------------------------------------------- results
{
    echo "package: $BYTES bytes ($SIZE_MIB MiB of random evidence), profile $PROFILE, --parallel $PARALLEL, $(nproc) cores"
    echo
    echo "| emulator | upload | seconds | MB/s | peak RSS | send / curl time |"
    echo "|---|---|---:|---:|---:|---:|"
    echo "| Azurite | curl, one Put Blob (no checksum) | $AZ_CURL_S | $(mbps "$AZ_CURL_S") | $((AZ_CURL_RSS / 1024)) MiB | |"
    echo "| Azurite | m365-preserve send (blocks + CRC-64, MD5, SHA-256) | $AZ_SEND_S | $(mbps "$AZ_SEND_S") | $((AZ_SEND_RSS / 1024)) MiB | $(python3 -c "print(f'{$AZ_SEND_S/$AZ_CURL_S:.2f}x')") |"
    echo "| Rustack | curl, one PutObject (SigV4, unsigned payload) | $S3_CURL_S | $(mbps "$S3_CURL_S") | $((S3_CURL_RSS / 1024)) MiB | |"
    echo "| Rustack | m365-preserve send (multipart + CRC-64/NVME, SHA-256) | $S3_SEND_S | $(mbps "$S3_SEND_S") | $((S3_SEND_RSS / 1024)) MiB | $(python3 -c "print(f'{$S3_SEND_S/$S3_CURL_S:.2f}x')") |"
    echo
    peak=$(( (AZ_SEND_RSS > S3_SEND_RSS ? AZ_SEND_RSS : S3_SEND_RSS) / 1024 ))
    if [ "$peak" -le 100 ]; then verdict=met; else verdict="NOT met"; fi
    echo "send peak RSS: $peak MiB (target <= 100 MiB: $verdict)"
} | tee "$ROOT/bench/out/send-results.md"
