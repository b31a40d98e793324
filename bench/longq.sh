#!/usr/bin/env bash
# bench/longq.sh — the cost of long queries (issue 9: query cost is bounded).
# Indexes the three news collections of ../shared/corpus (passages on, the
# defaults), makes queries of 64 to 2048 distinct words taken from the
# collection's texts (and a 64 KB one), and times one `quarry search`
# process per query, OR and --plain, 3 runs each (the median is kept).
# Writes bench/longq.md.
#   bench/longq.sh [CORPUS_DIR]      (default ../shared/corpus)
set -eu
cd "$(dirname "$0")/.."
corpus=${1:-${QUARRY_CORPUS:-../shared/corpus}}
make -s all >/dev/null
tmp=$(mktemp -d "${TMPDIR:-/tmp}/quarry-longq-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
./quarry index -q -o "$tmp/ix" "$corpus"/reuters21578/docs.jsonl.gz "$corpus"/20newsgroups/docs.jsonl.gz "$corpus"/bbc/docs.jsonl.gz
python3 - "$corpus" "$tmp" <<'EOF'
import gzip, json, random, re, sys
corpus, tmp = sys.argv[1], sys.argv[2]
words = []
with gzip.open(corpus + '/reuters21578/docs.jsonl.gz', 'rt') as f:
    for i, l in enumerate(f):
        if i > 3000: break
        words += [w for w in re.findall(r'[A-Za-z]{3,}', json.loads(l)['text'])]
random.Random(3).shuffle(words)
seen, uniq = set(), []
for w in words:
    if w.lower() not in seen:
        seen.add(w.lower()); uniq.append(w)
for n in (64, 256, 1024, 2048):
    open('%s/q%d' % (tmp, n), 'w').write(' '.join(uniq[:n]) + '\n')
q, size = [], 0
for w in words:
    if size + len(w) + 1 > 65536: break
    q.append(w); size += len(w) + 1
open(tmp + '/q64k', 'w').write(' '.join(q) + '\n')
EOF
stats=$(./quarry stats -i "$tmp/ix" | sed -n 's/^passages *\([0-9]*\).*/\1/p')
{
  echo "# Long queries"
  echo
  echo "Made by \`bench/longq.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD); $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "Index: the three news collections, $stats passages (defaults). One \`quarry search -i IX --json < FILE\` process per run, wall seconds by \`/usr/bin/time\`, median of 3; queries of N distinct words from Reuters texts (seed 3), and one of 64 KB of running text."
  echo "Queries of more than QUARRY_MAX_TERMS (1024) distinct terms are refused (exit 2)."
  echo
  echo "| query | OR: s (exit) | --plain: s (exit) |"
  echo "|---|---|---|"
  for q in q64 q256 q1024 q2048 q64k; do
    row="| $q |"
    for mode in "" "--plain"; do
      ts=()
      for r in 1 2 3; do
        /usr/bin/time -f %e -o "$tmp/t" ./quarry search $mode -i "$tmp/ix" --json <"$tmp/$q" >/dev/null 2>"$tmp/err" && rc=0 || rc=$?
        ts+=("$(cat "$tmp/t" | tail -n 1)")
      done
      med=$(printf '%s\n' "${ts[@]}" | sort -n | sed -n 2p)
      row="$row $med ($rc) |"
    done
    echo "$row"
  done
} >bench/longq.md
cat bench/longq.md
