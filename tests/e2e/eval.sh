#!/usr/bin/env bash
# tests/e2e/eval.sh — end-to-end test of `quarry eval`: hand-computed values
# through the binary, --per-query and --json output, standard input, errors
# with FILE:LINE and exit status 2, a 300 x 1000 run, and an ideal run over
# a shared collection's qrels (skipped when QUARRY_CORPUS has none).
# Env: QUARRY = the binary (default ./build/quarry). Exit non-zero on failure.
set -u
QUARRY=${QUARRY:-./build/quarry}
CORPUS=${QUARRY_CORPUS:-${QUARRY_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/../shared/corpus}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/quarry-e2e-eval.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

[ -x "$QUARRY" ] || { echo "FAIL: no binary at $QUARRY"; exit 1; }

# expect STATUS DESCRIPTION -- command...: runs it, keeps stdout/stderr in $tmp/out, $tmp/err
expect() {
    local want=$1 what=$2
    shift 3
    "$@" >"$tmp/out" 2>"$tmp/err"
    local got=$?
    if [ "$got" -ne "$want" ]; then
        fail "$what: exit $got, expected $want"
        sed 's/^/    /' "$tmp/err" | head -5
        return 1
    fi
    return 0
}
# has FILE REGEX DESCRIPTION
has() {
    if grep -Eq -- "$2" "$1"; then ok "$3"; else fail "$3: no /$2/ in:"; sed 's/^/    /' "$1" | head -20; fi
}

# --- graded example (worked out in tests/test_eval.c): nDCG@10 0.5518, AP 0.4
cat >"$tmp/qrels" <<'EOF'
g 0 A 3
g 0 B 2
g 0 C 1
g 0 D 0
g 0 E 2
h 0 k 1
z 0 n 0
EOF
cat >"$tmp/run" <<'EOF'
g Q0 D 1 5.0 t
g Q0 A 2 4.0 t
g Q0 X 3 3.0 t
g Q0 B 4 2.0 t
g Q0 C 5 1.0 t
z Q0 n 1 1 t
q Q0 n 1 1 t
EOF
# query h is judged and absent (0); z has no relevant document, q no judgment: ignored
if expect 0 "table" -- "$QUARRY" eval "$tmp/qrels" "$tmp/run"; then
    has "$tmp/out" '^nDCG@10 +0\.2759$' "nDCG@10 mean (0.5518 + 0) / 2"
    has "$tmp/out" '^MAP +0\.2000$' "MAP mean (0.4 + 0) / 2"
    has "$tmp/out" '^R@100 +0\.3750$' "R@100"
    has "$tmp/out" '^R@1000 +0\.3750$' "R@1000"
    has "$tmp/out" '^P@10 +0\.1500$' "P@10"
    has "$tmp/out" '^MRR@10 +0\.2500$' "MRR@10"
    has "$tmp/out" '^queries +2$' "queries averaged"
    has "$tmp/out" '^absent +1$' "absent query counted"
    has "$tmp/out" '^unjudged +2$' "unjudged run queries counted"
fi

if expect 0 "per-query" -- "$QUARRY" eval --per-query "$tmp/qrels" "$tmp/run"; then
    has "$tmp/out" '^qid +nDCG@10 +MAP +R@100 +R@1000 +P@10 +MRR@10$' "per-query header"
    has "$tmp/out" '^g +0\.5518 +0\.4000 +0\.7500 +0\.7500 +0\.3000 +0\.5000$' "per-query line of g"
    has "$tmp/out" '^h +0\.0000 +0\.0000 +0\.0000 +0\.0000 +0\.0000 +0\.0000$' "absent query h at 0"
    has "$tmp/out" '^nDCG@10 +0\.2759$' "per-query keeps the summary"
fi

if expect 0 "json" -- "$QUARRY" eval --json --per-query "$tmp/qrels" "$tmp/run"; then
    if [ "$(wc -l <"$tmp/out")" -eq 1 ]; then ok "json is one line"; else fail "json is not one line"; fi
    if command -v jq >/dev/null 2>&1; then
        v=$(jq -r '[.queries, .absent, .unjudged, (.["nDCG@10"]*10000|round), (.MAP*10000|round),
                     (.per_query|length), .per_query[0].qid, .per_query[0].relevant] | map(tostring) | join(" ")' \
             "$tmp/out" 2>"$tmp/err")
        if [ "$v" = "2 1 2 2759 2000 2 g 4" ]; then ok "json values ($v)"; else fail "json values: '$v'"; fi
    elif command -v python3 >/dev/null 2>&1; then
        if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["queries"]==2 and abs(d["MAP"]-0.2)<1e-6 and len(d["per_query"])==2' \
            "$tmp/out"; then ok "json values"; else fail "json values"; fi
    else
        echo "SKIP: no jq or python3 to check the JSON"
        has "$tmp/out" '"nDCG@10":0\.275' "json nDCG@10"
    fi
fi

# --- ties: trec_eval ranks equal scores by docid descending (d2 d1 d0), so the
# relevant d0 is third (ascending order would make it first, file order second)
printf '1 0 d0 1\n' >"$tmp/tq"
printf '1 Q0 d1 1 7.5 t\n1 Q0 d0 2 7.5 t\n1 Q0 d2 3 7.5 t\n' >"$tmp/tr"
if expect 0 "ties" -- "$QUARRY" eval "$tmp/tq" "$tmp/tr"; then
    has "$tmp/out" '^MRR@10 +0\.3333$' "ties broken by docid descending"
    has "$tmp/out" '^nDCG@10 +0\.5000$' "tie nDCG@10 = 1/log2(4)"
fi

# --- RUN from standard input
if "$QUARRY" eval "$tmp/qrels" - <"$tmp/run" >"$tmp/out" 2>"$tmp/err"; then
    has "$tmp/out" '^MAP +0\.2000$' "RUN read from standard input"
else
    fail "RUN '-' exit $?"
fi

# --- errors: one line on stderr naming FILE:LINE, exit 2
printf '1 Q0 a 1 1 t\n\n1 Q0 b 2 high t\n' >"$tmp/bad1"
expect 2 "bad score" -- "$QUARRY" eval "$tmp/qrels" "$tmp/bad1" &&
    has "$tmp/err" "^quarry: .*bad1:3: score 'high' is not a number \(expected 'qid Q0 docid rank score tag'\)$" "bad score names line 3"
printf '1 Q0 a 1 1 t\n1 Q0 a 2 0.5 t\n' >"$tmp/bad2"
expect 2 "duplicate" -- "$QUARRY" eval "$tmp/qrels" "$tmp/bad2" &&
    has "$tmp/err" "bad2:2: document 'a' listed twice for query '1', first at line 1" "duplicate docid names both lines"
printf '1 Q0 a 1 1\n' >"$tmp/bad3"
expect 2 "field count" -- "$QUARRY" eval "$tmp/qrels" "$tmp/bad3" &&
    has "$tmp/err" "bad3:1: 5 fields, not 6" "field count"
printf '1 0 a 1\n1 0 b yes\n' >"$tmp/badq"
expect 2 "bad rel" -- "$QUARRY" eval "$tmp/badq" "$tmp/run" &&
    has "$tmp/err" "badq:2: relevance 'yes' is not an integer \(expected 'qid 0 docid rel'\)" "bad rel names line 2"
expect 2 "missing file" -- "$QUARRY" eval "$tmp/qrels" "$tmp/nonexistent" &&
    has "$tmp/err" "nonexistent" "missing file named"
if [ "$(wc -l <"$tmp/err")" -eq 1 ]; then ok "error is one line"; else fail "error is not one line"; fi
expect 2 "no arguments" -- "$QUARRY" eval
expect 2 "one argument" -- "$QUARRY" eval "$tmp/qrels"
expect 2 "unknown option" -- "$QUARRY" eval --bogus "$tmp/qrels" "$tmp/run" &&
    has "$tmp/err" "bogus" "unknown option named"
printf '1 0 a 0\n' >"$tmp/norel"
expect 2 "no relevant document" -- "$QUARRY" eval "$tmp/norel" "$tmp/run"
if expect 0 "help" -- "$QUARRY" eval --help; then
    has "$tmp/out" "trec_eval -c" "help states the averaging rule"
fi

# --- 300 queries x 1000 hits: must be instant (a quadratic scan takes minutes)
awk 'BEGIN { for (q = 1; q <= 300; q++) { print q, 0, "doc" q, 1; print q, 0, "doc" (q + 500), 2 } }' >"$tmp/bigq"
awk 'BEGIN { for (q = 1; q <= 300; q++) for (i = 1; i <= 1000; i++)
             printf "%d Q0 doc%d %d %.4f big\n", q, i, i, 1000 - i }' >"$tmp/bigr"
