#!/usr/bin/env bash
# Serve load benchmark (a benchmark, not a test): how many change events per second
# `media-janitor serve` takes over HTTP, how fast its queue worker removes the files they
# free, and how long each file waits between its POST and its removal; beside
# `find TREE -type f -delete` on an identical tree in the same run.
#
#   Benchmarks/serve-bench.sh [--files N] [--batch B] [--connections C] [--max-seconds S]
#                             [--app-rows M] [--no-watch] [--keep DIR] [--scratch-path DIR]
#
#   --files N          files in the generated tree, one delete event each (default 20000)
#   --batch B          events per POST /v1/events (default 1: one JSON object per request;
#                      more: a JSON array)
#   --connections C    concurrent HTTP/1.1 keep-alive connections of the load generator
#                      (default 4)
#   --max-seconds S    wall-clock cap on the load generator, sending and draining (default 120)
#   --app-rows M       put M rows in the app tables, referencing paths that are not in the
#                      tree, so the "does a row still hold it" checks read a database of a
#                      realistic size (default 0: empty tables)
#   --no-watch         run `serve --no-watch` (no inotify watcher): shows what the watcher costs
#   --keep DIR         generate the pristine tree in DIR and keep it (and the run's trees, the
#                      serve log and the store); a later run with the same DIR and N reuses it
#   --scratch-path DIR build in DIR (swift build --scratch-path; relative to the package);
#                      default: swift's own .build
#
# What it does: builds media-janitor, scan-fixture and serve-load in release mode; generates N
# files with `scan-fixture --referenced 0 --thumbnails 0` (every file unreferenced, the app
# tables empty or holding --app-rows unrelated rows); copies the tree twice (`cp -a`):
#   find/    timed:  find find/media -type f -delete                       (the floor)
#   serve/   a janitor.yml with defaults {quarantine: 0, delay: 0s}, serve {token, max_body:
#            16MB}; `media-janitor serve --listen 127.0.0.1:0` is started there (the port is read
#            from its `listening on http://HOST:PORT` line; the first walk of the watcher is
#            awaited through /healthz), then the load generator (Benchmarks/ServeLoad, a second
#            process) POSTs one `op: delete` event per file (table and column of the file's
#            class, in a fixed shuffled order) with C connections and B events per request,
#            stamping each event with the time its request was sent; it waits for
#            `GET /v1/queue/stats` to show total_pending 0, reads `removal (path, removed_at)`
#            from the store and computes latency = removed_at - send time per file.
# Then serve gets SIGTERM and must exit 0. Fails loudly (exit 1, evidence kept) unless every
# event was accepted (HTTP 202) and enqueued, every file has a removal record, no regular file
# is left in serve/media, and the queue shows total_pending 0, dead 0, done N.
#
# Output: a headline, then the load generator's report and the run's settings:
#   serve-bench files=20000 batch=1 connections=4 events/s=1500 removals/s=1480 p50=12.0ms p99=40.1ms find-delete=0.31s (64516/s) ratio=43.6x
# ratio = find's deletions per second / serve's removals per second (how many times slower).
# `removed_at` is the store's own timestamp (the janitor stamps a whole batch with one time,
# taken when the batch starts), so latencies can be a batch's processing time too low.
#
# Without --keep, the work directory (under ${TMPDIR:-/tmp}) is removed at the end.
# Needs: swift, find (GNU), awk, cp, sqlite3 (installed with apt-get when missing and running
# as root), curl (optional: without it the first walk is not awaited).
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
package=$(cd "$here/.." && pwd)

files=20000
batch=1
connections=4
max_seconds=120
app_rows=0
keep=""
scratch_path=""
watch=1
seed=1
token=serve-bench-token

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "serve-bench: $*" >&2; exit 2; }

