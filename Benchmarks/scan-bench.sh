#!/usr/bin/env bash
# Orphan-scan benchmark (a benchmark, not a test): how close `media-janitor scan` gets to the
# floor of the directory walk itself (DESIGN.md section 7).
#
#   Benchmarks/scan-bench.sh [--files N | --million] [--keep DIR] [--runs R] [--strict]
#
#   --files N    files in the generated tree (default 200000; 400 thumbnails are added)
#   --million    same as --files 1000000
#   --keep DIR   generate the tree in DIR and keep it; a later run with the same DIR and N
#                reuses it (DIR/scan-fixture.txt records what was generated)
#   --runs R     timed runs of each command (default 3; the best is reported)
#   --strict     exit 1 when a target is missed (scan <= 1.5x find, peak RSS < 400 MB)
#
# What it does: builds media-janitor and scan-fixture in release mode; generates N files, a
# SQLite database referencing ~90% of them and a janitor.yml (Benchmarks/ScanFixture); warms
# the page cache with one `find`; runs the scan once and checks its JSON summary against what
# the generator wrote (fails loudly on a mismatch); then alternates
#     find MEDIA -type f -printf '%s %P\n' >/dev/null
#     media-janitor scan --config DIR/janitor.yml --format json --no-record --output /dev/null
# R times each and reports the best wall time of each, their ratio and the scan's peak RSS;
# finally one scan WITH recording (the audit-history write) is timed and reported separately.
#
# First output line (the headline):
#   scan-bench files=1000000 scan=1.234s find=0.987s ratio=1.25 peak_rss=210.5MB orphans=100000
#
# Without --keep, the work directory (under ${TMPDIR:-/tmp}) is removed at the end.
# Needs: swift, find (GNU), awk; GNU time (/usr/bin/time) for RSS (installed with apt-get when
# running as root, otherwise VmHWM is polled from /proc); jq is used when present.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
package=$(cd "$here/.." && pwd)

files=200000
keep=""
runs=3
strict=0
referenced=0.9
seed=1

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "scan-bench: $*" >&2; exit 2; }

