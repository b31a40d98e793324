#!/usr/bin/env bash
# tests/e2e/index.sh — end-to-end tests of `quarry index`: building the
# sample corpus, stats and verify, byte-identical reindexing, replacing an
# index in place (generation 2, old files gone), every input error (exit 2,
# one line on stderr naming file:line, previous index untouched), stdin,
# .jsonl.gz, empty documents, and — when QUARRY_CORPUS has them — three
# shared collections together under a 64 MB budget (peak RSS < 100 MB).
# Env: QUARRY (the binary), QUARRY_ROOT (the repository root),
# QUARRY_CORPUS (the shared collections; optional).
set -u
root=${QUARRY_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
Q=${QUARRY:-$root/build/quarry}
[ -x "$Q" ] || { echo "FAIL: no quarry binary at $Q"; exit 1; }
corpus=$root/corpus
tmp=$(mktemp -d "${TMPDIR:-/tmp}/quarry-e2e-index.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

# run NAME CMD... : runs CMD, stdout to $tmp/NAME.out, stderr to $tmp/NAME.err,
# exit status in $rc
run() {
  local name=$1; shift
  "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
  rc=$?
}

# files of an index directory (sorted names)
files_of() { (cd "$1" && ls -A | sort); }

# expect_input_error NAME WANT_REGEX CMD... : exit 2, exactly one stderr line
# starting "quarry: " and matching WANT_REGEX
expect_input_error() {
  local name=$1 want=$2; shift 2
  run "$name" "$@"
  local lines
  lines=$(wc -l <"$tmp/$name.err")
  if [ "$rc" -ne 2 ]; then
    fail "$name: exit $rc, expected 2; stderr: $(head -c 300 "$tmp/$name.err")"
  elif [ "$lines" -ne 1 ]; then
    fail "$name: $lines lines on stderr, expected exactly one:"; sed 's/^/      /' "$tmp/$name.err"
  elif ! grep -q '^quarry: ' "$tmp/$name.err"; then
    fail "$name: stderr does not start with 'quarry: ': $(cat "$tmp/$name.err")"
  elif ! grep -Eq -- "$want" "$tmp/$name.err"; then
    fail "$name: stderr does not match /$want/: $(cat "$tmp/$name.err")"
  else
    ok "$name: $(cat "$tmp/$name.err")"
  fi
}

# The entries of an index directory holding the one segment $1 (16 hex digits).
seg_files() {
  printf 'LOCK MANIFEST'
  for k in arts dict meta posn post text unit; do printf ' s%s.%s' "$1" "$k"; done
  printf ' '
}

# ------------------------------------------------------------ sample corpus
A=$tmp/a
run index-a "$Q" index -o "$A" "$corpus"
[ $rc -eq 0 ] || fail "index $corpus: exit $rc: $(cat "$tmp/index-a.err")"
grep -q 'indexed 2 articles' "$tmp/index-a.err" || fail "index summary does not say 2 articles: $(cat "$tmp/index-a.err")"
run stats-a "$Q" stats -i "$A"
[ $rc -eq 0 ] || fail "stats: exit $rc: $(cat "$tmp/stats-a.err")"
grep -Eq '^articles +2$' "$tmp/stats-a.out" || fail "stats does not print 'articles 2': $(head -5 "$tmp/stats-a.out")"
grep -q '(generation 1, 1 segment)' "$tmp/stats-a.out" || fail "stats does not say generation 1, 1 segment"
run verify-a "$Q" verify -i "$A"
[ $rc -eq 0 ] || fail "verify: exit $rc: $(cat "$tmp/verify-a.err")"
[ "$(files_of "$A" | tr '\n' ' ')" = "$(seg_files 0000000000000001)" ] ||
  fail "unexpected files in a fresh index: $(files_of "$A" | tr '\n' ' ')"
ok "index, stats, verify of the sample corpus"

# ------------------------------------------------------------ byte-identical reindex
B=$tmp/b
run index-b "$Q" index -o "$B" "$corpus"
[ $rc -eq 0 ] || fail "second index: exit $rc"
[ "$(files_of "$A")" = "$(files_of "$B")" ] || fail "the two indexes have different files"
for f in $(files_of "$A"); do
  cmp -s "$A/$f" "$B/$f" || fail "reindexing the same input gives a different $f"
done
ok "reindexing into a new directory is byte-identical"

# ------------------------------------------------------------ replace in place
run index-a2 "$Q" index -o "$A" "$corpus"
[ $rc -eq 0 ] || fail "reindex into the same dir: exit $rc: $(cat "$tmp/index-a2.err")"
run stats-a2 "$Q" stats -i "$A"
grep -q '(generation 2, 1 segment)' "$tmp/stats-a2.out" || fail "after reindexing, stats does not say generation 2: $(head -1 "$tmp/stats-a2.out")"
[ "$(files_of "$A" | tr '\n' ' ')" = "$(seg_files 0000000000000002)" ] ||
  fail "after reindexing, files: $(files_of "$A" | tr '\n' ' ')"
run verify-a2 "$Q" verify -i "$A"
[ $rc -eq 0 ] || fail "verify after reindex: exit $rc"
for k in arts dict meta posn post text unit; do
  cmp -s "$A/s0000000000000002.$k" "$B/s0000000000000001.$k" || fail "generation 2 .$k differs from an index of the same input"
done
ok "reindexing in place commits generation 2 and removes generation 1"

# ------------------------------------------------------------ input errors
printf '{"id":"a","text":"hello world"}\n{"id":"b","text":"second"}\n{"id":"c","text":"bad\n{"id":"d","text":"x"}\n' >"$tmp/bad.jsonl"
printf '{"id":"a","text":"hello"}\n{"title":"no id","text":"y"}\n' >"$tmp/noid.jsonl"
printf '{"id":"a","text":5}\n' >"$tmp/nstr.jsonl"
printf '{"id":"a","text":"one"}\n{"id":"b","text":"two"}\n{"id":"a","text":"three"}\n' >"$tmp/dup.jsonl"
printf '{"id":"a","text":"one"}\n{"id":"b","text":"  "}\n{"id":"b","text":"three"}\n' >"$tmp/dupempty.jsonl"
printf 'id,text\n1,hello\n' >"$tmp/docs.csv"
cd "$tmp" || exit 1
expect_input_error malformed 'bad\.jsonl:3' "$Q" index -o "$A" bad.jsonl
expect_input_error missing-id 'noid\.jsonl:2:.*id' "$Q" index -o "$A" noid.jsonl
expect_input_error text-not-string 'nstr\.jsonl:1:.*text' "$Q" index -o "$A" nstr.jsonl
expect_input_error duplicate-id 'dup\.jsonl:3.*dup\.jsonl:1' "$Q" index -o "$A" dup.jsonl
expect_input_error duplicate-of-empty 'dupempty\.jsonl:3.*dupempty\.jsonl:2' "$Q" index -o "$A" dupempty.jsonl
expect_input_error nonexistent 'no-such-file\.jsonl' "$Q" index -o "$A" no-such-file.jsonl
expect_input_error extension 'docs\.csv' "$Q" index -o "$A" docs.csv
expect_input_error no-input-dir '/nonexistent-dir-for-quarry' "$Q" index -o "$A" /nonexistent-dir-for-quarry
cd "$root" || exit 1
# none of them touched the index
run stats-a3 "$Q" stats -i "$A"
grep -q '(generation 2, 1 segment)' "$tmp/stats-a3.out" || fail "a failed index run changed the committed generation: $(head -1 "$tmp/stats-a3.out")"
[ "$(files_of "$A" | tr '\n' ' ')" = "$(seg_files 0000000000000002)" ] ||
  fail "failed index runs left files behind: $(files_of "$A" | tr '\n' ' ')"
run verify-a3 "$Q" verify -i "$A"
[ $rc -eq 0 ] || fail "verify after failed runs: exit $rc: $(cat "$tmp/verify-a3.err")"

# ------------------------------------------------------------ stdin, gzip, empty documents
printf '{"id":"s1","text":"alpha bravo from stdin"}\n{"id":"s2","title":"t","text":"charlie delta"}\n' |
  "$Q" index -o "$tmp/stdin" - >"$tmp/stdin.out" 2>"$tmp/stdin.err"
rc=$?
[ $rc -eq 0 ] || fail "index from stdin: exit $rc: $(cat "$tmp/stdin.err")"
run stats-stdin "$Q" stats -i "$tmp/stdin"
grep -Eq '^articles +2$' "$tmp/stats-stdin.out" || fail "index from stdin: stats does not say 2 articles"
run search-stdin "$Q" search -i "$tmp/stdin" --json bravo
{ [ $rc -eq 0 ] && grep -q '"doc":"s1"' "$tmp/search-stdin.out"; } || fail "index from stdin: search bravo does not find s1"
ok "JSON Lines from stdin"

printf '{"id":"z1","text":"gzipped echo"}\n{"id":"z2","text":"gzipped foxtrot"}\n{"id":"z3","text":"golf"}\n' | gzip -c >"$tmp/docs.jsonl.gz"
run index-gz "$Q" index -o "$tmp/gz" "$tmp/docs.jsonl.gz"
[ $rc -eq 0 ] || fail "index .jsonl.gz: exit $rc: $(cat "$tmp/index-gz.err")"
run stats-gz "$Q" stats -i "$tmp/gz"
grep -Eq '^articles +3$' "$tmp/stats-gz.out" || fail ".jsonl.gz: stats does not say 3 articles"
run search-gz "$Q" search -i "$tmp/gz" --json foxtrot
grep -q '"doc":"z2"' "$tmp/search-gz.out" || fail ".jsonl.gz: search foxtrot does not find z2"
ok ".jsonl.gz input"

printf '{"id":"e1","text":"real words here"}\n{"id":"e2","text":""}\n{"id":"e3","text":"  ... -- "}\n{"id":"e4","text":"more words"}\n' >"$tmp/empty.jsonl"
run index-empty "$Q" index -o "$tmp/empty" "$tmp/empty.jsonl"
[ $rc -eq 0 ] || fail "index with empty documents: exit $rc: $(cat "$tmp/index-empty.err")"
grep -q '2 empty skipped' "$tmp/index-empty.err" || fail "summary does not mention '2 empty skipped': $(cat "$tmp/index-empty.err")"
run stats-empty "$Q" stats -i "$tmp/empty"
grep -Eq '^articles +2$' "$tmp/stats-empty.out" || fail "empty documents: stats does not say 2 articles"
ok "empty documents are counted and skipped"

# ------------------------------------------------------------ shared collections
C=${QUARRY_CORPUS:-$root/../shared/corpus}
files=()
if [ -n "$C" ]; then
  for n in reuters21578 20newsgroups bbc; do
    [ -f "$C/$n/docs.jsonl.gz" ] && files+=("$C/$n/docs.jsonl.gz")
  done
fi
if [ ${#files[@]} -ne 3 ]; then
  echo "SKIP: shared collections (QUARRY_CORPUS='${C}' lacks reuters21578, 20newsgroups or bbc)"
else
  lines=0
  for f in "${files[@]}"; do
    lines=$((lines + $(gzip -dc "$f" | wc -l)))
  done
  BIG=$tmp/big
  timer=/usr/bin/time
  if [ ! -x $timer ]; then
    echo "SKIP: peak RSS check (no /usr/bin/time)"; timer=
  elif ldd "$Q" 2>/dev/null | grep -q -E 'libasan|libtsan|libmsan' || grep -q -a -m1 '__asan_init' "$Q" 2>/dev/null; then
    echo "SKIP: peak RSS check (the binary is built with a sanitizer, whose shadow memory counts in RSS)"; timer=
  fi
  if [ -n "$timer" ]; then
    /usr/bin/time -v "$Q" index -o "$BIG" --mem 64 "${files[@]}" >"$tmp/big.out" 2>"$tmp/big.err"
    rc=$?
  else
    run big "$Q" index -o "$BIG" --mem 64 "${files[@]}"
  fi
  if [ $rc -ne 0 ]; then
    fail "indexing the three collections: exit $rc: $(grep quarry: "$tmp/big.err")"
  else
    grep '^quarry: indexed' "$tmp/big.err"
    if [ -n "$timer" ]; then
      rss=$(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$tmp/big.err")
      if [ -z "$rss" ]; then fail "no 'Maximum resident set size' from /usr/bin/time -v"
      elif [ "$rss" -ge 102400 ]; then fail "--mem 64: peak RSS $rss KB, expected < 102400 KB"
      else ok "--mem 64: peak RSS $rss KB"; fi
    fi
    run big-verify "$Q" verify -i "$BIG"
    [ $rc -eq 0 ] || fail "verify of the three collections: exit $rc: $(cat "$tmp/big-verify.err")"
    run big-stats "$Q" stats -i "$BIG"
    arts=$(sed -n 's/^articles  *//p' "$tmp/big-stats.out")
    empty=$(sed -n 's/.*; \([0-9][0-9]*\) empty skipped.*/\1/p' "$tmp/big.err")
    empty=${empty:-0}
    if [ -z "$arts" ] || [ "$arts" -gt "$lines" ] || [ "$arts" -lt $((lines - 1)) ]; then
      fail "three collections: stats says ${arts:-nothing} articles, source has $lines lines (at most one empty)"
    elif [ $((arts + empty)) -ne "$lines" ]; then
      fail "three collections: $arts articles + $empty empty skipped != $lines source lines"
    else
      ok "three collections: $arts articles ($empty empty skipped) of $lines lines"
    fi
    # the files a committed index may hold: LOCK, MANIFEST, and for each
    # segment the manifest names its seven files and its deletions (if any)
    allowed=$(awk '$1 == "segment" { printf "|s%s\\.(arts|dict|meta|posn|post|text|unit)", $2;
                                     if ($4 != "0000000000000000") printf "|s%s-%s\\.del", $2, $4 }' "$BIG/MANIFEST")
    stray=$(ls -A "$BIG" | grep -v -E "^(LOCK|MANIFEST$allowed)\$")
    [ -z "$stray" ] || fail "stray files after indexing: $stray"
    # --optimize: the same build merged into one segment after its commit,
    # the bytes of `quarry optimize` run on the build without it
    cp -r "$BIG" "$tmp/big-opt"
    run big-optimize "$Q" optimize -i "$tmp/big-opt"
    run big-o "$Q" index -o "$tmp/big-o" --mem 64 --optimize "${files[@]}"
    run big-o-stats "$Q" stats -i "$tmp/big-o"
    if [ $rc -ne 0 ] || ! grep -q ', 1 segment)' "$tmp/big-o-stats.out"; then
      fail "index --optimize: not one segment: $(head -1 "$tmp/big-o-stats.out") $(cat "$tmp/big-o.err")"
    elif [ "$(files_of "$tmp/big-o")" != "$(files_of "$tmp/big-opt")" ]; then
      fail "index --optimize and index + optimize leave different files"
    else
      same=1
      for f in $(files_of "$tmp/big-o"); do
        [ "$f" = LOCK ] || cmp -s "$tmp/big-o/$f" "$tmp/big-opt/$f" || { same=0; fail "index --optimize: $f differs from optimize's"; }
      done
      [ $same -eq 1 ] && ok "index --optimize: one segment, the bytes of index + optimize ($(grep -o '[0-9]* segments, 1 merge' "$tmp/big-o.err"))"
    fi
  fi
fi

if [ $failures -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "all index tests passed"
