#!/usr/bin/env bash
# bench/peers.sh — quarry side by side with Lucene 4.10 (and optionally
# Xapian, SQLite FTS5, Sphinx) in one run, through the peers harness of
# ../shared/peers: issue 7, item 6, and how issue 7 is judged.
#
#   bench/peers.sh                          news 25x, every query set and mode, quarry and lucene, 3 repeats
#   bench/peers.sh --quick                  news 3x, the first 200 queries of each set
#   bench/peers.sh --corpus C.jsonl --queries Q.tsv       any corpus, any queries (all three modes)
#   bench/peers.sh --peers xapian,fts5,sphinx --exhaustive   more engines; quarry's exhaustive scorer too
#   bench/peers.sh --help                   every option
#
# 1. The harness: $PEERS (default ../shared/peers, read-only) is copied to
#    --peers-dir (default ${TMPDIR:-/tmp}/quarry-peers; an existing copy is
#    used as it is). If its drivers are not built, its build.sh builds them
#    when the engines are installed; otherwise its setup.sh installs them
#    (apt-get: root only; not root: the line to run, exit 2). The quarry
#    driver (src/quarry_peer.c) is compiled against this checkout's
#    build/libquarry.a on every run; QUARRY_BIN is this checkout's
#    build/quarry.
# 2. The corpus and query sets are those of bench/scale.sh (its header says
#    how they are made; the same -R, --corpus, --queries, --n-queries).
# 3. Builds: `run_peer.sh PEER build CORPUS DIR` for every peer with
#    PEER_POSITIONS=1 (phrase mode needs positions), quarry with
#    QUARRY_INDEX_FLAGS="--passages off --stopwords none"; the indexes go to
#    ${TMPDIR:-/tmp}/quarry-scale/<corpus>/peers/PEER (--reuse-indexes keeps
#    those of an earlier run).
# 4. Queries: `run_peer.sh PEER query DIR QUERIES 10 RUN MODE` (one process:
#    open, a warm-up pass, a timed pass; mean, p50, p99, open time, peak RSS)
#    for every set, mode and peer, --repeat times (default 3); within a
#    repeat the peers run one after the other on each set and mode, the
#    first one rotating from repeat to repeat.
#
# Writes bench/peers.md (quarry ÷ Lucene for mean and p99 within each
# repeat, against the issue's target of 0.20; every peer's figures per
# repeat; build time, index size and build peak RSS per peer) and
# bench/peers.tsv (the format of bench/tsv.sh, one system per peer, the
# median repeat), and draws bench/peers.svg when gnuplot is installed;
# --quick writes bench/peers-quick.* instead. Needs build/quarry and
# build/libquarry.a (make), python3, gcc, /usr/bin/time. An error is one
# line on stderr and exit status 2. The code is in bench/scale.py.
set -euo pipefail
command -v python3 >/dev/null || { echo "bench/peers.sh: python3 is needed" >&2; exit 2; }
exec python3 "$(dirname "$0")/scale.py" peers "$@"
