#!/usr/bin/env bash
# Runs each libFuzzer harness of a fuzz build for a few seconds, starting
# from its seed corpus in tests/fuzz/corpus/<name>/ when there is one.
set -euo pipefail
builddir=${1:-build-fuzz}
seconds=${2:-20}
top=$(cd "$(dirname "$0")/.." && pwd)
status=0
for exe in "$top/$builddir"/tests/fuzz/fuzz_* "$top/$builddir"/tests/fuzz/*/fuzz_*; do
  [ -x "$exe" ] || continue
  name=$(basename "$exe")
  work="$top/tests/fuzz/corpus-run/$name"
  mkdir -p "$work"
  seeds=()
  [ -d "$top/tests/fuzz/corpus/$name" ] && seeds=("$top/tests/fuzz/corpus/$name")
  echo "fuzz: $name for ${seconds}s"
  if ! "$exe" -max_total_time="$seconds" -max_len=4096 -print_final_stats=0 \
        "$work" "${seeds[@]}" >"$work.log" 2>&1; then
    echo "fuzz: $name FAILED; see $work.log"; tail -n 30 "$work.log"; status=1
  fi
done
exit $status
