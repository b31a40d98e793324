#!/usr/bin/env bash
# tests/run.sh BUILD — runs every cmocka unit test binary in BUILD/tests and
# every end-to-end script tests/e2e/*.sh against BUILD/quarry, then prints
# "N passed, N failed". Exit 0 only when everything passed. Skipped test
# cases are listed at the end with their reasons: the cmocka tests skipped
# (each prints "SKIP: reason" before skip(), tests/support/qtest.c tskip)
# and the "SKIP: ..." lines of the end-to-end scripts.
# VALGRIND (optional) prefixes the unit test binaries (and the end-to-end
# scripts are not run); QUARRY_E2E=0 runs the unit tests only (CI runs the
# scripts in the normal build only: .ci/run).
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
export QUARRY="$root/$build/quarry"
export QUARRY_CORPUS=${QUARRY_CORPUS:-$root/../shared/corpus}
export QUARRY_ROOT="$root"
pass=0; fail=0; failed=(); skips=()

# unit_skips NAME LOG: appends to skips "NAME/TEST: reason" for each test
# case cmocka skipped; the i-th "SKIP: " line gives the i-th skipped case's
# reason (stdout and stderr may interleave, but each keeps its own order)
unit_skips() {
  local name=$1 log=$2 i=0 reasons=() cases=() line
  mapfile -t reasons < <(sed -n 's/^SKIP: //p' "$log")
  mapfile -t cases < <(sed -n 's/^\[  SKIPPED \] \([^ ]*\)$/\1/p' "$log" | awk '!seen[$0]++')
  for line in "${cases[@]}"; do
    skips+=("$name/$line: ${reasons[i]:-(no reason printed)}"); i=$((i+1))
  done
}
for t in "$root/$build"/tests/test_*; do
  [ -x "$t" ] || continue
  case "$t" in *.o|*.d) continue;; esac
  name=$(basename "$t")
  if ( cd "$root" && ${VALGRIND:-} "$t" ) >"/tmp/quarry-$name.$$.log" 2>&1; then
    pass=$((pass+1)); echo "PASS  $name"
    unit_skips "$name" "/tmp/quarry-$name.$$.log"
  else
    fail=$((fail+1)); failed+=("$name"); echo "FAIL  $name"; tail -n 30 "/tmp/quarry-$name.$$.log"
  fi
  rm -f "/tmp/quarry-$name.$$.log"
done
# QUARRY_EXTRA_TESTS: more unit test binaries, paths from the root (the
# byte-wise codec builds; the fault-injection test, built with the
# sanitizers: leaks are errors)
for t in ${QUARRY_EXTRA_TESTS:-}; do
  [ -x "$root/$t" ] || { fail=$((fail+1)); failed+=("$t (not built)"); echo "FAIL  $t (not built)"; continue; }
  name=$t; log=/tmp/quarry-${t//\//_}.$$.log   # named by its path: build/portable/tests/test_codec
  if ( cd "$root" && ASAN_OPTIONS=detect_leaks=1 "$root/$t" ) >"$log" 2>&1; then
    pass=$((pass+1)); echo "PASS  $name"
    unit_skips "$name" "$log"
  else
    fail=$((fail+1)); failed+=("$name"); echo "FAIL  $name"; tail -n 30 "$log"
  fi
  rm -f "$log"
done
if [ -n "${VALGRIND:-}" ] || [ "${QUARRY_E2E:-1}" = 0 ]; then
  echo "(the end-to-end scripts tests/e2e/*.sh are not run here)"
else
for t in "$here"/e2e/*.sh; do
  [ -f "$t" ] || continue
  name=$(basename "$t" .sh)
  if ( cd "$root" && bash "$t" ) >"/tmp/quarry-e2e-$name.$$.log" 2>&1; then
    pass=$((pass+1)); echo "PASS  e2e/$name"
    mapfile -t -O ${#skips[@]} skips < <(sed -n "s|^SKIP:* *|e2e/$name: |p" "/tmp/quarry-e2e-$name.$$.log")
  else
    fail=$((fail+1)); failed+=("e2e/$name"); echo "FAIL  e2e/$name"; tail -n 30 "/tmp/quarry-e2e-$name.$$.log"
  fi
  rm -f "/tmp/quarry-e2e-$name.$$.log"
done
fi
echo
if [ ${#skips[@]} -ne 0 ]; then
  echo "skipped (${#skips[@]}):"
  printf 'SKIP  %s\n' "${skips[@]}"
  echo
else
  echo "skipped: none"
fi
[ $fail -eq 0 ] || echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
