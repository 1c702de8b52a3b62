#!/usr/bin/env bash
# Retention-planning benchmark (a benchmark, not a test): how long `media-janitor retention
# --dry-run` takes to plan retention for a large chat table, and its peak memory, beside the
# floor of reading the same columns in the same order with the sqlite3 CLI.
#
#   Benchmarks/retention-bench.sh [--rows N] [--owners O] [--groups G] [--files F]
#                                 [--keep DIR] [--runs R] [--scratch-path DIR] [--baseline-only]
#
#   --rows N          rows in chat_message (default 1000000; `_` separators allowed)
#   --owners O        distinct senders (default 100): sender_id = id % O
#   --groups G        distinct committees (default 1000): committee_id = id % G
#   --files F         rows holding an image, each with its file on disk (default 0: every
#                     image is NULL and the plan is rows only)
#   --keep DIR        generate the fixture in DIR and keep it; a later run with the same DIR
#                     and the same N/O/G/F reuses it (DIR/retention-fixture.txt records what was
#                     generated, and when: the rows' ages are relative to that moment)
#   --runs R          timed runs of each command (default 3); the best wall time is reported
#   --scratch-path D  passed to `swift build --scratch-path` (default: swift's own .build)
#   --baseline-only   generate and check the fixture and time the sqlite3 baseline only (no
#                     build, no janitor): for trying the generator on its own
#
# The fixture (generated with the sqlite3 CLI, recursive CTEs, no Swift), in DIR:
#   app.sqlite3  accounts_userprofile(user_id INTEGER PRIMARY KEY, message_deletion_hours
#                INTEGER): users 0..O-2 (user O-1 has no row, so falls back to max_age); every
#                user with user_id % 10 = 3 has NULL hours (also falls back), the others
#                24 * (30 + user_id * 37 % 120) hours, i.e. 30 to 149 days, some under the 90d
#                max_age, some over the 120-day span of the data.
#                chat_message(id INTEGER PRIMARY KEY, sender_id INTEGER, committee_id INTEGER,
#                created_at TEXT, message TEXT, image TEXT), ids 1..N: sender_id = id % O,
#                committee_id = id % G, created_at = 'YYYY-MM-DD HH:MM:SS' (UTC) at generation
#                time minus (id * 7919) % 10368000 seconds (a spread over the last 120 days,
#                distinct for N < 10368000), message = 'message <id> ' and (id * 37) % 400 'x'
#                characters (about 10 to 420 bytes), image NULL except on F rows spread evenly
#                (id a multiple of N / F): 'chat/<id>.jpg'. Indexes on sender_id and
#                committee_id (what Django makes for foreign keys), none on created_at.
#   media/chat/  the F files, `<id>.jpg`, 2 KiB each (sparse: `truncate -s 2048`).
#   janitor.yml  rewritten on every run: one class, chat_messages, paths ["chat/**"], reference
#                {table: chat_message, column: image, key: id, created: created_at,
#                owner: sender_id, group: committee_id, size: "length(message) + 200"} and every
#                retention policy at once: max_age 90d, max_age_per_owner from
#                accounts_userprofile.message_deletion_hours (hours), keep_latest_per_owner
#                5000, max_count_per_group 900, max_total_size 100MB, row_action delete. safety
#                {max_delete_fraction: 1.0, max_delete_bytes: 1TB, refuse_empty_references:
#                false}, so the dry run does not warn. `state:` is a temporary directory made by
#                this run (removed at exit), never inside DIR.
# With the defaults (10,000 rows per owner, 1,000 per committee, about 414 `size` bytes a row,
# ~395MB in all) max_age, max_age_per_owner, keep_latest_per_owner and max_total_size all
# select rows; max_count_per_group selects none of its own, since the rows beyond the newest
# 900 of each committee are all older than 90 days and already taken by max_age(_per_owner).
# With --rows 100000 only max_age and max_age_per_owner select (1,000 rows per owner, 100 per
# committee, ~40MB). The plan lists every selected row, so JSON output of those rows (to
# /dev/null) is part of the timed work.
# The fixture is checked after generation and on reuse (fails loudly otherwise): N rows, O
# distinct senders, G distinct committees, O-1 profiles, F images and F files on disk, every
# created_at within the 120 days before generation.
#
# What it does: builds media-janitor in release mode (Benchmarks/common.sh, only that product);
# fails at once if `media-janitor retention --help` does not work (the command is missing);
# reads the table once with the baseline to warm the page cache; runs the plan once, checked:
#     media-janitor retention --dry-run --config DIR/janitor.yml --format json --output PLAN --verbose
# and fails loudly unless PLAN has "schema": 1 and a `classes` array whose first entry has
# "rows": N (a non-zero exit fails too; anything on stderr that is not a debug line is shown);
# then alternates R times, each through `/usr/bin/time -f '%e %M'` (wall seconds, max RSS KB):
#     sqlite3 DIR/app.sqlite3 "SELECT id, image, created_at, sender_id, committee_id,
#         length(message) + 200 FROM chat_message ORDER BY created_at, id" > /dev/null
#     media-janitor retention --dry-run --config DIR/janitor.yml --format json --output /dev/null --verbose
# (stderr of each kept). The baseline reads the columns the janitor reads (key, path, created,
# owner, group, size) and sorts them by age, in one process that keeps nothing in memory.
#
# Output: a headline, then one figure per line (wall times are the best of R runs, GNU time %e,
# 10 ms resolution; peak RSS is the highest %M of the R runs):
#   retention-bench rows=1000000 owners=100 groups=1000 files=0 runs=3
#   retention_wall_s=7.84
#   retention_peak_rss_mb=726.6
#   baseline_wall_s=0.96
#   baseline_peak_rss_mb=8.0
#   ratio_wall=8.17                       (retention / baseline, best against best)
#   ratio_peak_rss=90.96
#   retention.plan_time=1.493s            (one line per `*_time=` or `*.time=` metadata key of
#   retention.read_time=2.812s             the best run's --verbose debug lines, if any)
# then detail lines: every run's times, the plan's first class entry (from the checked run),
# how the fixture was made, and the work directory.
#
# Without --keep, the work directory (under ${TMPDIR:-/tmp}) is removed at the end.
# Needs: swift, sqlite3 (scripts/install-deps.sh installs it), jq, GNU time at /usr/bin/time
# (jq and time are installed with apt-get when missing and running as root), awk, truncate.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
package=$(cd "$here/.." && pwd)

