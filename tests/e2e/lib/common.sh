# tests/e2e/lib/common.sh — what end-to-end scripts share, sourced after
# `set -u`: $root (the repository) and $Q (the binary: $QUARRY, else
# build/quarry), a temporary directory $T removed on exit, ok / bad / check
# and the closing summary, the options a --help lists, whether an option is
# accepted, whether script(1) can drive a pseudo-terminal. tests/run.sh runs
# tests/e2e/*.sh only, so this file is not a test itself.
# Env: QUARRY, QUARRY_ROOT.

root=${QUARRY_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
Q=${QUARRY:-$root/build/quarry}
fails=0

# e2e_init NAME [nobinary]: makes $T; fails unless the binary exists (skip
# that check with "nobinary")
e2e_init() {
    if [ "${2:-}" != nobinary ] && [ ! -x "$Q" ]; then echo "FAIL: no quarry binary at $Q"; exit 1; fi
    T=$(mktemp -d "${TMPDIR:-/tmp}/quarry-e2e-$1.XXXXXX") || exit 1
    trap 'rm -rf "$T"' EXIT
}
ok()  { echo "ok    $1"; }
bad() { echo "FAIL  $1"; fails=$((fails+1)); }
# check NAME CMD...: passes when CMD succeeds
check() { local n=$1; shift; if "$@"; then ok "$n"; else bad "$n"; fi; }
e2e_end() {
    echo
    if [ $fails -ne 0 ]; then echo "$fails failed"; exit 1; fi
    echo "all passed"
}

# help_options FILE: the options that a `quarry CMD --help` text in FILE
# lists, one a line, sorted: those of its usage line and of the lines that
# define an option ("  -i, --index DIR", "      --offset N")
help_options() {
    grep -E -- '^usage:|^ +(-[a-zA-Z]([ ,]|$)|--[a-z])' "$1" |
        grep -oE -- '(^|[][ ,(|])--?[a-z][a-z0-9-]*' | grep -oE -- '--?[a-z][a-z0-9-]*' | sort -u
}

# option_accepted CMD OPT: `quarry CMD OPT x`, run in $T (where there is no
# index), fails otherwise than as an unknown option
option_accepted() {
    (cd "$T" && "$Q" "$1" "$2" x) </dev/null 2>&1 | grep -qiE 'unknown|unrecognized' && return 1
    return 0
}

# have_pty: whether script(1) from util-linux can run a command in a
# pseudo-terminal; otherwise prints why on stdout
have_pty() {
    if ! command -v script >/dev/null || ! script --version 2>/dev/null | grep -q util-linux; then
        echo "script(1) from util-linux (bsdutils) is needed for a terminal"; return 1
    fi
    if ! script -qec true /dev/null </dev/null >/dev/null 2>&1; then
        echo "no pseudo-terminal available (script -c true failed)"; return 1
    fi
}
