#!/usr/bin/env bash
# Takes a screenshot of `media-janitor serve`'s status page (GET /) on the sample app, for the
# docs: docs/status-page.png.
#
#   scripts/status-screenshot.sh [--output FILE] [--token T] [--no-events] [--scratch-path DIR]
#
#   --output FILE        where the PNG goes (default docs/status-page.png, relative to the package)
#   --token T            serve.token, when the sample config sets one (also MEDIA_JANITOR_TOKEN);
#                        sent as ?token= (the status page takes it there, for browsers)
#   --no-events          do not post the three delete events (the page then shows no removals)
#   --scratch-path DIR   build in DIR (swift build --scratch-path, relative to the package);
#                        default: swift's own .build
#
# What it does:
#   1. finds headless Chromium (`chromium`, then `chromium-browser`); when neither is there and
#      this runs as root on Debian: apt-get update && apt-get install -y chromium
#   2. builds media-janitor (debug, as `make demo` does) and the sample app:
#      bash samples/make-sample.sh samples/out (this replaces samples/out)
#   3. runs `media-janitor scan` once in samples/, so the page has an audit
#   4. starts `media-janitor serve --listen 127.0.0.1:0` in samples/, reads the port from its
#      `listening on http://HOST:PORT` line and waits for the watcher's first walk (/healthz
#      shows "watch"), so the usage table is filled
#   5. unless --no-events: POSTs delete events for three planted orphans (a profile picture with
#      its thumbnails and WebP, a forum image, a receipt) and waits until the queue is empty,
#      so "Recent removals" has rows (the sample quarantines them: they stay restorable)
#   6. chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,1000
#      --screenshot=FILE http://127.0.0.1:PORT/
#   7. checks FILE is a PNG larger than 10 KB, stops serve with SIGTERM and checks it exits 0
#
# Exit status: 0 when the screenshot was taken and serve exited 0; 1 when a check failed; 2 on a
# usage error or a missing tool.
# Needs: swift, bash, sqlite3 (samples/make-sample.sh), curl, Chromium.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
package=$(cd "$here/.." && pwd)

output=docs/status-page.png
token=${MEDIA_JANITOR_TOKEN:-}
events=1
scratch_path=""

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "status-screenshot: $*" >&2; exit 2; }
fail() { echo "status-screenshot: FAIL: $*" >&2; exit 1; }
log() { echo "status-screenshot: $*" >&2; }

