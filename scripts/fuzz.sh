#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer) of what hostile input reaches: the config loader, the
# event decoder and the path rules. Each target runs SECONDS (default 600) and must never crash
# nor break an invariant of FuzzInvariants (Sources/JanitorCore/FuzzInvariants.swift).
#
#   scripts/fuzz.sh                      # all three targets, 600 s each, one after the other
#   scripts/fuzz.sh 120 paths events     # two targets, 2 minutes each
#   FUZZ_PARALLEL=1 scripts/fuzz.sh 600  # all targets at once (one core each)
#
# The fuzzers live in Fuzz/, a package of their own that depends on this one by path, built
# with -sanitize=fuzzer,address into .build-fuzz (FUZZ_SCRATCH overrides it). Seeds are the
# real configs (samples/janitor.yml, rules/), Fuzz/Seeds/<target>/ and every regression input
# in Tests/JanitorCoreTests/FuzzRegressions/<target>/; what the fuzzers learn is kept in
# .build-fuzz/corpus/<target>/ for the next run.
#
# Prints, per target, the inputs tried and the rate; exits 1 when any target failed. A failing
# input is saved under .build-fuzz/crashes/<target>/: copy it into
# Tests/JanitorCoreTests/FuzzRegressions/<target>/, fix the bug, and the test suite replays it.
set -euo pipefail

cd "$(dirname "$0")/.."
all_targets=(config events paths)
seconds=600
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi
if [ "$seconds" -eq 0 ]; then
  echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]   (targets: ${all_targets[*]})" >&2
  exit 2
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
for target in "${targets[@]}"; do
  if [[ " ${all_targets[*]} " != *" $target "* ]]; then
    echo "unknown target '$target'; use one of: ${all_targets[*]}" >&2
    exit 2
  fi
done

scratch=${FUZZ_SCRATCH:-.build-fuzz}
# `--sanitize fuzzer` makes SwiftPM leave `main` to libFuzzer; ASan comes in the same swiftc
# flag, because given as a second one (`--sanitize address`) swiftc keeps only the last and the
# Swift code gets no coverage at all. C code (libyaml) gets both through -Xcc.
build=(swift build --package-path Fuzz --scratch-path "$scratch" -c release --sanitize fuzzer
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xcc -fsanitize=address)
echo "building the fuzzers: ${build[*]}" >&2
"${build[@]}" >&2
bin=$("${build[@]}" --show-bin-path)

# The longest input per target: configs and bodies are a few kB, a reference value short.
max_len() {
  case "$1" in
    config | events) echo 8192 ;;
    paths) echo 4096 ;;
  esac
}

# Seeds, gathered afresh each run so that they follow the repository.
seed() {
  local target=$1 dir=$scratch/seeds/$1
  rm -rf "$dir"
  mkdir -p "$dir"
  cp Fuzz/Seeds/"$target"/* "$dir"/
  if [ -d Tests/JanitorCoreTests/FuzzRegressions/"$target" ]; then
    for file in Tests/JanitorCoreTests/FuzzRegressions/"$target"/*; do
      [ -f "$file" ] && cp "$file" "$dir/regression-$(basename "$file")"
    done
  fi
  if [ "$target" = config ]; then
    cp samples/janitor.yml "$dir/sample-janitor.yml"
    for rule in rules/*.yml; do
      cp "$rule" "$dir/rule-$(basename "$rule")"
      # A rule file's classes under the sample's settings, as an operator would combine them.
      { sed -n '/^classes:/q;p' samples/janitor.yml; cat "$rule"; } > "$dir/combined-$(basename "$rule")"
    done
  fi
  echo "$dir"
}

run() {
  local target=$1 seeds corpus crashes log
  seeds=$(seed "$target")
  corpus=$scratch/corpus/$target
  crashes=$scratch/crashes/$target
  log=$scratch/logs/$target.log
  mkdir -p "$corpus" "$crashes" "$(dirname "$log")"
  # The Swift runtime's own backtracer would hang on libFuzzer's deadly-signal handling, and
  # the runtime's caches are not leaks.
  SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 \
    "$bin/fuzz-$target" -max_total_time="$seconds" -print_final_stats=1 -detect_leaks=0 \
    -timeout=30 -rss_limit_mb=4096 -max_len="$(max_len "$target")" \
    -dict=Fuzz/Dictionaries/"$target".dict -artifact_prefix="$crashes/" \
    "$corpus" "$seeds" >"$log" 2>&1
}

report() {
  local target=$1 status=$2 log=$scratch/logs/$1.log units rate
  units=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  if [ "$status" -eq 0 ]; then
    printf '%-7s ok      %s inputs in %s s (%s/s), corpus %s files\n' "$target" "${units:-?}" "$seconds" \
      "${rate:-?}" "$(find "$scratch/corpus/$target" -type f | wc -l)"
  else
    printf '%-7s FAILED  after %s inputs (exit %s); log: %s\n' "$target" "${units:-?}" "$status" "$log"
    grep -E 'invariant broken|Fatal error|ERROR: (AddressSanitizer|libFuzzer)|SUMMARY|Test unit written|^Base64' "$log" | cut -c1-600 | sed 's/^/    /' || true
  fi
}

declare -A status
if [ "${FUZZ_PARALLEL:-0}" = 1 ]; then
  declare -A pids
  for target in "${targets[@]}"; do
    run "$target" &
    pids[$target]=$!
  done
  for target in "${targets[@]}"; do
    if wait "${pids[$target]}"; then status[$target]=0; else status[$target]=$?; fi
  done
else
  for target in "${targets[@]}"; do
    echo "fuzzing $target for $seconds s" >&2
    if run "$target"; then status[$target]=0; else status[$target]=$?; fi
  done
fi

failed=0
for target in "${targets[@]}"; do
  report "$target" "${status[$target]}"
  [ "${status[$target]}" -eq 0 ] || failed=1
done
if [ "$failed" -ne 0 ]; then
  echo "a failing input is in $scratch/crashes/<target>/: copy it into Tests/JanitorCoreTests/FuzzRegressions/<target>/ with a name that says what it shows" >&2
fi
exit "$failed"
