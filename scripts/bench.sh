#!/usr/bin/env bash
# Runs every bench/<protocol>/run.sh against the release build, one after the
# other (never in parallel: they compare against an anchor in the same run).
# Usage: scripts/bench.sh [builddir] [protocol...]
set -uo pipefail
builddir=${1:-build}; shift || true
top=$(cd "$(dirname "$0")/.." && pwd)
export PORTICO_BIN="$top/$builddir/portico"
status=0
for run in "$top"/bench/*/run.sh; do
  name=$(basename "$(dirname "$run")")
  if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then continue; fi
  echo "== bench $name"
  bash "$run" || { echo "bench $name failed"; status=1; }
done
exit $status
