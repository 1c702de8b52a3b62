# Shared by the benchmark scripts (sourced, not run). Expects: `name` (the script's name),
# `package` (the repository root), `keep` (a directory to keep, or empty), and `log`/`die`.
# Optional: `bench_products` (what bench_build builds; default "media-janitor scan-fixture")
# and `scratch_path` (passed to swift build as --scratch-path; empty: swift's own .build).
# Sets: `work` (the work directory, removed at exit unless kept), `janitor` and `fixture`
# (the release binaries; `fixture` is empty when scan-fixture is not among the products).

# The work directory: one this script made (marked) may be emptied and reused.
bench_workdir() {
    owner_mark=.$name
    if [[ -n $keep ]]; then
        mkdir -p -- "$keep"
        work=$(cd "$keep" && pwd)
        if [[ -n $(ls -A "$work") && ! -e $work/$owner_mark ]]; then
            die "'$work' is not empty and was not made by $name; refusing to use it"
        fi
    else
        work=$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX")
    fi
    : > "$work/$owner_mark"
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

bench_cleanup() {
    local status=$?
    if [[ -z $keep && -n ${work:-} && -e $work/$owner_mark ]]; then
        log "removing $work"
        rm -rf -- "$work"
    fi
    exit "$status"
}

# Builds media-janitor and scan-fixture (or `bench_products`) in release mode.
bench_build() {
    local build_log=$work/build.log product bin products scratch=()
    read -r -a products <<<"${bench_products:-media-janitor scan-fixture}"
    if [[ -n ${scratch_path:-} ]]; then scratch=(--scratch-path "$scratch_path"); fi
    log "building release (swift build -c release${scratch_path:+ --scratch-path $scratch_path}) in $package"
    for product in "${products[@]}"; do
        # `swift build` takes one --product; the last of several wins, so build them one by one.
        if ! (cd "$package" && swift build ${scratch[@]+"${scratch[@]}"} -c release --product "$product") >"$build_log" 2>&1; then
            cat "$build_log" >&2
            die "swift build -c release --product $product failed"
        fi
    done
    bin=$(cd "$package" && swift build ${scratch[@]+"${scratch[@]}"} -c release --show-bin-path)
    janitor=$bin/media-janitor
    fixture=""
    for product in "${products[@]}"; do
        [[ -x $bin/$product ]] || die "built product $product not found in $bin"
        if [[ $product == scan-fixture ]]; then fixture=$bin/scan-fixture; fi
    done
    [[ -x $janitor ]] || die "media-janitor not found in $bin"
}

# bench_field FILE KEY: the value of KEY=... in a fixture marker file.
bench_field() {
    awk -F= -v key="$2" '$1 == key { print substr($0, length(key) + 2); found = 1; exit } END { if (!found) exit 1 }' "$1"
}

# Timing helpers: `clock` sets REPLY to the time in seconds; `elapsed A B` and
# `per_second COUNT SECONDS` print figures.
if [[ -n ${EPOCHREALTIME:-} ]]; then
    clock() { REPLY=$EPOCHREALTIME; }
else
    clock() { REPLY=$(date +%s.%N); }
fi
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
per_second() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }

