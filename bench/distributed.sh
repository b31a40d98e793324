#!/usr/bin/env bash
# bench/distributed.sh — the measurements of issue 11 (shards built and
# searched by Dask workers, dist/quarry_dask.py) on a local cluster: a
# dask-scheduler and two dask-worker processes (one task each) on
# 127.0.0.1, on this machine.
#
#   bench/distributed.sh                  news 25x (1,021,250 documents), --repeat 3
#   bench/distributed.sh --quick          its first 100,000 documents, --repeat 2
#   bench/distributed.sh --corpus F.jsonl --queries Q.jsonl --repeat N --out F.md --keep
#
# 1. build: `quarry index --threads 2` against the driver with 2 workers
#    and 4 shards (each shard's quarry index single-threaded, batches of
#    256 MB routed while the workers index), both with `--passages off
#    --stopwords none` (the flags of bench/pipeline.sh), interleaved, the
#    order alternating, --repeat times; the ratio of each repeat.
# 2. size: index bytes per document, one index and the shards.
# 3. memory: the peak RSS of every quarry index task (its summary line) and
#    of the worker processes (VmHWM).
# 4. queries: the search-benchmark-game set (../shared/queries, 962 real
#    queries of every type) as one batch, k 10: the driver over the 4 shards
#    (phase 1, phase 2, merge: its -v timings) beside `quarry search` of one
#    index and of the 4 shards opened together (one process each, the same
#    JSON); the driver's answers compared with the latter (they must be the
#    same bytes); the same as TREC runs (no passage text to fetch and
#    print); then one query through the driver, 10 times (the fixed cost
#    of a fan-out).
#
# Corpus: ${TMPDIR:-/tmp}/peers_corpora/news25x/docs.jsonl (the three news
# collections replicated 25 times; ../shared/peers/README.md says how to
# make it). Work files go to ${TMPDIR:-/tmp}/quarry-dist-bench and are
# removed at the end unless --keep. Writes bench/distributed.md
# (--quick: bench/distributed-quick.md). Needs build/quarry, /usr/bin/time
# and python3-distributed for /usr/bin/python3.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
Q=$root/build/quarry
PY=/usr/bin/python3
corpus=${TMPDIR:-/tmp}/peers_corpora/news25x/docs.jsonl
queries=$root/../shared/queries/sbg-queries.jsonl
repeat=3 quick=0 keep=0 out=""
die() { echo "bench/distributed.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case $1 in
    --corpus) corpus=$2; shift 2 ;;
    --queries) queries=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --quick) quick=1; repeat=2; shift ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
    esac
done
[ -x "$Q" ] || die "no $Q: run make"
[ -f "$corpus" ] || die "no corpus at $corpus (../shared/peers/README.md says how to make news 25x)"
[ -f "$queries" ] || die "no queries at $queries"
"$PY" -c 'import distributed' 2>/dev/null || die "python3-distributed is not installed for $PY (make deps)"
[ -x /usr/bin/time ] || die "/usr/bin/time is needed (apt-get install time)"
[ -n "$out" ] || out=$here/distributed$([ $quick = 1 ] && echo -quick || true).md

W=${TMPDIR:-/tmp}/quarry-dist-bench
rm -rf "$W"; mkdir -p "$W"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    sleep 1   # a worker that lost its scheduler may linger: then it is killed
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    [ $keep = 1 ] || rm -rf "$W"
}
trap cleanup EXIT

if [ $quick = 1 ]; then head -n 100000 "$corpus" >"$W/docs.jsonl"; corpus=$W/docs.jsonl; fi
ndocs=$(wc -l <"$corpus")
"$PY" -c '
import json, sys
with open(sys.argv[2], "w") as f:
    for i, l in enumerate(open(sys.argv[1]), 1):
        f.write("s%d\t%s\n" % (i, json.loads(l)["query"]))' "$queries" "$W/q.tsv"
nq=$(wc -l <"$W/q.tsv")
FLAGS=(--passages off --stopwords none)

# the cluster
dask-scheduler --host 127.0.0.1 --port 0 --no-dashboard --scheduler-file "$W/sched.json" >"$W/sched.log" 2>&1 &
pids+=($!)
for i in $(seq 100); do [ -s "$W/sched.json" ] && break; sleep 0.1; done
ADDR=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["address"])' "$W/sched.json")
wpids=()
for w in 1 2; do
    dask-worker "$ADDR" --host 127.0.0.1 --nthreads 1 --no-nanny --no-dashboard --local-directory "$W/w$w" \
        >"$W/worker$w.log" 2>&1 &
    pids+=($!); wpids+=($!)