while (($#)); do
    case $1 in
        --files) [[ $# -ge 2 ]] || die "--files needs a value"; files=${2//_/}; shift 2 ;;
        --files=*) files=${1#--files=}; files=${files//_/}; shift ;;
        --million) files=1000000; shift ;;
        --keep) [[ $# -ge 2 ]] || die "--keep needs a directory"; keep=$2; shift 2 ;;
        --keep=*) keep=${1#--keep=}; shift ;;
        --runs) [[ $# -ge 2 ]] || die "--runs needs a value"; runs=$2; shift 2 ;;
        --strict) strict=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
[[ $files =~ ^[0-9]+$ && $files -ge 1000 ]] || die "--files must be an integer >= 1000, not '$files'"
[[ $runs =~ ^[0-9]+$ && $runs -ge 1 ]] || die "--runs must be a positive integer, not '$runs'"

log() { echo "scan-bench: $*" >&2; }

# --- the work directory and the build (Benchmarks/common.sh) ---------------------------------
name=scan-bench
# shellcheck source=Benchmarks/common.sh
source "$here/common.sh"
bench_workdir
bench_build

# --- the fixture ---------------------------------------------------------------------------
marker=$work/scan-fixture.txt
field() {   # field FILE KEY: the value of KEY=... in FILE
    awk -F= -v key="$2" '$1 == key { print substr($0, length(key) + 2); found = 1; exit } END { if (!found) exit 1 }' "$1"
}
generated="reused"
if [[ -f $marker && -d $work/media ]] && [[ $(field "$marker" files) == "$files" \
        && $(field "$marker" referenced) == "$referenced" && $(field "$marker" seed) == "$seed" ]]; then
    log "reusing the tree in $work ($(field "$marker" total_files) files)"
else
    rm -rf -- "$work/media" "$work/app.sqlite3" "$work/janitor.yml" "$work/.janitor" "$marker"
    # Each file takes one 4 KiB block (or none) plus an inode; ask for 6 KiB per file.
    need_kb=$((files * 6))
    avail_kb=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
    avail_inodes=$(df -Pi "$work" | awk 'NR == 2 { print $4 }')
    if [[ $avail_kb =~ ^[0-9]+$ ]] && ((avail_kb < need_kb)); then
        die "$work: $((avail_kb / 1024)) MB free, about $((need_kb / 1024)) MB needed for $files files"
    fi
    if [[ $avail_inodes =~ ^[0-9]+$ ]] && ((avail_inodes < files + 10000)); then
        die "$work: $avail_inodes inodes free, $files needed"
    fi
    log "generating $files files in $work"
    "$fixture" "$work" --files "$files" --referenced "$referenced" --seed "$seed" >&2
    generated="generated in $(field "$marker" generate_seconds)s"
fi
config=$work/janitor.yml
media=$work/media
total_files=$(field "$marker" total_files)
expected_orphans=$(field "$marker" expected_orphans)
expected_bytes=$(field "$marker" expected_bytes)

# --- peak RSS: GNU time, or VmHWM polled from /proc ----------------------------------------
gnu_time=/usr/bin/time
has_gnu_time() { [[ -x $gnu_time ]] && "$gnu_time" --version 2>&1 | grep -q GNU; }
if ! has_gnu_time; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        log "installing GNU time (apt-get install -y time)"
        { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y time; } >"$work/apt.log" 2>&1 \
            || log "apt-get failed (see below); falling back to polling VmHWM"$'\n'"$(tail -5 "$work/apt.log")"
    fi
fi
if has_gnu_time; then rss_method="GNU time %M"; else gnu_time=""; rss_method="VmHWM polled from /proc"; fi

# --- timing --------------------------------------------------------------------------------
if [[ -n ${EPOCHREALTIME:-} ]]; then
    clock() { REPLY=$EPOCHREALTIME; }
else
    clock() { REPLY=$(date +%s.%N); }
fi
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

err=$work/stderr.txt
rss_file=$work/rss.txt

# run_timed NAME CMD...: runs CMD (through GNU time when available, for both find and the scan,
# so they pay the same wrapper), sets SECONDS_TAKEN and RSS_KB (empty without GNU time).
run_timed() {
    local name=$1 start end status=0
    shift
    : > "$rss_file"
    clock; start=$REPLY
    if [[ -n $gnu_time ]]; then
        "$gnu_time" -f '%M' -o "$rss_file" "$@" >/dev/null 2>"$err" || status=$?
    else
        "$@" >/dev/null 2>"$err" || status=$?
    fi
    clock; end=$REPLY
    if ((status != 0)); then
        cat "$err" >&2
        echo "scan-bench: FAIL: $name exited with status $status: $*" >&2
        exit 1
    fi
    SECONDS_TAKEN=$(elapsed "$start" "$end")
    RSS_KB=$(tail -n 1 "$rss_file" 2>/dev/null || true)
}

# poll_rss CMD...: runs CMD untimed and sets RSS_KB to the highest VmHWM seen (a lower bound
# of the peak, sampled every 10 ms).
poll_rss() {
    local pid status=0 line peak=0 kb
    "$@" >/dev/null 2>"$err" &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        if [[ -r /proc/$pid/status ]]; then
            while IFS= read -r line; do
                if [[ $line == VmHWM:* ]]; then
                    kb=${line//[!0-9]/}
                    [[ -n $kb ]] && ((kb > peak)) && peak=$kb
                    break
                fi
            done < "/proc/$pid/status" 2>/dev/null || true
        fi
        sleep 0.01
    done
    wait "$pid" || status=$?
    ((status == 0)) || { cat "$err" >&2; echo "scan-bench: FAIL: exited with status $status: $*" >&2; exit 1; }
    RSS_KB=$peak
}

find_cmd=(find "$media" -type f -printf '%s %P\n')
scan_cmd=("$janitor" scan --config "$config" --format json --no-record --output /dev/null)
scan_recorded_cmd=("$janitor" scan --config "$config" --format json --output /dev/null)

log "warming the page cache (find)"
"${find_cmd[@]}" >/dev/null

# --- one checked scan: its JSON summary against what the generator wrote -------------------
json=$work/scan.json
log "checking the scan's JSON summary"
# --verbose: the scan logs its phase timings (walk, reference read, reconcile) as debug lines.
if ! "$janitor" scan --config "$config" --format json --no-record --output "$json" --verbose 2>"$err"; then
    cat "$err" >&2
    echo "scan-bench: FAIL: media-janitor scan failed" >&2
    exit 1
fi
phase() { grep -o "$1=[0-9.]*s" "$err" | head -n 1 | cut -d= -f2 || true; }
phases="walk=$(phase walk.time) references=$(phase references.time) reconcile=$(phase reconcile.time) audit=$(phase audit.time)"
if grep -qv ' debug ' "$err"; then
    log "the scan wrote to stderr:"
    grep -v ' debug ' "$err" | sed 's/^/    /' >&2
fi
summary_field() {
    if command -v jq >/dev/null; then
        jq -r --arg k "$1" '.summary[$k] // "absent"' "$json"
    else
        tr -d ' \n' < "$json" | grep -o '"summary":{[^}]*}' | grep -o "\"$1\":[0-9]*" | head -n 1 | cut -d: -f2
    fi
}
got_files=$(summary_field files)
got_orphans=$(summary_field orphans)
got_bytes=$(summary_field bytes)
got_missing=$(summary_field missing)
got_invalid=$(summary_field invalid)
got_unclassified=$(summary_field unclassified)
problems=()
[[ $got_files == "$total_files" ]] || problems+=("summary.files is $got_files, expected $total_files ($files + thumbnails)")
[[ $got_orphans == "$expected_orphans" ]] || problems+=("summary.orphans is $got_orphans, expected $expected_orphans")
if [[ $got_orphans =~ ^[0-9]+$ ]]; then
    # About 1 - referenced of the files: within 1 point, or 4 standard deviations on small trees.
    awk -v o="$got_orphans" -v n="$total_files" -v r="$referenced" 'BEGIN {
            p = 1 - r; tol = 4 * sqrt(p * (1 - p) / n); if (tol < 0.01) tol = 0.01
            exit !(o / n >= p - tol && o / n <= p + tol) }' \
        || problems+=("summary.orphans is $got_orphans: not about $(awk -v r="$referenced" 'BEGIN { print (1 - r) * 100 }')% of $total_files")
fi
[[ $got_bytes == "$expected_bytes" ]] || problems+=("summary.bytes is $got_bytes, expected $expected_bytes")
[[ $got_missing == 0 && $got_invalid == 0 && $got_unclassified == 0 ]] \
    || problems+=("missing/invalid/unclassified are $got_missing/$got_invalid/$got_unclassified, expected 0/0/0")
if ((${#problems[@]})); then
    for p in "${problems[@]}"; do echo "scan-bench: FAIL: $p" >&2; done
    echo "scan-bench: FAIL: the scan's report does not match the fixture (report kept in $json)" >&2
    keep=${keep:-$work}   # keep the evidence
    exit 1
fi

# --- timed runs: find and scan alternately; the best of each -------------------------------
find_times=() scan_times=() scan_rss=()
for ((i = 1; i <= runs; i++)); do
    log "run $i/$runs"
    run_timed find "${find_cmd[@]}"
    find_times+=("$SECONDS_TAKEN")
    run_timed scan "${scan_cmd[@]}"
    scan_times+=("$SECONDS_TAKEN")
    [[ -n $RSS_KB ]] && scan_rss+=("$RSS_KB")
done
minimum() { printf '%s\n' "$@" | sort -g | head -n 1; }
maximum() { printf '%s\n' "$@" | sort -g | tail -n 1; }
best_find=$(minimum "${find_times[@]}")
best_scan=$(minimum "${scan_times[@]}")
if ((${#scan_rss[@]})); then
    peak_kb=$(maximum "${scan_rss[@]}")
else
    poll_rss "${scan_cmd[@]}"
    peak_kb=$RSS_KB
fi

# --- one scan with recording (the audit-history write) -------------------------------------
rm -f -- "$work/.janitor/state.sqlite3" "$work/.janitor/state.sqlite3-wal" "$work/.janitor/state.sqlite3-shm" "$work/.janitor/state.sqlite3-journal"
run_timed "scan (recorded)" "${scan_recorded_cmd[@]}"
recorded_time=$SECONDS_TAKEN
recorded_kb=$RSS_KB
if [[ -z $recorded_kb ]]; then
    poll_rss "${scan_recorded_cmd[@]}"
    recorded_kb=$RSS_KB
fi
[[ -s $work/.janitor/state.sqlite3 ]] || { echo "scan-bench: FAIL: the recorded scan left no store at $work/.janitor/state.sqlite3" >&2; exit 1; }

# --- report --------------------------------------------------------------------------------
ratio() { awk -v s="$1" -v f="$2" 'BEGIN { printf "%.2f", (f > 0 ? s / f : 0) }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
headline_ratio=$(ratio "$best_scan" "$best_find")
echo "scan-bench files=$files scan=${best_scan}s find=${best_find}s ratio=$headline_ratio peak_rss=$(mb "$peak_kb")MB orphans=$got_orphans"
echo "scan-bench recorded files=$files scan=${recorded_time}s ratio=$(ratio "$recorded_time" "$best_find") peak_rss=$(mb "$recorded_kb")MB (one run, with the audit-history write)"
echo "  runs (s): find ${find_times[*]} | scan ${scan_times[*]}"
echo "  fixture: $total_files files ($files + $(field "$marker" thumbnails) thumbnails) in $(field "$marker" leaf_directories) leaf dirs, $(mb $((expected_bytes / 1024)))MB of data; rows: accounts_user=$(field "$marker" rows_accounts_user) gallery_photo=$(field "$marker" rows_gallery_photo) docs_document=$(field "$marker" rows_docs_document); $generated"
if [[ $phases =~ walk=[0-9] ]]; then echo "  phases (checked run, --verbose): $phases"; fi
echo "  checked: summary.files=$got_files summary.orphans=$got_orphans summary.bytes=$got_bytes (all as generated)"
ratio_ok=$(awk -v r="$headline_ratio" 'BEGIN { print (r <= 1.5 ? "ok" : "MISSED") }')
rss_ok=$(awk -v k="$peak_kb" 'BEGIN { print (k / 1024 < 400 ? "ok" : "MISSED") }')
echo "  targets: scan <= 1.5x find: $ratio_ok; peak RSS < 400 MB: $rss_ok (RSS from $rss_method)"
echo "  work dir: $work ($([[ -n $keep ]] && echo kept || echo removed))"
if ((strict)) && [[ $ratio_ok != ok || $rss_ok != ok ]]; then
    exit 1
fi
