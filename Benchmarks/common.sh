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