done
D() { "$PY" "$root/dist/quarry_dask.py" "$1" --scheduler "$ADDR" --quarry "$Q" "${@:2}"; }
secs() { "$PY" -c 'import time; print("%.6f" % time.time())'; }
el() { "$PY" -c 'import sys; print("%.2f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$1" "$2"; }

echo "bench/distributed.sh: $ndocs documents, $nq queries, $repeat repeats" >&2
# ------------------------------------------------------------ 1. build
build_rows=""
for r in $(seq "$repeat"); do
    for which in $( [ $((r % 2)) = 1 ] && echo "single dask" || echo "dask single" ); do
        sync
        if [ $which = single ]; then
            rm -rf "$W/single"
            /usr/bin/time -f '%e %M' -o "$W/time" "$Q" index --threads 2 -o "$W/single" "${FLAGS[@]}" "$corpus" \
                2>"$W/single.err" >/dev/null || die "quarry index failed: $(tail -1 "$W/single.err")"
            read -r s_wall s_kb <"$W/time"
        else
            rm -rf "$W/sh"
            t0=$(secs)
            D index --shards "$W/sh" --nshards 4 -v "$corpus" -- "${FLAGS[@]}" 2>"$W/dask.err" ||
                die "the driver failed: $(tail -1 "$W/dask.err")"
            d_wall=$(el "$t0" "$(secs)")
        fi
    done
    ratio=$("$PY" -c 'import sys; print("%.3f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$d_wall" "$s_wall")
    task_peak=$(grep -o 'peak memory [0-9]* MB' "$W/dask.err" | awk '{ if ($3 > m) m = $3 } END { print m + 0 }')
    routed=$(grep -o 'routing done at [0-9.]*s' "$W/dask.err" | grep -o '[0-9.]*')
    ntasks=$(grep -c 'peak memory' "$W/dask.err" || true)
    build_rows+="| $r | $s_wall | $((s_kb / 1024)) | $d_wall | $routed | $ntasks | $task_peak | **$ratio** |"$'\n'
    echo "  build $r: one index ${s_wall}s, 2 workers ${d_wall}s (ratio $ratio)" >&2
done
ratios=$(echo "$build_rows" | grep -o '\*\*[0-9.]*\*\*' | tr -d '*' | sort -n | paste -sd' ')
median=$(echo "$ratios" | tr ' ' '\n' | "$PY" -c 'import sys,statistics; print("%.3f" % statistics.median(float(x) for x in sys.stdin if x.strip()))')

# ------------------------------------------------------------ 2, 3. size, memory
single_bytes=$(du -sb "$W/single" | cut -f1)
shard_bytes=$(du -sb --exclude=shards.json "$W/sh" | cut -f1)
shard_rows=""
for s in 0 1 2 3; do
    d=$W/sh/shard-00$s
    a=$("$Q" stats -i "$d" | awk '$1 == "articles" { print $2 }')
    b=$(du -sb "$d" | cut -f1)
    shard_rows+="| $s | $a | $b | $(( b / (a > 0 ? a : 1) )) |"$'\n'
done
worker_hwm=""
for p in "${wpids[@]}"; do
    worker_hwm+="$(awk '/VmHWM/ { printf "%d", $2 / 1024 }' "/proc/$p/status" 2>/dev/null || echo "?") MB, "
done
worker_hwm=${worker_hwm%, }

# ------------------------------------------------------------ 4. queries
query_rows=""
SHARDS=(-i "$W/sh/shard-000" -i "$W/sh/shard-001" -i "$W/sh/shard-002" -i "$W/sh/shard-003")
same="yes"
for r in $(seq "$repeat"); do
    t0=$(secs); "$Q" search -i "$W/single" --no-collapse --queries "$W/q.tsv" --json -k 10 >"$W/one.out" 2>/dev/null || true
    t_one=$(el "$t0" "$(secs)")
    t0=$(secs); "$Q" search "${SHARDS[@]}" --no-collapse --queries "$W/q.tsv" --json -k 10 >"$W/many.out" 2>/dev/null || true
    t_many=$(el "$t0" "$(secs)")
    t0=$(secs); D search --shards "$W/sh" --queries "$W/q.tsv" --json -k 10 -v >"$W/dask.out" 2>"$W/search.err" || true
    t_dask=$(el "$t0" "$(secs)")
    cmp -s "$W/dask.out" "$W/many.out" || same="NO"
    phases=$(grep -o 'phase 1 [0-9.]*s, phase 2 [0-9.]*s, merge [0-9.]*s' "$W/search.err" || echo "?")
    qps() { "$PY" -c 'import sys; print("%.0f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$nq" "$1"; }
    query_rows+="| $r | JSON | $t_one ($(qps "$t_one") q/s) | $t_many ($(qps "$t_many") q/s) | $t_dask ($(qps "$t_dask") q/s) | $phases |"$'\n'
    echo "  queries $r: one index ${t_one}s, 4 shards in one process ${t_many}s, driver ${t_dask}s" >&2
    t0=$(secs); "$Q" search -i "$W/single" --queries "$W/q.tsv" --trec run -k 10 >/dev/null 2>&1 || true
    t_one=$(el "$t0" "$(secs)")
    t0=$(secs); "$Q" search "${SHARDS[@]}" --queries "$W/q.tsv" --trec run -k 10 >"$W/many.trec" 2>/dev/null || true
    t_many=$(el "$t0" "$(secs)")
    t0=$(secs); D search --shards "$W/sh" --queries "$W/q.tsv" --trec run -k 10 -v >"$W/dask.trec" 2>"$W/search.err" || true
    t_dask=$(el "$t0" "$(secs)")
    cmp -s "$W/dask.trec" "$W/many.trec" || same="NO"
    phases=$(grep -o 'phase 1 [0-9.]*s, phase 2 [0-9.]*s, merge [0-9.]*s' "$W/search.err" || echo "?")
    query_rows+="| $r | TREC | $t_one ($(qps "$t_one") q/s) | $t_many ($(qps "$t_many") q/s) | $t_dask ($(qps "$t_dask") q/s) | $phases |"$'\n'
    echo "  queries $r (TREC): one index ${t_one}s, 4 shards in one process ${t_many}s, driver ${t_dask}s" >&2
done
"$Q" bench -i "$W/single" --queries "$W/q.tsv" -k 10 >"$W/bench.out" 2>&1 || true
engine=$(grep -iE 'throughput|mean' "$W/bench.out" | head -3 | sed 's/^/    /')
one_rows=""
for i in $(seq 10); do
    t0=$(secs); D search --shards "$W/sh" --json -k 10 -v oil prices >/dev/null 2>"$W/one.err" || true
    one_rows+="$(el "$t0" "$(secs)") "
done
one_ph=$(grep -o 'phase 1 [0-9.]*s, phase 2 [0-9.]*s, merge [0-9.]*s' "$W/one.err" || echo "?")
one_med=$(echo "$one_rows" | tr ' ' '\n' | "$PY" -c 'import sys,statistics; print("%.2f" % statistics.median(float(x) for x in sys.stdin if x.strip()))')

# ------------------------------------------------------------ report
commit=$(cd "$root" && git rev-parse --short HEAD 2>/dev/null || echo "?")
cat >"$out" <<EOF
# Shards on Dask: measured (bench/distributed.sh)

\`bench/distributed.sh$([ $quick = 1 ] && echo " --quick" || true)\` on $(date -u +%Y-%m-%dT%H:%MZ), commit $commit,
$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/Mem:/ { print $2 }') GB,
load average at the end $(cut -d' ' -f1-3 /proc/loadavg). Corpus: \`$corpus\`, $ndocs documents
($(( $(stat -c %s "$corpus") / 1048576 )) MiB). A local cluster: \`dask-scheduler\` and two
\`dask-worker --nthreads 1 --no-nanny\` on 127.0.0.1, the driver on the same 2 cores.

## Building: 2 workers, 4 shards against \`quarry index --threads 2\`

Both with \`--passages off --stopwords none\`; the driver's batches are 256 MB
of input, each shard's quarry index single-threaded; interleaved, the order
alternating. Ratio = driver ÷ one index, in the same repeat.

| repeat | one index s | its peak MB | 2 workers s | routing done at s | quarry tasks | task peak MB | ratio |
|---|---|---|---|---|---|---|---|
$build_rows
Median ratio **$median** (all: $ratios; target ≤ 1.20).

## Size and memory

One index: $single_bytes bytes, $(( single_bytes / ndocs )) bytes per document.
The 4 shards: $shard_bytes bytes, $(( shard_bytes / ndocs )) bytes per document.

| shard | articles | bytes | bytes/document |
|---|---|---|---|
$shard_rows
Peak RSS of the worker processes themselves (VmHWM, the Dask runtime, at the
end): $worker_hwm; each \`quarry index\` task peaked as in the table above
(its default \`--mem 256\`).

## Queries: $nq queries (search-benchmark-game), k 10, one batch

Wall time of the whole batch, process start to exit, as JSON (each hit with
its passage text) and as a TREC run (ids and scores only).
"one index": \`quarry search -i single --queries\`; "4 shards, one process":
\`quarry search -i s0 -i s1 -i s2 -i s3\`; driver: \`quarry_dask.py search\`
(phase 1 = every shard's \`quarry stats --terms\` as Dask tasks and the sums;
phase 2 = every shard's \`quarry search --stats\`; merge = the driver's
Python merge and output).

| repeat | output | one index | 4 shards, one process | driver, 2 workers | driver phases |
|---|---|---|---|---|---|
$query_rows
The driver's answers (JSON and TREC) are the same bytes as those of the 4
shards opened together: **$same**.

\`quarry bench -i single\` on the same queries (in-process ranking only):

$engine

One query through the driver, 10 runs (a Python process start, connecting
to the scheduler, 2 × 4 tasks, 8 quarry processes): median **$one_med s**
(all: $one_rows); the last run's phases: $one_ph.
EOF
echo "bench/distributed.sh: wrote $out" >&2