start=$(date +%s.%N)
if expect 0 "300 x 1000 run" -- "$QUARRY" eval "$tmp/bigq" "$tmp/bigr"; then
    secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
    has "$tmp/out" '^queries +300$' "300 x 1000 run evaluated in ${secs}s"
    has "$tmp/out" '^R@1000 +1\.0000$' "300 x 1000 run R@1000"
    awk -v s="$secs" 'BEGIN { exit !(s < 10) }' || fail "300 x 1000 run took ${secs}s"
fi

# --- an ideal run over real qrels scores 1
found=0
for d in "$CORPUS"/*/; do
    [ -f "$d/qrels.txt" ] || continue
    found=1
    name=$(basename "$d")
    awk '{ print $1, "Q0", $3, 0, $4, "ideal" }' "$d/qrels.txt" >"$tmp/ideal"
    if expect 0 "$name ideal run" -- "$QUARRY" eval --json "$d/qrels.txt" "$tmp/ideal"; then
        has "$tmp/out" '"nDCG@10":1\.000000,"MAP":1\.000000' "$name: ideal run scores 1"
    fi
done
[ $found -eq 1 ] || echo "SKIP: no collection with qrels.txt under $CORPUS"

if [ $fails -ne 0 ]; then
    echo "$fails check(s) failed"
    exit 1
fi
echo "all eval checks passed"
