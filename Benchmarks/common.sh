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
