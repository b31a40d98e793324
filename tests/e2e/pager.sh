#!/usr/bin/env bash
# tests/e2e/pager.sh — the pager of `quarry search`, `dump` and `eval`,
# through a pseudo-terminal (script(1) from util-linux): on a terminal the
# output goes through $QUARRY_PAGER, else $PAGER (LESS=FRX when LESS is
# unset), never when stdout is not a terminal, not with --no-pager (an
# option of the command, or before it) nor with an empty pager; the exit
# status is kept. The pager is a script that records what it received.
# (:open in the interactive session: tests/e2e/session.sh.)
# Env: QUARRY (the binary), QUARRY_ROOT (the repository root).
set -u
. "$(dirname "$0")/lib/common.sh"
why=$(have_pty) || { echo "SKIP: $why"; exit 0; }
e2e_init pager

IX=$T/ix
if ! (cd "$root" && "$Q" index -q -o "$IX" corpus) >"$T/index.out" 2>&1; then
    cat "$T/index.out"; echo "FAIL: quarry index -o $IX corpus"; exit 1
fi
# the pager: records its input and the LESS it was given, one call a line
cat >"$T/pager" <<PAGER
#!/bin/sh
printf '%s\n' "\${LESS-<unset>}" >>"$T/paged.less"
cat >>"$T/paged.in"
PAGER
chmod +x "$T/pager"

# tty ENV... -- ARGS...: runs quarry ARGS in a pseudo-terminal with only
# ENV for the pager variables; the terminal's text in $T/tty, exit in $rc
tty() {
    local envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done; shift
    rm -f "$T/paged.in" "$T/paged.less"
    local cmd="exec '$Q'" a
    for a in "$@"; do cmd+=" '$a'"; done
    env -u QUARRY_PAGER -u PAGER -u LESS TERM=xterm NO_COLOR= "${envs[@]}" \
        script -qec "$cmd" /dev/null </dev/null >"$T/tty" 2>&1
    rc=$?
}
calls() { [ -f "$T/paged.less" ] && wc -l <"$T/paged.less" || echo 0; }
FOOTER='hits? \([0-9]+ matched\) in [0-9.]+ ms'

tty QUARRY_PAGER="$T/pager" -- search -i "$IX" sanctions
check "search on a terminal: exit 0" [ "$rc" -eq 0 ]
check "search on a terminal: the pager ran once" [ "$(calls)" -eq 1 ]
check "search: the pager received the hits and the footer" \
    bash -c "grep -q '004_4f4f4b4389e3315b' '$T/paged.in' && grep -Eq '$FOOTER' '$T/paged.in'"
check "search: colours go through the pager (decided for the terminal)" grep -q $'\033\\[1;31msanctions' "$T/paged.in"
check "search: nothing of the hits on the terminal itself" bash -c "! grep -q 004_4f4f4b4389e3315b '$T/tty'"
check "search: LESS=FRX when LESS is unset" [ "$(cat "$T/paged.less")" = FRX ]

tty QUARRY_PAGER="$T/pager" LESS=-S -- search -i "$IX" sanctions
check "search: a LESS of the user is kept" [ "$(cat "$T/paged.less")" = -S ]
tty PAGER="$T/pager" -- search -i "$IX" sanctions
check "search: \$PAGER when QUARRY_PAGER is unset" [ "$(calls)" -eq 1 ]
tty QUARRY_PAGER= PAGER="$T/pager" -- search -i "$IX" sanctions
check "search: an empty QUARRY_PAGER means no pager" [ "$(calls)" -eq 0 ]
check "search: without a pager the hits are on the terminal" grep -q 004_4f4f4b4389e3315b "$T/tty"
tty QUARRY_PAGER=cat PAGER="$T/pager" -- search -i "$IX" sanctions
check "search: QUARRY_PAGER=cat means no pager" bash -c "[ $(calls) -eq 0 ] && grep -q 004_4f4f4b4389e3315b '$T/tty'"
tty QUARRY_PAGER="$T/pager" -- search -i "$IX" --no-pager sanctions
check "search --no-pager: no pager, exit 0" bash -c "[ $(calls) -eq 0 ] && [ $rc -eq 0 ]"
tty QUARRY_PAGER="$T/pager" -- --no-pager search -i "$IX" sanctions
check "quarry --no-pager search: no pager" bash -c "[ $(calls) -eq 0 ] && grep -q 004_4f4f4b4389e3315b '$T/tty'"
tty QUARRY_PAGER="$T/pager" -- search -i "$IX" xyzzyplughnotaword
check "search with no hits: exit 1 kept" [ "$rc" -eq 1 ]
tty QUARRY_PAGER="$T/pager" -- search -i "$IX" '"broken'
check "a syntax error: exit 2, no pager started" bash -c "[ $rc -eq 2 ] && [ $(calls) -eq 0 ]"
check "a syntax error: the message on the terminal" grep -q 'unbalanced quote' "$T/tty"

# not a terminal: never a pager, whatever is set
rm -f "$T/paged.in" "$T/paged.less"
QUARRY_PAGER="$T/pager" PAGER="$T/pager" "$Q" search -i "$IX" sanctions >"$T/out" 2>&1; rc=$?
check "stdout not a terminal: no pager, exit 0" bash -c "[ $(calls) -eq 0 ] && [ $rc -eq 0 ]"
check "stdout not a terminal: the hits on stdout" grep -q 004_4f4f4b4389e3315b "$T/out"

# batches, --help, dump and eval page too
printf 'q1\tsanctions\nq2\tRussia\n' >"$T/q.tsv"
tty QUARRY_PAGER="$T/pager" -- search -i "$IX" --queries "$T/q.tsv"
check "a batch: one pager for every query" bash -c "[ $(calls) -eq 1 ] && [ \$(grep -c 'query q[12]: ' '$T/paged.in') -eq 2 ]"
tty QUARRY_PAGER="$T/pager" -- search --help
check "search --help is paged" bash -c "[ $rc -eq 0 ] && grep -q '^usage: quarry search' '$T/paged.in'"
tty QUARRY_PAGER="$T/pager" -- dump -i "$IX" --term russia
check "dump is paged" bash -c "[ $rc -eq 0 ] && grep -q '^term russia df' '$T/paged.in'"
tty QUARRY_PAGER="$T/pager" -- dump -i "$IX" --no-pager --term russia
check "dump --no-pager" bash -c "[ $(calls) -eq 0 ] && grep -q '^term russia df' '$T/tty'"
printf 'q1 0 004_4f4f4b4389e3315b 1\n' >"$T/qrels"
printf 'q1 Q0 004_4f4f4b4389e3315b 1 1.0 r\n' >"$T/run"
tty QUARRY_PAGER="$T/pager" -- eval "$T/qrels" "$T/run"
check "eval is paged" bash -c "[ $rc -eq 0 ] && grep -q 'nDCG@10' '$T/paged.in'"
tty QUARRY_PAGER="$T/pager" -- eval --no-pager "$T/qrels" "$T/run"
check "eval --no-pager" bash -c "[ $(calls) -eq 0 ] && grep -q 'nDCG@10' '$T/tty'"

e2e_end
