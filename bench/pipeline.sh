#!/usr/bin/env bash
# bench/pipeline.sh — the measurements of issue 8 (an index of immutable
# segments: index --add, delete, optimize, search -i A -i B) on the news
# collections replicated 25 times (1,021,250 documents; the corpus of
# bench/scale.sh, made by the peers' tools/replicate.py in
# ${TMPDIR:-/tmp}/quarry-scale/news25/docs.jsonl and reused).
#
#   bench/pipeline.sh                 news 25x, --repeat 3 (about half an hour on 2 cores)
#   bench/pipeline.sh --quick         news 3x, --repeat 2 (a few minutes)
#   bench/pipeline.sh --only add,size every option: --help
#
# 1. build: `quarry index --threads 2` and `--threads 1` (flags
#    `--passages off --stopwords none`, as the peers use) beside SQLite FTS5
#    through the peers harness (`PEER_POSITIONS=1 run_peer.sh fts5 build`,
#    from a harness copy, default ${TMPDIR:-/tmp}/quarry-peers), interleaved,
#    --repeat N times: wall s, docs/s, peak RSS, segments, merges, write
#    amplification, FTS5 ÷ quarry per repeat (target: quarry --threads 2 at
#    least 2x faster).
# 2. memory: peak RSS against --mem × 1.1 + 20 MB: news at --mem 64
#    --threads 2, 1,000,000 tiny generated documents at --mem 8, one 60 MiB
#    document (refused at --mem 256, accepted at --mem 512 with passages on
#    and off), a 31 MiB one with --threads 1, 2, 4, news 3x with --threads 16
#    --mem 128 (and refused at --mem 32), optimize --mem 64 of a --mem 64
#    --no-merge index.
# 3. add: --add of a random 1% and of the last 1% (new ids), of 1% updates,
#    delete of 1%, each against the full build time of the same run (and each
#    add against the same documents indexed alone as a new index).
# 4. size: postings + positions (quarry stats) of an index built in one run
#    and of a --mem 64 one after optimize (target at 25x: at most 456 MiB).
# 5. equiv: an index built in 10 batches with --add, updates and deletes (and
#    then optimized) against a fresh --threads 1 build of the live documents
#    in the same order, and 4 shards searched with -i s1 ... -i s4 against one
#    index: 1000 title queries in or/and/phrase modes through
#    `quarry search --json -k 10`, same ids, order and scores (and at full
#    precision through build/libquarry.so, within 1e-9 relative).
#
# Writes bench/pipeline.md (tables, the exact commands, date, commit, machine,
# load average, anything unexpected); --quick writes bench/pipeline-quick.md
# (--out FILE.md for another name). Generated inputs stay in
# ${TMPDIR:-/tmp}/quarry-scale/pipeline; indexes go to .../newsR/pipeline and
# are removed at the end (--keep keeps them). Needs build/quarry (make),
# python3, /usr/bin/time, ../shared/corpus and ../shared/peers (with the
# fts5 driver built, or the engines installed). An error is one line on
# stderr and exit status 2. The code is in bench/pipeline.py (it imports
# bench/scale.py).
set -euo pipefail
command -v python3 >/dev/null || { echo "bench/pipeline.sh: python3 is needed" >&2; exit 2; }
exec python3 "$(dirname "$0")/pipeline.py" "$@"
