#!/usr/bin/env bash
# tests/run.sh BUILD — runs every cmocka unit test binary in BUILD/tests and
# every end-to-end script tests/e2e/*.sh against BUILD/quarry, then prints
# "N passed, N failed". Exit 0 only when everything passed.
# VALGRIND (optional) prefixes the unit test binaries.
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
export QUARRY="$root/$build/quarry"
export QUARRY_CORPUS=${QUARRY_CORPUS:-$root/../shared/corpus}
export QUARRY_ROOT="$root"
pass=0; fail=0; failed=()
for t in "$root/$build"/tests/test_*; do
  [ -x "$t" ] || continue
  case "$t" in *.o|*.d) continue;; esac
  name=$(basename "$t")
  if ( cd "$root" && ${VALGRIND:-} "$t" ) >"/tmp/quarry-$name.$$.log" 2>&1; then
    pass=$((pass+1)); echo "PASS  $name"
  else
    fail=$((fail+1)); failed+=("$name"); echo "FAIL  $name"; tail -n 30 "/tmp/quarry-$name.$$.log"
  fi
  rm -f "/tmp/quarry-$name.$$.log"
done
# QUARRY_EXTRA_TESTS: more unit test binaries (the fault-injection test,
# built with the sanitizers: leaks are errors)
for t in ${QUARRY_EXTRA_TESTS:-}; do
  [ -x "$root/$t" ] || { fail=$((fail+1)); failed+=("$t (not built)"); echo "FAIL  $t (not built)"; continue; }
  name=$(basename "$t")
  if ( cd "$root" && ASAN_OPTIONS=detect_leaks=1 "$root/$t" ) >"/tmp/quarry-$name.$$.log" 2>&1; then
    pass=$((pass+1)); echo "PASS  $name"
  else
    fail=$((fail+1)); failed+=("$name"); echo "FAIL  $name"; tail -n 30 "/tmp/quarry-$name.$$.log"
  fi
  rm -f "/tmp/quarry-$name.$$.log"
done
if [ -z "${VALGRIND:-}" ]; then
for t in "$here"/e2e/*.sh; do
  [ -f "$t" ] || continue
  name=$(basename "$t" .sh)
  if ( cd "$root" && bash "$t" ) >"/tmp/quarry-e2e-$name.$$.log" 2>&1; then
    pass=$((pass+1)); echo "PASS  e2e/$name"
    grep -h '^SKIP' "/tmp/quarry-e2e-$name.$$.log" | sed 's/^/      /'
  else
    fail=$((fail+1)); failed+=("e2e/$name"); echo "FAIL  e2e/$name"; tail -n 30 "/tmp/quarry-e2e-$name.$$.log"
  fi
  rm -f "/tmp/quarry-e2e-$name.$$.log"
done
fi
echo
[ $fail -eq 0 ] || echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