# bench_orphan_tree FIXTURE PRISTINE FILES SEED COPIES: a pristine tree of FILES files no row
# references, made by scan-fixture (reused when PRISTINE already holds the same one), with
# room checked for COPIES trees at once. Sets `generated`, `expected_bytes`, `leaf_dirs` and
# `classes_yaml` (the classes of the generated config).
bench_orphan_tree() {
    local fixture=$1 pristine=$2 files=$3 seed=$4 copies=$5
    local marker=$pristine/scan-fixture.txt work
    work=$(dirname "$pristine")
    if [[ -f $marker && -d $pristine/media ]] && [[ $(bench_field "$marker" files) == "$files" \
            && $(bench_field "$marker" expected_orphans) == "$files" && $(bench_field "$marker" seed) == "$seed" ]]; then
        log "reusing the pristine tree in $pristine"
        generated="reused"
    else
        rm -rf -- "$pristine"
        # Each file takes one 4 KiB block (or none) plus an inode; COPIES trees exist at once.
        local need_kb=$((files * 6 * copies)) avail_kb avail_inodes
        avail_kb=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
        avail_inodes=$(df -Pi "$work" | awk 'NR == 2 { print $4 }')
        if [[ $avail_kb =~ ^[0-9]+$ ]] && ((avail_kb < need_kb)); then
            die "$work: $((avail_kb / 1024)) MB free, about $((need_kb / 1024)) MB needed for $copies trees of $files files"
        fi
        if [[ $avail_inodes =~ ^[0-9]+$ ]] && ((avail_inodes < copies * files + 10000)); then
            die "$work: $avail_inodes inodes free, $((copies * files)) needed"
        fi
        log "generating $files files (none referenced) in $pristine"
        "$fixture" "$pristine" --files "$files" --referenced 0 --thumbnails 0 --seed "$seed" --quiet \
            || die "scan-fixture failed"
        generated="generated in $(bench_field "$marker" generate_seconds)s"
    fi
    [[ $(bench_field "$marker" total_files) == "$files" && $(bench_field "$marker" expected_orphans) == "$files" ]] \
        || die "the fixture in $pristine is not $files unreferenced files (see $marker)"
    expected_bytes=$(bench_field "$marker" expected_bytes)
    leaf_dirs=$(bench_field "$marker" leaf_directories)
    classes_yaml=$(awk '/^classes:/ { on = 1 } on' "$pristine/janitor.yml")
    [[ -n $classes_yaml ]] || die "no 'classes:' section in $pristine/janitor.yml"
}

# Rows that reference paths not in the tree (so nothing is kept), spread like the fixture's:
# half gallery_photo.image, a quarter docs_document.file, a quarter accounts_user.avatar.
bench_app_rows() {   # bench_app_rows DB M
    local db=$1 m=$2
    ((m > 0)) || return 0
    local users=$((m / 4)) photos=$((m / 2)) documents=$((m - m / 4 - m / 2))
    sqlite3 "$db" <<SQL
PRAGMA synchronous = OFF;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $users)
INSERT INTO accounts_user (id, username, email, avatar, cover_image, date_joined)
SELECT i, 'bench' || i, 'bench' || i || '@example.com', printf('avatars/zz/user_%d_kept.jpg', i), NULL, '2023-01-01 10:00:00' FROM n WHERE $users > 0;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $photos)
INSERT INTO gallery_photo (id, owner_id, image, caption, created_at)
SELECT i, 1, printf('uploads/images/zz/zz/zzzz%08x-kept.jpg', i), 'Photo ' || i, '2023-01-01 10:00:00' FROM n WHERE $photos > 0;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $documents)
INSERT INTO docs_document (id, owner_id, title, file, uploaded_at)
SELECT i, 1, 'Document ' || i, printf('documents/1999/01/kept_%07d.pdf', i), '2023-01-01 10:00:00' FROM n WHERE $documents > 0;
COMMIT;
SQL
}

# --- shared by the PostgreSQL benchmark (and free for the others) -------------------------------
# These only define functions named bench_*; sourcing them changes nothing for a script that
# does not call them.

bench_minimum() { printf '%s\n' "$@" | sort -g | head -n 1; }
bench_maximum() { printf '%s\n' "$@" | sort -g | tail -n 1; }
bench_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }   # A / B
bench_mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }                            # KiB -> MiB

# bench_gnu_time: sets `gnu_time` (/usr/bin/time when it is GNU time, installed with apt-get
# when missing and running as root; empty otherwise) and `rss_method` (how peak RSS is read).
bench_gnu_time() {
    gnu_time=/usr/bin/time
    if ! { [[ -x $gnu_time ]] && "$gnu_time" --version 2>&1 | grep -q GNU; }; then
        if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
            log "installing GNU time (apt-get install -y time)"
            { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y time; } >/dev/null 2>&1 \
                || log "apt-get install time failed; peak RSS will not be reported"
        fi
    fi
    if [[ -x $gnu_time ]] && "$gnu_time" --version 2>&1 | grep -q GNU; then
        rss_method="GNU time %M"
    else
        gnu_time=""
        rss_method="unavailable (no GNU time)"
    fi
}

