#!/usr/bin/env bash
# tests/e2e/dask.sh — the Dask driver (dist/quarry_dask.py) on a real local
# cluster: a dask-scheduler and two dask-worker processes on 127.0.0.1
# (random free ports; every one killed at the end, even on failure).
# Reuters-21578 (QUARRY_CORPUS) is indexed into 4 shards; a few hundred
# queries of every kind (OR, AND, phrases, NOT, -, +, title:, plain) are
# searched through the driver and by one index of the whole collection
# (its documents in shard order, so that ties break alike), and must give
# the same bytes: hits, order and scores, in article and passage mode, as
# JSON and as TREC runs, also with 17-digit scores; and the same as quarry
# search over the 4 shards opened together. Then a worker is killed while
# an indexing run has a quarry index of it running: Dask reruns the task on
# the other worker, the run succeeds, every shard verifies and answers as
# before. Also: updates and deletes routed to the right shard, a directory
# of .txt articles, a shard that does not answer (a failure, or --partial
# marked as such), bad input named by file and line.
# Env: QUARRY (the binary), QUARRY_ROOT, QUARRY_CORPUS.
set -u
. "$(dirname "$0")/lib/common.sh"
e2e_init dask
PY=/usr/bin/python3   # Debian's python3-distributed is for the system interpreter
CORPUS=${QUARRY_CORPUS:-$root/../shared/corpus}
REUTERS=$CORPUS/reuters21578/docs.jsonl.gz
if ! "$PY" -c 'import distributed' 2>/dev/null || ! command -v dask-scheduler >/dev/null || ! command -v dask-worker >/dev/null; then
    echo "SKIP: python3-distributed is not installed for $PY (make deps installs it)"; exit 0
fi
[ -f "$REUTERS" ] || { echo "SKIP: $REUTERS is not there (set QUARRY_CORPUS)"; exit 0; }

DRIVER=("$PY" "$root/dist/quarry_dask.py")
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT

# the cluster: the scheduler picks a free port and writes its address in a
# file; the workers run one task at a time, without a nanny (so that killing
# one kills the worker itself)
dask-scheduler --host 127.0.0.1 --port 0 --no-dashboard --scheduler-file "$T/sched.json" >"$T/sched.log" 2>&1 &
pids+=($!)
for i in $(seq 50); do [ -s "$T/sched.json" ] && break; sleep 0.1; done
ADDR=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["address"])' "$T/sched.json" 2>/dev/null)
[ -n "$ADDR" ] || { cat "$T/sched.log"; echo "FAIL: the scheduler did not start"; exit 1; }
start_worker() {
    dask-worker "$ADDR" --host 127.0.0.1 --nthreads 1 --no-nanny --no-dashboard --name "w$1" \
        --local-directory "$T/w$1" >"$T/worker$1.log" 2>&1 &
    pids+=($!)
    eval "W$1=$!"
}
start_worker 1
start_worker 2
D() { "${DRIVER[@]}" "$1" --scheduler "$ADDR" --quarry "$Q" --connect-timeout 20 "${@:2}"; }
run() { "$@" >"$T/out" 2>"$T/err"; rc=$?; }
show() { sed 's/^/      /' "$T/err" | tail -5; }

# ------------------------------------------------------------ index, and the oracle

run D index --shards "$T/sh" --nshards 4 --batch-mb 4 "$REUTERS"
check "index: 4 shards (exit $rc)" test "$rc" -eq 0 -a -f "$T/sh/shards.json"
[ "$rc" -eq 0 ] || show
# one index of the whole collection, its documents in shard order
"$PY" - "$REUTERS" "$T/ordered.jsonl" <<'EOF'
import gzip, json, sys, zlib
by = [[] for _ in range(4)]
for line in gzip.open(sys.argv[1], "rb"):
    if line.strip():
        by[zlib.crc32(json.loads(line)["id"].encode("utf-8")) % 4].append(line)
open(sys.argv[2], "wb").write(b"".join(b"".join(s) for s in by))
EOF
"$Q" index --threads 1 -q -o "$T/one" "$T/ordered.jsonl"
arts=$(for s in 0 1 2 3; do "$Q" stats -i "$T/sh/shard-00$s" | awk '$1 == "articles" { print $2 }'; done | awk "{ s += \$1 } END { print s }")
check "index: the shards hold every article ($arts)" test "$arts" = 19779

# ------------------------------------------------------------ queries of every kind