while (($#)); do
    case $1 in
        --output) [[ $# -ge 2 ]] || die "--output needs a file"; output=$2; shift 2 ;;
        --output=*) output=${1#--output=}; shift ;;
        --token) [[ $# -ge 2 ]] || die "--token needs a value"; token=$2; shift 2 ;;
        --token=*) token=${1#--token=}; shift ;;
        --no-events) events=0; shift ;;
        --scratch-path) [[ $# -ge 2 ]] || die "--scratch-path needs a directory"; scratch_path=$2; shift 2 ;;
        --scratch-path=*) scratch_path=${1#--scratch-path=}; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
[[ $output == /* ]] || output=$package/$output
mkdir -p -- "$(dirname "$output")"

# --- tools ---------------------------------------------------------------------------------
find_chromium() {
    local candidate
    for candidate in chromium chromium-browser; do
        if command -v "$candidate" >/dev/null; then command -v "$candidate"; return 0; fi
    done
    return 1
}
apt_missing=()
find_chromium >/dev/null || apt_missing+=(chromium)
command -v curl >/dev/null || apt_missing+=(curl)
command -v sqlite3 >/dev/null || apt_missing+=(sqlite3)
if ((${#apt_missing[@]})); then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        log "installing ${apt_missing[*]} (apt-get update && apt-get install -y ${apt_missing[*]})"
        apt_log=$(mktemp "${TMPDIR:-/tmp}/status-screenshot-apt.XXXXXX")
        if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${apt_missing[@]}"; } >"$apt_log" 2>&1; then
            tail -n 20 "$apt_log" >&2
            rm -f -- "$apt_log"
            die "apt-get install ${apt_missing[*]} failed"
        fi
        rm -f -- "$apt_log"
    else
        die "${apt_missing[*]} missing: install them (Debian, as root: apt-get install -y ${apt_missing[*]})"
    fi
fi
chromium=$(find_chromium) || die "no chromium or chromium-browser on PATH, even after apt-get install chromium"
"$chromium" --version >/dev/null 2>&1 || die "$chromium does not run ($chromium --version failed)"

# --- build: media-janitor and the sample -----------------------------------------------------
scratch=()
[[ -n $scratch_path ]] && scratch=(--scratch-path "$scratch_path")
log "building media-janitor (swift build${scratch_path:+ --scratch-path $scratch_path} --product media-janitor)"
build_log=$(mktemp "${TMPDIR:-/tmp}/status-screenshot-build.XXXXXX")
if ! (cd "$package" && swift build ${scratch[@]+"${scratch[@]}"} --product media-janitor) >"$build_log" 2>&1; then
    tail -n 40 "$build_log" >&2
    rm -f -- "$build_log"
    die "swift build failed"
fi
rm -f -- "$build_log"
janitor=$(cd "$package" && swift build ${scratch[@]+"${scratch[@]}"} --show-bin-path)/media-janitor
[[ -x $janitor ]] || die "media-janitor not found at $janitor"

samples=$package/samples
log "building the sample app (bash samples/make-sample.sh samples/out)"
if ! (cd "$package" && bash samples/make-sample.sh samples/out) >/dev/null; then
    # A process that still has the previous samples/out/app.sqlite3 open (a serve left running
    # in samples/) checks for a hot journal by path, finds the new database's journal and
    # breaks the build with "disk I/O error".
    holders=$(find /proc/[0-9]*/fd -lname "$samples/out/*" 2>/dev/null | cut -d/ -f3 | sort -u | tr '\n' ' ' || true)
    [[ -z $holders ]] || log "processes with files of samples/out open: $holders(stop them and run this again)"
    die "samples/make-sample.sh failed"
fi

cd "$samples"
log "recording an audit (media-janitor scan in samples/)"
"$janitor" scan --output /dev/null || fail "media-janitor scan failed"

# --- serve ---------------------------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/status-screenshot.XXXXXX")
serve_pid=""
cleanup() {
    local status=$?
    if [[ -n $serve_pid ]] && kill -0 "$serve_pid" 2>/dev/null; then
        kill -TERM "$serve_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$serve_pid" 2>/dev/null || true
    fi
    rm -rf -- "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "starting media-janitor serve --listen 127.0.0.1:0 in samples/"
"$janitor" serve --listen 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.err" &
serve_pid=$!
port=""
for _ in $(seq 300); do
    port=$(grep -o 'listening on http://[^ ]*' "$work/serve.err" | head -n 1 | sed 's/.*:\([0-9]*\)$/\1/' || true)
    [[ -n $port ]] && break
    if ! kill -0 "$serve_pid" 2>/dev/null; then
        sed 's/^/    /' "$work/serve.err" >&2
        serve_pid=""
        fail "media-janitor serve exited before listening"
    fi
    sleep 0.1
done
[[ $port =~ ^[0-9]+$ ]] || { sed 's/^/    /' "$work/serve.err" >&2; fail "no 'listening on http://HOST:PORT' line from serve within 30 s"; }
base=http://127.0.0.1:$port
auth=()
query=""
if [[ -n $token ]]; then
    auth=(-H "Authorization: Bearer $token")
    query="?token=$(printf '%s' "$token" | jq -sRr @uri 2>/dev/null || printf '%s' "$token")"
fi
# The usage table comes from the watcher's first walk: wait for it (/healthz shows "watch").
walked=0
for _ in $(seq 300); do
    if curl -fsS --max-time 2 "$base/healthz" 2>/dev/null | grep -q '"watch"'; then walked=1; break; fi
    sleep 0.1
done
((walked)) || log "warning: the watcher's first walk did not finish within 30 s; the usage table may be empty"
status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 ${auth[@]+"${auth[@]}"} "$base/v1/queue/stats" || true)
if [[ $status == 401 ]]; then
    fail "serve wants a token (serve.token is set): pass --token T or MEDIA_JANITOR_TOKEN"
fi
[[ $status == 200 ]] || fail "GET /v1/queue/stats answered HTTP $status"

# --- a few removals, so the page shows some --------------------------------------------------
if ((events)); then
    planted=$samples/out/planted.txt
    pick() { awk -F'\t' -v re="$1" '$1 == "orphan" && $2 ~ re { print $2; exit }' "$planted"; }
    picture=$(pick '^profile_pics/[^/]*\.jpg$')
    forum=$(pick '^forum_images/')
    receipt=$(pick '^receipts/')
    [[ -n $picture && -n $forum && -n $receipt ]] || fail "cannot find planted orphans in $planted"
    body=$(cat <<JSON
[{"id": "screenshot-1", "table": "accounts_user", "column": "profile_pic", "op": "replace", "key": "9001", "old": "$picture", "new": "profile_pics/default.png"},
 {"id": "screenshot-2", "table": "forum_post", "column": "image", "op": "delete", "key": "9002", "old": "$forum", "new": null},
 {"id": "screenshot-3", "table": "billing_receipt", "column": "file", "op": "delete", "key": "9003", "old": "$receipt", "new": null}]
JSON
)
    log "posting 3 delete/replace events ($picture, $forum, $receipt)"
    reply=$(curl -sS --max-time 30 -w '\n%{http_code}' ${auth[@]+"${auth[@]}"} -H 'Content-Type: application/json' --data-binary "$body" "$base/v1/events") \
        || fail "POST /v1/events failed"
    [[ ${reply##*$'\n'} == 202 ]] || fail "POST /v1/events answered HTTP ${reply##*$'\n'}: ${reply%$'\n'*}"
    drained=0
    for _ in $(seq 150); do
        stats=$(curl -fsS --max-time 5 ${auth[@]+"${auth[@]}"} "$base/v1/queue/stats" || true)
        if [[ $stats == *'"total_pending": 0'* || $stats == *'"total_pending":0'* ]]; then drained=1; break; fi
        sleep 0.2
    done
    ((drained)) || fail "the queue did not drain within 30 s: $stats"
fi

# --- the screenshot ------------------------------------------------------------------------
rm -f -- "$output"
log "screenshot of $base/ -> $output"
chromium_status=0
(cd "$work" && timeout 90 "$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,1000 \
    --user-data-dir="$work/chromium-profile" --screenshot="$output" "$base/$query") >"$work/chromium.log" 2>&1 || chromium_status=$?
if [[ ! -s $output ]]; then
    tail -n 30 "$work/chromium.log" >&2
    fail "chromium (status $chromium_status) wrote no screenshot at $output"
fi
size=$(stat -c %s "$output")
magic=$(head -c 8 "$output" | od -An -tx1 | tr -d ' \n')
[[ $magic == 89504e470d0a1a0a ]] || fail "$output is not a PNG (starts with $magic)"
((size > 10240)) || fail "$output is only $size bytes: the page probably did not render"

# --- stop serve: SIGTERM, exit 0 -----------------------------------------------------------
kill -TERM "$serve_pid"
serve_status=""
for _ in $(seq 300); do
    if ! kill -0 "$serve_pid" 2>/dev/null; then
        serve_status=0
        wait "$serve_pid" || serve_status=$?
        break
    fi
    sleep 0.1
done
if [[ -z $serve_status ]]; then
    fail "media-janitor serve still runs 30 s after SIGTERM (the exit trap kills it)"
fi
serve_pid=""
[[ $serve_status == 0 ]] || { sed 's/^/    /' "$work/serve.err" >&2; fail "media-janitor serve exited $serve_status after SIGTERM, not 0"; }

dimensions=$(od -An -tu1 -j16 -N8 "$output" | awk '{ printf "%dx%d", $1 * 16777216 + $2 * 65536 + $3 * 256 + $4, $5 * 16777216 + $6 * 65536 + $7 * 256 + $8 }')
echo "status-screenshot: $output ($size bytes, ${dimensions} px) of $base/ ($( ((events)) && echo "after 3 events" || echo "no events")); serve exited 0 after SIGTERM"