# bench_run_timed WHAT OUT ERR CMD...: runs CMD (through GNU time when `gnu_time` is set, so
# every timed command pays the same wrapper), stdout to OUT, stderr to ERR; exits 1 with ERR
# shown unless CMD exits 0. Sets SECONDS_TAKEN (wall, 3 decimals) and RSS_KB (empty without
# GNU time).
bench_run_timed() {
    local what=$1 out=$2 err=$3 start end status=0 rss_out
    shift 3
    rss_out=$(mktemp "${TMPDIR:-/tmp}/$name-rss.XXXXXX")
    clock; start=$REPLY
    if [[ -n ${gnu_time:-} ]]; then
        "$gnu_time" -f '%M' -o "$rss_out" "$@" >"$out" 2>"$err" || status=$?
    else
        "$@" >"$out" 2>"$err" || status=$?
    fi
    clock; end=$REPLY
    if ((status != 0)); then
        sed 's/^/    /' "$err" >&2
        rm -f -- "$rss_out"
        echo "$name: FAIL: $what exited with status $status: $*" >&2
        exit 1
    fi
    SECONDS_TAKEN=$(elapsed "$start" "$end")
    RSS_KB=$(grep -E '^[0-9]+$' "$rss_out" | tail -n 1 || true)
    rm -f -- "$rss_out"
}

# bench_copy_tree SOURCE_MEDIA DEST COUNT: a real copy (`cp -a`, not hard links: they would
# share inodes) of SOURCE_MEDIA as DEST/media; exits 1 unless it holds COUNT regular files.
bench_copy_tree() {
    local source=$1 dest=$2 count=$3 copied
    mkdir -p -- "$dest"
    cp -a -- "$source" "$dest/media" || { echo "$name: FAIL: cp -a $source $dest/media failed" >&2; exit 1; }
    copied=$(find "$dest/media" -type f | wc -l)
    ((copied == count)) || { echo "$name: FAIL: the copy in $dest/media has $copied files, not $count" >&2; exit 1; }
}

