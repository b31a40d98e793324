#!/usr/bin/env bash
# bench/latency.sh — query latency of quarry by query type on the index of
# the news collections (Reuters-21578, 20 Newsgroups, BBC), with each
# algorithm (auto, the default; maxscore; bmw; exhaustive, the reference),
# as a latency TSV (bench/tsv.sh describes the format), then its chart
# (bench/chart.sh). The peer engines join the same picture in
# bench/peers.sh (bench/peers.svg), each algorithm at scale in
# bench/scale.sh.
#
#   bench/latency.sh [ROUNDS]      writes bench/latency.tsv and bench/latency.svg (9 rounds)
#
# Env: QUARRY (default build/quarry), QUARRY_CORPUS (default ../shared/corpus),
# QUARRY_QUERIES (default ../shared/queries/sbg-queries.jsonl), NEWS_INDEX (an
# index of the three collections to reuse; default: built in a temporary
# directory, about 4 s).
set -euo pipefail
cd "$(dirname "$0")/.."
Q=${QUARRY:-build/quarry}
C=${QUARRY_CORPUS:-../shared/corpus}
QS=${QUARRY_QUERIES:-../shared/queries/sbg-queries.jsonl}
ROUNDS=${1:-9}
TYPES=(union:num_tokens_2 union:num_tokens_3 intersection phrase intersection_union negated)
out=bench/latency.tsv
for f in "$C/reuters21578/docs.jsonl.gz" "$C/20newsgroups/docs.jsonl.gz" "$C/bbc/docs.jsonl.gz" "$QS"; do
  [ -f "$f" ] || { echo "bench/latency.sh: SKIP: $f is missing (QUARRY_CORPUS, QUARRY_QUERIES)" >&2; exit 0; }
done
command -v python3 >/dev/null || { echo "bench/latency.sh: python3 is needed to read $QS" >&2; exit 2; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
IX=${NEWS_INDEX:-$T/news}
[ -f "$IX/MANIFEST" ] || "$Q" index -q -o "$IX" "$C/reuters21578/docs.jsonl.gz" "$C/20newsgroups/docs.jsonl.gz" "$C/bbc/docs.jsonl.gz"
passages=$("$Q" stats -i "$IX" | awk '/^passages/ { print $2 }')
{
  echo "# title: news collections ($passages passages), k = 10, article hits, each algorithm; $ROUNDS rounds; $(nproc) cores; commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(date -u +%Y-%m-%d)"
  echo "# made by: bench/latency.sh $ROUNDS (quarry bench --algorithm NAME on the search-benchmark-game queries of each type)"
  printf 'system\tquery_type\tmean_ms\tp50_ms\tp99_ms\n'
} >"$T/tsv"
for type in "${TYPES[@]}"; do
  python3 -c '
import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    if sys.argv[2] in o["tags"]: print(o["query"])' "$QS" "$type" >"$T/q"
  for algo in auto maxscore bmw exhaustive; do
    "$Q" bench -i "$IX" --queries "$T/q" --rounds "$ROUNDS" --algorithm "$algo" | bench/tsv.sh "quarry $algo" "$type" >>"$T/tsv"
  done
done
mv "$T/tsv" "$out"
cat "$out"
bench/chart.sh "$out" bench/latency.svg
