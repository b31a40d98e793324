#!/usr/bin/env bash
# tests/e2e/reliability.sh — quarry touches only what it made, and readers
# never fail because of a writer:
#   - special files (a FIFO, a socket) in a walked directory are skipped
#     with a warning, never opened (a FIFO would block the run forever);
#   - `quarry index -o DIR` refuses a directory that holds other files and
#     no index (and `-o /`), touching nothing; it takes an empty one, one
#     left by an interrupted first run, and an index with a stranger's file
#     beside it (which it leaves alone);
#   - an input without any article is an error and the index stays;
#   - a NUL byte in a query line is an error naming the line; a query of
#     more than QUARRY_MAX_TERMS distinct terms is refused at once;
#   - reader processes searching in a loop while a writer commits in a loop
#     (adds, deletes, merges): not one fails.
# QUARRY_HAMMER_SECONDS (default 6) is how long the readers run.
# Env: QUARRY (the binary), QUARRY_ROOT (the repository root).
set -u
. "$(dirname "$0")/lib/common.sh"
e2e_init reliability
seconds=${QUARRY_HAMMER_SECONDS:-6}

printf '{"id":"a1","title":"oil","text":"Oil prices rose on sanctions."}\n{"id":"a2","title":"trade","text":"Trade talks stalled."}\n' >"$T/two.jsonl"
articles() { "$Q" stats -i "$1" 2>/dev/null | sed -n 's/^articles *\([0-9][0-9]*\).*/\1/p'; }

# ---------------------------------------------------------------- special files
mkdir -p "$T/in"
cp "$T/two.jsonl" "$T/in/a.jsonl"
mkfifo "$T/in/pipe.jsonl"
python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$T/in/sock.jsonl" 2>/dev/null
timeout 20 "$Q" index -q -o "$T/sp" "$T/in" >"$T/sp.out" 2>"$T/sp.err"; rc=$?
check "a FIFO in a walked directory does not block the run (exit $rc)" [ $rc -eq 0 ]
check "special files are skipped with a warning naming one" grep -q "warning: skipped [12] special file.*$T/in/" "$T/sp.err"
check "the regular file is indexed" [ "$(articles "$T/sp")" = 2 ]

# ---------------------------------------------------------------- hostile queries
printf 'oil\0gas\n' | "$Q" search -i "$T/sp" --json >/dev/null 2>"$T/nul.err"; rc=$?
check "a NUL byte in a query line on stdin is an error (exit $rc)" [ $rc -eq 2 ]
check "naming the line and column" grep -q "stdin:1: a NUL byte at column 4" "$T/nul.err"
printf 'q1\toil\nq2\toil\0gas\n' >"$T/nul.tsv"
"$Q" search -i "$T/sp" --queries "$T/nul.tsv" --json >"$T/nul.out" 2>"$T/nul2.err"; rc=$?
check "a NUL byte in a --queries file is an error (exit $rc)" [ $rc -eq 2 ]
check "naming the file and line, before any query runs" sh -c "grep -q '$T/nul.tsv:2: a NUL byte' '$T/nul2.err' && [ ! -s '$T/nul.out' ]"
python3 -c "
import random
r = random.Random(5); ws = []; n = 0
while n < 65000:
    w = ''.join(r.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(r.randint(3, 9))); ws.append(w); n += len(w) + 1
print(' '.join(ws))" >"$T/long.txt"
timeout 20 "$Q" search -i "$T/sp" --json <"$T/long.txt" >/dev/null 2>"$T/long.err"; rc=$?
check "a 64 KB query of thousands of distinct words is refused at once (exit $rc)" [ $rc -eq 2 ]
check "saying the limit" grep -q "more than 1024 distinct terms" "$T/long.err"
timeout 20 "$Q" search --plain -i "$T/sp" --json <"$T/long.txt" >/dev/null 2>"$T/long.err"; rc=$?
check "the same with --plain (exit $rc)" [ $rc -eq 2 ]