# bench_check_scan SUMMARY_JSON MARKER: exits 1 (naming each difference) unless the scan's JSON
# report agrees with what scan-fixture recorded in MARKER: summary.files = total_files,
# summary.orphans = expected_orphans, summary.bytes = expected_bytes, and no missing, invalid
# or unclassified finding. Needs jq.
bench_check_scan() {
    local json=$1 marker=$2 problems=() got want key
    for key in files:total_files orphans:expected_orphans bytes:expected_bytes; do
        got=$(jq -r --arg k "${key%%:*}" '.summary[$k] // "absent"' "$json" 2>/dev/null || echo "unreadable")
        want=$(bench_field "$marker" "${key#*:}")
        [[ $got == "$want" ]] || problems+=("summary.${key%%:*} is $got, expected $want (${key#*:} in $marker)")
    done
    got=$(jq -r '[.summary.missing, .summary.invalid, .summary.unclassified] | map(. // 0 | tostring) | join("/")' "$json" 2>/dev/null || echo "unreadable")
    [[ $got == 0/0/0 ]] || problems+=("summary missing/invalid/unclassified are $got, expected 0/0/0")
    if ((${#problems[@]})); then
        local p
        for p in "${problems[@]}"; do echo "$name: FAIL: $p" >&2; done
        echo "$name: FAIL: the scan's report $json does not match the fixture" >&2
        exit 1
    fi
}

# bench_event_listing MEDIA: one line per regular file under MEDIA, `TABLE<tab>COLUMN<tab>PATH`,
# with the table and column of the file's class in scan-fixture's config (uploads/images:
# gallery_photo.image, avatars: accounts_user.avatar, documents: docs_document.file), in a
# fixed shuffled order (a multiplicative hash of the sorted line number), so classes and
# directories are mixed as an app's deletions would be.
bench_event_listing() {
    (cd "$1" && find . -type f -printf '%P\n') | sort | awk '
        /^uploads\/images\// { t = "gallery_photo"; c = "image" }
        /^avatars\//         { t = "accounts_user"; c = "avatar" }
        /^documents\//       { t = "docs_document"; c = "file" }
        { if (t == "") { print "no class for " $0 > "/dev/stderr"; exit 1 }
          printf "%d\t%s\t%s\t%s\n", (NR * 2654435761) % 4294967296, t, c, $0; t = "" }' \
        | sort -n | cut -f 2-
}

# bench_delete_events LISTING: NDJSON on stdout, one delete event per line of a
# bench_event_listing output: {"id": "dN", "table": T, "column": C, "op": "delete", "key": N,
# "old": PATH}, N counting from 1.
bench_delete_events() {
    awk -F '\t' '{
        p = $3; gsub(/\\/, "\\\\", p); gsub(/"/, "\\\"", p)
        printf "{\"id\": \"d%d\", \"table\": \"%s\", \"column\": \"%s\", \"op\": \"delete\", \"key\": %d, \"old\": \"%s\"}\n", NR, $1, $2, NR, p
    }' "$1"
}

# Several `serve` processes: bench_serve_start DIR LOG CMD... starts CMD in DIR (stdout to
# LOG.out, stderr to LOG.err) and appends its pid to `bench_serve_pids`; bench_serve_port PID
# LOG [SECONDS] waits for its `listening on http://HOST:PORT` line and sets PORT (exits 1 if
# the process ends first or no line comes within SECONDS, default 30); bench_serve_stop sends
# SIGTERM to every started process, waits up to 30 s each and sets `bench_serve_statuses`
# (exit statuses, or "killed" when one had to be SIGKILLed), emptying `bench_serve_pids`.
# An EXIT trap should call bench_serve_stop too, so no process outlives the script.
bench_serve_pids=()
bench_serve_statuses=()
bench_serve_start() {
    local dir=$1 log_base=$2
    shift 2
    (cd "$dir" && exec "$@") >"$log_base.out" 2>"$log_base.err" &
    bench_serve_pids+=("$!")
}
bench_serve_port() {
    local pid=$1 log_base=$2 limit=${3:-30} i
    PORT=""
    for ((i = 0; i < limit * 20; i++)); do
        PORT=$(grep -o 'listening on http://[^ ]*' "$log_base.err" 2>/dev/null | head -n 1 | sed 's/.*:\([0-9]*\)$/\1/' || true)
        [[ $PORT =~ ^[0-9]+$ ]] && return 0
        if ! kill -0 "$pid" 2>/dev/null; then
            sed 's/^/    /' "$log_base.err" >&2
            echo "$name: FAIL: the process $pid exited before listening (log: $log_base.err)" >&2
            exit 1
        fi
        sleep 0.05
    done
    sed 's/^/    /' "$log_base.err" >&2
    echo "$name: FAIL: no 'listening on http://HOST:PORT' line from process $pid within ${limit}s" >&2
    exit 1
}
bench_serve_stop() {
    local pid i status
    bench_serve_statuses=()
    for pid in ${bench_serve_pids[@]+"${bench_serve_pids[@]}"}; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in ${bench_serve_pids[@]+"${bench_serve_pids[@]}"}; do
        status=""
        for ((i = 0; i < 300; i++)); do
            if ! kill -0 "$pid" 2>/dev/null; then
                status=0
                wait "$pid" 2>/dev/null || status=$?
                break
            fi
            sleep 0.1
        done
        if [[ -z $status ]]; then
            kill -KILL "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
            status=killed
        fi
        bench_serve_statuses+=("$status")
    done
    bench_serve_pids=()
}
