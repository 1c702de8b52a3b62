#!/usr/bin/env bash
# Queue-drain benchmark (a benchmark, not a test): how fast `media-janitor queue run` removes
# files, beside `find TREE -type f -delete` on an identical tree in the same run.
#
#   Benchmarks/queue-bench.sh [--files N] [--keep DIR] [--runs R] [--quarantine [on|off|both]]
#                             [--no-quarantine] [--batch-size B] [--app-rows M] [--no-clean]
#
#   --files N         files in the generated tree, every one an orphan (default 100000)
#   --keep DIR        generate the pristine tree in DIR and keep it (and the last run's trees);
#                     a later run with the same DIR and N reuses it
#   --runs R          measured runs per mode (default 1); removal is destructive, so every run
#                     copies fresh trees from the pristine one; the best time of each is reported
#   --quarantine [M]  which modes: on (rename into defaults.quarantine_dir, same file system),
#                     off (defaults.quarantine: 0, unlink) or both (the default); a bare
#                     --quarantine means on, --no-quarantine means off
#   --batch-size B    defaults.batch_size for the drain (default: the janitor's own, 100)
#   --app-rows M      put M rows in the app tables, referencing paths that are not in the tree,
#                     so the re-check right before each removal reads a database of a realistic
#                     size (default 0: empty tables, the removal path alone is measured)
#   --no-clean        skip the extra timing of a whole `clean --force` (audit + enqueue + drain)
#
# What it does: builds media-janitor and scan-fixture in release mode; generates N files with
# `scan-fixture --referenced 0 --thumbnails 0` (every file an orphan, the app tables empty) and
# for each mode and run copies that tree (`cp -a`, real copies) into:
#   find/    timed:  find find/media -type f -delete
#   drain/   filled: MEDIA_JANITOR_CRASH_AT=claimed:1 media-janitor clean --force, with
#                    defaults.batch_size 1: the audit enqueues all N orphans in one transaction
#                    (the production path), the first item is claimed and the process is
#                    SIGKILLed there, leaving N items queued (one of them `running`)
#            timed:  media-janitor queue run (releases that one item, then drains all N)
#   clean/   timed:  media-janitor clean --force (audit + enqueue + drain in one go)
# The config has safety {max_delete_fraction: 1.0, max_delete_bytes: 1TB,
# refuse_empty_references: false} and --force is passed, so the circuit breaker never stops it.
# After every janitor run it checks (and fails loudly otherwise): no regular file left in the
# tree; the run's JSON summary removed N files and `bytes` as generated, nothing kept, gone,
# retried, dead or refused; `queue stats --format json` shows total_pending 0, dead 0, done N;
# the state store's removal table holds N rows (quarantine_path set iff quarantine is on); with
# quarantine on, the quarantine directory holds N files and `quarantine list --format json`
# lists N removals (or exactly 1000 when N > 1000: that listing is capped at 1000, noted).
# `sync` runs before each timed command, so writeback of the copies is not timed.
#
# Output, one headline per mode (ratio = janitor time / find time: how many times slower):
#   queue-bench mode=quarantine files=100000 janitor=12.3s (8130/s) find-delete=2.1s (47619/s) ratio=5.86x
# then detail lines: fill (audit + enqueue) time, the whole `clean --force`, peak RSS (GNU time
# %M), every run's times.
#
# Without --keep, the work directory (under ${TMPDIR:-/tmp}) is removed at the end.
# Needs: swift, find (GNU), awk, cp, sqlite3 and jq (both installed with apt-get when missing
# and running as root), GNU time for RSS (optional).
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
package=$(cd "$here/.." && pwd)

files=100000
keep=""
runs=1
modes=(quarantine unlink)
batch_size=""
app_rows=0
do_clean=1
seed=1

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "queue-bench: $*" >&2; exit 2; }
set_modes() {
    case $1 in
        on|quarantine) modes=(quarantine) ;;
        off|unlink) modes=(unlink) ;;
        both) modes=(quarantine unlink) ;;
        *) die "--quarantine takes on, off or both, not '$1'" ;;
    esac
}

