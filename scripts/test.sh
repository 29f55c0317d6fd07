#!/usr/bin/env bash
# Runs the unit tests (meson) and the integration tests (real clients) of a
# sanitizer build, then prints one summary line "N passed, M failed".
set -uo pipefail
builddir=${1:-build-test}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0; failed=0
meson test -C "$builddir" --suite unit --print-errorlogs --no-rebuild
log="$builddir/meson-logs/testlog.json"
if [ -f "$log" ]; then
  p=$(grep -c '"result": "OK"' "$log"); t=$(grep -c '"result": ' "$log")
  passed=$((passed + p)); failed=$((failed + t - p))
else
  failed=$((failed + 1))
fi

summary=$(mktemp)
PORTICO_BIN="$top/$builddir/portico" PORTICO_SUMMARY="$summary" \
  python3 tests/integration/run.py
if read -r p f < "$summary" 2>/dev/null; then
  passed=$((passed + p)); failed=$((failed + f))
else
  failed=$((failed + 1))
fi
rm -f "$summary"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