# ---------------------------------------------------------------- only what it made
mkdir -p "$T/foreign"
echo photo >"$T/foreign/g000123.jpeg"
echo keep >"$T/foreign/.run-important"
"$Q" index -o "$T/foreign" "$T/two.jsonl" >/dev/null 2>"$T/foreign.err"; rc=$?
check "a directory with other files and no index is refused (exit $rc)" [ $rc -eq 2 ]
check "the refusal names the directory and a file in it" grep -q "$T/foreign: the directory holds other files" "$T/foreign.err"
check "nothing was touched" [ "$(ls -A "$T/foreign" | tr '\n' ' ')" = ".run-important g000123.jpeg " ]
"$Q" index -o / "$T/two.jsonl" >/dev/null 2>"$T/root.err"; rc=$?
check "-o / is refused (exit $rc)" [ $rc -eq 2 ]
mkdir -p "$T/empty"
check "an empty directory is taken" "$Q" index -q -o "$T/empty" "$T/two.jsonl"
mkdir -p "$T/interrupted"
: >"$T/interrupted/LOCK"; : >"$T/interrupted/t0000000000000001-d0000000.run"; : >"$T/interrupted/s0000000000000001.post"
check "a directory left by an interrupted first run is taken" "$Q" index -q -o "$T/interrupted" "$T/two.jsonl"
check "and cleaned of what that run left" [ ! -e "$T/interrupted/t0000000000000001-d0000000.run" ]
echo notes >"$T/empty/README.txt"
check "an index with a stranger's file beside it is rebuilt" "$Q" index -q -o "$T/empty" "$T/two.jsonl"
check "and the stranger's file is left alone" [ "$(cat "$T/empty/README.txt")" = notes ]
: >"$T/nothing.jsonl"
"$Q" index -o "$T/empty" "$T/nothing.jsonl" >/dev/null 2>"$T/nothing.err"; rc=$?
check "an input without any article is an error (exit $rc)" [ $rc -eq 2 ]
check "and the index is still there" [ "$(articles "$T/empty")" = 2 ]

# ---------------------------------------------------------------- readers during commits
python3 - "$T" <<'EOF'
import json, random, sys
rnd = random.Random(7)
words = ["oil", "trade", "bank", "rate", "sanctions", "port"] + ["w%d" % i for i in range(400)]
for b in range(40):
    with open("%s/b%02d.jsonl" % (sys.argv[1], b), "w") as f:
        for i in range(300):
            f.write(json.dumps({"id": "d%d-%d" % (b, i), "text": " ".join(rnd.choice(words) for _ in range(40))}) + "\n")
    with open("%s/del%02d.txt" % (sys.argv[1], b), "w") as f:
        for i in range(0, 300, 7):
            f.write("d%d-%d\n" % (b, i))
EOF
D=$T/hammer
"$Q" index -q -o "$D" --mem 8 "$T/b00.jsonl" || bad "the first index of the hammer"
stop=$T/stop
(   # the writer: adds, deletes, and the merges they set off, as fast as it can
    b=1; commits=0
    while [ ! -e "$stop" ]; do
        f=$(printf '%02d' $((b % 40)))
        "$Q" index -q --add --mem 8 -o "$D" "$T/b$f.jsonl" 2>>"$T/writer.err" && commits=$((commits + 1))
        "$Q" delete -q -i "$D" --ids "$T/del$f.txt" 2>>"$T/writer.err" && commits=$((commits + 1))
        b=$((b + 1))
    done
    echo "$commits" >"$T/commits"
) &
writer=$!
reader() {   # reader N: searches until told to stop; counts runs and failures
    local n=0 fails=0 rc
    while [ ! -e "$stop" ]; do
        "$Q" search -i "$D" -k 5 --json 'oil trade' >/dev/null 2>>"$T/reader$1.err"; rc=$?
        n=$((n + 1))
        [ $rc -le 1 ] || fails=$((fails + 1))
    done
    echo "$n $fails" >"$T/reader$1.count"
}
for r in 1 2 3; do reader $r & done
sleep "$seconds"
: >"$stop"
wait
runs=0 nfail=0
for r in 1 2 3; do read -r n f <"$T/reader$r.count"; runs=$((runs + n)); nfail=$((nfail + f)); done
commits=$(cat "$T/commits" 2>/dev/null || echo 0)
check "$runs searches by 3 processes during $commits commits: $nfail failed" [ "$nfail" -eq 0 ] 
[ "$nfail" -eq 0 ] || cat "$T"/reader*.err | sort | uniq -c | head -5
check "the writer made commits meanwhile" [ "$commits" -gt 4 ]
check "the writer never failed" [ ! -s "$T/writer.err" ]
check "the index verifies after the hammering" "$Q" verify -i "$D"
e2e_end
