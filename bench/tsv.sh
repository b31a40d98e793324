#!/usr/bin/env bash
# bench/tsv.sh — the writer of latency TSV files, the input of
# bench/chart.sh. The format, one row per system and query type:
#
#   system<TAB>query_type<TAB>mean_ms<TAB>p50_ms<TAB>p99_ms
#
#   system      the engine and its algorithm or setting, as the chart's legend
#               names it ("quarry auto", "quarry exhaustive", "lucene 9.9");
#               any text without a tab
#   query_type  the query set, as the x axis names it ("phrase",
#               "union:num_tokens_2"); any text without a tab
#   *_ms        the mean, median and 99th percentile latency of one query, in
#               milliseconds, numbers greater than 0 ("0.0945", "1.2e-2")
#
# Lines that start with '#' are comments; "# title: TEXT" gives the chart a
# subtitle (the collection, the machine, the command). A first line that
# starts with "system<TAB>" is a header. The chart draws the query types, and
# the systems in each, in the order they first appear.
#
# Usage: quarry bench ... | bench/tsv.sh SYSTEM QUERY_TYPE >>latency.tsv
#        reads the output of `quarry bench` (microseconds) and writes its row.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: quarry bench ... | bench/tsv.sh SYSTEM QUERY_TYPE" >&2; exit 2; }
case "$1$2" in *$'\t'*) echo "bench/tsv.sh: SYSTEM and QUERY_TYPE cannot contain a tab" >&2; exit 2;; esac
awk -v sys="$1" -v type="$2" '
  /^mean / {
    for (i = 1; i + 2 <= NF; i += 3) {   # NAME VALUE us
      if ($(i + 2) != "us") { print "bench/tsv.sh: expected microseconds (\"us\") after " $i > "/dev/stderr"; bad = 1; exit }
      v[$i] = $(i + 1)
    }
    found = 1
  }
  END {
    if (bad)
      exit 2
    if (!found || !("mean" in v) || !("p50" in v) || !("p99" in v)) {
      print "bench/tsv.sh: no \"mean ... p50 ... p99 ...\" line in the input (the output of quarry bench)" > "/dev/stderr"
      exit 2
    }
    printf "%s\t%s\t%.6g\t%.6g\t%.6g\n", sys, type, v["mean"] / 1000, v["p50"] / 1000, v["p99"] / 1000
  }'
