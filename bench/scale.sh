#!/usr/bin/env bash
# bench/scale.sh — quarry's query speed at scale, quarry alone (no peer
# engines needed): issue 7, item 6.
#
#   bench/scale.sh            news 25x (1,021,250 documents), every query, 3 repeats
#   bench/scale.sh --quick    news 3x, the first 200 queries of each set (a minute or two)
#   bench/scale.sh --help     every option (-R, --corpus, --queries, --repeat, --rounds, --rebuild, ...)
#
# 1. The corpus: reuters21578 + 20newsgroups + bbc of $QUARRY_CORPUS
#    (default ../shared/corpus) replicated R times with new ids by the peers'
#    own tools/replicate.py (run from $PEERS, default ../shared/peers), so it
#    is byte for byte the corpus the peers harness uses; made in
#    ${TMPDIR:-/tmp}/quarry-scale/newsR/docs.jsonl and reused when its line
#    count is right. --corpus FILE takes any JSON Lines corpus instead.
# 2. The query sets: "title", 1000 title phrases of 1-3 words sampled from
#    news 1x by $PEERS/make_queries.py with seed 7060001, this script's own
#    (not the peers' reuters-1000.tsv, not a set anyone tunes on), in modes
#    or, and, phrase; "sbg", the search-benchmark-game sets
#    $PEERS/queries/sbg-{or,and,phrase}.tsv, each in its own mode (sbg-and
#    and sbg-phrase hold the same words, sbg-or one query more). Modes:
#    or = the words, and = every word with '+', phrase = the words in quotes.
# 3. The index: `quarry index --passages off --stopwords none` (the peers'
#    setting), timed with /usr/bin/time -v, in .../newsR/quarry-index with a
#    record of its build (quarry-index.json); reused when that record names
#    the same flags and corpus and `quarry stats` counts the same articles
#    (--rebuild builds it anyway).
# 4. Latency: every set in its modes through `quarry bench --queries FILE
#    -k 10 --rounds 1` (a warm-up pass, then a timed pass, as the peers
#    harness does) with the default algorithm, --exhaustive, and each
#    `--algorithm NAME` that `quarry bench --help` offers; mean, p50, p99 and
#    the process's peak RSS (/usr/bin/time -v). Then one-shot processes
#    `quarry search -i INDEX -k 10 --json WORD >/dev/null` for 50 query words
#    (open + one query; the target is under 30 ms), a word in no document,
#    and /bin/true for the cost of a process. All of it --repeat times
#    (default 3); each repeat runs the algorithms of a set back to back.
#
# Writes bench/scale.md (tables per set and mode, per repeat; the command,
# date, commit, machine) and bench/scale.tsv (the format of bench/tsv.sh:
# the median repeat), and draws bench/scale.svg with bench/chart.sh when
# gnuplot is installed; --quick writes bench/scale-quick.* instead.
# Needs build/quarry (make), python3 and /usr/bin/time. An error is one line
# on stderr and exit status 2. The code is in bench/scale.py.
set -euo pipefail
command -v python3 >/dev/null || { echo "bench/scale.sh: python3 is needed" >&2; exit 2; }
exec python3 "$(dirname "$0")/scale.py" scale "$@"