rows=1000000
owners=100
groups=1000
files=0
keep=""
runs=3
scratch_path=""
baseline_only=0
span=10368000          # 120 days, in seconds
fixture_version=1      # bump when the generator changes, so kept fixtures are regenerated

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "retention-bench: $*" >&2; exit 2; }
number() { local v=${2//_/}; [[ $v =~ ^[0-9]+$ ]] || die "$1 must be a non-negative integer, not '$2'"; echo "$((10#$v))"; }

while (($#)); do
    case $1 in
        --rows) [[ $# -ge 2 ]] || die "--rows needs a value"; rows=$(number --rows "$2"); shift 2 ;;
        --rows=*) rows=$(number --rows "${1#--rows=}"); shift ;;
        --owners) [[ $# -ge 2 ]] || die "--owners needs a value"; owners=$(number --owners "$2"); shift 2 ;;
        --owners=*) owners=$(number --owners "${1#--owners=}"); shift ;;
        --groups) [[ $# -ge 2 ]] || die "--groups needs a value"; groups=$(number --groups "$2"); shift 2 ;;
        --groups=*) groups=$(number --groups "${1#--groups=}"); shift ;;
        --files) [[ $# -ge 2 ]] || die "--files needs a value"; files=$(number --files "$2"); shift 2 ;;
        --files=*) files=$(number --files "${1#--files=}"); shift ;;
        --keep) [[ $# -ge 2 ]] || die "--keep needs a directory"; keep=$2; shift 2 ;;
        --keep=*) keep=${1#--keep=}; shift ;;
        --runs) [[ $# -ge 2 ]] || die "--runs needs a value"; runs=$(number --runs "$2"); shift 2 ;;
        --runs=*) runs=$(number --runs "${1#--runs=}"); shift ;;
        --scratch-path) [[ $# -ge 2 ]] || die "--scratch-path needs a directory"; scratch_path=$2; shift 2 ;;
        --scratch-path=*) scratch_path=${1#--scratch-path=}; shift ;;
        --baseline-only) baseline_only=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
((rows >= 1)) || die "--rows must be at least 1"
((rows < span)) || die "--rows must be below $span (created_at would repeat)"
((owners >= 2)) || die "--owners must be at least 2 (one owner has no profile row)"
((groups >= 1)) || die "--groups must be at least 1"
((files <= rows)) || die "--files ($files) cannot exceed --rows ($rows)"
((runs >= 1)) || die "--runs must be at least 1"
# Relative to where the script was started (bench_build runs swift from the package root).
[[ -z $scratch_path || $scratch_path == /* ]] || scratch_path=$PWD/$scratch_path

log() { echo "retention-bench: $*" >&2; }
fail() { echo "retention-bench: FAIL: $*" >&2; exit 1; }

# --- tools ---------------------------------------------------------------------------------
if ! command -v sqlite3 >/dev/null; then
    log "sqlite3 is missing: running scripts/install-deps.sh"
    bash "$package/scripts/install-deps.sh" >&2 || die "scripts/install-deps.sh failed"
fi
gnu_time=/usr/bin/time
has_gnu_time() { [[ -x $gnu_time ]] && "$gnu_time" --version 2>&1 | grep -q GNU; }
missing=()
command -v jq >/dev/null || missing+=(jq)
has_gnu_time || missing+=(time)
if ((${#missing[@]})) && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    log "installing ${missing[*]} (apt-get install -y)"
    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"; } >/dev/null 2>&1 \
        || log "apt-get install ${missing[*]} failed"
fi
command -v sqlite3 >/dev/null || die "sqlite3 (the CLI) is needed: make deps, or apt-get install sqlite3"
command -v jq >/dev/null || die "jq is needed: apt-get install jq"
has_gnu_time || die "GNU time is needed at $gnu_time for wall time and peak RSS: apt-get install time"

# --- the work directory and the build (Benchmarks/common.sh) ---------------------------------
name=retention-bench
bench_products="media-janitor"
# shellcheck source=Benchmarks/common.sh
source "$here/common.sh"
bench_workdir
state_dir=$(mktemp -d "${TMPDIR:-/tmp}/$name-state.XXXXXX")
# bench_cleanup (common.sh) exits with the status it finds in $?: hand it the script's own.
trap 'status=$?; rm -rf -- "$state_dir"; (exit "$status"); bench_cleanup' EXIT

if ((!baseline_only)); then
    bench_build
    if ! "$janitor" retention --help >"$work/retention-help.txt" 2>&1; then
        sed 's/^/    /' "$work/retention-help.txt" >&2
        fail "'media-janitor retention --help' fails: this build has no retention command yet"
    fi
fi

# --- the fixture ---------------------------------------------------------------------------
db=$work/app.sqlite3
media=$work/media
marker=$work/retention-fixture.txt
field() {   # field FILE KEY: the value of KEY=... in FILE
    awk -F= -v key="$2" '$1 == key { print substr($0, length(key) + 2); found = 1; exit } END { if (!found) exit 1 }' "$1"
}
stride=$((files > 0 ? rows / files : 0))   # the rows with an image: ids stride, 2*stride, ... files*stride
same_fixture() {
    [[ -f $marker && -f $db && -d $media/chat ]] || return 1
    local key value
    for key in version rows owners groups files; do
        case $key in
            version) value=$fixture_version ;;
            *) value=${!key} ;;
        esac
        [[ $(field "$marker" "$key" 2>/dev/null) == "$value" ]] || return 1
    done
}

generate() {
    local started ended now need_kb avail_kb
    rm -rf -- "$db" "$db.tmp" "$media" "$marker"
    need_kb=$((rows + rows / 2 + files * 4 + 10240))   # about 1.5 KB per row with the indexes and slack
    avail_kb=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
    if [[ $avail_kb =~ ^[0-9]+$ ]] && ((avail_kb < need_kb)); then
        die "$work: $((avail_kb / 1024)) MB free, about $((need_kb / 1024)) MB needed for $rows rows"
    fi
    log "generating $rows rows ($owners owners, $groups groups, $files files) in $work"
    started=${EPOCHREALTIME:-$(date +%s.%N)}
    now=$(date +%s)
    sqlite3 "$db.tmp" >/dev/null <<SQL || die "generating $db.tmp with sqlite3 failed"
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
CREATE TABLE accounts_userprofile (user_id INTEGER PRIMARY KEY, message_deletion_hours INTEGER);
CREATE TABLE chat_message (id INTEGER PRIMARY KEY, sender_id INTEGER, committee_id INTEGER, created_at TEXT, message TEXT, image TEXT);
BEGIN;
WITH RECURSIVE u(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM u WHERE i < $owners - 2)
INSERT INTO accounts_userprofile (user_id, message_deletion_hours)
SELECT i, CASE WHEN i % 10 = 3 THEN NULL ELSE 24 * (30 + i * 37 % 120) END FROM u;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows)
INSERT INTO chat_message (id, sender_id, committee_id, created_at, message, image)
SELECT i, i % $owners, i % $groups,
       datetime($now - (i * 7919) % $span, 'unixepoch'),
       'message ' || i || ' ' || printf('%.*c', (i * 37) % 400, 'x'),
       CASE WHEN $stride > 0 AND i % $stride = 0 AND i <= $stride * $files THEN 'chat/' || i || '.jpg' END
FROM n;
COMMIT;
CREATE INDEX chat_message_sender_id ON chat_message (sender_id);
CREATE INDEX chat_message_committee_id ON chat_message (committee_id);
ANALYZE;
SQL
    mv -- "$db.tmp" "$db"
    mkdir -p -- "$media/chat"
    if ((files > 0)); then
        (cd "$media/chat" && awk -v n="$files" -v s="$stride" 'BEGIN { for (j = 1; j <= n; j++) printf "%d.jpg\n", j * s }' \
            | xargs -r truncate -s 2048 --) || die "creating $files files in $media/chat failed"
    fi
    ended=${EPOCHREALTIME:-$(date +%s.%N)}
    {
        echo "version=$fixture_version"
        echo "rows=$rows"
        echo "owners=$owners"
        echo "groups=$groups"
        echo "files=$files"
        echo "generated_at=$now"
        echo "generate_seconds=$(awk -v a="$started" -v b="$ended" 'BEGIN { printf "%.1f", b - a }')"
    } > "$marker"
}

if same_fixture; then
    log "reusing the fixture in $work (generated $(date -u -d "@$(field "$marker" generated_at)" '+%Y-%m-%d %H:%M:%S') UTC)"
    generated="reused, generated $(( ($(date +%s) - $(field "$marker" generated_at)) / 60 )) min ago"
else
    generate
    generated="generated in $(field "$marker" generate_seconds)s"
fi
generated_at=$(field "$marker" generated_at)

# Checks the database against what was asked (after generating, and on reuse).
log "checking the fixture"
expected_owners=$((owners < rows ? owners : rows))
expected_groups=$((groups < rows ? groups : rows))
IFS='|' read -r got_rows got_owners got_groups got_images got_oldest got_newest got_min_id got_max_id < <(sqlite3 "$db" \
    "SELECT count(*), count(DISTINCT sender_id), count(DISTINCT committee_id), count(image),
            CAST(strftime('%s', min(created_at)) AS INTEGER), CAST(strftime('%s', max(created_at)) AS INTEGER), min(id), max(id)
     FROM chat_message") || fail "cannot read chat_message in $db"
IFS='|' read -r got_profiles got_null_hours got_short got_long < <(sqlite3 "$db" \
    "SELECT count(*), count(*) - count(message_deletion_hours),
            sum(message_deletion_hours < 90 * 24), sum(message_deletion_hours > 120 * 24)
     FROM accounts_userprofile") || fail "cannot read accounts_userprofile in $db"
got_files=$(find "$media/chat" -type f | wc -l)
problems=()
[[ $got_rows == "$rows" ]] || problems+=("chat_message holds $got_rows rows, not $rows")
[[ $got_min_id == 1 && $got_max_id == "$rows" ]] || problems+=("chat_message ids run $got_min_id..$got_max_id, not 1..$rows")
[[ $got_owners == "$expected_owners" ]] || problems+=("$got_owners distinct sender_id, not $expected_owners")
[[ $got_groups == "$expected_groups" ]] || problems+=("$got_groups distinct committee_id, not $expected_groups")
[[ $got_images == "$files" ]] || problems+=("$got_images rows hold an image, not $files")
[[ $got_files == "$files" ]] || problems+=("$media/chat holds $got_files files, not $files")
[[ $got_profiles == $((owners - 1)) ]] || problems+=("accounts_userprofile holds $got_profiles rows, not $((owners - 1))")
((got_oldest >= generated_at - span && got_newest <= generated_at)) \
    || problems+=("created_at runs $got_oldest..$got_newest (Unix time), not within the 120 days before $generated_at")
if ((files > 0)); then
    sample=$(sqlite3 "$db" "SELECT image FROM chat_message WHERE image IS NOT NULL ORDER BY id DESC LIMIT 1")
    [[ -f $media/$sample ]] || problems+=("the last image row names '$sample', which is not in $media")
fi
if ((${#problems[@]})); then
    for p in "${problems[@]}"; do echo "retention-bench: FAIL: $p" >&2; done
    keep=${keep:-$work}   # keep the evidence
    fail "the fixture in $work is not what was asked (kept; remove $marker to regenerate)"
fi
db_mb=$(awk -v b="$(stat -c %s "$db")" 'BEGIN { printf "%.1f", b / 1048576 }')

# --- the config (rewritten every run: the state directory is this run's) ------------------------
config=$work/janitor.yml
cat > "$config" <<YAML
# Written by Benchmarks/retention-bench.sh: every retention policy at once, safety relaxed.
version: 1
media_root: media
database: sqlite:app.sqlite3
state: $state_dir/state.sqlite3

safety:
  max_delete_fraction: 1.0
  max_delete_bytes: 1TB
  refuse_empty_references: false

classes:
  chat_messages:
    paths: ["chat/**"]
    references:
      - {table: chat_message, column: image, key: id, created: created_at, owner: sender_id, group: committee_id, size: "length(message) + 200"}
    retention:
      max_age: 90d
      max_age_per_owner: {table: accounts_userprofile, key: user_id, column: message_deletion_hours, unit: hours}
      keep_latest_per_owner: 5000
      max_count_per_group: 900
      max_total_size: 100MB
      row_action: delete
YAML

# --- timing --------------------------------------------------------------------------------
# run_timed NAME OUT ERR CMD...: runs CMD through GNU time, stdout to OUT and stderr to ERR;
# fails unless it exits 0. Sets WALL (seconds, %e) and RSS_KB (%M).
time_file=$work/time.txt
run_timed() {
    local what=$1 out=$2 err=$3 status=0 line
    shift 3
    : > "$time_file"
    "$gnu_time" -f '%e %M' -o "$time_file" "$@" >"$out" 2>"$err" || status=$?
    if ((status != 0)); then
        sed 's/^/    /' "$err" | tail -n 40 >&2
        fail "$what exited with status $status: $*"
    fi
    line=$(grep -E '^[0-9.]+ [0-9]+$' "$time_file" | tail -n 1 || true)
    [[ -n $line ]] || fail "no '%e %M' line from $gnu_time for $what: $(cat "$time_file")"
    WALL=${line% *}
    RSS_KB=${line#* }
}
minimum() { printf '%s\n' "$@" | sort -g | head -n 1; }
maximum() { printf '%s\n' "$@" | sort -g | tail -n 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

baseline_sql="SELECT id, image, created_at, sender_id, committee_id, length(message) + 200 FROM chat_message ORDER BY created_at, id"
baseline_cmd=(sqlite3 "$db" "$baseline_sql")
retention_cmd=("${janitor:-media-janitor}" retention --dry-run --config "$config" --format json --output /dev/null --verbose)

log "warming the page cache (the baseline query, untimed)"
"${baseline_cmd[@]}" >/dev/null || fail "the baseline query failed: sqlite3 $db \"$baseline_sql\""

# --- one checked plan: its JSON against the fixture ----------------------------------------
plan_line=""
if ((!baseline_only)); then
    plan=$work/plan.json
    log "checking the plan's JSON (one run with --output $plan)"
    run_timed "retention --dry-run (checked)" /dev/null "$work/checked.err" \
        "$janitor" retention --dry-run --config "$config" --format json --output "$plan" --verbose
    checked_wall=$WALL
    if grep -qv ' debug ' "$work/checked.err"; then
        log "the checked run wrote to stderr (not debug lines):"
        grep -v ' debug ' "$work/checked.err" | head -n 20 | sed 's/^/    /' >&2
    fi
    # Streamed, so a plan listing a million rows is not held in memory; stops at the first match.
    schema=$(jq -cn --stream 'first(inputs | select(length == 2 and .[0] == ["schema"]) | .[1]) // "absent"' "$plan" 2>&1) \
        || fail "the plan is not JSON ($plan): $schema"
    classes=$(jq -cn --stream 'first(fromstream(1 | truncate_stream(inputs | select(.[0][0] == "classes")))) // "absent"' "$plan" 2>&1) \
        || fail "cannot read 'classes' from $plan: $classes"
    problems=()
    [[ $schema == 1 ]] || problems+=("\"schema\" is $schema, not 1")
    if [[ $(jq -r 'type' <<<"$classes") != array ]]; then
        problems+=("\"classes\" is absent, empty or not an array: $(head -c 300 <<<"$classes")")
    else
        plan_rows=$(jq -r '.[0].rows // "absent"' <<<"$classes")
        [[ $plan_rows == "$rows" ]] || problems+=("classes[0].rows is $plan_rows, not $rows")
        plan_line=$(jq -c '.[0]' <<<"$classes")
    fi
    if ((${#problems[@]})); then
        for p in "${problems[@]}"; do echo "retention-bench: FAIL: $p" >&2; done
        keep=${keep:-$work}   # keep the evidence
        fail "the plan does not match the fixture (plan kept in $plan)"
    fi
    plan_bytes=$(stat -c %s "$plan")
    [[ -n $keep ]] || rm -f -- "$plan"
fi

# --- timed runs: baseline and retention alternately; the best of each ---------------------
baseline_walls=() baseline_rss=() retention_walls=() retention_rss=() best_err=""
for ((i = 1; i <= runs; i++)); do
    log "run $i/$runs"
    run_timed "the baseline query" /dev/null "$work/baseline.err" "${baseline_cmd[@]}"
    baseline_walls+=("$WALL") baseline_rss+=("$RSS_KB")
    if ((!baseline_only)); then
        run_timed "retention --dry-run" /dev/null "$work/retention-$i.err" "${retention_cmd[@]}"
        if [[ -z $best_err ]] || awk -v a="$WALL" -v b="$(minimum "${retention_walls[@]}")" 'BEGIN { exit !(a < b) }'; then
            best_err=$work/retention-$i.err
        fi
        retention_walls+=("$WALL") retention_rss+=("$RSS_KB")
    fi
done
best_baseline=$(minimum "${baseline_walls[@]}")
peak_baseline=$(maximum "${baseline_rss[@]}")

# --- report --------------------------------------------------------------------------------
echo "retention-bench rows=$rows owners=$owners groups=$groups files=$files runs=$runs$( ((baseline_only)) && echo " (baseline only)" || true)"
if ((!baseline_only)); then
    best_retention=$(minimum "${retention_walls[@]}")
    peak_retention=$(maximum "${retention_rss[@]}")
    echo "retention_wall_s=$best_retention"
    echo "retention_peak_rss_mb=$(mb "$peak_retention")"
fi
echo "baseline_wall_s=$best_baseline"
echo "baseline_peak_rss_mb=$(mb "$peak_baseline")"
if ((!baseline_only)); then
    echo "ratio_wall=$(ratio "$best_retention" "$best_baseline")"
    echo "ratio_peak_rss=$(ratio "$peak_retention" "$peak_baseline")"
    # The best run's timing metadata (`key=value` in the debug lines), in order of appearance.
    grep -oE '[A-Za-z0-9_.-]+(_time|\.time)=[^ ]+' "$best_err" | awk -F= '!seen[$1]++' || true
    echo "  runs (s): baseline ${baseline_walls[*]} | retention ${retention_walls[*]}; checked run ${checked_wall}s (plan JSON $(mb $((plan_bytes / 1024)))MB)"
    echo "  plan (classes[0] of the checked run): $plan_line"
else
    echo "  runs (s): baseline ${baseline_walls[*]}"
fi
((baseline_only)) || echo "  ratio = retention / baseline (how many times slower, or bigger)"
echo "  baseline: sqlite3 app.sqlite3 \"$baseline_sql\" > /dev/null"
echo "  fixture: $rows rows, $owners owners ($got_profiles profiles: $got_null_hours NULL hours, $got_short under 90d, $got_long over 120d; 1 without a row), $groups groups, $files files; app.sqlite3 ${db_mb}MB; $generated"
echo "  wall from GNU time %e (10 ms resolution), peak RSS from %M"
echo "  work dir: $work ($([[ -n $keep ]] && echo kept || echo removed))"
