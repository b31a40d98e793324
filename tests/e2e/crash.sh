#!/usr/bin/env bash
# tests/e2e/crash.sh — kill -9 at random moments of `quarry index --add`
# (new articles, and updates of existing ones), `quarry delete`,
# `quarry optimize`, and of the merges that follow a commit:
#   - the index in its directory always verifies and answers, and holds
#     either every change of the killed run or none (its article count is
#     that before the run or that of the same run carried out undisturbed,
#     on a copy, which also times it: the kill comes at a random moment of
#     that time);
#   - after the next run that commits, no file of a killed run is left:
#     only LOCK, MANIFEST and the files the manifest names.
# QUARRY_CRASH_TRIES (default 32) kills; QUARRY_TEST_SEED the seed.
# Env: QUARRY (the binary), QUARRY_ROOT (the repository root).
set -u
. "$(dirname "$0")/lib/common.sh"
e2e_init crash
tries=${QUARRY_CRASH_TRIES:-32}
seed=${QUARRY_TEST_SEED:-20261130}

# the input: 10 batches of 2000 new articles, 10 of 400 updates of earlier
# ones, 10 lists of 300 ids to delete (some of them already gone)
python3 - "$T" "$seed" <<'EOF' || { echo "FAIL: cannot generate the input"; exit 1; }
import json, random, sys
out, seed = sys.argv[1], int(sys.argv[2])
rnd = random.Random(seed)
vocab = ["sanctions", "trade", "oil", "bank", "rate", "market", "port", "belt", "road", "investment"] + \
        ["w%x" % i for i in range(3000)]
def text(n):
    return " ".join(rnd.choice(vocab) for _ in range(n)) + "."
for b in range(10):
    with open("%s/add%d.jsonl" % (out, b), "w") as f:
        for i in range(2000):
            paras = "\n\n".join(text(rnd.randint(5, 60)) for _ in range(rnd.randint(1, 4)))
            f.write(json.dumps({"id": "b%d-%d" % (b, i), "title": text(4), "text": paras}) + "\n")
    with open("%s/upd%d.jsonl" % (out, b), "w") as f:
        for i in rnd.sample(range(2000), 400):
            f.write(json.dumps({"id": "b%d-%d" % (rnd.randint(0, b), i), "title": "updated",
                                "text": text(rnd.randint(5, 80))}) + "\n")
    with open("%s/del%d.txt" % (out, b), "w") as f:
        for i in rnd.sample(range(2000), 300):
            f.write("b%d-%d\n" % (rnd.randint(0, b), i))
EOF

D=$T/idx
R=$T/ref
articles() { "$Q" stats -i "$1" 2>/dev/null | sed -n 's/^articles *\([0-9][0-9]*\).*/\1/p'; }
# the files that do not belong to the committed index in $1 (empty when none)
stray() {
    local allowed
    allowed=$(awk '$1 == "segment" { printf "|s%s\\.(arts|dict|meta|posn|post|text|unit)", $2;
                                     if ($4 != "0000000000000000") printf "|s%s-%s\\.del", $2, $4 }' "$1/MANIFEST")
    ls -A "$1" | grep -v -E "^(LOCK|MANIFEST$allowed)\$"
}
# op K DIR: the K-th operation on the index in DIR, as the process itself
# (exec: run it in a subshell, whose pid is then quarry's)
op() {
    local k=$1 dir=$2 b=$(( ($1 / 4) % 10 ))
    case $(( k % 4 )) in
    0) exec "$Q" index -q --add -o "$dir" --mem 8 "$T/add$b.jsonl" ;;
    1) exec "$Q" index -q --add -o "$dir" --mem 8 "$T/upd$b.jsonl" ;;
    2) exec "$Q" delete -q -i "$dir" --ids "$T/del$b.txt" ;;
    3) exec "$Q" optimize -q -i "$dir" ;;
    esac
}

if ! "$Q" index -q -o "$D" --mem 8 "$T/add0.jsonl"; then echo "FAIL: the first index"; exit 1; fi
RANDOM=$seed
killed=0 mid=0 whole=0 none=0
for ((i = 1; i <= tries; i++)); do
    before=$(articles "$D")
    rm -rf "$R" && cp -a "$D" "$R"
    t0=$(date +%s%N)
    (op "$i" "$R") >/dev/null 2>&1; rc=$?
    ms=$(( ($(date +%s%N) - t0) / 1000000 + 1 ))
    [ $rc -eq 0 ] || { bad "try $i: op $((i % 4)) on a copy failed (exit $rc)"; continue; }
    after=$(articles "$R")
    # the same run, killed at a random moment of the time it took
    (op "$i" "$D") >/dev/null 2>&1 &
    pid=$!
    w=$(( RANDOM % ms ))
    sleep "$((w / 1000)).$(printf '%03d' $((w % 1000)))"
    if kill -9 "$pid" 2>/dev/null; then killed=$((killed + 1)); fi
    wait "$pid" 2>/dev/null
    # quarry itself was killed (no process of it left behind)
    if pgrep -f -- "$D" >/dev/null 2>&1; then bad "try $i: a quarry process on $D outlived kill -9"; fi
    if ! "$Q" verify -i "$D" >"$T/verify.out" 2>&1; then
        bad "try $i (op $((i % 4))): verify after kill -9: $(cat "$T/verify.out")"; continue
    fi
    now=$(articles "$D")
    if [ "$now" = "$before" ]; then none=$((none + 1))
    elif [ "$now" = "$after" ]; then whole=$((whole + 1))
    else bad "try $i (op $((i % 4))): $now articles: neither $before (before) nor $after (the run undisturbed)"; continue
    fi
    "$Q" search -i "$D" -k 3 --json 'sanctions trade' >/dev/null 2>"$T/search.err"; rc=$?
    [ $rc -le 1 ] || bad "try $i: search after kill -9: exit $rc: $(cat "$T/search.err")"
    [ -n "$(stray "$D")" ] && mid=$((mid + 1))
done
ok "$tries kill -9 ($killed while running): the index verified and answered every time; $none kept the state before, $whole the whole run; $mid left files of the killed run"
# the next run that commits removes them
"$Q" index -q --add -o "$D" "$T/add9.jsonl" || bad "a run after the kills failed"
s=$(stray "$D")
check "after the next commit, no file of a killed run is left${s:+ (left: $(echo $s))}" [ -z "$s" ]
check "the index verifies" "$Q" verify -i "$D"
e2e_end
