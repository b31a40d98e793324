#!/usr/bin/env bash
# tests/e2e/robust.sh — robustness of an index on disk: damaged files (one
# byte flipped at ~30 offsets of every file, truncations, a deleted file, a
# damaged MANIFEST). verify must exit 2 with one line on stderr for every
# one of them. Damage that opening an index checks (headers, checksum
# footers against the manifest, sizes, missing files, the MANIFEST) must
# make stats, search and dump exit 2 too; damage inside a file's body is
# found by them only when a command reads it, so for body bytes they must
# end with 0, 1 or 2 and one line on stderr when 2 — never a signal or a
# sanitizer report. Indexing killed with
# SIGKILL at several moments leaves the previous index committed and
# readable, and the next run cleans up: the directory is then checked as
# the program left it (nothing removed by this script) to hold only LOCK,
# MANIFEST and the files the MANIFEST names (index/FORMAT.md "Directory and
# commit"), as after an indexing run that fails on bad input; a second
# writer is refused while a first one runs.
# Env: QUARRY (the binary), QUARRY_ROOT (the repository root),
# QUARRY_CORPUS (the shared collections; optional: a generated input is used
# when absent).
set -u
root=${QUARRY_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
Q=${QUARRY:-$root/build/quarry}
[ -x "$Q" ] || { echo "FAIL: no quarry binary at $Q"; exit 1; }
corpus=$root/corpus
tmp=$(mktemp -d "${TMPDIR:-/tmp}/quarry-e2e-robust.XXXXXX") || exit 1
bgpid=
cleanup() {
  [ -n "$bgpid" ] && kill -9 "$bgpid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

# check_error WHAT CMD... : exit 2, exactly one stderr line "quarry: ...",
# no sanitizer report, no signal
out=$tmp/out
err=$tmp/err
check_error() {
  local what=$1; shift
  "$@" >"$out" 2>"$err"
  local rc=$? lines text
  mapfile -t lines <"$err"     # builtins only, no fork: this runs ~1100 times
  text="${lines[*]}"
  if [ $rc -ge 128 ]; then
    fail "$what: $* killed by signal $((rc - 128)); stderr: ${text:0:400}"
  elif [[ $text == *Sanitizer* || $text == *"runtime error"* ]]; then
    fail "$what: $*: sanitizer report:"; printf '%s\n' "${lines[@]:0:20}"
  elif [ $rc -ne 2 ]; then
    fail "$what: $*: exit $rc, expected 2; stderr: ${text:0:300}"
  elif [ ${#lines[@]} -ne 1 ] || [[ ${lines[0]} != "quarry: "* ]]; then
    fail "$what: $*: expected one line 'quarry: ...' on stderr, got ${#lines[@]}:"; printf '%s\n' "${lines[@]:0:5}"
  else
    return 0
  fi
  return 1
}

# no_crash WHAT CMD...: exit 0, 1 or 2 (then one "quarry: " line), no signal,
# no sanitizer report
no_crash() {
  local what=$1; shift
  "$@" >"$out" 2>"$err"
  local rc=$? lines text
  mapfile -t lines <"$err"
  text="${lines[*]}"
  if [ $rc -ge 128 ]; then
    fail "$what: $* killed by signal $((rc - 128)); stderr: ${text:0:400}"
  elif [[ $text == *Sanitizer* || $text == *"runtime error"* ]]; then
    fail "$what: $*: sanitizer report:"; printf '%s\n' "${lines[@]:0:20}"
  elif [ $rc -gt 2 ]; then
    fail "$what: $*: exit $rc"
  elif [ $rc -eq 2 ] && { [ ${#lines[@]} -ne 1 ] || [[ ${lines[0]} != "quarry: "* ]]; }; then
    fail "$what: $*: expected one line 'quarry: ...' on stderr, got ${#lines[@]}:"; printf '%s\n' "${lines[@]:0:5}"
  else
    return 0
  fi
  return 1
}

# body_damage WHAT DIR: verify reports it; the others do not crash
body_damage() {
  local what=$1 d=$2
  check_error "$what" "$Q" verify -i "$d" &&
  no_crash "$what" "$Q" stats -i "$d" &&
  no_crash "$what" "$Q" search -i "$d" sanctions &&
  no_crash "$what" "$Q" search -i "$d" --json "BRI investment" &&
  no_crash "$what" "$Q" search -i "$d" '"belt and road"' &&
  no_crash "$what" "$Q" dump -i "$d" --term sanction &&
  no_crash "$what" "$Q" dump -i "$d" --article 004_4f4f4b4389e3315b
}

# all_commands_fail WHAT DIR
all_commands_fail() {
  local what=$1 d=$2
  check_error "$what" "$Q" verify -i "$d" &&
  check_error "$what" "$Q" stats -i "$d" &&
  check_error "$what" "$Q" search -i "$d" sanctions &&
  check_error "$what" "$Q" search -i "$d" --json "BRI investment" &&
  check_error "$what" "$Q" dump -i "$d" --term sanction
}

# put_byte FILE OFFSET VALUE: writes one byte in place
put_byte() {
  printf "$(printf '\\%03o' "$3")" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

size_of() { stat -c %s "$1"; }

# ------------------------------------------------------------ damaged files
BASE=$tmp/base
"$Q" index -q -o "$BASE" "$corpus" || { echo "FAIL: cannot index $corpus"; exit 1; }
"$Q" verify -i "$BASE" >/dev/null || { echo "FAIL: fresh index does not verify"; exit 1; }
W=$tmp/work
cp -r "$BASE" "$W"
t0=$(date +%s)

# damage_file FILE WORKDIR: flips and truncations of one index file in its
# own copy of the index; prints FAIL / ok lines, exit status = failures
damage_file() {
  local path=$1 w=$2 f n offs bytes off i cut bad=0 nfl=0
  f=$(basename "$path")
  n=$(size_of "$path")
  # header bytes (first and last of magic, kind, version, reserved) and the
  # 4 CRC bytes: checked on opening; 16 spread over the body, the middle and
  # the byte before the CRC: checked by verify
  read -r -a bytes < <(od -An -tu1 -v "$path" | tr -s ' \n' '  ')
  for off in 0 3 4 7 8 11 12 15 $((n - 4)) $((n - 3)) $((n - 2)) $((n - 1)); do
    put_byte "$w/$f" "$off" $((bytes[off] ^ 255))
    all_commands_fail "$f byte $off flipped" "$w" || bad=1
    put_byte "$w/$f" "$off" "${bytes[off]}"
    nfl=$((nfl + 1))
    [ $bad -eq 0 ] || break   # one report per file is enough
  done
  offs="$((n / 2)) $((n - 5))"
  for i in $(seq 1 16); do offs="$offs $((16 + (n - 20) * i / 17))"; done
  for off in $offs; do
    [ $bad -eq 0 ] || break
    put_byte "$w/$f" "$off" $((bytes[off] ^ 255))
    body_damage "$f byte $off flipped" "$w" || bad=1
    put_byte "$w/$f" "$off" "${bytes[off]}"
    nfl=$((nfl + 1))
  done
  cmp -s "$path" "$w/$f" || { fail "test setup: $f not restored"; cp "$path" "$w/$f"; }
  [ $bad -eq 0 ] && ok "$f: each of $nfl flipped bytes is reported by verify (header and checksum: by every command)"
  for cut in 0 10 $((n / 2)) $((n - 1)); do
    head -c "$cut" "$path" >"$w/$f"
    all_commands_fail "$f truncated to $cut bytes" "$w" || bad=1
  done
  rm "$w/$f"
  all_commands_fail "$f deleted" "$w" || bad=1
  cp "$path" "$w/$f"
  [ $bad -eq 0 ] && ok "$f: truncated (0, 10, half, size-1) or deleted: reported"
  return $bad
}

# two workers in parallel, each on its own copy of the index
worker() {
  local k=$1 i=0 path
  cp -r "$BASE" "$tmp/work$k"
  out=$tmp/w$k.out; err=$tmp/w$k.err
  for path in "$BASE"/s*; do
    [ $((i % 2)) -eq "$k" ] && damage_file "$path" "$tmp/work$k"
    i=$((i + 1))
  done
  echo "failures $failures"
}
(worker 0 >"$tmp/worker0.log" 2>&1) &
wpid=$!
(worker 1 >"$tmp/worker1.log" 2>&1)
wait $wpid
for k in 0 1; do
  grep -v '^failures ' "$tmp/worker$k.log"
  nf=$(sed -n 's/^failures //p' "$tmp/worker$k.log")
  failures=$((failures + ${nf:-1}))
done

# the MANIFEST: a changed digit (generation, a size, a checksum), truncations, deletion
M=$W/MANIFEST
cp "$BASE/MANIFEST" "$tmp/manifest"
sed 's/^generation 0000000000000001$/generation 0000000000000002/' "$tmp/manifest" >"$M"
cmp -s "$M" "$tmp/manifest" && fail "test setup: the generation edit did nothing"
all_commands_fail "MANIFEST generation changed" "$W"
sed '5s/ \([0-9]\)\([0-9]*\) / \1\21 /' "$tmp/manifest" >"$M"   # a size gets one more digit
cmp -s "$M" "$tmp/manifest" && fail "test setup: the size edit did nothing"
all_commands_fail "MANIFEST size changed" "$W"
sed '6s/ \([0-9a-f]\{8\}\)$/ 00000000/' "$tmp/manifest" >"$M"
all_commands_fail "MANIFEST file checksum changed" "$W"
sed '$s/crc \(.......\)./crc \10/' "$tmp/manifest" >"$M"
cmp -s "$M" "$tmp/manifest" && sed '$s/crc \(.......\)./crc \11/' "$tmp/manifest" >"$M"
all_commands_fail "MANIFEST checksum line changed" "$W"
for cut in 0 10 $(($(size_of "$tmp/manifest") / 2)) $(($(size_of "$tmp/manifest") - 12)); do
  head -c "$cut" "$tmp/manifest" >"$M"
  all_commands_fail "MANIFEST truncated to $cut bytes" "$W"
done
rm -f "$M"
check_error "MANIFEST deleted" "$Q" verify -i "$W" && check_error "MANIFEST deleted" "$Q" stats -i "$W" &&
  check_error "MANIFEST deleted" "$Q" search -i "$W" sanctions
cp "$tmp/manifest" "$M"
"$Q" verify -i "$W" >/dev/null || fail "restored copy does not verify"
ok "MANIFEST damage reported; damaged files took $(( $(date +%s) - t0 ))s"

# a merge reads its sources whole and checks their sums first: a byte
# flipped in the body of one segment's postings is refused (exit 2, the
# file named), and the index is left as it was
G=$tmp/merge
"$Q" index -q -o "$G" "$corpus/000_b2bb108374801336.txt" &&
  "$Q" index -q --add -o "$G" "$corpus/004_4f4f4b4389e3315b.txt" || fail "test setup: a two-segment index"
gp=$(ls "$G"/s*.post | head -n 1)
cp "$G/MANIFEST" "$tmp/gmanifest"
gb=$(od -An -tu1 -j 20 -N 1 "$gp" | tr -d ' ')
put_byte "$gp" 20 $((gb ^ 255))
if check_error "postings body flipped" "$Q" optimize -i "$G"; then
  if grep -q "$(basename "$gp").*checksum" "$err" && cmp -s "$G/MANIFEST" "$tmp/gmanifest"; then
    ok "optimize refuses a source whose sum does not match, names it, commits nothing"
  else
    fail "optimize of a damaged source: $(cat "$err"); MANIFEST changed: $(cmp -s "$G/MANIFEST" "$tmp/gmanifest" || echo yes)"
  fi
fi
put_byte "$gp" 20 "$gb"
"$Q" optimize -q -i "$G" >/dev/null 2>&1 && "$Q" verify -i "$G" >/dev/null ||
  fail "the restored two-segment index does not merge and verify"

# ------------------------------------------------------------ interrupted indexing
# strays DIR: the names in DIR besides LOCK, MANIFEST and the files its
# MANIFEST names (each segment's files, and its deletions file when delgen
# is not 0), one a line
strays() {
  local keep f
  keep=" LOCK MANIFEST $(sed -n -e 's/^file \([^ ]*\) .*/\1/p' \
      -e 's/^segment \([0-9a-f]\{16\}\) delgen \([0-9a-f]\{16\}\)$/s\1-\2.del/p' "$1/MANIFEST" |
      grep -v -e '-0000000000000000\.del$' | tr '\n' ' ')"
  for f in $(ls -A "$1"); do
    [[ $keep == *" $f "* ]] || echo "$f"
  done
}

# check_clean WHAT: the index directory $D holds what its committed
# generation needs and nothing else
check_clean() {
  local what=$1 s
  s=$(strays "$D")
  if [ -n "$s" ]; then
    fail "$what: files besides LOCK, MANIFEST and the files the MANIFEST names: $(echo $s)"
    return 1
  fi
  ok "$what: only LOCK, MANIFEST and the $(sed -n 's/^file //p' "$D/MANIFEST" | wc -l) files the MANIFEST names are left"
}

C=${QUARRY_CORPUS:-$root/../shared/corpus}
if [ -n "$C" ] && [ -f "$C/20newsgroups/docs.jsonl.gz" ]; then
  BIG=$C/20newsgroups/docs.jsonl.gz
else
  echo "SKIP: QUARRY_CORPUS has no 20newsgroups; using a generated 30 MB JSONL input"
  BIG=$tmp/big.jsonl
  awk 'BEGIN { srand(7); split("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu", w, " ");
         for (d = 0; d < 19000; d++) { printf "{\"id\":\"gen%06d\",\"title\":\"generated %d\",\"text\":\"", d, d;
           n = 80 + int(rand() * 160);
           for (i = 0; i < n; i++) { printf "%s%d%s ", w[1 + int(rand() * 26)], int(rand() * rand() * 5000), (i % 17 == 16 ? ".\\n\\n" : "") }
           printf "\"}\n" } }' >"$BIG"
fi
D=$tmp/d
"$Q" index -q -o "$D" "$corpus" || { echo "FAIL: cannot index $corpus"; exit 1; }

# the committed index in $D is the sample corpus, intact
check_intact() {
  local what=$1
  "$Q" verify -i "$D" >"$tmp/v.out" 2>"$tmp/v.err" || { fail "$what: verify fails: $(cat "$tmp/v.err")"; return 1; }
  "$Q" stats -i "$D" >"$tmp/s.out" 2>&1 || { fail "$what: stats fails"; return 1; }
  grep -Eq '^articles +2$' "$tmp/s.out" || { fail "$what: stats does not say 2 articles"; return 1; }
  "$Q" search -i "$D" --json sanctions >"$tmp/q.out" 2>&1 || { fail "$what: search sanctions fails"; return 1; }
  grep -q '"doc":"004_4f4f4b4389e3315b"' "$tmp/q.out" || { fail "$what: search sanctions does not find 004_4f4f4b4389e3315b"; return 1; }
  return 0
}

# start_big: index $BIG into $D in the background (a small budget, so that
# sorted runs are spilled before the kill)
start_big() {
  "$Q" index -q --mem 16 -o "$D" "$BIG" >"$tmp/bg.out" 2>"$tmp/bg.err" &
  bgpid=$!
}

# kill_big WHAT: SIGKILL the background indexer; 0 when it was killed
kill_big() {
  local what=$1 st
  kill -9 "$bgpid" 2>/dev/null
  wait "$bgpid" 2>/dev/null
  st=$?
  bgpid=
  if [ $st -ne 137 ]; then
    echo "SKIP: $what: the indexer ended (status $st) before it could be killed"
    "$Q" index -q -o "$D" "$corpus" || fail "cannot rebuild $D"
    gen=$(sed -n 's/^generation //p' "$D/MANIFEST")
    next=s$(sed -n 's/^next-segment //p' "$D/MANIFEST")
    return 1
  fi
  return 0
}

# wait_for FILE TIMEOUT_TENTHS: until FILE exists or the indexer ended
wait_for() {
  local i=0
  while [ ! -e "$1" ] && [ $i -lt "$2" ] && kill -0 "$bgpid" 2>/dev/null; do
    sleep 0.02; i=$((i + 1))
  done
  [ -e "$1" ]
}

gen=$(sed -n 's/^generation //p' "$D/MANIFEST")
next=s$(sed -n 's/^next-segment //p' "$D/MANIFEST")

# after_kill WHAT: the committed index is the previous one, intact — or, when
# the kill came after the MANIFEST was replaced, the complete new one (then
# $D is rebuilt from the sample corpus for the next round)
after_kill() {
  local what=$1 g
  g=$(sed -n 's/^generation //p' "$D/MANIFEST")
  if [ "$g" = "$gen" ]; then
    local left
    left=$(cd "$D" && ls -A | grep -c -E "^(t[0-9a-f]{16}-[0-9a-f]{8}\.run|$next\.)")
    check_intact "$what" && ok "$what: previous index intact ($left run or partial files left behind)"
  elif "$Q" verify -i "$D" >/dev/null 2>"$tmp/v.err" && "$Q" stats -i "$D" >"$tmp/s.out" 2>&1 &&
       ! grep -Eq '^articles +2$' "$tmp/s.out"; then
    ok "$what: the kill came just after the commit; the new generation $g is complete"
    "$Q" index -q -o "$D" "$corpus" || fail "cannot rebuild $D"
  else
    fail "$what: MANIFEST names generation $g but that index does not verify: $(cat "$tmp/v.err")"
    "$Q" index -q -o "$D" "$corpus" || fail "cannot rebuild $D"
  fi
  gen=$(sed -n 's/^generation //p' "$D/MANIFEST")
  next=s$(sed -n 's/^next-segment //p' "$D/MANIFEST")
}

for when in 0.3 1; do
  start_big
  sleep "$when"
  kill_big "kill after ${when}s" && after_kill "indexing killed after ${when}s"
done
# while committing: once the merge has created the new dictionary, and once
# the last file (.meta) exists, just before the MANIFEST is replaced
# wait_busy FILE: like wait_for, without sleeping (to catch a short window)
wait_busy() {
  while [ ! -e "$1" ] && kill -0 "$bgpid" 2>/dev/null; do :; done
  [ -e "$1" ]
}

for f in dict meta; do
  start_big
  if wait_for "$D/$next.dict" 1500 && { [ $f = dict ] || wait_busy "$D/$next.$f"; }; then
    kill_big "kill at $next.$f" && after_kill "indexing killed when $next.$f appeared"
  else
    kill_big "kill at $next.$f" >/dev/null
    echo "SKIP: $next.$f never appeared before the indexer ended"
    "$Q" index -q -o "$D" "$corpus" || fail "cannot rebuild $D"
    gen=$(sed -n 's/^generation //p' "$D/MANIFEST")
    next=s$(sed -n 's/^next-segment //p' "$D/MANIFEST")
  fi
done

# the next run removes what the killed ones left (none of it is removed here)
left=$(strays "$D" | wc -l)
"$Q" index -q -o "$D" "$corpus" >"$tmp/re.out" 2>"$tmp/re.err" || fail "reindex after kills: $(cat "$tmp/re.err")"
check_intact "reindex after the kills" && check_clean "reindex after the kills ($left stray files before it)"
gen=$(sed -n 's/^generation //p' "$D/MANIFEST")
next=s$(sed -n 's/^next-segment //p' "$D/MANIFEST")

# an indexing run that fails (a malformed line after 30 MB of articles, so
# that it has written temporary files and segments first) removes its files
# itself: the previous index is intact and nothing else is there
bad=$tmp/bad.jsonl
{ gzip -dcf "$BIG"; printf '{"id": "x", "text": }\n'; } >"$bad"
"$Q" index -q --mem 16 -o "$D" "$bad" >"$tmp/bad.out" 2>"$tmp/bad.err"
st=$?
if [ $st -ne 2 ] || ! grep -q "$(basename "$bad"):" "$tmp/bad.err"; then
  fail "indexing a malformed input: exit $st, expected 2 and an error naming the file: $(head -c 300 "$tmp/bad.err")"
fi
check_intact "after an indexing run that failed" && check_clean "after an indexing run that failed"

# ------------------------------------------------------------ a concurrent writer
start_big
if wait_for "$D/$next.unit" 1500; then
  check_error "second writer" "$Q" index -o "$D" "$corpus" &&
    { grep -qi 'another' "$err" || fail "second writer: message does not say another writer holds the index: $(cat "$err")"; } &&
    ok "a second writer is refused while the first runs: $(cat "$err")"
else
  fail "the background indexer did not create $next.unit"
fi
kill_big "concurrent writer" >/dev/null && after_kill "after the concurrent writer test"

# ------------------------------------------------------------ recovery
left=$(strays "$D" | wc -l)
[ "$left" -gt 0 ] || fail "test setup: the killed writer left no files to clean up"
"$Q" index -o "$D" "$corpus" >"$tmp/re.out" 2>"$tmp/re.err" || fail "reindex after kills: $(cat "$tmp/re.err")"
check_intact "after a normal reindex"
gen=$(sed -n 's/^generation //p' "$D/MANIFEST")
check_clean "reindex after the killed concurrent writer commits generation $gen ($left stray files before it)"

if [ $failures -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "all robustness tests passed"
