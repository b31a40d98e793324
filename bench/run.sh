#!/usr/bin/env bash
# bench/run.sh — indexing and query speed of quarry on the shared news
# collections, with SQLite FTS5 (the fastest peer available here) measured
# in the same run on the same data. Writes bench/results.md.
#
#   make bench            (or: bench/run.sh [ROUNDS])
#
# Needs QUARRY_CORPUS (default ../shared/corpus) with reuters21578, 20newsgroups
# and bbc, and ../shared/queries/sbg-queries.jsonl; python3 for FTS5 and
# the query extraction; /usr/bin/time for peak memory.
set -euo pipefail
cd "$(dirname "$0")/.."
Q=${QUARRY:-build/quarry}
C=${QUARRY_CORPUS:-../shared/corpus}
QS=${QUARRY_QUERIES:-../shared/queries/sbg-queries.jsonl}
ROUNDS=${1:-5}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
out=bench/results.md

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# wall seconds and peak RSS (KB) of one run: "SECONDS KB"
timed() { /usr/bin/time -f '%e %M' -o "$T/time" "$@" >/dev/null 2>"$T/err" || { cat "$T/err" >&2; exit 1; }; cat "$T/time"; }

R=$C/reuters21578/docs.jsonl.gz
{
echo "# quarry benchmarks"
echo
echo "Produced by \`bench/run.sh $ROUNDS\` on $(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src include 2>/dev/null || echo ' (with uncommitted changes)'),"
echo "$(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p' | head -1)). Medians of $ROUNDS runs; the machine is"
echo "shared, so compare the ratios measured in the same run rather than absolute times."
echo
echo "## Indexing Reuters-21578 (19,779 articles, 19 MB of JSON)"
echo
echo "| system | wall s (median) | peak RSS MB | index size |"
echo "|---|---:|---:|---|"
} > "$out"

# The three systems run in turn, round after round, so that a drift of the
# machine's speed affects them alike. SQLite FTS5 (porter tokenizer) gets its
# documents already parsed in memory: only its insert and commit are timed.
have_fts5=0
if command -v python3 >/dev/null && python3 -c 'import sqlite3; sqlite3.connect(":memory:").execute("create virtual table t using fts5(x)")' 2>/dev/null; then
  have_fts5=1
  cat > "$T/fts5.py" <<'PY'
import gzip, json, sqlite3, sys, time, os
docs = [json.loads(l) for l in gzip.open(sys.argv[1], "rt", encoding="utf-8")]
db = sys.argv[2]
if os.path.exists(db): os.remove(db)
t0 = time.perf_counter()
c = sqlite3.connect(db)
c.execute("create virtual table docs using fts5(id unindexed, title, text, tokenize='porter unicode61')")
c.executemany("insert into docs values (?,?,?)", ((d["id"], d.get("title", ""), d["text"]) for d in docs))
c.commit(); c.close()
print("%.3f" % (time.perf_counter() - t0))
PY
fi
ws_on=(); rs_on=(); ws_off=(); rs_off=(); ws_fts=()
for i in $(seq "$ROUNDS"); do
  read -r w r < <(timed "$Q" index -q --passages on -o "$T/r-on" "$R"); ws_on+=("$w"); rs_on+=("$r")
  read -r w r < <(timed "$Q" index -q --passages off -o "$T/r-off" "$R"); ws_off+=("$w"); rs_off+=("$r")
  [ $have_fts5 = 1 ] && ws_fts+=("$(python3 "$T/fts5.py" "$R" "$T/fts5.db")")
done
for mode in on off; do
  declare -n ws=ws_$mode rs=rs_$mode
  pp=$(( $(stat -c %s "$T/r-$mode"/g*.post) + $(stat -c %s "$T/r-$mode"/g*.posn) ))
  all=$(du -cb "$T/r-$mode"/g* | tail -1 | cut -f1)
  printf '| quarry index --passages %s | %s | %.0f | postings+positions %.2f MiB, all files %.2f MiB |\n' \
    "$mode" "$(printf '%s\n' "${ws[@]}" | median)" "$(printf '%s\n' "${rs[@]}" | median | awk '{print $1/1024}')" \
    "$(echo "$pp" | awk '{print $1/1048576}')" "$(echo "$all" | awk '{print $1/1048576}')" >> "$out"
  unset -n ws rs
done
if [ $have_fts5 = 1 ]; then
  printf '| SQLite FTS5 %s (porter unicode61; insert+commit only) | %s | – | %.2f MiB (whole database) |\n' \
    "$(python3 -c 'import sqlite3; print(sqlite3.sqlite_version)')" "$(printf '%s\n' "${ws_fts[@]}" | median)" \
    "$(stat -c %s "$T/fts5.db" | awk '{print $1/1048576}')" >> "$out"
else
  echo "| SQLite FTS5 | not available (python3 with sqlite3 FTS5 needed) | | |" >> "$out"
fi

{
echo
echo "## Indexing all news collections together with \`--mem 64\`"
echo
} >> "$out"
read -r w r < <(timed "$Q" index -q --mem 64 -o "$T/all" "$C/reuters21578" "$C/20newsgroups" "$C/bbc")
"$Q" stats -i "$T/all" > "$T/stats"
echo "wall $w s, peak RSS $(awk "BEGIN{printf \"%.0f\", $r/1024}") MB (/usr/bin/time), $(awk '/^articles/{print $2}' "$T/stats") articles, $(awk '/^passages/{print $2}' "$T/stats") passages." >> "$out"

{
echo
echo "## Query latency on the index of all news collections"
echo
echo "Queries: the search-benchmark-game set (\`$QS\`), by tag; one process, index"
echo "opened once, one warm-up round then $ROUNDS rounds (\`quarry bench\`). k = 10. \`exhaustive\`"
echo "visits every posting of every query term; \`auto\` is the default algorithm (today the"
echo "same exhaustive scorer). Hits are articles (ranked by their best passage) or passages."
echo
echo "| queries | n | algorithm | hits | mean µs | p50 µs | p90 µs | p99 µs |"
echo "|---|---:|---|---|---:|---:|---:|---:|"
} >> "$out"
for tag in union:num_tokens_2 union:num_tokens_3 "union:num_tokens_>3" intersection phrase intersection_union negated; do
  python3 - "$QS" "$tag" > "$T/q-$tag" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    if sys.argv[2] in o["tags"]: print(o["query"])
PY
  for extra in "--exhaustive" ""; do
    for unit in "" "--passages"; do
      [ -n "$extra$unit" ] && [ "$extra" != "--exhaustive" ] && continue
      "$Q" bench -i "$T/all" --queries "$T/q-$tag" --rounds "$ROUNDS" $extra $unit > "$T/b"
      n=$(wc -l < "$T/q-$tag")
      printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$tag" "$n" "${extra:---auto}" "${unit:-articles}" \
        "$(sed -n 's/^mean \([0-9.]*\).*/\1/p' "$T/b")" "$(sed -n 's/.*p50 \([0-9.]*\).*/\1/p' "$T/b")" \
        "$(sed -n 's/.*p90 \([0-9.]*\).*/\1/p' "$T/b")" "$(sed -n 's/.*p99 \([0-9.]*\).*/\1/p' "$T/b")" >> "$out"
    done
  done
done
echo >> "$out"
cat "$out"