"$PY" - "$REUTERS" "$T/q.tsv" "$T/plain.tsv" <<'EOF'
import gzip, json, random, re, sys
r = random.Random(1101)
titles = []
for line in gzip.open(sys.argv[1], "rt"):
    d = json.loads(line)
    w = re.findall(r"[a-z]{3,}", d.get("title", "").lower())
    if len(w) >= 2:
        titles.append(w)
    if len(titles) >= 3000:
        break
words = [w for t in titles for w in t]
def w(): return r.choice(words)
def phrase():
    t = r.choice(titles); i = r.randrange(len(t) - 1); return '"%s %s"' % (t[i], t[i + 1])
shapes = [lambda: "%s %s" % (w(), w()), lambda: "%s %s %s" % (w(), w(), w()), lambda: w(),
          lambda: "%s AND %s" % (w(), w()), lambda: phrase(), lambda: "%s %s" % (phrase(), w()),
          lambda: "%s -%s" % (w(), w()), lambda: "+%s %s" % (w(), w()), lambda: "(%s OR %s) NOT %s" % (w(), w(), w()),
          lambda: "title:%s %s" % (w(), w()), lambda: "title:%s" % phrase(), lambda: "%s %s AND %s" % (w(), w(), w())]
with open(sys.argv[2], "w") as f:
    for i in range(240):
        f.write("q%d\t%s\n" % (i, shapes[i % len(shapes)]()))
with open(sys.argv[3], "w") as f:
    for i in range(60):
        f.write("p%d\t%s\n" % (i, " ".join(r.choice(titles))))
EOF
same() { # NAME DRIVER-ARGS... -- QUARRY-ARGS...
    local name=$1; shift; local a=() b=()
    while [ "$1" != -- ]; do a+=("$1"); shift; done; shift; b=("$@")
    D search --shards "$T/sh" "${a[@]}" >"$T/d.out" 2>"$T/d.err"; local r1=$?
    "$Q" search -i "$T/one" --no-collapse "${b[@]}" >"$T/s.out" 2>"$T/s.err"
    if [ $r1 -eq 0 ] && [ -s "$T/s.out" ] && cmp -s "$T/d.out" "$T/s.out"; then
        ok "$name: the same $(wc -l <"$T/s.out") lines as one index"
    else
        bad "$name: the driver (exit $r1) and one index differ"; sed 's/^/      /' "$T/d.err" | tail -3
        diff "$T/d.out" "$T/s.out" | head -4 | cut -c1-200
    fi
}
same "articles, JSON, k 20" --queries "$T/q.tsv" --json -k 20 -- --queries "$T/q.tsv" --json -k 20
same "passages, JSON, k 30" --queries "$T/q.tsv" --json --passages -k 30 -- --queries "$T/q.tsv" --json --passages -k 30
same "articles, TREC, k 100, exact scores" --queries "$T/q.tsv" --trec run -k 100 --exact-scores -- \
    --queries "$T/q.tsv" --trec run -k 100 --exact-scores
same "passages, JSON, exact scores, k 5" --queries "$T/q.tsv" --json --passages -k 5 --exact-scores -- \
    --queries "$T/q.tsv" --json --passages -k 5 --exact-scores
same "plain queries, TREC, k 200" --queries "$T/plain.tsv" --plain --trec run -k 200 -- \
    --queries "$T/plain.tsv" --plain --no-expand --trec run -k 200
same "one query from the command line" oil prices -- oil prices --json
"$Q" search -i "$T/sh/shard-000" -i "$T/sh/shard-001" -i "$T/sh/shard-002" -i "$T/sh/shard-003" --no-collapse \
    --queries "$T/q.tsv" --json -k 20 >"$T/many.out" 2>/dev/null
D search --shards "$T/sh" --queries "$T/q.tsv" --json -k 20 >"$T/d.out" 2>/dev/null
check "the driver answers as quarry search -i S0 -i S1 -i S2 -i S3" cmp -s "$T/d.out" "$T/many.out"

# ------------------------------------------------------------ errors

printf 'q1\toil\nq2\t"unbalanced\nq3\twheat\n' >"$T/bad.tsv"
run D search --shards "$T/sh" --queries "$T/bad.tsv" --json
check "a bad query: named by file and line, the others answered, exit 2 ($rc)" \
    test "$rc" -eq 2 -a "$(grep -c '"qid":"q[13]"' "$T/out")" -eq 20
grep -q "bad.tsv:2: column" "$T/err" || bad "the bad query's message: $(head -1 "$T/err")"
printf '{"id":"ok1","text":"fine"}\n{"id": "x", "text": oops}\n' >"$T/bad.jsonl"
run D index --shards "$T/badsh" --nshards 2 "$T/bad.jsonl"
check "bad input: exit 2, named by file and line" test "$rc" -eq 2
grep -q "bad.jsonl:2: " "$T/err" || bad "bad input's message: $(cat "$T/err")"

