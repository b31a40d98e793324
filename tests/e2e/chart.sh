#!/usr/bin/env bash
# tests/e2e/chart.sh — the benchmark picture: bench/tsv.sh turns the output
# of `quarry bench` into a latency TSV row (milliseconds), bench/chart.sh
# draws a TSV as an SVG (every system in the legend, every query type on
# the axis) and rejects a bad line with FILE:LINE and exit 2. The SVG part
# is skipped when gnuplot is not installed (bench/chart.sh would install it).
# Env: QUARRY (the binary), QUARRY_ROOT (the repository root).
set -u
. "$(dirname "$0")/lib/common.sh"
e2e_init chart

printf 'mean 94.5 us  p50 57.1 us  p90 240.0 us  p99 476.5 us  max 900.0 us\n' |
    "$root/bench/tsv.sh" "quarry default" "union:num_tokens_2" >"$T/row"
check "tsv.sh: one row in milliseconds" [ "$(cat "$T/row")" = "$(printf 'quarry default\tunion:num_tokens_2\t0.0945\t0.0571\t0.4765')" ]
echo 'not quarry bench output' | "$root/bench/tsv.sh" a b >"$T/out" 2>"$T/err"; rc=$?
check "tsv.sh: input without the latency line: exit 2, one line" bash -c "[ $rc -eq 2 ] && [ \$(wc -l <'$T/err') -eq 1 ] && [ ! -s '$T/out' ]"
"$Q" index -q -o "$T/ix" "$root/corpus" >/dev/null 2>&1
printf 'sanctions\nRussia\n' >"$T/q"
"$Q" bench -i "$T/ix" --queries "$T/q" --rounds 2 | "$root/bench/tsv.sh" "quarry --exhaustive" phrase >"$T/row2"
check "tsv.sh reads quarry bench" grep -qE $'^quarry --exhaustive\tphrase(\t[0-9.e-]+){3}$' "$T/row2"

{ printf '# title: a test\nsystem\tquery_type\tmean_ms\tp50_ms\tp99_ms\n'
  cat "$T/row"
  printf 'quarry default\tphrase\t0.02\t0.01\t0.15\nzeta engine\tphrase\t0.05\t0.03\t0.5\n'; } >"$T/l.tsv"
printf 'a\tb\t1\t2\t3\nsys\ttype\t1\tfast\t3\n' >"$T/bad.tsv"
if ! command -v gnuplot >/dev/null; then
    echo "SKIP: gnuplot is not installed (bench/chart.sh installs gnuplot-nox when run as root)"
else
    "$root/bench/chart.sh" "$T/l.tsv" "$T/l.svg" >"$T/out" 2>&1; rc=$?
    check "chart.sh: exit 0" [ "$rc" -eq 0 ]
    check "chart.sh: an SVG" grep -q '<svg' "$T/l.svg"
    check "chart.sh: the systems in the legend" bash -c "grep -q '>quarry default<' '$T/l.svg' && grep -q '>zeta engine<' '$T/l.svg'"
    check "chart.sh: the query types on the axis" bash -c "grep -q '>num_tokens_2<' '$T/l.svg' && grep -q '>phrase<' '$T/l.svg'"
    check "chart.sh: the title" grep -q 'a test' "$T/l.svg"
    grep -o '<text>[0-9.]*</text>' "$T/l.svg" | tr -d '<text>/' | tr '\n' ' ' >"$T/ticks"
    check "chart.sh: a log scale of whole powers of ten around the data (0.01 to 1 ms)" [ "$(cat "$T/ticks")" = "0.01 0.1 1 " ]
    "$root/bench/chart.sh" "$T/bad.tsv" "$T/bad.svg" >"$T/out" 2>"$T/err"; rc=$?
    check "chart.sh: a bad number: FILE:LINE, exit 2, no SVG" \
        bash -c "[ $rc -eq 2 ] && grep -q '^$T/bad.tsv:2: field 4 ' '$T/err' && [ ! -e '$T/bad.svg' ]"
fi

e2e_end
