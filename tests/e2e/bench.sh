#!/usr/bin/env bash
# tests/e2e/bench.sh — `quarry bench` on the sample corpus: the summary
# lines, errors (exit 2), and the latency histogram that is printed on a
# terminal only (through script(1)): its counts add up to the timed
# queries, Unicode blocks in a UTF-8 locale, '#' otherwise.
# Env: QUARRY (the binary), QUARRY_ROOT (the repository root).
set -u
. "$(dirname "$0")/lib/common.sh"
e2e_init bench

IX=$T/ix
if ! (cd "$root" && "$Q" index -q -o "$IX" corpus) >"$T/index.out" 2>&1; then
    cat "$T/index.out"; echo "FAIL: quarry index -o $IX corpus"; exit 1
fi
printf 'q1\tsanctions\nq2\tRussia\nq3\tBRI investment\nq4\t"Belt and Road"\n' >"$T/q.tsv"

"$Q" bench -i "$IX" --queries "$T/q.tsv" --rounds 3 >"$T/out" 2>"$T/err"; rc=$?
check "bench: exit 0" [ "$rc" -eq 0 ]
check "bench: the run, latency and throughput lines" bash -c "grep -q '^queries 4 x 3 rounds' '$T/out' && grep -Eq '^mean [0-9.]+ us  p50' '$T/out' && grep -q '^throughput .*0 queries failed' '$T/out'"
check "bench: no histogram when stdout is not a terminal" bash -c "! grep -q histogram '$T/out'"
"$Q" bench -i "$IX" >"$T/out" 2>"$T/err"; rc=$?
check "bench without --queries: exit 2, one line" bash -c "[ $rc -eq 2 ] && [ \$(wc -l <'$T/err') -eq 1 ]"
"$Q" bench -i "$IX" --queries "$T/q.tsv" --rounds 0 >"$T/out" 2>"$T/err"; rc=$?
check "bench --rounds 0: exit 2" [ "$rc" -eq 2 ]

if ! why=$(have_pty); then
    echo "SKIP: the histogram needs a terminal: $why"
else
    # hist LOCALE: bench on a terminal; the histogram's rows in $T/hist
    hist() {
        env LC_ALL= LC_CTYPE= LANG="$1" script -qec "'$Q' bench -i '$IX' --queries '$T/q.tsv' --rounds 5" /dev/null \
            </dev/null | tr -d '\r' >"$T/tty"
        sed -n '/^latency histogram/,$p' "$T/tty" | sed 1d >"$T/hist"
    }
    hist C.UTF-8
    check "terminal: a histogram of the 20 timed queries" grep -q '^latency histogram (20 timed queries)$' "$T/tty"
    check "terminal: its counts add up to 20" [ "$(awk '{ n += $(NF-1) } END { print n }' "$T/hist")" -eq 20 ]
    check "terminal: buckets 1-2-5 with units" grep -Eq '^ +[0-9]+ (µs|ms|s) - [0-9]+ (µs|ms|s) ' "$T/hist"
    check "terminal, UTF-8: bars of block characters" grep -q '█' "$T/hist"
    hist C
    check "terminal, C locale: bars of '#'" bash -c "grep -q '#' '$T/hist' && ! grep -q '█' '$T/hist'"
fi

e2e_end