# ------------------------------------------------------------ a shard that does not answer

mv "$T/sh/shard-002" "$T/sh/gone"
run D search --shards "$T/sh" --json oil
check "a missing shard: reported, exit 2, no results" test "$rc" -eq 2 -a ! -s "$T/out"
grep -q "shard 2 .* did not answer" "$T/err" || bad "the missing shard's report: $(head -2 "$T/err")"
run D search --shards "$T/sh" --json --partial oil
check "--partial: the other shards' hits, marked partial" test "$rc" -eq 0 -a -s "$T/out"
grep -q '"partial":true,"missing_shards":\[2\]}$' "$T/out" && grep -q "PARTIAL" "$T/err" || bad "--partial marks"
mv "$T/sh/gone" "$T/sh/shard-002"

# ------------------------------------------------------------ updates and deletes

printf '{"id":"9","title":"Zyxwv update","text":"zyxwvut news about quarrydasktest"}\n{"id":"new-1","title":"New","text":"quarrydasktest fresh"}\n' >"$T/upd.jsonl"
run D index --add --shards "$T/sh" "$T/upd.jsonl"
check "update: --add routed by the same hash (exit $rc)" test "$rc" -eq 0
n=$(D search --shards "$T/sh" --json quarrydasktest 2>/dev/null | wc -l)
check "update: both found ($n)" test "$n" -eq 2
s9=$("$PY" -c 'import zlib; print(zlib.crc32(b"9") % 4)')
"$Q" search -i "$T/sh/shard-00$s9" --json quarrydasktest | grep -q '"doc":"9"' && ok "update: id 9 replaced in its shard ($s9)" || bad "id 9 not in shard $s9"
run D delete --shards "$T/sh" --strict 9 new-1
check "delete: routed, --strict found both (exit $rc)" test "$rc" -eq 0
n=$(D search --shards "$T/sh" --json quarrydasktest 2>/dev/null | wc -l)
check "delete: gone ($n)" test "$n" -eq 0

run D index --add --shards "$T/sh" "$root/corpus"
check "a directory of .txt articles: added (exit $rc)" test "$rc" -eq 0
D search --shards "$T/sh" --json 'BRI investment' 2>/dev/null | head -1 | grep -q '"doc":"000_b2bb108374801336"' &&
    ok "a .txt article found by its id (the file name)" || bad "the .txt article is not the first hit of 'BRI investment'"

# ------------------------------------------------------------ a worker killed while indexing

rm -rf "$T/sh"
D index --shards "$T/k" --nshards 4 --batch-mb 1 -v "$REUTERS" -- --passage-tokens 120 --mem 64 >"$T/kill.out" 2>"$T/kill.err" &
drv=$!
pids+=($drv)
victim="" killed=""
for i in $(seq 600); do   # until a worker runs a quarry index (Dask picks which)
    for w in "$W1" "$W2"; do
        v=$(pgrep -P "$w" -f "quarry index" | head -1)
        if [ -n "$v" ]; then victim=$v killed=$w; break 2; fi
    done
    sleep 0.05
done
if [ -n "$victim" ]; then
    { kill -9 "$killed"; wait "$killed"; } 2>/dev/null
    ok "a worker killed while its quarry index (pid $victim) ran"
else
    bad "no worker ran a quarry index"
fi
wait "$drv"; rc=$?
check "the indexing run still succeeds (exit $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || sed 's/^/      /' "$T/kill.err" | tail -5
sleep 0.2
check "the killed worker's quarry index died with it" test -n "$victim" -a ! -d "/proc/$victim"
grep -q "Remove worker\|Removing worker\|worker-handle-scheduler-connection-broken\|Lost all workers\|lost" "$T/sched.log" &&
    ok "the scheduler saw the worker go" || bad "the scheduler log does not show the worker leaving"
run D verify --shards "$T/k"
check "every shard verifies after the rerun (exit $rc)" test "$rc" -eq 0 -a "$(grep -c ': ok' "$T/out")" -eq 4
[ "$rc" -eq 0 ] || sed 's/^/      /' "$T/out"
D search --shards "$T/k" --queries "$T/q.tsv" --json -k 20 >"$T/d.out" 2>/dev/null
"$Q" search -i "$T/one" --no-collapse --queries "$T/q.tsv" --json -k 20 >"$T/s.out" 2>/dev/null
check "after the rerun: the same answers as one index" cmp -s "$T/d.out" "$T/s.out"

e2e_end
