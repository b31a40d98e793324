#!/usr/bin/env bash
# tests/e2e/search.sh — end-to-end tests of `quarry search` on the sample
# corpus: ranking of known queries, phrases, the people / JSON / TREC
# formats, exit statuses and error messages, batches from stdin and
# --queries files, paging, colour, display safety of untrusted text; on a
# small dated collection, --since / --until / --sort date, duplicates
# collapsed, --explain (its shares add up to the score); the duplicates of
# Reuters-21578 when QUARRY_CORPUS has it.
# Env: QUARRY (the binary), QUARRY_ROOT (the repository root).
set -u
root=${QUARRY_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
Q=${QUARRY:-$root/build/quarry}
[ -x "$Q" ] || { echo "FAIL: no quarry binary at $Q"; exit 1; }
command -v python3 >/dev/null || { echo "SKIP: python3 is needed to check JSON"; exit 0; }
# the interpreter itself, not a version manager's shim (much faster to start)
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) && [ -x "$PY" ] || PY=python3
python3() { "$PY" "$@"; }

T=$(mktemp -d "${TMPDIR:-/tmp}/quarry-e2e-search.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
ok()   { echo "ok    $1"; }
bad()  { echo "FAIL  $1"; fails=$((fails+1)); }
# check NAME CMD...: passes when CMD succeeds
check() { local n=$1; shift; if "$@"; then ok "$n"; else bad "$n"; fi; }

IX=$T/ix
if ! (cd "$root" && "$Q" index -o "$IX" corpus) >"$T/index.out" 2>&1; then
    cat "$T/index.out"; echo "FAIL: quarry index -o $IX corpus"; exit 1
fi
S() { "$Q" search -i "$IX" "$@"; }

# run CMD...: stdout in $T/out, stderr in $T/err, exit status in $rc
run() { "$@" >"$T/out" 2>"$T/err"; rc=$?; }
expect_rc() { # NAME WANT
    if [ "$rc" -eq "$2" ]; then ok "$1 (exit $2)"; else
        bad "$1: exit $rc, expected $2"; sed 's/^/      stderr: /' "$T/err" | head -5; fi
}
first_doc_json() { head -n 1 "$T/out" | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["doc"])'; }

# ------------------------------------------------------------ ranking
run S --json -k 3 BRI investment; expect_rc "BRI investment" 0
check "BRI investment ranks 000_b2bb108374801336 first" [ "$(first_doc_json)" = 000_b2bb108374801336 ]
run S --json sanctions; expect_rc "sanctions" 0
check "sanctions ranks 004_4f4f4b4389e3315b first" [ "$(first_doc_json)" = 004_4f4f4b4389e3315b ]
check "sanctions matches only 004 (000 has no such word)" [ "$(wc -l <"$T/out")" -eq 1 ]

# the people format: rank, score, id on the first line, the passage below
run S --color=never sanctions; expect_rc "people format" 0
check "people: first line '1. SCORE ID'" grep -Eq '^1\. [0-9]+\.[0-9]{4}  004_4f4f4b4389e3315b' <(head -n 1 "$T/out")
check "people: the passage text with the query word" grep -q 'sanctions' <(sed -n '2,$p' "$T/out")
check "people: the footer" grep -Eq '^1 hit \(1 matched\) in [0-9.]+ ms$' "$T/out"
check "people: the date of 004" grep -q '2025-11-04' <(head -n 1 "$T/out")
check "people: no escape sequences when colour is off" bash -c "! grep -q \$'\\033' '$T/out'"
check "people: lines wrapped to 100 columns" python3 -c '
import sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
sys.exit(0 if all(len(l) <= 100 for l in lines) else 1)' "$T/out"
run S --color=always sanctions
check "--color=always highlights the query word" grep -q $'\033\\[1;31msanctions' "$T/out"
run env NO_COLOR=1 TERM=xterm "$Q" search -i "$IX" sanctions
check "--color=auto off when stdout is not a terminal" bash -c "! grep -q \$'\\033' '$T/out'"

# ------------------------------------------------------------ phrases
run S --json '"Belt and Road"'; expect_rc "phrase \"Belt and Road\"" 0
check "phrase \"Belt and Road\" matches only 000" \
    [ "$(python3 -c 'import json,sys; print(" ".join(sorted({json.loads(l)["doc"] for l in sys.stdin})))' <"$T/out")" = 000_b2bb108374801336 ]
run S '"road belt"'; expect_rc "phrase \"road belt\" (words not adjacent in this order)" 1
run S --json '"Belt and Road" +Putin'; expect_rc "phrase and a required word" 0
run S '+sanctions +Dmitriev'; expect_rc "two required words never together" 1
check "no hits: the footer says 0 hits" grep -Eq '^0 hits \(0 matched\)' "$T/out"
check "no hits: nothing on stderr" [ ! -s "$T/err" ]
# the unit that matches is the passage: an excluded word removes the
# passages that contain it
run S --json --passages -k 100 'Russia -sanctions'; expect_rc "excluded word" 0
check "excluded word: no hit passage contains it" python3 -c '
import json, sys
hits = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert hits and all("sanction" not in h["text"].lower() for h in hits), hits
assert all("russia" in h["text"].lower() for h in hits), hits
' "$T/out"

# ------------------------------------------------------------ JSON
run S --json -k 5 Russia; expect_rc "--json" 0
check "--json: every line is an object with the keys" python3 -c '
import json, sys
hits = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert len(hits) == 2, hits
for i, h in enumerate(hits):
    for k in ("rank", "score", "doc", "title", "passage", "text"):
        assert k in h, (k, h)
    assert h["rank"] == i + 1
    assert isinstance(h["score"], float) and h["score"] > 0
    assert isinstance(h["passage"], int) and h["passage"] >= 0
    assert "qid" not in h
assert hits[0]["score"] >= hits[1]["score"]
d = {h["doc"]: h for h in hits}
assert d["004_4f4f4b4389e3315b"]["date"] == "2025-11-04", d
assert "date" not in d["000_b2bb108374801336"], d
' "$T/out"
run S --json --passages -k 100 Russia; expect_rc "--json --passages" 0
check "--passages: several passages of one article, each once" python3 -c '
import json, sys
hits = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
keys = [(h["doc"], h["passage"]) for h in hits]
assert len(keys) == len(set(keys)), keys
assert len(keys) > len({h["doc"] for h in hits}), keys
' "$T/out"

# ------------------------------------------------------------ paging
run S --json -k 2 Russia; p2=$(sed -n 2p "$T/out")
run S --json -k 1 --offset 1 Russia; expect_rc "--offset" 0
check "--offset 1 -k 1 gives hit 2 of -k 2 (rank 2)" \
    [ "$(python3 -c 'import json,sys; h=json.loads(sys.argv[1]); print(h["doc"], h["rank"])' "$p2")" = \
      "$(python3 -c 'import json,sys; h=json.loads(sys.stdin.readline()); print(h["doc"], h["rank"])' <"$T/out")" ]
run S --offset 50 Russia; expect_rc "--offset past the end" 1

# ------------------------------------------------------------ TREC
printf 'sanctions\n\nBRI investment\n' >"$T/stdin.txt"
run S --trec myrun <"$T/stdin.txt"; expect_rc "--trec from stdin" 0
check "--trec: 6 columns, Q0, the tag, qid = line number" awk '
    NF != 6 || $2 != "Q0" || $6 != "myrun" || ($1 != 1 && $1 != 3) { bad = 1 }
    END { exit bad || NR < 2 }' "$T/out"
check "--trec: ranks count from 1 within each query" awk '
    { if ($1 != q) { q = $1; r = 0 } r++; if ($4 != r) bad = 1 }
    END { exit bad }' "$T/out"
check "--trec: sanctions (line 1) ranks 004 first" grep -q '^1 Q0 004_4f4f4b4389e3315b 1 [0-9.]* myrun$' "$T/out"
printf 'q1\tsanctions\n# a comment\nq7\tBelt AND Road\n' >"$T/q.tsv"
run S --trec run2 -k 10000 --queries "$T/q.tsv"; expect_rc "--trec --queries" 0
check "--queries: qids from the file" [ "$(cut -d' ' -f1 "$T/out" | sort -u | tr '\n' ' ')" = "q1 q7 " ]
run S --trec tag --passages sanctions; expect_rc "--trec with --passages is refused" 2

# ------------------------------------------------------------ batches
printf 'sanctions\nthe and\nBRI investment\n' >"$T/b.txt"
run S --json <"$T/b.txt"; expect_rc "batch from stdin (one query without terms)" 0
check "batch --json: qids 1 and 3, none for the stop-word line" \
    [ "$(python3 -c 'import json,sys; print(" ".join(sorted({json.loads(l)["qid"] for l in sys.stdin})))' <"$T/out")" = "1 3" ]
check "batch: the stop-word query is reported with its line" grep -q '^quarry: stdin:2: no hits: every term of the query is a stop word or absent from the index$' "$T/err"
run S <"$T/b.txt"; expect_rc "batch for people" 0
check "batch for people: a 'query:' line before each" [ "$(grep -c '^query: ' "$T/out")" -eq 3 ]
printf 'sanctions\n"broken\nBRI\n' >"$T/b2.txt"
run S --json <"$T/b2.txt"
expect_rc "batch from stdin with a syntax error: exit 2 at the end" 2
check "batch syntax error names stdin:LINE and the column" grep -Eq '^quarry: stdin:2: column [0-9]+: unbalanced quote' "$T/err"
check "batch: the queries before and after the error ran" \
    [ "$(python3 -c 'import json,sys; print(" ".join(sorted({json.loads(l)["qid"] for l in sys.stdin})))' <"$T/out")" = "1 3" ]
check "batch: the summary line" grep -qx 'quarry: 1 of 3 queries failed' "$T/err"
# a natural-language query file with bad queries in the middle: every other
# query runs, each failure is FILE:LINE: column N, --plain is suggested once
long=$(head -c 70000 /dev/zero | tr '\0' 'a')
printf 'q1\tsanctions\nq2\twhat is +\nq3\tBRI investment\nq4\tRussia (sanctions\nq5\t%s\nq6\tRussia\nq7\tthe and\n' "$long" >"$T/nl.tsv"
run S --trec nl --queries "$T/nl.tsv"; expect_rc "--queries with failing queries: exit 2" 2
check "--queries: the queries after the failures ran" [ "$(cut -d' ' -f1 "$T/out" | sort -u | tr '\n' ' ')" = "q1 q3 q6 " ]
check "--queries: q2 reported as FILE:2: column 9" grep -q "^quarry: $T/nl.tsv:2: column 9: expected a term after '+'" "$T/err"
check "--queries: q4 reported as FILE:4: column N" grep -Eq "^quarry: $T/nl.tsv:4: column [0-9]+: unbalanced parenthesis" "$T/err"
check "--queries: a query over the length limit fails alone (FILE:5)" grep -q "^quarry: $T/nl.tsv:5: the query is 70000 bytes long" "$T/err"
check "--queries: --plain suggested once" [ "$(grep -c 'try --plain' "$T/err")" -eq 1 ]
check "--queries: the suggestion is on the first failure" grep -q "nl.tsv:2: .*(natural-language queries? try --plain)$" "$T/err"
check "--queries: a query of stop words does not count as failed" grep -qx 'quarry: 3 of 7 queries failed' "$T/err"
check "--queries: the summary is the last line" [ "$(tail -n 1 "$T/err")" = "quarry: 3 of 7 queries failed" ]
printf 'q1\tcats AND\n' >"$T/and.tsv"
run S --queries "$T/and.tsv"; expect_rc "--queries: one failing query" 2
check "--queries: no --plain hint for an error on AND" bash -c "! grep -q 'try --plain' '$T/err'"
check "--queries: the summary, singular" grep -qx 'quarry: 1 of 1 query failed' "$T/err"
printf 'q1\tsanctions\nnot a tab line\n' >"$T/bad.tsv"
run S --queries "$T/bad.tsv"; expect_rc "--queries with a bad line" 2
check "--queries bad line: FILE:LINE" grep -q "^quarry: $T/bad.tsv:2: " "$T/err"
check "--queries bad line: checked before any query ran" [ ! -s "$T/out" ]
printf 'q1\tsanctions\nq1\tRussia\n' >"$T/dup.tsv"
run S --queries "$T/dup.tsv"; expect_rc "--queries with a duplicate qid" 2
check "--queries duplicate: FILE:LINE" grep -q "^quarry: $T/dup.tsv:2: duplicate query id" "$T/err"
run S --queries "$T/missing.tsv"; expect_rc "--queries missing file" 2
check "--queries missing file: named" grep -q "missing.tsv" "$T/err"

# ------------------------------------------------------------ --plain
# natural-language query sets use the operator characters as punctuation
printf 'q1\tRussia (+)- sanctions - even "quoted\nq2\tBelt AND Road - title:Forum\n' >"$T/plain.tsv"
run S --trec p --queries "$T/plain.tsv"; expect_rc "operator characters without --plain" 2
run S --plain --trec p --queries "$T/plain.tsv"; expect_rc "--plain --queries" 0
check "--plain: every query ran" [ "$(cut -d' ' -f1 "$T/out" | sort -u | tr '\n' ' ')" = "q1 q2 " ]
run S --plain --json --passages -k 100 'sanctions -Ukraine'; expect_rc "--plain: '-word' is a word" 0
check "--plain: '-Ukraine' is searched, not excluded" grep -q Ukraine "$T/out"
run S --plain '"" ( ) + -'; expect_rc "--plain: nothing left of the query" 1

# ------------------------------------------------------------ errors
run S 'sanctions "Belt'; expect_rc "unbalanced quote" 2
check "syntax error message" grep -Eqx 'quarry: query: column [0-9]+: unbalanced quote' "$T/err"
check "syntax error: one line on stderr, nothing on stdout" [ "$(wc -l <"$T/err")" -eq 1 -a ! -s "$T/out" ]
run S the and; expect_rc "all stop words" 1
check "all stop words: the message" grep -qx 'quarry: no hits: every term of the query is a stop word or absent from the index' "$T/err"
run S xyzzyplughnotaword; expect_rc "a word absent from the index" 1
run "$Q" search -i "$T/no-such-index" sanctions; expect_rc "missing index" 2
check "missing index: one line naming the directory" \
    bash -c "[ \$(wc -l <'$T/err') -eq 1 ] && grep -q '^quarry: .*no-such-index' '$T/err'"
run S --frobnicate sanctions; expect_rc "unknown option" 2
run S -k 0 sanctions; expect_rc "-k 0" 2
run S -k; expect_rc "-k without a value" 2
run S --b 2 sanctions; expect_rc "--b out of range" 2
run S --color=sometimes sanctions; expect_rc "--color bad value" 2
run S --json --trec x sanctions; expect_rc "--json with --trec" 2
run S --k1 1.2 --b 0.75 --exhaustive --json sanctions; expect_rc "--k1 --b --exhaustive" 0
check "BM25 parameters still rank 004 first" [ "$(first_doc_json)" = 004_4f4f4b4389e3315b ]
run S --json --passages -- sanctions -Ukraine; expect_rc "a '-word' after --" 0
check "'-word' after --: excluded" bash -c "grep -q sanctions '$T/out' && ! grep -q Ukraine '$T/out'"
run "$Q" search --help; expect_rc "--help" 0
check "--help: usage, query language and exit statuses" \
    bash -c "grep -q '^usage: quarry search' '$T/out' && grep -q 'title:' '$T/out' && grep -q 'NOT binds tighter' '$T/out' && grep -q 'Exit status' '$T/out'"

# ------------------------------------------------------------ counts
# past QUARRY_COUNT_EXACT matches a pruning algorithm counts a lower bound:
# the footer says "N+ matched"; --exhaustive and --count count them all
python3 -c '
import json
for i in range(1500):
    print(json.dumps({"id": "d%d" % i, "text": "common word " + "filler%d " % (i % 37) * (1 + i % 5)}))
' >"$T/many.jsonl"
if "$Q" index -q -o "$T/many" "$T/many.jsonl" >"$T/index3.out" 2>&1; then
    run "$Q" search -i "$T/many" -k 1 --exhaustive common; expect_rc "1500 matches, --exhaustive" 0
    check "an exact count: (1500 matched)" grep -Eq '^1 hit \(1500 matched\) in ' "$T/out"
    run "$Q" search -i "$T/many" -k 1 common
    check "the default algorithm: a lower bound, 1000 to 1499, shown as N+" grep -Eq '^1 hit \(1[0-4][0-9]{2}\+ matched\) in ' "$T/out"
    run "$Q" search -i "$T/many" -k 1 --count common; expect_rc "1500 matches, --count" 0
    check "--count: an exact count" grep -Eq '^1 hit \(1500 matched\) in ' "$T/out"
    for a in auto maxscore bmw exhaustive; do
        run "$Q" search -i "$T/many" -k 3 --json --algorithm $a "common filler3"; expect_rc "--algorithm $a" 0
        cp "$T/out" "$T/algo-$a.out"
    done
    check "--algorithm: every algorithm, the same hits" bash -c "cmp -s '$T/algo-auto.out' '$T/algo-maxscore.out' && cmp -s '$T/algo-auto.out' '$T/algo-bmw.out' && cmp -s '$T/algo-auto.out' '$T/algo-exhaustive.out'"
    run "$Q" search -i "$T/many" --algorithm fastest common; expect_rc "--algorithm fastest" 2
    check "--algorithm: a bad name is named" grep -q "expected auto, maxscore, bmw or exhaustive, got 'fastest'" "$T/err"
else
    sed 's/^/      /' "$T/index3.out" | head -5
    bad "quarry index of 1500 articles"
fi

# ------------------------------------------------------------ dates, duplicates, explanations
# a small dated collection: dates at every precision, one undated, one not a
# date, exact copies (other ids and dates) and a copy that differs only in
# case and punctuation (the same analyzed words)
python3 - "$T/dated.jsonl" <<'EOF'
import json, sys
base = "Copper prices rose in {} as mines in Chile cut output; copper traders expect more."
docs = [
    ("a1", "2025-11-04", "Copper in November", base.format("early November")),
    ("a2", "2025-11-04T09:30", "Copper again", "Copper copper copper: the price of copper, and zinc."),
    ("a3", "2025-11-30", "Late copper", base.format("late November")),
    ("a4", "2025-11", "Copper month", "Copper for the month, with tin and lead."),
    ("a5", "2025-12-01", "December copper", base.format("December")),
    ("a6", "2025-10-31T23:59:59", "October copper", base.format("October")),
    ("a7", "2025", "Copper year", "A year of copper and of gold."),
    ("a8", None, "Undated copper", "Copper with no date at all."),
    ("a9", "yesterday", "Copper whenever", "Copper on a day that is not a date."),
    ("d1", "2025-11-05", "Copper in November", base.format("early November")),
    ("d2", "2024-01-01", "Copper in November", base.format("early November")),
    ("d3", "2025-11-06", "COPPER IN NOVEMBER!", base.format("early November").upper().replace(";", " --")),
    ("z1", "2025-11-10", "Zinc", "Zinc and copper smelters, with copper prices steady."),
]
with open(sys.argv[1], "w", encoding="utf-8") as f:
    for i, d, t, x in docs:
        o = {"id": i, "title": t, "text": x}
        if d is not None:
            o["date"] = d
        f.write(json.dumps(o) + "\n")
EOF
IX3=$T/dated
if "$Q" index -q -o "$IX3" "$T/dated.jsonl" >"$T/index4.out" 2>&1; then
    D() { "$Q" search -i "$IX3" --no-pager --color=never "$@"; }
    docs_of() { python3 -c 'import json,sys; print(" ".join(json.loads(l)["doc"] for l in sys.stdin))' <"$T/out"; }
    # the range, in python from the dates of the input (a prefix: its whole
    # period; undated out): the ids, sorted
    expect_range() { # SINCE UNTIL (- for none)
        python3 - "$T/dated.jsonl" "$1" "$2" <<'EOF'
import json, re, sys
def key(s, last=False):
    m = re.match(r"^(\d{4})(?:-(\d\d)(?:-(\d\d)(?:[T ](\d\d)(?::(\d\d)(?::(\d\d))?)?)?)?)?", s or "")
    if not m: return None
    fill = "99" if last else "00"
    return int(m.group(1) + "".join(p if p is not None else fill for p in m.groups()[1:]))
lo = key(sys.argv[2]) if sys.argv[2] != "-" else 1
hi = key(sys.argv[3], True) if sys.argv[3] != "-" else 10**15
ranged = sys.argv[2] != "-" or sys.argv[3] != "-"
out = []
for l in open(sys.argv[1]):
    o = json.loads(l)
    k = key(o.get("date"))
    if (not ranged or (k and lo <= k <= hi)) and "copper" in (o["title"] + o["text"]).lower():
        out.append(o["id"])
print(" ".join(sorted(out)))
EOF
    }
    for r in "2025-11 2025-11" "2025-11-04 2025-11-06" "2025-11-04T09 -" "- 2025-10" "2025 -" "2025-11-04T09:31 2025-11-30" "- -"; do
        set -- $r
        args=(); [ "$1" != - ] && args+=(--since "$1"); [ "$2" != - ] && args+=(--until "$2")
        run D --json --no-collapse -k 100 "${args[@]}" copper
        got=$(docs_of | tr ' ' '\n' | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//')
        check "--since $1 --until $2: the articles of the range (${got:-none})" [ "$got" = "$(expect_range "$1" "$2")" ]
    done
    run D --json --no-collapse -k 100 --since 2025-11 --until 2025-11 copper
    check "--until 2025-11 includes November 30; the undated and 'yesterday' are out" \
        bash -c "grep -q '\"a3\"' '$T/out' && ! grep -qE '\"(a8|a9)\"' '$T/out'"
    run D --no-collapse -k 2 --since 2025-11 --until 2025-11 copper; expect_rc "a range: k hits" 0
    check "a range: the footer counts the range's matches only" grep -Eq '^2 hits \(7 matched\)' "$T/out"
    run D --json -k 100 --no-collapse --sort date copper; expect_rc "--sort date" 0
    check "--sort date: newest first, the score breaking ties, undated last" python3 -c '
import json, re, sys
hits = [json.loads(l) for l in open(sys.argv[1])]
def key(h):
    m = re.match(r"^(\d{4})(?:-(\d\d)(?:-(\d\d)(?:[T ](\d\d)(?::(\d\d)(?::(\d\d))?)?)?)?)?", h.get("date", ""))
    return int(m.group(1) + "".join(p or "00" for p in m.groups()[1:])) if m else 0
ks = [(key(h), h["score"]) for h in hits]
assert len(hits) == 13, len(hits)
assert all(a[0] > b[0] or (a[0] == b[0] and a[1] >= b[1]) for a, b in zip(ks, ks[1:])), ks
assert hits[0]["doc"] == "a5" and {h["doc"] for h in hits[-2:]} == {"a8", "a9"}, [h["doc"] for h in hits]
' "$T/out"
    # duplicates: a1, d1, d2 are copies; d3 differs only in case and punctuation
    run D --json -k 3 '"early November"'; expect_rc "collapsed" 0
    check "collapse: one hit for a1 and its copies, the others listed" python3 -c '
import json, sys
hits = [json.loads(l) for l in open(sys.argv[1])]
assert len(hits) == 1, hits
assert hits[0]["doc"] == "a1", hits[0]["doc"]
assert sorted(d["doc"] for d in hits[0]["duplicates"]) == ["d1", "d2", "d3"], hits[0]["duplicates"]
assert all(d["score"] <= hits[0]["score"] and d["passage"] == 0 for d in hits[0]["duplicates"])
' "$T/out"
    run D -k 3 '"early November"'; expect_rc "collapsed, for people" 0
    check "collapse: (+3 duplicates) on the hit's line" grep -Eq '^1\. [0-9.]+  a1  2025-11-04  \(\+3 duplicates\)$' "$T/out"
    run D --json -k 10 --no-collapse '"early November"'
    check "--no-collapse: the four copies" [ "$(docs_of)" = "a1 d1 d2 d3" ]
    check "--no-collapse: no duplicates key" bash -c "! grep -q duplicates '$T/out'"
    run D --json -k 3 copper
    check "collapse: -k 3 gives 3 distinct texts although copies rank high" python3 -c '
import json, sys
hits = [json.loads(l) for l in open(sys.argv[1])]
assert len(hits) == 3 and len({h["text"].lower() for h in hits}) == 3, hits
' "$T/out"
    run D --json -k 3 --sort date --until 2025-11-05 '"early November"'
    check "collapse and --sort date: the newest copy in range first, the older listed" python3 -c '
import json, sys
hits = [json.loads(l) for l in open(sys.argv[1])]
assert [h["doc"] for h in hits] == ["d1"], hits
assert [d["doc"] for d in hits[0]["duplicates"]] == ["a1", "d2"], hits[0]["duplicates"]
' "$T/out"
    printf 'q1\t"early November"\n' >"$T/dq.tsv"
    run D --trec t --queries "$T/dq.tsv"
    check "--trec: not collapsed (every copy listed)" [ "$(wc -l <"$T/out")" -eq 4 ]
    run D --trec t --collapse --queries "$T/dq.tsv"
    check "--trec --collapse: collapsed" [ "$(wc -l <"$T/out")" -eq 1 ]
    # explanations: the shares add up to the score, each as BM25 says
    run D --json --explain -k 20 --no-collapse 'copper "early november" -zinc title:copper'; expect_rc "--explain --json" 0
    check "--explain --json: each hit's clauses add up to its score; each clause as BM25 says" python3 -c '
import json, math, sys
hits = [json.loads(l) for l in open(sys.argv[1])]
assert len(hits) >= 5, len(hits)
phrases = titles = 0
for h in hits:
    e = h["explain"]
    assert e["match"] is True and e["expanded"] is False
    s = sum(c["score"] for c in e["clauses"])
    assert abs(s - e["score"]) <= 1e-9 * max(1, e["score"]), (s, e["score"])
    assert abs(e["score"] - h["score"]) <= 1e-6, (e["score"], h["score"])
    N, k1, b = e["units"], e["k1"], e["b"]
    for c in e["clauses"]:
        idf = sum(math.log(1 + (N - w["df"] + 0.5) / (w["df"] + 0.5)) for w in c["words"])
        norm = k1 * (1 - b + b * e["len"] / e["avg_len"])
        want = idf * (k1 + 1) * c["boost"] * c["tf"] / (c["tf"] + norm)
        assert abs(c["score"] - want) <= 1e-9 * want and abs(c["idf"] - idf) <= 1e-9 * idf, (c, want)
        assert "zinc" not in c["text"]
        phrases += len(c["words"]) > 1
        titles += c["title"]
assert phrases and titles, (phrases, titles)
' "$T/out"
    run D --explain -k 3 'copper "early november"'; expect_rc "--explain for people" 0
    check "--explain: each hit's shares add up to its score" python3 -c '
import re, sys
text = open(sys.argv[1]).read()
blocks = re.findall(r"^(\d+)\. ([0-9.]+) .*?\n(.*?)(?=^\d+\. |\Z)", text, re.S | re.M)
assert len(blocks) == 3, text
for rank, score, body in blocks:
    m = re.search(r"explain: ([0-9.]+) = the sum of\n((?: +[0-9.]+  .*\n)+) +k1 1\.2  b 0\.75  N \d+ passages  len \d+  avg len [0-9.]+", body)
    assert m, body
    shares = [float(l.split()[0]) for l in m.group(2).splitlines()]
    assert m.group(1) == score and abs(sum(shares) - float(score)) <= 1e-4 * len(shares), (score, shares)
' "$T/out"
    run D --json --explain --plain -k 2 'copper prices chile'; expect_rc "--explain --plain (expanded)" 0
    check "--explain --plain: expansion terms with their weights" python3 -c '
import json, sys
hits = [json.loads(l) for l in open(sys.argv[1])]
for h in hits:
    e = h["explain"]
    assert e["expanded"] is True
    assert abs(sum(c["score"] for c in e["clauses"]) - e["score"]) <= 1e-9 * e["score"]
    for c in e["clauses"]:
        assert c["boost"] == c["query_weight"] + c["feedback_weight"], c
        assert c["expansion"] == (c["query_weight"] == 0), c
        assert c["expansion"] or c["text"] in ("copper", "price", "chile"), c
assert any(c["expansion"] for h in hits for c in h["explain"]["clauses"])
' "$T/out"
    # bad values: one line on stderr, exit 2
    for bad_arg in "--since 2025-13" "--until 2025-02-30" "--since 2025-11-04T25" "--since 2025-11x" \
                   "--since 1987-06-19T13:15:39Z" "--sort foo" "--since 2026 --until 2025"; do
        run D $bad_arg copper; expect_rc "$bad_arg" 2
        check "$bad_arg: one line on stderr, nothing on stdout" \
            bash -c "[ \$(wc -l <'$T/err') -eq 1 ] && [ ! -s '$T/out' ] && grep -q '^quarry: ' '$T/err'"
    done
    run D --sort foo copper
    check "--sort foo: the values" grep -qx 'quarry: --sort: expected score or date, not "foo"' "$T/err"
    run D --since 2025-13 copper
    check "--since 2025-13: says why" grep -q 'month 01-12' "$T/err"
    run D --trec t --explain copper; expect_rc "--explain with --trec" 2
else
    sed 's/^/      /' "$T/index4.out" | head -5
    bad "quarry index of a dated collection"
fi

# duplicates on Reuters-21578 (QUARRY_CORPUS): oil prices opec
R=${QUARRY_CORPUS:-$root/../shared/corpus}/reuters21578/docs.jsonl.gz
if [ ! -f "$R" ]; then
    echo "SKIP: $R is missing (QUARRY_CORPUS): the Reuters duplicates"
elif "$Q" index -q -o "$T/reuters" "$R" >"$T/index5.out" 2>&1; then
    run "$Q" search -i "$T/reuters" --json -k 10 oil prices opec; expect_rc "reuters: oil prices opec" 0
    check "reuters: oil prices opec shows no text twice; 17254 lists 17289" python3 -c '
import json, sys
hits = [json.loads(l) for l in open(sys.argv[1])]
assert len(hits) == 10 and len({h["text"] for h in hits}) == 10, [h["doc"] for h in hits]
d = {h["doc"]: h for h in hits}
assert [x["doc"] for x in d["17254"]["duplicates"]] == ["17289"], d.get("17254")
' "$T/out"
    run "$Q" search -i "$T/reuters" --json -k 10 --no-collapse oil prices opec
    check "reuters: --no-collapse shows 17254 and 17289" \
        bash -c "grep -q '\"doc\":\"17254\"' '$T/out' && grep -q '\"doc\":\"17289\"' '$T/out'"
else
    sed 's/^/      /' "$T/index5.out" | head -5
    bad "quarry index of Reuters-21578"
fi

# ------------------------------------------------------------ untrusted text
# quotes, backslashes, control characters, U+2028, an escape sequence, a
# very long passage: JSON stays valid and equal, the people format stays safe
python3 - "$T/docs.jsonl" <<'EOF'
import json, sys
long_text = " ".join(["filler%d" % i for i in range(300)] + ["needleword"] + ["tail%d" % i for i in range(300)])
docs = [
    {"id": "j1", "title": 'Quote " and \\ back', "date": "2001-02-03",
     "text": 'zebraword "quoted" back\\slash tab\there bell\u0007 esc\u001b[31mred line\u2028sep caf\u00e9 \U0001F600'},
    {"id": "j2", "title": "Long", "text": long_text},
]
with open(sys.argv[1], "w", encoding="utf-8") as f:
    for d in docs:
        f.write(json.dumps(d) + "\n")
EOF
IX2=$T/ix2
if "$Q" index -o "$IX2" "$T/docs.jsonl" >"$T/index2.out" 2>&1; then
    run "$Q" search -i "$IX2" --json zebraword; expect_rc "JSON escaping query" 0
    check "JSON escaping: the text and title come back unchanged" python3 -c '
import json, sys
h = json.loads(open(sys.argv[1], encoding="utf-8").readline())
assert h["title"] == "Quote \" and \\ back", h
assert h["date"] == "2001-02-03", h
assert "zebraword \"quoted\" back\\slash tab\there" in h["text"], h
assert "caf\u00e9 \U0001F600" in h["text"], h
' "$T/out"
    check "JSON escaping: no raw control characters in the output" bash -c "! LC_ALL=C grep -q \$'[\\x01-\\x09\\x0b-\\x1f]' '$T/out'"
    run "$Q" search -i "$IX2" --color=never zebraword
    check "people: control characters of the text are not sent to the terminal" bash -c "! LC_ALL=C grep -q \$'[\\x01-\\x09\\x0b-\\x1f]' '$T/out'"
    run "$Q" search -i "$IX2" --color=never needleword; expect_rc "long passage" 0
    check "people: a long passage is trimmed around the query word, with …" python3 -c '
import sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
body = " ".join(l.strip() for l in lines[1:] if l.startswith("    "))
assert "needleword" in body and "…" in body, body
assert len(body) < 600, len(body)
' "$T/out"
else
    sed 's/^/      /' "$T/index2.out" | head -5
    bad "quarry index of a JSONL file"
fi

echo
if [ $fails -ne 0 ]; then echo "$fails failed"; exit 1; fi
echo "all passed"
