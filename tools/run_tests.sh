#!/usr/bin/env bash
# Unit tests, then every notebook under nbval; timings of each part printed.
set -uo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
make --no-print-directory unit; unit_rc=$?
t1=$(date +%s)
make --no-print-directory notebooks; nb_rc=$?
t2=$(date +%s)
echo "== stylelab test times: unit tests $((t1 - t0)) s, notebooks $((t2 - t1)) s =="
if [ $unit_rc -ne 0 ] || [ $nb_rc -ne 0 ]; then
  echo "== FAILED: unit tests rc=$unit_rc, notebooks rc=$nb_rc ==" >&2
  exit 1
fi
