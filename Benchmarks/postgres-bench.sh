#!/usr/bin/env bash
# PostgreSQL benchmark (a benchmark, not a test), in two parts (issue 7, DESIGN.md section 7):
#   scan:  `media-janitor scan` with 1,000,000 reference values held in PostgreSQL, beside the
#          same scan with the same rows in SQLite, on the same tree in the same run, with
#          `find MEDIA -type f -printf '%s %P\n'` on that tree as the floor;
#   fleet: the drain rate of 1, 2 and 3 `serve` processes sharing one PostgreSQL store
#          (`state: postgres://...`), beside `find -delete` on an identical tree.
#
#   Benchmarks/postgres-bench.sh [--refs N] [--runs R] [--fleet-files F] [--fleet "1 2 3"]
#                                [--no-quarantine-run] [--only scan|fleet] [--max-seconds S]
#                                [--keep DIR] [--scratch-path DIR]
#
#   --refs N           reference values (non-NULL, non-empty paths in the four reference
#                      columns) in the app database (default 1000000)
#   --runs R           timed runs of find and of each scan (default 3; the best is reported)
#   --fleet-files F    files queued for the fleet (default 20000)
#   --fleet "K..."     fleet sizes (default "1 2 3"); the speed-up is against the first
#   --no-quarantine-run  skip the extra run of the largest fleet with quarantine on
#   --only PART        run only the scan part or only the fleet part
#   --max-seconds S    cap on each fleet drain (default 900)
#   --keep DIR         work in DIR and keep it (trees, databases' configs, logs); a later run
#                      with the same DIR and options reuses the generated trees
#   --scratch-path DIR build in DIR (swift build --scratch-path, relative to the package;
#                      default .build-bench, so the benchmark does not share .build)
#
# The PostgreSQL server: MEDIA_JANITOR_TEST_POSTGRES (a libpq URL; its user must be allowed to
# CREATE DATABASE) when set; otherwise the script re-runs itself under
# scripts/with-postgres.sh with MEDIA_JANITOR_PG_DURABLE=1: a throwaway server on a loopback
# port whose commits are flushed to disk (fsync on, synchronous_commit on), as in production.
# The server's fsync and synchronous_commit settings are printed either way.
#
# Scan part: builds media-janitor and scan-fixture in release mode; generates a tree with
# `scan-fixture --referenced 0.9` and enough files that its four reference columns
# (gallery_photo.image, accounts_user.avatar, accounts_user.cover_image, docs_document.file)
# hold just under N path values (about 1,097,000 files for N = 1,000,000), then brings them to
# exactly N with copies of existing docs_document rows (a second row naming an already
# referenced file: the referenced set, and so every figure the generator recorded, is
# unchanged). The three tables are then created in a fresh PostgreSQL database with the same
# column names (bigint keys, text, timestamp; primary keys and the owner indexes, no foreign
# keys), loaded with `sqlite3 -csv` piped into psql's `\copy ... (FORMAT csv)` (NULL and ''
# stay distinct), VACUUM ANALYZEd, and checked row for row against SQLite (both dumped in id
# order as tab-separated text, NULL as \N, and compared with cmp). janitor-pg.yml is the
# generated janitor.yml with only its `database:` line changed. One checked scan of each
# (--verbose, for the phase timings) must report what the generator recorded and the two JSON
# reports must be identical but for generated_at (fails loudly otherwise); then, after a
# warming `find`, R rounds of find, the SQLite scan and the PostgreSQL scan
# (`scan --format json --no-record --output /dev/null`), each through GNU time for its peak RSS.
#
# Fleet part: a pristine tree of F unreferenced files (`scan-fixture --referenced 0
# --thumbnails 0`), one delete event per file (the file's class's table and column, key = line
# number, in a fixed shuffled order). For each K: a fresh copy of the tree, a fresh store
# database, a janitor.yml with `state: postgres://.../that database`, the app database the
# fixture's (empty tables, SQLite), defaults {delay: 0s, quarantine: 0}, the breaker opened;
# `media-janitor events events.ndjson` queues F items (timed as "fill"); then K
# `media-janitor serve --listen 127.0.0.1:0` processes are started in that directory and the
# clock runs from the first start until psql sees every janitor_queue_item `done` (polled every
# 0.1 s); the drain's end is max(finished_at), the store's own stamp, so polling adds nothing.
# The serves get SIGTERM and each must exit 0; then it checks (fails loudly otherwise): no
# regular file left, janitor_removal holds F rows with F distinct queue_item_id (and with
# quarantine on, F quarantined files), queue stats shows total_pending 0, dead 0, done F.
# The floor: `find MEDIA -type f -delete` on another copy, timed just before each fleet starts
# (the headline shows the best). Last, the largest K once more with quarantine on (a rename
# into .janitor/quarantine on the same file system).
#
# Output: one headline per part, then details:
#   postgres-bench scan refs=1000000 files=1097571 sqlite=1.23s postgres=1.45s find=0.98s sqlite/find=1.26 postgres/find=1.48 postgres/sqlite=1.18 rss_sqlite=120.1MB rss_postgres=130.2MB
#   postgres-bench fleet files=20000 k=1 rate=900/s k=2 rate=1700/s (1.89x) k=3 rate=2400/s (2.67x) find-delete=60000/s
# Exit status: 0, 1 when a check failed (evidence kept), 2 on a usage or setup error.
# Without --keep, the work directory (under ${TMPDIR:-/tmp}) and the databases are removed.
# Needs: swift, find (GNU), awk, cp, sqlite3, psql, jq (sqlite3, jq and the PostgreSQL client
# are installed with apt-get when missing and running as root), GNU time for RSS (optional).
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
package=$(cd "$here/.." && pwd)
original_args=("$@")

