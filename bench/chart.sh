#!/usr/bin/env bash
# bench/chart.sh — a picture of query latency: reads a latency TSV (the
# format is described in bench/tsv.sh) and draws, with gnuplot, grouped bars
# by query type, one bar per system (its mean latency), a whisker from the
# median to the 99th percentile, on a log-scale y axis.
#
#   bench/chart.sh [TSV [SVG]]      default: bench/latency.tsv -> bench/latency.svg
#
# Installs gnuplot (Debian package gnuplot-nox) when it is missing and this
# runs as root or with password-less sudo; otherwise prints a line starting
# with SKIP that says why and exits 0. A bad TSV line: FILE:LINE on stderr,
# exit 2.
set -euo pipefail
cd "$(dirname "$0")/.."
in=${1:-bench/latency.tsv}
out=${2:-bench/latency.svg}
[ -r "$in" ] || { echo "bench/chart.sh: cannot read $in" >&2; exit 2; }

if ! command -v gnuplot >/dev/null; then
  if [ "$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO=sudo
  else echo "SKIP: gnuplot is not installed and this is not root (sudo apt-get install gnuplot-nox)"; exit 0; fi
  echo "  APT     gnuplot-nox" >&2
  if ! { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
         $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gnuplot-nox; } >/dev/null 2>&1; then
    echo "SKIP: gnuplot is not installed and apt-get install gnuplot-nox failed"; exit 0
  fi
fi

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# the long TSV -> one row per query type: type, then mean, p50, p99 of each
# system ("?" where a system has no such row); the scale's range and title
awk -F'\t' -v file="$in" -v wide="$T/wide.tsv" -v meta="$T/meta" '
  function bad(msg) { printf "%s:%d: %s\n", file, NR, msg > "/dev/stderr"; failed = 1; exit 2 }
  function num(s) { return s ~ /^[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$/ && s + 0 > 0 }
  /^#[ \t]*title:/ { sub(/^#[ \t]*title:[ \t]*/, ""); title = $0; next }
  /^#/ || /^[ \t]*$/ { next }
  !rows && $1 == "system" { next }
  {
    if (NF != 5) bad("expected 5 tab-separated fields (system, query_type, mean_ms, p50_ms, p99_ms), found " NF)
    for (i = 3; i <= 5; i++) if (!num($i)) bad("field " i " must be a number of milliseconds greater than 0, not \"" $i "\"")
    if (!($1 in si)) { si[$1] = ++ns; sname[ns] = $1 }
    if (!($2 in ti)) { ti[$2] = ++nt; tname[nt] = $2 }
    k = ti[$2] SUBSEP si[$1]
    if (k in mean) bad("a second row for system \"" $1 "\" and query type \"" $2 "\"")
    mean[k] = $3; p50[k] = $4; p99[k] = $5; rows++
    for (i = 3; i <= 5; i++) { if (!lo || $i + 0 < lo) lo = $i + 0; if ($i + 0 > hi) hi = $i + 0 }
  }
  END {
    if (failed) exit 2
    if (!rows) { printf "%s: no data rows\n", file > "/dev/stderr"; exit 2 }
    printf "type" > wide
    for (s = 1; s <= ns; s++) printf "\t%s\tp50\tp99", sname[s] > wide
    printf "\n" > wide
    for (t = 1; t <= nt; t++) {
      printf "%s", tname[t] > wide
      for (s = 1; s <= ns; s++) {
        k = t SUBSEP s
        if (k in mean) printf "\t%s\t%s\t%s", mean[k], p50[k], p99[k] > wide
        else printf "\t?\t?\t?" > wide
      }
      printf "\n" > wide
    }
    # the y range: whole powers of ten around the data
    printf "ns=%d\nnt=%d\nymin=%g\nymax=%g\n", ns, nt, 10 ^ floor(log10(lo)), 10 ^ ceil(log10(hi)) > meta
    gsub(/[^-A-Za-z0-9 .,:;=()\/_+@]/, "", title)   # safe inside quotes, in sh and gnuplot
    printf "title=\"%s\"\n", title > meta
  }
  function log10(x) { return log(x) / log(10) }
  function floor(x) { return x == int(x) ? x : x > 0 ? int(x) : int(x) - 1 }
  function ceil(x) { return x == int(x) ? x : x > 0 ? int(x) + 1 : int(x) }' "$in"
# shellcheck disable=SC1090
. "$T/meta"
width=$((240 + nt * (60 + 40 * ns)))
[ $width -lt 800 ] && width=800
gnuplot <<GP
set terminal svg size $width,560 dynamic noenhanced font "sans,13" background "white"
set output "$out"
set datafile separator "\t"
set datafile missing "?"
set title "Query latency by query type" . ("$title" eq "" ? "" : "\n$title")
set ylabel "milliseconds per query (log scale)"
set logscale y
set yrange [$ymin:$ymax]
set format y "%g"
set grid ytics mytics lc rgb "#dddddd" lw 1
set border 3
set xtics nomirror scale 0
set xrange [-0.6:$nt-0.4]
# a long query type breaks at its first ':' ("union:num_tokens_2")
br(s) = strstrt(s, ":") ? s[1:strstrt(s, ":")-1] . "\n" . s[strstrt(s, ":")+1:] : s
set ytics nomirror
set key bmargin center horizontal reverse Left samplen 2 width 2 title "bar: mean; whisker: median to p99"
set bmargin 6
set style data histogram
set style histogram errorbars gap 1.5 lw 1.2
set style fill solid 0.85 border rgb "#333333"
set boxwidth 0.9
colors = "#4e79a7 #f28e2b #59a14f #e15759 #76b7b2 #edc948 #b07aa1 #ff9da7 #9c755f #bab0ac"
plot for [s=1:$ns] "$T/wide.tsv" using (column(3*s-1)):(column(3*s)):(column(3*s+1)):xtic(br(strcol(1))) \
     title columnheader(3*s-1) lc rgb word(colors, (s-1)%10+1)
GP
echo "bench/chart.sh: $out ($ns systems, $nt query types)"
