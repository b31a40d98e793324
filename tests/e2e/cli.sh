#!/usr/bin/env bash
# tests/e2e/cli.sh — the command line as a whole: every option that
# `quarry --help` shows for a command is described by that command's --help
# and accepted by it; unknown commands exit 2; and a plain `make` is silent
# (no compiler run for a dependency file, nothing on stderr).
# Env: QUARRY (the binary), QUARRY_ROOT (the repository root).
set -u
. "$(dirname "$0")/lib/common.sh"
e2e_init cli

"$Q" --help >"$T/help" 2>&1; rc=$?
check "quarry --help exits 0" [ "$rc" -eq 0 ]
# the synopsis lines: "  CMD  [options...]"
cmds=$(grep -E '^  [a-z]+ ' "$T/help" | awk '{print $1}')
check "quarry --help lists the nine commands" [ "$(echo $cmds)" = "index delete optimize search stats verify dump bench eval" ]
for cmd in $cmds; do
    "$Q" "$cmd" --help >"$T/$cmd.help" 2>&1; rc=$?
    check "quarry $cmd --help exits 0" [ "$rc" -eq 0 ]
    for opt in $(grep -E "^  $cmd " "$T/help" | grep -oE -- '(^|[[ |])--?[a-z][a-z0-9-]*' | grep -oE -- '--?[a-z][a-z0-9-]*'); do
        check "quarry --help: '$cmd $opt' is in quarry $cmd --help" grep -qE -- "(^|[ ,[(|])$opt([] ,=|)]|$)" "$T/$cmd.help"
        check "quarry $cmd accepts $opt" option_accepted "$cmd" "$opt"
    done
done
"$Q" frobnicate >"$T/out" 2>"$T/err"; rc=$?
check "an unknown command exits 2" [ "$rc" -eq 2 ]
check "an unknown command: one line on stderr" [ "$(wc -l <"$T/err")" -eq 1 ]

# make: no implicit rule may try to build a dependency file (with clang
# installed, the fuzz .d files used to be "remade" by compiling *.d.o)
if command -v make >/dev/null; then
    (cd "$root" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -n all BUILD="$T/build") >"$T/make.out" 2>"$T/make.err"
    check "make -n all: nothing on stderr" [ ! -s "$T/make.err" ]
    check "make -n all: no rule for a .d file" bash -c "! grep -q '\\.d\\.o' '$T/make.out'"
else
    echo "SKIP: make is not installed (the Makefile check)"
fi

e2e_end