while (($#)); do
    case $1 in
        --files) [[ $# -ge 2 ]] || die "--files needs a value"; files=${2//_/}; shift 2 ;;
        --files=*) files=${1#--files=}; files=${files//_/}; shift ;;
        --keep) [[ $# -ge 2 ]] || die "--keep needs a directory"; keep=$2; shift 2 ;;
        --keep=*) keep=${1#--keep=}; shift ;;
        --runs) [[ $# -ge 2 ]] || die "--runs needs a value"; runs=$2; shift 2 ;;
        --runs=*) runs=${1#--runs=}; shift ;;
        --quarantine=*) set_modes "${1#--quarantine=}"; shift ;;
        --quarantine)
            if [[ $# -ge 2 && $2 =~ ^(on|off|both|quarantine|unlink)$ ]]; then set_modes "$2"; shift 2
            else set_modes on; shift; fi ;;
        --no-quarantine) set_modes off; shift ;;
        --batch-size) [[ $# -ge 2 ]] || die "--batch-size needs a value"; batch_size=$2; shift 2 ;;
        --batch-size=*) batch_size=${1#--batch-size=}; shift ;;
        --app-rows) [[ $# -ge 2 ]] || die "--app-rows needs a value"; app_rows=${2//_/}; shift 2 ;;
        --app-rows=*) app_rows=${1#--app-rows=}; app_rows=${app_rows//_/}; shift ;;
        --no-clean) do_clean=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
[[ $files =~ ^[0-9]+$ && $files -ge 1000 ]] || die "--files must be an integer >= 1000, not '$files'"
[[ $runs =~ ^[0-9]+$ && $runs -ge 1 ]] || die "--runs must be a positive integer, not '$runs'"
[[ -z $batch_size || ($batch_size =~ ^[0-9]+$ && $batch_size -ge 1) ]] || die "--batch-size must be a positive integer, not '$batch_size'"
[[ $app_rows =~ ^[0-9]+$ ]] || die "--app-rows must be a non-negative integer, not '$app_rows'"

log() { echo "queue-bench: $*" >&2; }
fail() { echo "queue-bench: FAIL: $*" >&2; exit 1; }

# --- tools ---------------------------------------------------------------------------------
missing=()
command -v sqlite3 >/dev/null || missing+=(sqlite3)
command -v jq >/dev/null || missing+=(jq)
gnu_time=/usr/bin/time
has_gnu_time() { [[ -x $gnu_time ]] && "$gnu_time" --version 2>&1 | grep -q GNU; }
has_gnu_time || missing+=(time)
if ((${#missing[@]})); then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        log "installing ${missing[*]} (apt-get install -y)"
        { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"; } >/dev/null 2>&1 \
            || log "apt-get install ${missing[*]} failed"
    fi
fi
command -v sqlite3 >/dev/null || die "sqlite3 (the CLI) is needed; install it (apt-get install sqlite3)"
command -v jq >/dev/null || die "jq is needed; install it (apt-get install jq)"
if has_gnu_time; then rss_note="GNU time %M"; else gnu_time=""; rss_note="unavailable (no GNU time)"; fi

# --- the work directory and the build (Benchmarks/common.sh) ---------------------------------
name=queue-bench
# shellcheck source=Benchmarks/common.sh
source "$here/common.sh"
bench_workdir
bench_build

# --- the pristine tree ---------------------------------------------------------------------
pristine=$work/pristine
marker=$pristine/scan-fixture.txt
bench_orphan_tree "$fixture" "$pristine" "$files" "$seed" 4
ratio() { awk -v j="$1" -v f="$2" 'BEGIN { printf "%.2f", (f > 0 ? j / f : 0) }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
minimum() { printf '%s\n' "$@" | sort -g | head -n 1; }
maximum() { printf '%s\n' "$@" | sort -g | tail -n 1; }

# run_timed NAME EXPECTED_STATUS OUT ERR [ENV=VALUE...] CMD...: runs CMD from the current
# directory (through GNU time when available, for find and the janitor alike), stdout to OUT,
# stderr to ERR; fails unless it exits with EXPECTED_STATUS. Sets SECONDS_TAKEN and RSS_KB.
rss_file=$work/rss.txt
run_timed() {
    local name=$1 expected=$2 out=$3 err=$4 start end status=0
    shift 4
    local prefix=()
    [[ -n $gnu_time ]] && prefix=("$gnu_time" -f '%M' -o "$rss_file")
    : > "$rss_file"
    sync
    clock; start=$REPLY
    # A subshell that waits (not execs), so a SIGKILLed child's "Killed" notice goes to ERR.
    (set +e; "${prefix[@]}" env "$@"; exit $?) >"$out" 2>"$err" || status=$?
    clock; end=$REPLY
    if ((status != expected)); then
        sed 's/^/    /' "$err" >&2
        fail "$name exited with status $status (expected $expected): $*"
    fi
    SECONDS_TAKEN=$(elapsed "$start" "$end")
    RSS_KB=$(grep -E '^[0-9]+$' "$rss_file" | tail -n 1 || true)
}

# --- one run directory: a copy of the tree, the app database and a config ------------------
write_config() {   # write_config FILE MODE BATCH_SIZE(empty: default)
    {
        echo "# Written by Benchmarks/queue-bench.sh: every file is an orphan; the breaker is opened."
        echo "version: 1"
        echo "media_root: media"
        echo "database: sqlite:app.sqlite3"
        echo "state: .janitor/state.sqlite3"
        echo
        echo "defaults:"
        echo "  grace: 15m"
        echo "  quarantine_dir: .janitor/quarantine"
        if [[ $2 == quarantine ]]; then echo "  quarantine: 7d"; else echo "  quarantine: 0"; fi
        [[ -n $3 ]] && echo "  batch_size: $3"
        echo
        echo "safety:"
        echo "  max_delete_fraction: 1.0"
        echo "  max_delete_bytes: 1TB"
        echo "  refuse_empty_references: false"
        echo
        echo "$classes_yaml"
    } > "$1"
}


copy_tree() {   # copy_tree DEST: a real copy (not hard links: they would share inodes)
    mkdir -p -- "$1"
    cp -a -- "$pristine/media" "$1/media" || fail "cp -a $pristine/media $1/media failed"
    local count
    count=$(find "$1/media" -type f | wc -l)
    ((count == files)) || fail "the copy in $1/media has $count files, not $files"
}

prepare_janitor_dir() {   # prepare_janitor_dir DIR MODE
    copy_tree "$1"
    cp -- "$pristine/app.sqlite3" "$1/app.sqlite3"
    bench_app_rows "$1/app.sqlite3" "$app_rows"
    write_config "$1/janitor.yml" "$2" "$batch_size"
    write_config "$1/janitor-fill.yml" "$2" 1
}

# --- checks after a janitor run ------------------------------------------------------------
# verify DIR MODE SUMMARY_JSON WHAT: fails loudly unless all N files went where they should.
verify() {
    local dir=$1 mode=$2 summary=$3 what=$4 problems=() left stats list_count q_files rows
    left=$(find "$dir/media" -type f | wc -l)
    ((left == 0)) || problems+=("$left regular files left under $dir/media")
    local acted kept gone retrying dead refused bytes
    if ! jq -e . "$summary" >/dev/null 2>&1; then
        problems+=("the run's summary is not JSON: $(head -c 300 "$summary")")
    else
        if [[ $mode == quarantine ]]; then
            acted=$(jq -r '.quarantined' "$summary")
            [[ $(jq -r '.removed' "$summary") == 0 ]] || problems+=("summary.removed is $(jq -r '.removed' "$summary") with quarantine on")
        else
            acted=$(jq -r '.removed' "$summary")
            [[ $(jq -r '.quarantined' "$summary") == 0 ]] || problems+=("summary.quarantined is $(jq -r '.quarantined' "$summary") with quarantine off")
        fi
        [[ $acted == "$files" ]] || problems+=("the summary says $acted files went, not $files")
        read -r kept gone retrying dead refused bytes < <(jq -r '[.kept, .gone, .retrying, .dead, .refused, .bytes] | @tsv' "$summary") || true
        [[ "$kept $gone $retrying $dead $refused" == "0 0 0 0 0" ]] \
            || problems+=("summary kept/gone/retrying/dead/refused are $kept/$gone/$retrying/$dead/$refused, not all 0")
        [[ $bytes == "$expected_bytes" ]] || problems+=("summary.bytes is $bytes, expected $expected_bytes")
    fi
    stats=$(cd "$dir" && "$janitor" queue stats --config janitor.yml --format json 2>>"$dir/stderr.txt") \
        || problems+=("queue stats failed")
    if [[ -n $stats ]]; then
        [[ $(jq -r '.total_pending' <<<"$stats") == 0 ]] || problems+=("queue stats: total_pending is $(jq -r '.total_pending' <<<"$stats"), not 0")
        [[ $(jq -r '.dead' <<<"$stats") == 0 ]] || problems+=("queue stats: dead is $(jq -r '.dead' <<<"$stats"), not 0")
        [[ $(jq -r '.done' <<<"$stats") == "$files" ]] || problems+=("queue stats: done is $(jq -r '.done' <<<"$stats"), not $files")
    fi
    local state=$dir/.janitor/state.sqlite3 quarantined_rows unlinked_rows
    quarantined_rows=$(sqlite3 "$state" "SELECT count(*) FROM removal WHERE quarantine_path IS NOT NULL AND restored_at IS NULL AND purged_at IS NULL") \
        || problems+=("cannot read the removal table of $state")
    unlinked_rows=$(sqlite3 "$state" "SELECT count(*) FROM removal WHERE quarantine_path IS NULL") || unlinked_rows="?"
    q_files=0
    [[ -d $dir/.janitor/quarantine ]] && q_files=$(find "$dir/.janitor/quarantine" -type f | wc -l)
    if [[ $mode == quarantine ]]; then
        [[ $quarantined_rows == "$files" && $unlinked_rows == 0 ]] \
            || problems+=("the removal table holds $quarantined_rows quarantined and $unlinked_rows unlinked rows, expected $files and 0")
        ((q_files == files)) || problems+=("the quarantine directory holds $q_files files, not $files")
        list_count=$(cd "$dir" && "$janitor" quarantine list --config janitor.yml --format json 2>>"$dir/stderr.txt" | jq '.removals | length') \
            || problems+=("quarantine list failed")
        if [[ $list_count == "$files" ]]; then
            LIST_NOTE="quarantine list: $list_count"
        elif ((files > 1000)) && [[ $list_count == 1000 ]]; then
            LIST_NOTE="quarantine list: 1000 (the listing is capped at 1000; the store holds $quarantined_rows)"
        else
            problems+=("quarantine list --format json lists $list_count removals, expected $files")
        fi
    else
        [[ $unlinked_rows == "$files" && $quarantined_rows == 0 ]] \
            || problems+=("the removal table holds $unlinked_rows unlinked and $quarantined_rows quarantined rows, expected $files and 0")
        ((q_files == 0)) || problems+=("the quarantine directory holds $q_files files with quarantine off")
        LIST_NOTE="removal rows (unlinked): $unlinked_rows"
    fi
    if ((${#problems[@]})); then
        for p in "${problems[@]}"; do echo "queue-bench: FAIL ($what, mode=$mode): $p" >&2; done
        keep=${keep:-$work}   # keep the evidence
        fail "$what did not remove the $files files as expected (evidence kept in $dir)"
    fi
}

# --- the runs ------------------------------------------------------------------------------
declare -A best_find best_drain best_fill best_clean rss_drain rss_find rss_clean all_runs notes
for mode in "${modes[@]}"; do
    find_times=() drain_times=() fill_times=() clean_times=() drain_rss=() find_rss=() clean_rss=() recovered=""
    for ((run = 1; run <= runs; run++)); do
        base=$work/run/$mode
        rm -rf -- "$base"
        log "mode=$mode run $run/$runs: copying the tree ($files files) for find, the drain$( ((do_clean)) && echo " and clean" || true)"
        copy_tree "$base/find"
        prepare_janitor_dir "$base/drain" "$mode"
        if ((do_clean)); then prepare_janitor_dir "$base/clean" "$mode"; fi

        # find -delete
        log "mode=$mode run $run/$runs: find -type f -delete"
        cd "$base/find"
        run_timed "find -delete" 0 /dev/null "$base/find/stderr.txt" find "$base/find/media" -type f -delete
        find_times+=("$SECONDS_TAKEN"); [[ -n $RSS_KB ]] && find_rss+=("$RSS_KB")
        left=$(find "$base/find/media" -type f | wc -l)
        ((left == 0)) || fail "find -delete left $left files"

        # fill the queue: clean with batch_size 1, SIGKILLed as the first item is claimed
        log "mode=$mode run $run/$runs: filling the queue (clean --force, killed at claimed:1)"
        cd "$base/drain"
        run_timed "clean (fill)" 137 "$base/drain/fill.out" "$base/drain/fill.err" \
            MEDIA_JANITOR_CRASH_AT=claimed:1 "$janitor" clean --force --config janitor-fill.yml --verbose
        fill_times+=("$SECONDS_TAKEN")
        stats=$("$janitor" queue stats --config janitor.yml --format json 2>>"$base/drain/stderr.txt") \
            || fail "queue stats failed after the fill (see $base/drain/stderr.txt)"
        pending=$(jq -r '.total_pending' <<<"$stats")
        [[ $pending == "$files" ]] || fail "after the fill, total_pending is $pending, not $files ($stats)"
        [[ $(jq -r '.done' <<<"$stats") == 0 ]] || fail "after the fill, $(jq -r '.done' <<<"$stats") items are already done"
        audit_phase=$(grep -o 'audit.time=[0-9.]*' "$base/drain/fill.err" | head -n 1 | cut -d= -f2 || true)

        # the drain
        log "mode=$mode run $run/$runs: queue run ($files items)"
        run_timed "queue run" 0 "$base/drain/run.json" "$base/drain/run.err" \
            "$janitor" queue run --config janitor.yml --format json
        drain_times+=("$SECONDS_TAKEN"); [[ -n $RSS_KB ]] && drain_rss+=("$RSS_KB")
        recovered=$(jq -r '.recovered' "$base/drain/run.json" 2>/dev/null || echo "?")
        verify "$base/drain" "$mode" "$base/drain/run.json" "queue run"
        drain_note=$LIST_NOTE
        log "mode=$mode run $run/$runs: queue run ${SECONDS_TAKEN}s, find -delete ${find_times[-1]}s"

        # the whole clean
        if ((do_clean)); then
            log "mode=$mode run $run/$runs: clean --force (audit + enqueue + drain)"
            cd "$base/clean"
                run_timed "clean --force" 0 "$base/clean/clean.json" "$base/clean/clean.err" \
                "$janitor" clean --force --config janitor.yml --format json
            clean_times+=("$SECONDS_TAKEN"); [[ -n $RSS_KB ]] && clean_rss+=("$RSS_KB")
            verify "$base/clean" "$mode" "$base/clean/clean.json" "clean --force"
            log "mode=$mode run $run/$runs: clean --force ${SECONDS_TAKEN}s"
        fi
        cd "$work"
        [[ -n $keep && $run == "$runs" ]] || rm -rf -- "$base"
    done
    best_find[$mode]=$(minimum "${find_times[@]}")
    best_drain[$mode]=$(minimum "${drain_times[@]}")
    best_fill[$mode]=$(minimum "${fill_times[@]}")
    if ((do_clean)); then best_clean[$mode]=$(minimum "${clean_times[@]}"); fi
    # (An assignment takes the status of its $(...): each of these must end in success.)
    rss_find[$mode]=$( ((${#find_rss[@]})) && maximum "${find_rss[@]}" || true)
    rss_drain[$mode]=$( ((${#drain_rss[@]})) && maximum "${drain_rss[@]}" || true)
    rss_clean[$mode]=$( ((${#clean_rss[@]})) && maximum "${clean_rss[@]}" || true)
    all_runs[$mode]="find ${find_times[*]} | fill ${fill_times[*]} | queue run ${drain_times[*]}$( ((do_clean)) && echo " | clean ${clean_times[*]}" || true)"
    notes[$mode]="recovered=$recovered (the item claimed when the fill was killed); $drain_note${audit_phase:+; fill audit.time=${audit_phase}s}"
done

# --- report --------------------------------------------------------------------------------
rss_text() { [[ -n $1 ]] && echo "$(mb "$1")MB" || echo "n/a"; }
for mode in "${modes[@]}"; do
    j=${best_drain[$mode]} f=${best_find[$mode]}
    echo "queue-bench mode=$mode files=$files janitor=${j}s ($(per_second "$files" "$j")/s) find-delete=${f}s ($(per_second "$files" "$f")/s) ratio=$(ratio "$j" "$f")x"
done
echo "  ratio = janitor 'queue run' wall time / 'find TREE -type f -delete' wall time (how many times slower); best of $runs run(s) each"
for mode in "${modes[@]}"; do
    echo "  mode=$mode:"
    echo "    fill (clean --force with batch_size 1, SIGKILLed at the first claim: audit + one enqueue transaction): ${best_fill[$mode]}s"
    echo "    queue run: ${best_drain[$mode]}s peak_rss=$(rss_text "${rss_drain[$mode]}"); find -delete peak_rss=$(rss_text "${rss_find[$mode]}")"
    if ((do_clean)); then
        c=${best_clean[$mode]}
        echo "    clean --force whole (audit + enqueue + drain): ${c}s ($(per_second "$files" "$c")/s) ratio=$(ratio "$c" "${best_find[$mode]}")x peak_rss=$(rss_text "${rss_clean[$mode]}")"
    fi
    echo "    runs (s): ${all_runs[$mode]}"
    echo "    checked: 0 files left, summary $files $( [[ $mode == quarantine ]] && echo quarantined || echo removed ) / $expected_bytes bytes, queue stats total_pending=0 dead=0 done=$files; ${notes[$mode]}"
done
echo "  fixture: $files files (all orphans, app tables $( ((app_rows)) && echo "hold $app_rows unrelated rows" || echo empty)) in $leaf_dirs leaf dirs, $(mb $((expected_bytes / 1024)))MB; batch_size ${batch_size:-default}; $generated"
echo "  the janitor also removes emptied directories (class roots kept); find -delete removes files only; peak RSS from $rss_note"
echo "  work dir: $work ($([[ -n $keep ]] && echo kept || echo removed))"