while (($#)); do
    case $1 in
        --files) [[ $# -ge 2 ]] || die "--files needs a value"; files=${2//_/}; shift 2 ;;
        --files=*) files=${1#--files=}; files=${files//_/}; shift ;;
        --batch) [[ $# -ge 2 ]] || die "--batch needs a value"; batch=$2; shift 2 ;;
        --batch=*) batch=${1#--batch=}; shift ;;
        --connections) [[ $# -ge 2 ]] || die "--connections needs a value"; connections=$2; shift 2 ;;
        --connections=*) connections=${1#--connections=}; shift ;;
        --max-seconds) [[ $# -ge 2 ]] || die "--max-seconds needs a value"; max_seconds=$2; shift 2 ;;
        --max-seconds=*) max_seconds=${1#--max-seconds=}; shift ;;
        --app-rows) [[ $# -ge 2 ]] || die "--app-rows needs a value"; app_rows=${2//_/}; shift 2 ;;
        --app-rows=*) app_rows=${1#--app-rows=}; app_rows=${app_rows//_/}; shift ;;
        --no-watch) watch=0; shift ;;
        --keep) [[ $# -ge 2 ]] || die "--keep needs a directory"; keep=$2; shift 2 ;;
        --keep=*) keep=${1#--keep=}; shift ;;
        --scratch-path) [[ $# -ge 2 ]] || die "--scratch-path needs a directory"; scratch_path=$2; shift 2 ;;
        --scratch-path=*) scratch_path=${1#--scratch-path=}; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
[[ $files =~ ^[0-9]+$ && $files -ge 100 && $files -le 10000000 ]] || die "--files must be an integer from 100 to 10000000, not '$files'"
[[ $batch =~ ^[0-9]+$ && $batch -ge 1 && $batch -le 100000 ]] || die "--batch must be an integer from 1 to 100000, not '$batch'"
[[ $connections =~ ^[0-9]+$ && $connections -ge 1 && $connections -le 256 ]] || die "--connections must be an integer from 1 to 256, not '$connections'"
[[ $max_seconds =~ ^[0-9]+$ && $max_seconds -ge 1 && $max_seconds -le 3600 ]] || die "--max-seconds must be a whole number of seconds from 1 to 3600, not '$max_seconds'"
[[ $app_rows =~ ^[0-9]+$ ]] || die "--app-rows must be a non-negative integer, not '$app_rows'"

log() { echo "serve-bench: $*" >&2; }
fail() { echo "serve-bench: FAIL: $*" >&2; exit 1; }

# --- tools ---------------------------------------------------------------------------------
if ! command -v sqlite3 >/dev/null && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    log "installing sqlite3 (apt-get install -y)"
    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y sqlite3; } >/dev/null 2>&1 || log "apt-get install sqlite3 failed"
fi
command -v sqlite3 >/dev/null || die "sqlite3 (the CLI) is needed; install it (apt-get install sqlite3)"
have_curl=0
command -v curl >/dev/null && have_curl=1

# --- the work directory and the build (Benchmarks/common.sh) ---------------------------------
name=serve-bench
bench_products="media-janitor scan-fixture serve-load"
# shellcheck source=Benchmarks/common.sh
source "$here/common.sh"
bench_workdir
serve_pid=""
# Stops the serve this script started (by its pid), then hands the status to bench_cleanup.
stop_serve_on_exit() {
    local status=$?
    if [[ -n $serve_pid ]] && kill -0 "$serve_pid" 2>/dev/null; then
        kill -TERM "$serve_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$serve_pid" 2>/dev/null || true
    fi
    (exit "$status")
    bench_cleanup
}
trap stop_serve_on_exit EXIT
bench_build
load=$(dirname "$janitor")/serve-load
[[ -x $load ]] || die "serve-load not found next to $janitor"

# --- the pristine tree ---------------------------------------------------------------------
pristine=$work/pristine
marker=$pristine/scan-fixture.txt
bench_orphan_tree "$fixture" "$pristine" "$files" "$seed" 3

# --- the run directories -------------------------------------------------------------------
base=$work/run
rm -rf -- "$base"
copy_tree() {   # copy_tree DEST: a real copy (not hard links: they would share inodes)
    mkdir -p -- "$1"
    cp -a -- "$pristine/media" "$1/media" || fail "cp -a $pristine/media $1/media failed"
    local count
    count=$(find "$1/media" -type f | wc -l)
    ((count == files)) || fail "the copy in $1/media has $count files, not $files"
}
log "copying the tree ($files files) for find and for serve"
copy_tree "$base/find"
copy_tree "$base/serve"
dir=$base/serve
cp -- "$pristine/app.sqlite3" "$dir/app.sqlite3"
bench_app_rows "$dir/app.sqlite3" "$app_rows" || fail "adding $app_rows rows to $dir/app.sqlite3 failed"

cat > "$dir/janitor.yml" <<YAML
# Written by Benchmarks/serve-bench.sh: every event frees a file; removal is an unlink at once.
version: 1
media_root: media
database: sqlite:app.sqlite3
state: .janitor/state.sqlite3

defaults:
  grace: 15m
  delay: 0s
  quarantine: 0
  quarantine_dir: .janitor/quarantine

safety:
  max_delete_fraction: 1.0
  max_delete_bytes: 1TB
  refuse_empty_references: false

serve:
  token: $token
  max_body: 16MB

$classes_yaml
YAML

# One event per file: the table and column of its class (scan-fixture's classes), in a fixed
# shuffled order (a multiplicative hash of the line number), so the classes and directories
# are mixed as an app's deletions would be.
events=$dir/events.tsv
(cd "$dir/media" && find . -type f -printf '%P\n') | sort | awk '
    /^uploads\/images\// { t = "gallery_photo"; c = "image" }
    /^avatars\//         { t = "accounts_user"; c = "avatar" }
    /^documents\//       { t = "docs_document"; c = "file" }
    { if (t == "") { print "serve-bench: no class for " $0 > "/dev/stderr"; exit 1 }
      printf "%d\t%s\t%s\t%s\n", (NR * 2654435761) % 4294967296, t, c, $0; t = "" }' \
    | sort -n | cut -f 2- > "$events" || fail "listing the events failed"
[[ $(wc -l < "$events") == "$files" ]] || fail "$events lists $(wc -l < "$events") events, not $files"

# --- the baseline: find -delete on its own copy ----------------------------------------------
log "baseline: find -type f -delete ($files files)"
sync
clock; start=$REPLY
find "$base/find/media" -type f -delete || fail "find -delete failed"
clock; end=$REPLY
find_seconds=$(elapsed "$start" "$end")
left=$(find "$base/find/media" -type f | wc -l)
((left == 0)) || fail "find -delete left $left files"

# --- serve ---------------------------------------------------------------------------------
read -r load_before _ < /proc/loadavg || load_before="?"
# Share of the last 60 s in which some runnable task waited for a CPU (Linux PSI), when known.
cpu_pressure=$(awk '/^some/ { for (i = 1; i <= NF; i++) if ($i ~ /^avg60=/) print substr($i, 7) }' /proc/pressure/cpu 2>/dev/null || true)
log "starting media-janitor serve in $dir"
sync
cd "$dir"
serve_args=(serve --listen 127.0.0.1:0)
((watch)) || serve_args+=(--no-watch)
"$janitor" "${serve_args[@]}" >"$dir/serve.out" 2>"$dir/serve.err" &
serve_pid=$!
port=""
for _ in $(seq 300); do
    port=$(grep -o 'listening on http://[^ ]*' "$dir/serve.err" | head -n 1 | sed 's/.*:\([0-9]*\)$/\1/' || true)
    [[ -n $port ]] && break
    kill -0 "$serve_pid" 2>/dev/null || { sed 's/^/    /' "$dir/serve.err" >&2; serve_pid=""; fail "media-janitor serve exited before listening"; }
    sleep 0.1
done
[[ $port =~ ^[0-9]+$ ]] || { sed 's/^/    /' "$dir/serve.err" >&2; fail "no 'listening on http://HOST:PORT' line from serve within 30 s"; }
url=http://127.0.0.1:$port
# The watcher's first walk (usage) runs after the listener is up: let it finish before the
# clock starts, so the load does not race it. /healthz shows "watch" once it has.
walked="not awaited (no curl)"
if ((watch && have_curl)); then
    walked="not seen in 60 s"
    for _ in $(seq 600); do
        if curl -fsS --max-time 2 "$url/healthz" 2>/dev/null | grep -q '"watch"'; then walked="done"; break; fi
        sleep 0.1
    done
fi
log "serve is listening on $url (first walk: $walked); running serve-load"

stat_ticks() { awk '{ print $14 + $15 }' "/proc/$serve_pid/stat" 2>/dev/null || echo 0; }
ticks_per_second=$(getconf CLK_TCK 2>/dev/null || echo 100)
ticks_before=$(stat_ticks)
summary=$work/serve-load.txt
load_status=0
"$load" --url "$url" --events "$events" --store "$dir/.janitor/state.sqlite3" --token "$token" \
    --batch "$batch" --connections "$connections" --max-seconds "$max_seconds" --summary "$summary" \
    >"$work/serve-load.out" 2>"$work/serve-load.err" || load_status=$?
ticks_after=$(stat_ticks)
serve_cpu=$(awk -v a="$ticks_before" -v b="$ticks_after" -v hz="$ticks_per_second" 'BEGIN { printf "%.2f", (b - a) / hz }')
serve_rss_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$serve_pid/status" 2>/dev/null || echo "")
if ((load_status == 2)) || [[ ! -s $summary ]]; then
    sed 's/^/    /' "$work/serve-load.err" >&2
    keep=${keep:-$work}
    fail "serve-load could not run (status $load_status); serve's log: $dir/serve.err"
fi

# SIGTERM: serve must exit 0, within 30 s.
log "stopping serve (SIGTERM)"
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
serve_pid_was=$serve_pid
if [[ -z $serve_status ]]; then
    kill -KILL "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
    serve_status="none (still running 30 s after SIGTERM; SIGKILLed)"
fi
serve_pid=""
cd "$work"

# --- checks --------------------------------------------------------------------------------
value() { bench_field "$summary" "$1" 2>/dev/null || echo "?"; }
problems=()
[[ $(value accepted) == "$files" ]] || problems+=("$(value accepted) of $files events were accepted (HTTP 202); statuses $(value http_statuses), transport errors $(value transport_errors)")
[[ $(value enqueued) == "$files" ]] || problems+=("$(value enqueued) of $files events were enqueued")
[[ $(value removed) == "$files" ]] || problems+=("$(value removed) of $files files have a removal record ($(value not_removed) without)")
[[ $(value send_capped) == no ]] || problems+=("sending stopped at the ${max_seconds}s cap")
[[ $(value drain_capped) == no ]] || problems+=("the queue was not drained within the ${max_seconds}s cap (total_pending $(value stats_total_pending))")
[[ $(value latency_negative) == 0 ]] || problems+=("$(value latency_negative) removals are stamped before their event was sent")
left=$(find "$dir/media" -type f | wc -l)
((left == 0)) || problems+=("$left regular files are left under $dir/media")
rows=$(sqlite3 "$dir/.janitor/state.sqlite3" "SELECT count(*) FROM removal WHERE quarantine_path IS NULL" 2>&1) || rows="? ($rows)"
[[ $rows == "$files" ]] || problems+=("the removal table holds $rows unlinked rows, not $files")
IFS='|' read -r q_pending q_done q_dead < <(sqlite3 "$dir/.janitor/state.sqlite3" \
    "SELECT sum(state IN ('pending', 'running')), sum(state = 'done'), sum(state = 'dead') FROM queue_item" 2>/dev/null) || true
[[ ${q_pending:-?} == 0 && ${q_done:-?} == "$files" && ${q_dead:-?} == 0 ]] \
    || problems+=("queue_item: pending ${q_pending:-?}, done ${q_done:-?}, dead ${q_dead:-?} (expected 0, $files, 0)")
[[ $serve_status == 0 ]] || problems+=("media-janitor serve exit status after SIGTERM: $serve_status (expected 0)")
if ((${#problems[@]})); then
    cat "$work/serve-load.out"
    sed 's/^/    /' "$work/serve-load.err" >&2
    for p in "${problems[@]}"; do echo "serve-bench: FAIL: $p" >&2; done
    keep=${keep:-$work}   # keep the evidence
    fail "serve did not remove the $files files as expected (evidence kept in $work; serve's log: $dir/serve.err)"
fi

# --- report --------------------------------------------------------------------------------
find_rate=$(per_second "$files" "$find_seconds")
ratio=$(awk -v f="$find_rate" -v j="$(value removals_per_second)" 'BEGIN { printf "%.1f", (j > 0 ? f / j : 0) }')
echo "serve-bench files=$files batch=$batch connections=$connections events/s=$(value events_per_second) removals/s=$(value removals_per_second) p50=$(value latency_ms_p50)ms p99=$(value latency_ms_p99)ms find-delete=${find_seconds}s (${find_rate}/s) ratio=${ratio}x"
sed 's/^/  /' "$work/serve-load.out"
echo "  baseline  find TREE -type f -delete on an identical copy: ${find_seconds}s, ${find_rate} files/s; ratio = find's files/s / serve's removals/s = ${ratio}x"
echo "  serve     CPU $serve_cpu s during the load ($(awk -v c="$serve_cpu" -v n="$files" 'BEGIN { printf "%.0f", (n > 0 ? c * 1e6 / n : 0) }') us per event), peak RSS $(awk -v k="${serve_rss_kb:-0}" 'BEGIN { printf "%.1f", k / 1024 }')MB; exit status after SIGTERM $serve_status"
echo "  checked   $files accepted and enqueued, $files removal records (unlinked), 0 files left, queue_item pending 0 / done $files / dead 0"
echo "  settings  files=$files batch=$batch connections=$connections max_seconds=$max_seconds app_rows=$app_rows; config: quarantine 0, delay 0s, batch_size default, max_body 16MB, token; watcher $( ((watch)) && echo "on (first walk: $walked)" || echo "off (--no-watch)")"
echo "  fixture   $files files (none referenced) in $leaf_dirs leaf dirs, $(awk -v b="$expected_bytes" 'BEGIN { printf "%.1f", b / 1048576 }')MB; app tables $( ((app_rows)) && echo "hold $app_rows unrelated rows" || echo empty); $generated"
echo "  machine   $(nproc) CPUs; before serve started: load average $load_before${cpu_pressure:+, CPU pressure (PSI some avg60) ${cpu_pressure}%} (other processes share these CPUs: compare runs on a quiet machine only)"
echo "  notes     latency = removed_at (the store's stamp, taken when the janitor's batch starts) - the time the event's POST was written; removals/s = removed / (last removed_at - first send)"
echo "  work dir: $work ($([[ -n $keep ]] && echo kept || echo removed))"