refs=1000000
runs=3
fleet_files=20000
fleet_sizes=(1 2 3)
quarantine_run=1
only=""
max_seconds=900
keep=""
scratch_path=.build-bench
referenced=0.9
seed=1
token=postgres-bench-token

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "postgres-bench: $*" >&2; exit 2; }
log() { echo "postgres-bench: $*" >&2; }
fail() { echo "postgres-bench: FAIL: $*" >&2; exit 1; }

while (($#)); do
    case $1 in
        --refs) [[ $# -ge 2 ]] || die "--refs needs a value"; refs=${2//_/}; shift 2 ;;
        --refs=*) refs=${1#--refs=}; refs=${refs//_/}; shift ;;
        --runs) [[ $# -ge 2 ]] || die "--runs needs a value"; runs=$2; shift 2 ;;
        --runs=*) runs=${1#--runs=}; shift ;;
        --fleet-files) [[ $# -ge 2 ]] || die "--fleet-files needs a value"; fleet_files=${2//_/}; shift 2 ;;
        --fleet-files=*) fleet_files=${1#--fleet-files=}; fleet_files=${fleet_files//_/}; shift ;;
        --fleet) [[ $# -ge 2 ]] || die "--fleet needs a list such as \"1 2 3\""; read -r -a fleet_sizes <<<"${2//,/ }"; shift 2 ;;
        --fleet=*) v=${1#--fleet=}; read -r -a fleet_sizes <<<"${v//,/ }"; shift ;;
        --no-quarantine-run) quarantine_run=0; shift ;;
        --only) [[ $# -ge 2 ]] || die "--only needs scan or fleet"; only=$2; shift 2 ;;
        --only=*) only=${1#--only=}; shift ;;
        --max-seconds) [[ $# -ge 2 ]] || die "--max-seconds needs a value"; max_seconds=$2; shift 2 ;;
        --max-seconds=*) max_seconds=${1#--max-seconds=}; shift ;;
        --keep) [[ $# -ge 2 ]] || die "--keep needs a directory"; keep=$2; shift 2 ;;
        --keep=*) keep=${1#--keep=}; shift ;;
        --scratch-path) [[ $# -ge 2 ]] || die "--scratch-path needs a directory"; scratch_path=$2; shift 2 ;;
        --scratch-path=*) scratch_path=${1#--scratch-path=}; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
[[ $refs =~ ^[0-9]+$ && $refs -ge 10000 && $refs -le 50000000 ]] || die "--refs must be an integer from 10000 to 50000000, not '$refs'"
[[ $runs =~ ^[0-9]+$ && $runs -ge 1 ]] || die "--runs must be a positive integer, not '$runs'"
[[ $fleet_files =~ ^[0-9]+$ && $fleet_files -ge 1000 && $fleet_files -le 10000000 ]] || die "--fleet-files must be an integer from 1000 to 10000000, not '$fleet_files'"
((${#fleet_sizes[@]})) || die "--fleet needs at least one size"
for k in "${fleet_sizes[@]}"; do [[ $k =~ ^[0-9]+$ && $k -ge 1 && $k -le 32 ]] || die "--fleet sizes must be integers from 1 to 32, not '$k'"; done
[[ -z $only || $only == scan || $only == fleet ]] || die "--only takes scan or fleet, not '$only'"
[[ $max_seconds =~ ^[0-9]+$ && $max_seconds -ge 10 ]] || die "--max-seconds must be a whole number of seconds >= 10, not '$max_seconds'"
do_scan=1 do_fleet=1
[[ $only == fleet ]] && do_scan=0
[[ $only == scan ]] && do_fleet=0

# --- the PostgreSQL server ---------------------------------------------------------------------
if [[ -z ${MEDIA_JANITOR_TEST_POSTGRES:-} ]]; then
    log "MEDIA_JANITOR_TEST_POSTGRES is not set: re-running under scripts/with-postgres.sh with MEDIA_JANITOR_PG_DURABLE=1 (a throwaway server whose commits are flushed to disk)"
    export MEDIA_JANITOR_PG_DURABLE=1 POSTGRES_BENCH_SERVER=throwaway
    exec bash "$package/scripts/with-postgres.sh" bash "${BASH_SOURCE[0]}" ${original_args[@]+"${original_args[@]}"}
fi
pg_server_note=${POSTGRES_BENCH_SERVER:-given}
pg_base=$MEDIA_JANITOR_TEST_POSTGRES

# --- tools -------------------------------------------------------------------------------------
missing=()
command -v sqlite3 >/dev/null || missing+=(sqlite3)
command -v jq >/dev/null || missing+=(jq)
command -v psql >/dev/null || missing+=(postgresql-client)
if ((${#missing[@]})) && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    log "installing ${missing[*]} (apt-get install -y)"
    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"; } >/dev/null 2>&1 \
        || log "apt-get install ${missing[*]} failed"
fi
command -v sqlite3 >/dev/null || die "sqlite3 (the CLI) is needed; install it (apt-get install sqlite3)"
command -v jq >/dev/null || die "jq is needed; install it (apt-get install jq)"
command -v psql >/dev/null || die "psql is needed; install it (apt-get install postgresql-client)"

# pg_url DB: the server's URL with DB as the database (user, password, host, port and query kept).
pg_url() {
    local base=${pg_base%%\?*} query=""
    [[ $pg_base == *\?* ]] && query="?${pg_base#*\?}"
    local rest=${base#*://}
    if [[ $rest == */* ]]; then base=${base%/*}; fi
    echo "$base/$1$query"
}
pg_admin=$(pg_url postgres)
# psql_at URL SQL...: one unaligned, tuples-only psql call that stops at the first error.
psql_at() { local url=$1; shift; PGOPTIONS="${PGOPTIONS:+$PGOPTIONS }-c client_min_messages=warning" psql "$url" -X -q -v ON_ERROR_STOP=1 -At "$@"; }
server_facts=$(psql_at "$pg_base" -c "SELECT current_setting('server_version'), current_setting('fsync'), current_setting('synchronous_commit'), current_setting('full_page_writes'), current_setting('shared_buffers')" 2>&1) \
    || die "cannot reach PostgreSQL at MEDIA_JANITOR_TEST_POSTGRES ($pg_base): $server_facts"
IFS='|' read -r pg_version pg_fsync pg_sync pg_fpw pg_shared <<<"$server_facts"
durability="fsync=$pg_fsync synchronous_commit=$pg_sync full_page_writes=$pg_fpw"
if [[ $pg_fsync == on && $pg_sync != off ]]; then durable_word="commits flushed to disk"; else durable_word="NOT durable: commits are not flushed"; fi
case $pg_server_note in
    throwaway) pg_origin="a throwaway server from scripts/with-postgres.sh (MEDIA_JANITOR_PG_DURABLE=1)" ;;
    *) pg_origin="the server of MEDIA_JANITOR_TEST_POSTGRES" ;;
esac
log "PostgreSQL $pg_version: $pg_origin; $durability ($durable_word); shared_buffers=$pg_shared"

# Databases this run made: dropped at exit (a kept work dir on a given server keeps them).
db_prefix="mj_bench_$$"
created_dbs=()
pg_create_db() {   # pg_create_db NAME: a fresh, empty database
    psql_at "$pg_admin" -c "DROP DATABASE IF EXISTS \"$1\"" -c "CREATE DATABASE \"$1\"" >/dev/null \
        || die "CREATE DATABASE $1 failed on $pg_admin"
    created_dbs+=("$1")
}

# --- the work directory and the build (Benchmarks/common.sh) ------------------------------------
name=postgres-bench
# shellcheck source=Benchmarks/common.sh
source "$here/common.sh"
bench_workdir
on_exit() {
    local status=$?
    bench_serve_stop >/dev/null 2>&1 || true
    # The throwaway server goes with everything on it; on a given server the databases are
    # dropped unless the work directory is kept (--keep, or evidence of a failure).
    if ((${#created_dbs[@]})) && [[ $pg_server_note != throwaway ]]; then
        if [[ -z $keep ]]; then
            local db
            for db in "${created_dbs[@]}"; do psql_at "$pg_admin" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true; done
        else
            log "kept the databases ${created_dbs[*]} on $pg_admin"
        fi
    fi
    (exit "$status")
    bench_cleanup
}
trap on_exit EXIT
bench_gnu_time
bench_build
log "media-janitor: $janitor"

read -r load_before _ < /proc/loadavg || load_before="?"
report=()   # detail lines, printed after the headlines

# ================================ part 1: the scan ============================================
if ((do_scan)); then
    scan_dir=$work/scan
    marker=$scan_dir/scan-fixture.txt
    mkdir -p -- "$scan_dir"
    # Path values per generated file at --referenced 0.9: about 0.905 referenced, plus the
    # fixture's shared cover images (1 user in 25) and duplicated documents (1 row in 200):
    # 0.9087 measured at 100,000 files. Aim 0.3% under N, then top up with copies.
    files=$(awk -v n="$refs" 'BEGIN { printf "%d", n * 0.997 / 0.9087 }')
    count_refs() {   # count_refs SQLITE_DB: path values in the four reference columns
        sqlite3 "$1" "SELECT (SELECT count(*) FROM gallery_photo WHERE image IS NOT NULL AND image <> '')
            + (SELECT count(*) FROM accounts_user WHERE avatar IS NOT NULL AND avatar <> '')
            + (SELECT count(*) FROM accounts_user WHERE cover_image IS NOT NULL AND cover_image <> '')
            + (SELECT count(*) FROM docs_document WHERE file IS NOT NULL AND file <> '')"
    }
    if [[ -f $marker && -d $scan_dir/media && -f $scan_dir/app.sqlite3 ]] && [[ $(bench_field "$marker" files) == "$files" \
            && $(bench_field "$marker" referenced) == "$referenced" && $(bench_field "$marker" seed) == "$seed" ]]; then
        log "reusing the tree in $scan_dir ($(bench_field "$marker" total_files) files)"
        generated="reused"
    else
        rm -rf -- "$scan_dir/media" "$scan_dir/app.sqlite3" "$scan_dir/janitor.yml" "$scan_dir/janitor-pg.yml" "$scan_dir/.janitor" "$scan_dir/postgres-bench.txt" "$marker"
        need_kb=$((files * 6))
        avail_kb=$(df -Pk "$scan_dir" | awk 'NR == 2 { print $4 }')
        avail_inodes=$(df -Pi "$scan_dir" | awk 'NR == 2 { print $4 }')
        if [[ $avail_kb =~ ^[0-9]+$ ]] && ((avail_kb < need_kb)); then
            die "$scan_dir: $((avail_kb / 1024)) MB free, about $((need_kb / 1024)) MB needed for $files files"
        fi
        if [[ $avail_inodes =~ ^[0-9]+$ ]] && ((avail_inodes < files + 10000)); then
            die "$scan_dir: $avail_inodes inodes free, $files needed"
        fi
        log "generating $files files (--referenced $referenced) in $scan_dir"
        "$fixture" "$scan_dir" --files "$files" --referenced "$referenced" --seed "$seed" --quiet || die "scan-fixture failed"
        generated="generated in $(bench_field "$marker" generate_seconds)s"
    fi
    generated_refs=$(count_refs "$scan_dir/app.sqlite3")
    top_up=0
    topped=$scan_dir/postgres-bench.txt   # what an earlier run of this script added
    if [[ $generated == reused && -f $topped ]]; then
        top_up=$(bench_field "$topped" top_up)
        generated_refs=$((generated_refs - top_up))
    elif ((generated_refs < refs)); then
        top_up=$((refs - generated_refs))
        log "adding $top_up docs_document rows that copy existing ones ($generated_refs path values -> $refs)"
        sqlite3 "$scan_dir/app.sqlite3" <<SQL || die "adding $top_up rows to $scan_dir/app.sqlite3 failed"
BEGIN;
INSERT INTO docs_document (id, owner_id, title, file, uploaded_at)
SELECT (SELECT max(id) FROM docs_document) + row_number() OVER (ORDER BY id), owner_id, 'Copy of document ' || id, file, uploaded_at
FROM docs_document WHERE file IS NOT NULL AND file <> '' ORDER BY id LIMIT $top_up;
COMMIT;
SQL
        # (A copy names a file some row already names: the referenced set does not change.)
        echo "top_up=$top_up" > "$topped"
    fi
    path_values=$(count_refs "$scan_dir/app.sqlite3")
    ((path_values == refs)) || die "the app database holds $path_values path values, not $refs (generated: $generated_refs; a kept fixture with more cannot be trimmed: use a fresh --keep directory)"
    total_files=$(bench_field "$marker" total_files)
    expected_orphans=$(bench_field "$marker" expected_orphans)
    expected_bytes=$(bench_field "$marker" expected_bytes)
    rows_sqlite=$(sqlite3 "$scan_dir/app.sqlite3" "SELECT (SELECT count(*) FROM accounts_user) || ' ' || (SELECT count(*) FROM gallery_photo) || ' ' || (SELECT count(*) FROM docs_document)")
    read -r rows_users rows_photos rows_documents <<<"$rows_sqlite"

    # --- PostgreSQL: the same tables and rows -------------------------------------------------
    app_db="${db_prefix}_app"
    pg_create_db "$app_db"
    app_url=$(pg_url "$app_db")
    log "loading the rows into PostgreSQL ($app_db): $rows_users + $rows_photos + $rows_documents"
    psql_at "$app_url" >/dev/null <<'SQL' || fail "creating the app tables in PostgreSQL failed"
CREATE TABLE accounts_user (
    id bigint PRIMARY KEY,
    username text NOT NULL,
    email text NOT NULL,
    avatar text,
    cover_image text,
    date_joined timestamp NOT NULL
);
CREATE TABLE gallery_photo (
    id bigint PRIMARY KEY,
    owner_id bigint NOT NULL,
    image text NOT NULL,
    caption text NOT NULL,
    created_at timestamp NOT NULL
);
CREATE TABLE docs_document (
    id bigint PRIMARY KEY,
    owner_id bigint NOT NULL,
    title text NOT NULL,
    file text,
    uploaded_at timestamp NOT NULL
);
SQL
    declare -A table_columns=(
        [accounts_user]="id, username, email, avatar, cover_image, date_joined"
        [gallery_photo]="id, owner_id, image, caption, created_at"
        [docs_document]="id, owner_id, title, file, uploaded_at"
    )
    tables=(accounts_user gallery_photo docs_document)
    clock; load_start=$REPLY
    for table in "${tables[@]}"; do
        cols=${table_columns[$table]}
        # CSV both ways: sqlite3 writes NULL as an empty field and '' as "", which is exactly
        # how COPY ... (FORMAT csv) reads them back.
        sqlite3 -csv "$scan_dir/app.sqlite3" "SELECT $cols FROM $table ORDER BY id" \
            | psql_at "$app_url" -c "\\copy $table ($cols) FROM STDIN WITH (FORMAT csv)" >/dev/null \
            || fail "loading $table into PostgreSQL failed"
    done
    psql_at "$app_url" -c "CREATE INDEX gallery_photo_owner ON gallery_photo (owner_id)" \
        -c "CREATE INDEX docs_document_owner ON docs_document (owner_id)" \
        -c "VACUUM (ANALYZE) accounts_user" -c "VACUUM (ANALYZE) gallery_photo" -c "VACUUM (ANALYZE) docs_document" >/dev/null \
        || fail "indexing or vacuuming the PostgreSQL tables failed"
    clock; load_seconds=$(elapsed "$load_start" "$REPLY")
    # Row for row: both dumped in id order as tab-separated text with NULL as \N.
    for table in "${tables[@]}"; do
        cols=${table_columns[$table]}
        sqlite3 -list -separator $'\t' -nullvalue '\N' "$scan_dir/app.sqlite3" "SELECT $cols FROM $table ORDER BY id" > "$work/$table.sqlite.tsv"
        psql_at "$app_url" -c "\\copy (SELECT $cols FROM $table ORDER BY id) TO STDOUT" > "$work/$table.postgres.tsv" \
            || fail "dumping $table from PostgreSQL failed"
        if ! cmp -s "$work/$table.sqlite.tsv" "$work/$table.postgres.tsv"; then
            keep=${keep:-$work}
            fail "$table differs between SQLite and PostgreSQL: $(cmp "$work/$table.sqlite.tsv" "$work/$table.postgres.tsv" 2>&1 | head -n 1) (dumps kept in $work)"
        fi
        rm -f -- "$work/$table.sqlite.tsv" "$work/$table.postgres.tsv"
    done
    pg_values=$(psql_at "$app_url" -c "SELECT (SELECT count(*) FROM gallery_photo WHERE image IS NOT NULL AND image <> '')
        + (SELECT count(*) FROM accounts_user WHERE avatar IS NOT NULL AND avatar <> '')
        + (SELECT count(*) FROM accounts_user WHERE cover_image IS NOT NULL AND cover_image <> '')
        + (SELECT count(*) FROM docs_document WHERE file IS NOT NULL AND file <> '')")
    ((pg_values == refs)) || fail "PostgreSQL holds $pg_values path values, not $refs"
    pg_size=$(psql_at "$app_url" -c "SELECT pg_size_pretty(pg_database_size(current_database()))")
    log "loaded and checked in ${load_seconds}s ($pg_size): every row identical, $pg_values path values"

    sqlite_config=$scan_dir/janitor.yml
    pg_config=$scan_dir/janitor-pg.yml
    grep -q '^database: sqlite:app.sqlite3$' "$sqlite_config" || die "$sqlite_config has no 'database: sqlite:app.sqlite3' line"
    sed "s|^database: sqlite:app.sqlite3\$|database: $app_url|" "$sqlite_config" > "$pg_config"
    [[ $(diff "$sqlite_config" "$pg_config" | grep -c '^[<>]') == 2 ]] || die "$pg_config differs from $sqlite_config in more than the database line"

    find_cmd=(find "$scan_dir/media" -type f -printf '%s %P\n')
    log "warming the page cache (find)"
    "${find_cmd[@]}" >/dev/null

    # --- one checked scan of each: against the generator, and against each other ------------
    phase() { grep -o "$1=[0-9.]*s" "$2" | head -n 1 | cut -d= -f2 || true; }
    declare -A phases
    for db in sqlite postgres; do
        config=$sqlite_config
        [[ $db == postgres ]] && config=$pg_config
        log "checking the $db scan's JSON report"
        if ! "$janitor" scan --config "$config" --format json --no-record --output "$work/scan-$db.json" --verbose 2>"$work/scan-$db.err"; then
            sed 's/^/    /' "$work/scan-$db.err" >&2
            keep=${keep:-$work}
            fail "media-janitor scan ($db) failed"
        fi
        if grep -qv ' debug ' "$work/scan-$db.err"; then
            log "the $db scan wrote to stderr:"
            grep -v ' debug ' "$work/scan-$db.err" | sed 's/^/    /' >&2
        fi
        phases[$db]="walk=$(phase walk.time "$work/scan-$db.err") references=$(phase references.time "$work/scan-$db.err") reconcile=$(phase reconcile.time "$work/scan-$db.err")"
        keep_on_fail=${keep:-$work}
        (bench_check_scan "$work/scan-$db.json" "$marker") || { keep=$keep_on_fail; fail "the $db scan does not report what the generator recorded (report: $work/scan-$db.json)"; }
    done
    for db in sqlite postgres; do jq -S 'del(.generated_at)' "$work/scan-$db.json" > "$work/scan-$db.norm.json"; done
    if ! cmp -s "$work/scan-sqlite.norm.json" "$work/scan-postgres.norm.json"; then
        keep=${keep:-$work}
        diff <(jq -S .summary "$work/scan-sqlite.json") <(jq -S .summary "$work/scan-postgres.json") | sed 's/^/    /' >&2 || true
        fail "the SQLite and PostgreSQL scans' JSON reports differ (beyond generated_at): $work/scan-sqlite.json, $work/scan-postgres.json"
    fi
    summary_text=$(jq -r '.summary | to_entries | map("\(.key)=\(.value)") | join(" ")' "$work/scan-sqlite.json")
    findings=$(jq '.findings | length' "$work/scan-sqlite.json")
    rm -f -- "$work"/scan-*.norm.json

    # --- timed rounds: find, the SQLite scan and the PostgreSQL scan in turn ------------------
    find_times=() sqlite_times=() postgres_times=() sqlite_rss=() postgres_rss=()
    for ((i = 1; i <= runs; i++)); do
        log "scan round $i/$runs"
        bench_run_timed find /dev/null "$work/find.err" "${find_cmd[@]}"
        find_times+=("$SECONDS_TAKEN")
        bench_run_timed "scan (sqlite)" /dev/null "$work/scan.err" "$janitor" scan --config "$sqlite_config" --format json --no-record --output /dev/null
        sqlite_times+=("$SECONDS_TAKEN"); [[ -n $RSS_KB ]] && sqlite_rss+=("$RSS_KB")
        bench_run_timed "scan (postgres)" /dev/null "$work/scan.err" "$janitor" scan --config "$pg_config" --format json --no-record --output /dev/null
        postgres_times+=("$SECONDS_TAKEN"); [[ -n $RSS_KB ]] && postgres_rss+=("$RSS_KB")
    done
    best_find=$(bench_minimum "${find_times[@]}")
    best_sqlite=$(bench_minimum "${sqlite_times[@]}")
    best_postgres=$(bench_minimum "${postgres_times[@]}")
    rss_text() { if (($# > 0)); then echo "$(bench_mb "$(bench_maximum "$@")")MB"; else echo "n/a"; fi; }
    rss_sqlite=$(rss_text ${sqlite_rss[@]+"${sqlite_rss[@]}"})
    rss_postgres=$(rss_text ${postgres_rss[@]+"${postgres_rss[@]}"})
    scan_headline="postgres-bench scan refs=$refs files=$total_files sqlite=${best_sqlite}s postgres=${best_postgres}s find=${best_find}s sqlite/find=$(bench_ratio "$best_sqlite" "$best_find") postgres/find=$(bench_ratio "$best_postgres" "$best_find") postgres/sqlite=$(bench_ratio "$best_postgres" "$best_sqlite") rss_sqlite=$rss_sqlite rss_postgres=$rss_postgres"
    echo "$scan_headline"
    report+=("scan: best of $runs; runs (s): find ${find_times[*]} | sqlite ${sqlite_times[*]} | postgres ${postgres_times[*]}")
    report+=("scan: phases of the checked runs (--verbose): sqlite ${phases[sqlite]}; postgres ${phases[postgres]}")
    report+=("scan: checked: both reports identical but for generated_at and as generated: $summary_text; $findings findings")
    report+=("scan: fixture: $total_files files ($files + $(bench_field "$marker" thumbnails) thumbnails) in $(bench_field "$marker" leaf_directories) leaf dirs, scan-fixture --files $files --referenced $referenced --seed $seed ($generated); $refs path values: $generated_refs generated + $top_up docs_document rows copying existing ones; rows accounts_user=$rows_users gallery_photo=$rows_photos docs_document=$rows_documents")
    report+=("scan: PostgreSQL app database: loaded (sqlite3 -csv | \\copy, indexes, VACUUM ANALYZE) in ${load_seconds}s, $pg_size; checked row for row; peak RSS of the scan processes only (not the server's), from $rss_method")
fi

# ================================ part 2: the fleet ===========================================
if ((do_fleet)); then
    fleet=$work/fleet
    pristine=$fleet/pristine
    mkdir -p -- "$fleet"
    bench_orphan_tree "$fixture" "$pristine" "$fleet_files" "$seed" 3
    events=$fleet/events.ndjson
    bench_event_listing "$pristine/media" > "$fleet/events.tsv" || fail "listing the events failed"
    bench_delete_events "$fleet/events.tsv" > "$events"
    [[ $(wc -l < "$events") == "$fleet_files" ]] || fail "$events holds $(wc -l < "$events") events, not $fleet_files"

    write_fleet_config() {   # write_fleet_config FILE STORE_URL QUARANTINE(0|7d)
        cat > "$1" <<YAML
# Written by Benchmarks/postgres-bench.sh: a fleet of serve processes on one PostgreSQL store.
version: 1
media_root: media
database: sqlite:app.sqlite3
state: $2

defaults:
  grace: 15m
  delay: 0s
  quarantine: $3
  quarantine_dir: .janitor/quarantine

safety:
  max_delete_fraction: 1.0
  max_delete_bytes: 1TB
  refuse_empty_references: false

serve:
  token: $token

$classes_yaml
YAML
    }

    # fleet_run LABEL K QUARANTINE: one measured drain; sets RUN_* figures.
    fleet_run() {
        local label=$1 k=$2 quarantine=$3 dir=$fleet/$1 store_db="${db_prefix}_store_$1" store_url i
        rm -rf -- "$dir"
        log "fleet $label: copying the tree ($fleet_files files) twice, for the fleet and for find -delete"
        bench_copy_tree "$pristine/media" "$dir" "$fleet_files"
        rm -rf -- "$dir.find"
        bench_copy_tree "$pristine/media" "$dir.find" "$fleet_files"
        cp -- "$pristine/app.sqlite3" "$dir/app.sqlite3"
        pg_create_db "$store_db"
        store_url=$(pg_url "$store_db")
        write_fleet_config "$dir/janitor.yml" "$store_url" "$quarantine"
        log "fleet $label: queueing $fleet_files delete events (media-janitor events)"
        bench_run_timed "events" "$dir/events.json" "$dir/events.err" "$janitor" events "$events" --config "$dir/janitor.yml" --format json
        RUN_FILL=$SECONDS_TAKEN
        "$janitor" queue stats --config "$dir/janitor.yml" --format json >"$dir/stats-before.json" 2>>"$dir/events.err" \
            || fail "queue stats failed after the events (see $dir/events.err)"
        local pending
        pending=$(jq -r '"\(.total_pending) \(.done)"' "$dir/stats-before.json")
        [[ $pending == "$fleet_files 0" ]] || { keep=${keep:-$work}; fail "after the events, total_pending/done are ${pending/ //}, not $fleet_files/0 ($(cat "$dir/stats-before.json"))"; }

        # The floor, right before the fleet (so both see the same machine): find -delete on
        # the identical copy.
        sync
        bench_run_timed "find -delete" /dev/null "$dir.find.err" find "$dir.find/media" -type f -delete
        RUN_FIND=$SECONDS_TAKEN
        left=$(find "$dir.find/media" -type f | wc -l)
        ((left == 0)) || fail "find -delete left $left files in $dir.find/media"
        rm -rf -- "$dir.find" "$dir.find.err"
        sync

        # K serves, the clock from the first start.
        local start now done_count dead_count total polled_seconds
        clock; start=$REPLY
        for ((i = 1; i <= k; i++)); do
            bench_serve_start "$dir" "$dir/serve$i" "$janitor" serve --listen 127.0.0.1:0
        done
        local listen_times=()
        for ((i = 1; i <= k; i++)); do
            bench_serve_port "${bench_serve_pids[i - 1]}" "$dir/serve$i" 60
            clock; listen_times+=("$(elapsed "$start" "$REPLY")")
        done
        while :; do
            IFS='|' read -r done_count dead_count total < <(psql_at "$store_url" -c \
                "SELECT count(*) FILTER (WHERE state = 'done'), count(*) FILTER (WHERE state = 'dead'), count(*) FROM janitor_queue_item" 2>>"$dir/poll.err") || true
            clock; now=$REPLY
            [[ ${done_count:-} == "$fleet_files" ]] && break
            if [[ ${dead_count:-0} =~ ^[0-9]+$ ]] && ((dead_count > 0)); then
                keep=${keep:-$work}; fail "fleet $label: $dead_count queue items are dead (store $store_db; logs in $dir)"
            fi
            for ((i = 1; i <= k; i++)); do
                if ! kill -0 "${bench_serve_pids[i - 1]}" 2>/dev/null; then
                    sed 's/^/    /' "$dir/serve$i.err" >&2
                    keep=${keep:-$work}; fail "fleet $label: serve $i exited during the drain ($done_count of $fleet_files done)"
                fi
            done
            if awk -v a="$start" -v b="$now" -v m="$max_seconds" 'BEGIN { exit !(b - a > m) }'; then
                keep=${keep:-$work}; fail "fleet $label: ${done_count:-?} of $fleet_files items done after ${max_seconds}s (--max-seconds)"
            fi
            sleep 0.1
        done
        polled_seconds=$(elapsed "$start" "$now")
        local serve_rss=() pid
        for pid in "${bench_serve_pids[@]}"; do
            serve_rss+=("$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)")
        done
        log "fleet $label: all $fleet_files done after ${polled_seconds}s (polled); stopping the $k serve(s) (SIGTERM)"
        bench_serve_stop
        local problems=() status
        for ((i = 1; i <= k; i++)); do
            status=${bench_serve_statuses[i - 1]}
            [[ $status == 0 ]] || problems+=("serve $i exit status after SIGTERM: $status (expected 0; log $dir/serve$i.err)")
        done

        # The store's own stamps: finished_at of the first and last item done.
        local first_done last_done
        IFS='|' read -r first_done last_done < <(psql_at "$store_url" -c "SELECT min(finished_at), max(finished_at) FROM janitor_queue_item WHERE state = 'done'")
        if awk -v s="$start" -v f="$first_done" -v l="$last_done" -v p="$polled_seconds" 'BEGIN { exit !(f >= s - 1 && l - s <= p + 0.05 && l >= f) }'; then
            RUN_SECONDS=$(elapsed "$start" "$last_done")
            RUN_FIRST=$(elapsed "$start" "$first_done")
            RUN_STEADY=$(per_second "$fleet_files" "$(elapsed "$first_done" "$last_done")")
        else
            log "fleet $label: finished_at ($first_done .. $last_done) is not a Unix time within the run; using the polled time"
            RUN_SECONDS=$polled_seconds RUN_FIRST="?" RUN_STEADY="?"
        fi

        # Checks.
        left=$(find "$dir/media" -type f | wc -l)
        ((left == 0)) || problems+=("$left regular files are left under $dir/media")
        local rows distinct q_rows q_files
        IFS='|' read -r rows distinct q_rows < <(psql_at "$store_url" -c \
            "SELECT count(*), count(DISTINCT queue_item_id), count(*) FILTER (WHERE quarantine_path IS NOT NULL) FROM janitor_removal")
        [[ $rows == "$fleet_files" && $distinct == "$fleet_files" ]] \
            || problems+=("janitor_removal holds $rows rows with $distinct distinct queue_item_id, expected $fleet_files and $fleet_files")
        q_files=0
        [[ -d $dir/.janitor/quarantine ]] && q_files=$(find "$dir/.janitor/quarantine" -type f | wc -l)
        if [[ $quarantine == 0 ]]; then
            [[ $q_rows == 0 && $q_files == 0 ]] || problems+=("quarantine is off, yet $q_rows removal rows have a quarantine_path and $q_files files are quarantined")
        else
            [[ $q_rows == "$fleet_files" && $q_files == "$fleet_files" ]] || problems+=("quarantine is on: $q_rows removal rows have a quarantine_path and $q_files files are in $dir/.janitor/quarantine, expected $fleet_files and $fleet_files")
        fi
        local stats
        stats=$(cd "$dir" && "$janitor" queue stats --format json 2>>"$dir/stats.err") || problems+=("queue stats failed (see $dir/stats.err)")
        if [[ -n $stats ]]; then
            [[ $(jq -r '"\(.total_pending) \(.dead) \(.done)"' <<<"$stats") == "0 0 $fleet_files" ]] \
                || problems+=("queue stats: total_pending/dead/done are $(jq -r '"\(.total_pending)/\(.dead)/\(.done)"' <<<"$stats"), expected 0/0/$fleet_files")
        fi
        RUN_SHARE=$(psql_at "$store_url" -F ' ' -c "SELECT count(*) FROM janitor_queue_item WHERE state = 'done' GROUP BY claimed_by ORDER BY count(*) DESC" 2>>"$dir/poll.err" | paste -sd / -) || RUN_SHARE="?"
        if ((${#problems[@]})); then
            local p
            for p in "${problems[@]}"; do echo "postgres-bench: FAIL (fleet $label): $p" >&2; done
            keep=${keep:-$work}
            fail "fleet $label did not remove the $fleet_files files as expected (evidence kept in $dir, store database $store_db)"
        fi
        RUN_LISTEN=$(IFS=/; echo "${listen_times[*]}")
        RUN_RSS=$(for kb in "${serve_rss[@]}"; do printf '%s/' "$(bench_mb "$kb")"; done | sed 's|/$||')
        [[ -n $keep ]] || rm -rf -- "$dir"
    }

    declare -A fleet_seconds fleet_rate fleet_detail
    find_seconds_all=()
    fleet_labels=()
    for k in "${fleet_sizes[@]}"; do fleet_labels+=("k$k:$k:0"); done
    if ((quarantine_run)); then
        kq=$(bench_maximum "${fleet_sizes[@]}")
        fleet_labels+=("k${kq}q:$kq:7d")
    fi
    for entry in "${fleet_labels[@]}"; do
        IFS=: read -r label k quarantine <<<"$entry"
        fleet_run "$label" "$k" "$quarantine"
        fleet_seconds[$label]=$RUN_SECONDS
        fleet_rate[$label]=$(per_second "$fleet_files" "$RUN_SECONDS")
        find_seconds_all+=("$RUN_FIND")
        fleet_detail[$label]="k=$k quarantine=$quarantine: events (fill) ${RUN_FILL}s; drain ${RUN_SECONDS}s from the first start to the last item done, ${fleet_rate[$label]}/s; first item done at +${RUN_FIRST}s, first-to-last ${RUN_STEADY}/s; listening at +${RUN_LISTEN}s; find -delete just before ${RUN_FIND}s ($(per_second "$fleet_files" "$RUN_FIND")/s); items per process $RUN_SHARE; peak RSS per process ${RUN_RSS}MB; all exited 0 on SIGTERM"
        log "fleet $label: ${RUN_SECONDS}s, ${fleet_rate[$label]}/s"
    done

    find_delete_seconds=$(bench_minimum "${find_seconds_all[@]}")
    base_label=k${fleet_sizes[0]}
    fleet_headline="postgres-bench fleet files=$fleet_files"
    for k in "${fleet_sizes[@]}"; do
        fleet_headline+=" k=$k rate=${fleet_rate[k$k]}/s"
        [[ k$k != "$base_label" ]] && fleet_headline+=" ($(bench_ratio "${fleet_rate[k$k]}" "${fleet_rate[$base_label]}")x)"
    done
    if ((quarantine_run)); then fleet_headline+=" k=${kq}+quarantine rate=${fleet_rate[k${kq}q]}/s"; fi
    fleet_headline+=" find-delete=$(per_second "$fleet_files" "$find_delete_seconds")/s"
    echo "$fleet_headline"
    for entry in "${fleet_labels[@]}"; do report+=("fleet: ${fleet_detail[${entry%%:*}]}"); done
    report+=("fleet: speed-up = rate(k) / rate(k=${fleet_sizes[0]}); find-delete = the best of the runs' 'find TREE -type f -delete' on an identical copy, timed just before each fleet started: ${find_delete_seconds}s ($(per_second "$fleet_files" "$find_delete_seconds")/s; all: ${find_seconds_all[*]})")
    report+=("fleet: each run: a fresh store database and tree copy; $fleet_files items queued by 'media-janitor events' (delete events, delay 0s); checked: 0 files left, janitor_removal $fleet_files rows / $fleet_files distinct queue_item_id, queue stats pending 0 dead 0 done $fleet_files; app database SQLite (empty tables); the serves' inotify watchers on, their first walk inside the timed span")
    report+=("fleet: fixture: $fleet_files files (none referenced) in $leaf_dirs leaf dirs, $(bench_mb $((expected_bytes / 1024)))MB; $generated")
fi

# --- details -----------------------------------------------------------------------------------
for line in "${report[@]}"; do echo "  $line" >&2; done
echo "  PostgreSQL $pg_version: $pg_origin; $durability ($durable_word); shared_buffers=$pg_shared; on this machine, beside the janitor" >&2
echo "  machine: $(nproc) CPUs; load average $load_before at the start (other processes share these CPUs: compare runs on a quiet machine only)" >&2
echo "  work dir: $work ($([[ -n $keep ]] && echo kept || echo removed))" >&2
