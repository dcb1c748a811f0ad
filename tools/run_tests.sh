#!/usr/bin/env bash
# Unit tests, then every notebook under nbval; timings of each part printed.
set -uo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
make --no-print-directory unit; unit_rc=$?
t1=$(date +%s)
make --no-print-directory notebooks; nb_rc=$?
t2=$(date +%s)
# the explorers in a real browser, where one is installed (make browser-check skips with a message otherwise);
# STYLELAB_BROWSER_CHECK=0 leaves it out
br_rc=0
if [ "${STYLELAB_BROWSER_CHECK:-1}" != "0" ]; then
  make --no-print-directory browser-check; br_rc=$?
fi
t3=$(date +%s)
echo "== stylelab test times: unit tests $((t1 - t0)) s, notebooks $((t2 - t1)) s, browser check $((t3 - t2)) s =="
if [ $unit_rc -ne 0 ] || [ $nb_rc -ne 0 ] || [ $br_rc -ne 0 ]; then
  echo "== FAILED: unit tests rc=$unit_rc, notebooks rc=$nb_rc, browser check rc=$br_rc ==" >&2
  exit 1
fi
