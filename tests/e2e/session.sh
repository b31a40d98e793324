#!/usr/bin/env bash
# tests/e2e/session.sh — drives the interactive session of `quarry search`
# through a pseudo-terminal (script(1) from util-linux): queries, :open,
# :more, :k, :json, :passages, :help, an unknown command, a syntax error,
# up-arrow history recall, Ctrl-C at the prompt, Ctrl-D, colour, the
# history file ($XDG_STATE_HOME/quarry/history, else ~/.quarry_history),
# and :open through the pager ($QUARRY_PAGER, a script that records what it
# received; no pager in the other sessions).
# Env: QUARRY (the binary), QUARRY_ROOT (the repository root).
set -u
root=${QUARRY_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
Q=${QUARRY:-$root/build/quarry}
[ -x "$Q" ] || { echo "FAIL: no quarry binary at $Q"; exit 1; }
if ! command -v script >/dev/null || ! script --version 2>/dev/null | grep -q util-linux; then
    echo "SKIP: script(1) from util-linux (bsdutils) is needed to drive a terminal session"; exit 0
fi
if ! script -qec true /dev/null </dev/null >/dev/null 2>&1; then
    echo "SKIP: no pseudo-terminal available (script -c true failed)"; exit 0
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/quarry-e2e-session.XXXXXX")
spid=
cleanup() { [ -n "$spid" ] && kill "$spid" 2>/dev/null; exec 3>&- 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fails=0
ok()  { echo "ok    $1"; }
bad() { echo "FAIL  $1"; fails=$((fails+1)); }
check() { local n=$1; shift; if "$@"; then ok "$n"; else bad "$n"; fi; }

IX=$T/ix
if ! (cd "$root" && "$Q" index -o "$IX" corpus) >"$T/index.out" 2>&1; then
    cat "$T/index.out"; echo "FAIL: quarry index -o $IX corpus"; exit 1
fi

# ------------------------------------------------------------ the driver
# start ENV...: runs the session in a pseudo-terminal; input through fd 3,
# the transcript (carriage returns removed on reading) in $T/tty. No pager
# unless ENV sets QUARRY_PAGER.
start() {
    rm -f "$T/in" "$T/tty"; mkfifo "$T/in"
    env QUARRY_PAGER= env -u PAGER "$@" script -qfec "exec '$Q' search -i '$IX'" /dev/null <"$T/in" >"$T/tty" 2>&1 &
    spid=$!
    exec 3>"$T/in"
}
transcript() { tr -d '\r' <"$T/tty"; }
count() { transcript | grep -Ec -- "$1"; }
# wait_for REGEX N: until REGEX matches at least N lines of the transcript
wait_for() {
    local i
    for i in $(seq 1 400); do
        [ "$(count "$1")" -ge "$2" ] && return 0
        sleep 0.05
    done
    echo "      timed out waiting for /$1/ x$2; transcript tail:"; transcript | tail -n 15 | sed 's/^/      | /'
    return 1
}
# send TEXT REGEX: types TEXT (printf format), then waits until one more
# line matches REGEX
send() {
    local before; before=$(count "$2")
    printf "$1" >&3
    wait_for "$2" $((before + 1))
}
# finish: waits for the session to end; its exit status in $rc
finish() {
    local i
    exec 3>&-
    for i in $(seq 1 100); do kill -0 "$spid" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$spid" 2>/dev/null; then kill "$spid"; rc=124; else wait "$spid"; rc=$?; fi
    spid=
}
PROMPT='quarry> '
FOOTER='hits? \([0-9]+ matched\) in [0-9.]+ ms'

# ------------------------------------------------------------ session 1
export TERM=xterm
start HOME="$T/home" XDG_STATE_HOME="$T/state" NO_COLOR=1
check "the prompt appears" wait_for "$PROMPT" 1
check "the banner counts the articles" wait_for '^quarry .*: 2 articles' 1
send 'sanctions\r' "$FOOTER" || bad "query 'sanctions' answered"
check "sanctions: 004 ranked 1" grep -Eq '^1\. [0-9.]+  004_4f4f4b4389e3315b' <(transcript)
check "no colour with NO_COLOR" bash -c "! tr -d '\r' <'$T/tty' | grep -q \$'\\033\\[1;31m'"
send ':open 1\r' 'Lukoil' || bad ":open 1 shows the whole article"
check ":open 1: the article's paragraphs, also those the hit did not show" \
    bash -c "tr -d '\r' <'$T/tty' | grep -q 'During a meeting with Russian Prime Minister' && tr -d '\r' <'$T/tty' | grep -q 'Rosneft and Lukoil' && tr -d '\r' <'$T/tty' | grep -q 'joint communiqué'"
send ':more\r' '^no more hits' || bad ":more after the last hit says so"
send ':k 1\r' '^k = 1$' || bad ":k 1"
send 'Russia\r' "$FOOTER" || bad "query 'Russia'"
check "k 1: one hit for Russia" grep -Eq '^1 hit \(2 matched\)' <(transcript)
send ':more\r' '^2\. [0-9.]+  0' || bad ":more shows rank 2"
check ":more: the footer names the ranks" grep -Eq '^1 hit \(ranks 2-2 of 2 matched\)' <(transcript)
send ':open 2\r' '[0-9]+ passages?$' || bad ":open 2 (a hit of the second page)"
send ':open 9\r' '^no hit 9' || bad ":open 9 (not shown) is refused"
send ':json\r' '^JSON output on' || bad ":json"
send 'sanctions\r' '^\{"rank":1,"score":[0-9.]+,"doc":"004_4f4f4b4389e3315b"' || bad "JSON output in the session"
send ':json\r' '^JSON output off' || bad ":json again"
send ':passages\r' '^passage hits' || bad ":passages"
send ':help\r' ':quit' || bad ":help lists the commands"
send ':bogus\r' '^unknown command :bogus' || bad "unknown command"
send '"belt road\r' '^query: column [0-9]+: unbalanced quote' || bad "syntax error shown, session goes on"
check "syntax error: a caret under the column" grep -Eq '^ +\^$' <(transcript)
send 'the and\r' '^no hits: every term' || bad "a query of stop words"
# history: type a query, then recall it with up-arrow and run it again
send 'BRI investment\r' "$FOOTER" || bad "query 'BRI investment'"
before=$(count '^[0-9]+\. [0-9.]+  000_b2bb108374801336')
send '\033[A\r' "$FOOTER" || bad "up-arrow + Enter runs a query again"
check "up-arrow recalls the last query" [ "$(count '^[0-9]+\. [0-9.]+  000_b2bb108374801336')" -gt "$before" ]
# Ctrl-C at the prompt cancels the typed line; the session goes on
printf 'partialword' >&3; sleep 0.3
send '\003' "$PROMPT" || bad "Ctrl-C gives a fresh prompt"
send 'sanctions\r' "$FOOTER" || bad "a query after Ctrl-C"
check "Ctrl-C discarded the typed text" bash -c "! tr -d '\r' <'$T/tty' | grep -q 'partialwordsanctions'"
printf ':quit\r' >&3
finish
check ":quit ends the session with status 0" [ "$rc" -eq 0 ]
H="$T/state/quarry/history"
check "history written to \$XDG_STATE_HOME/quarry/history" [ -s "$H" ]
check "history holds the queries" bash -c "grep -q 'sanctions' '$H' && grep -q 'BRI' '$H'"
check "history file is private (0600)" [ "$(stat -c %a "$H" 2>/dev/null)" = 600 ]

# ------------------------------------------------------------ session 2
# no XDG_STATE_HOME: ~/.quarry_history; the saved history is reloaded; colour
start -u XDG_STATE_HOME -u NO_COLOR HOME="$T/home2"
wait_for "$PROMPT" 1 || bad "session 2 starts"
send 'sanctions\r' "$FOOTER" || bad "session 2: query"
check "colour on a terminal: the query word highlighted" grep -q $'\033\\[1;31msanctions' <(transcript)
printf '\004' >&3          # Ctrl-D
finish
check "Ctrl-D ends the session with status 0" [ "$rc" -eq 0 ]
check "history written to ~/.quarry_history" grep -q sanctions "$T/home2/.quarry_history"

start -u XDG_STATE_HOME HOME="$T/home2" NO_COLOR=1
wait_for "$PROMPT" 1 || bad "session 3 starts"
send '\033[A\r' "$FOOTER" || bad "history of the previous session recalled with up-arrow"
printf ':q\r' >&3
finish
check ":q ends the session" [ "$rc" -eq 0 ]

# ------------------------------------------------------------ session 4
# a history location that cannot be written never stops the session
start HOME=/proc/no-such-dir XDG_STATE_HOME=/proc/no-such-dir NO_COLOR=1
wait_for "$PROMPT" 1 || bad "session 4 starts"
send 'sanctions\r' "$FOOTER" || bad "unwritable history: queries still work"
printf ':quit\r' >&3
finish
check "unwritable history: status 0" [ "$rc" -eq 0 ]

# ------------------------------------------------------------ session 5
# :open through the pager: the whole article goes to it, then the session
# resumes; --no-pager prints it on the terminal
cat >"$T/pager" <<PAGER
#!/bin/sh
printf '%s\n' "\${LESS-<unset>}" >>"$T/paged.less"
cat >>"$T/paged.in"
PAGER
chmod +x "$T/pager"
start HOME="$T/home5" NO_COLOR=1 QUARRY_PAGER="$T/pager"
wait_for "$PROMPT" 1 || bad "session 5 starts"
send 'sanctions\r' "$FOOTER" || bad "session 5: query"
check "the results themselves are not paged" [ ! -e "$T/paged.in" ]
send ':open 1\r' "$PROMPT" || bad ":open 1 with a pager: the prompt comes back"
wait_for "$PROMPT" 3 || bad ":open 1 with a pager: the prompt comes back"
# (the first and last paragraphs, and one that the hit did not show)
check ":open 1: the pager got the whole article" bash -c "grep -q 'During a meeting with Russian Prime Minister' '$T/paged.in' && grep -q 'Rosneft and Lukoil' '$T/paged.in' && grep -q 'joint communiqué' '$T/paged.in'"
check ":open 1: the article is not on the terminal" bash -c "! tr -d '\r' <'$T/tty' | grep -q 'joint communiqué'"
check ":open 1: the pager ran once, with LESS=FRX" [ "$(cat "$T/paged.less")" = FRX ]
send 'Russia\r' "$FOOTER" || bad "a query after :open (the session resumed)"
printf ':quit\r' >&3
finish
check "session 5 ends with status 0" [ "$rc" -eq 0 ]
rm -f "$T/paged.in" "$T/paged.less"
env -u PAGER QUARRY_PAGER="$T/pager" HOME="$T/home5" NO_COLOR=1 TERM=xterm \
    script -qfec "exec '$Q' search --no-pager -i '$IX'" /dev/null >"$T/tty" 2>&1 <<'IN'
sanctions
:open 1
:quit
IN
check "search --no-pager: :open prints on the terminal" bash -c "[ ! -e '$T/paged.in' ] && tr -d '\r' <'$T/tty' | grep -q 'joint communiqué'"

echo
if [ $fails -ne 0 ]; then echo "$fails failed"; exit 1; fi
echo "all passed"
