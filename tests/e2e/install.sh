#!/usr/bin/env bash
# tests/e2e/install.sh — `make install` into a temporary DESTDIR, as a user
# of the library would use it: the files and links (a versioned soname, only
# quarry_* exported), a C program compiled with `pkg-config --cflags --libs
# quarry` against the shared library (run with LD_LIBRARY_PATH) and with
# `--static` (run with no library path), the installed binary, the bash
# completion, the man pages rendered by man(1) and groff without a warning
# (and holding every option of every `quarry CMD --help`, every name of
# quarry.h), then `make uninstall` leaving nothing behind.
# Uses the normal build (BUILD=build, built if needed).
# Env: QUARRY_ROOT (the repository root).
set -u
. "$(dirname "$0")/lib/common.sh"
e2e_init install nobinary
CC=${CC:-cc}
command -v "$CC" >/dev/null || { echo "SKIP: no C compiler ($CC)"; exit 0; }
command -v make >/dev/null || { echo "SKIP: make is not installed"; exit 0; }

D=$T/dest
P=/usr/local
mk() { (cd "$root" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory BUILD=build "$@"); }
if ! mk install DESTDIR="$D" PREFIX=$P >"$T/make.out" 2>&1; then
    tail -n 20 "$T/make.out"; echo "FAIL: make install DESTDIR=$D"; exit 1
fi
L=$D$P/lib
for f in bin/quarry lib/libquarry.a lib/libquarry.so lib/libquarry.so.0 include/quarry.h \
         lib/pkgconfig/quarry.pc share/man/man1/quarry.1 share/man/man3/quarry.3 \
         share/man/man3/quarry_search.3 share/bash-completion/completions/quarry; do
    check "installed: $P/$f" [ -e "$D$P/$f" ]
done
real=$(cd "$L" && ls libquarry.so.*.*.* 2>/dev/null)
check "libquarry.so -> libquarry.so.0 -> $real" \
    bash -c "[ \"\$(readlink '$L/libquarry.so')\" = libquarry.so.0 ] && [ \"\$(readlink '$L/libquarry.so.0')\" = '$real' ] && [ -f '$L/$real' ]"
check "soname libquarry.so.0" bash -c "readelf -d '$L/$real' | grep -q 'SONAME.*\[libquarry.so.0\]'"
nm -D --defined-only "$L/$real" | awk '$2 ~ /^[TDBR]$/ { print $3 }' >"$T/exports"
check "the shared library exports quarry_* only ($(wc -l <"$T/exports") names)" \
    bash -c "[ -s '$T/exports' ] && ! grep -v '^quarry_' '$T/exports'"
check "every function of quarry.h is exported" bash -c "
    for f in \$(sed -n 's/^[a-z].*[ *]\\(quarry_[a-z_]*\\)(.*/\\1/p' '$root/include/quarry.h'); do
        grep -qx \"\$f\" '$T/exports' || { echo \"      not exported: \$f\"; exit 1; }
    done"

# ------------------------------------------------------------ the binary
"$D$P/bin/quarry" index -q -o "$T/ix" "$root/corpus" >"$T/out" 2>&1
check "the installed quarry builds an index" [ -f "$T/ix/MANIFEST" ]

# ------------------------------------------------------------ a program
cat >"$T/prog.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <quarry.h>

int main(int argc, char **argv)
{
    quarry_index *ix;
    quarry_results *r;
    quarry_error err;
    if (argc != 3 || quarry_open(argv[1], &ix, &err) != QUARRY_OK) {
        fprintf(stderr, "open: %s\n", argc == 3 ? err.msg : "usage: prog DIR QUERY");
        return 2;
    }
    if (quarry_search(ix, argv[2], NULL, &r, &err) != QUARRY_OK) {
        fprintf(stderr, "search: %s\n", err.msg);
        quarry_close(ix);
        return 2;
    }
    for (size_t i = 0; i < r->n; i++) {
        quarry_article a;
        if (quarry_article_get(ix, r->hits[i].article, &a, &err) == QUARRY_OK)
            printf("%s\n", a.id);
    }
    printf("%zu hits, quarry %s, %s\n", r->n, QUARRY_VERSION, quarry_strerror(QUARRY_ENOTFOUND));
    quarry_results_free(r);
    quarry_close(ix);
    return 0;
}
C
if ! command -v pkg-config >/dev/null; then
    echo "SKIP: pkg-config is not installed (make deps installs it): no program compiled"
else
    # PKG_CONFIG_SYSROOT_DIR: quarry.pc names $P; the files are under $D
    pc() { PKG_CONFIG_PATH="$L/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$D" pkg-config "$@"; }
    check "pkg-config --modversion quarry" [ "$(pc --modversion quarry)" = "$(sed -n 's/^#define QUARRY_VERSION "\(.*\)"/\1/p' "$root/include/quarry.h")" ]
    check "pkg-config --cflags --libs names the DESTDIR" bash -c "[[ '$(pc --cflags --libs quarry)' == *'-I$D$P/include'*'-L$L'*'-lquarry'* ]]"
    if $CC -o "$T/prog-shared" "$T/prog.c" $(pc --cflags --libs quarry) 2>"$T/cc.err"; then
        ok "compiled against the shared library"
        check "the program needs libquarry.so.0" bash -c "readelf -d '$T/prog-shared' | grep -q 'NEEDED.*\[libquarry.so.0\]'"
        LD_LIBRARY_PATH=$L "$T/prog-shared" "$T/ix" sanctions >"$T/out" 2>&1; rc=$?
        check "shared: runs and finds 004 for 'sanctions'" bash -c "[ $rc -eq 0 ] && [ \"\$(head -n 1 '$T/out')\" = 004_4f4f4b4389e3315b ]"
        check "shared: the version and an error message" grep -q "^1 hits, quarry [0-9.]*, ." "$T/out"
        check "shared: loads the installed library" bash -c "LD_LIBRARY_PATH='$L' ldd '$T/prog-shared' | grep -q 'libquarry.so.0 => $L/libquarry.so.0'"
    else
        sed 's/^/      /' "$T/cc.err" | head -10; bad "compiled against the shared library"
    fi
    if $CC -static -o "$T/prog-static" "$T/prog.c" $(pc --static --cflags --libs quarry) 2>"$T/cc.err"; then
        ok "compiled statically (pkg-config --static)"
        check "static: no dynamic section" bash -c "readelf -d '$T/prog-static' | grep -q 'no dynamic section'"
        env -u LD_LIBRARY_PATH "$T/prog-static" "$T/ix" sanctions >"$T/out" 2>&1; rc=$?
        check "static: runs and finds 004 for 'sanctions'" bash -c "[ $rc -eq 0 ] && [ \"\$(head -n 1 '$T/out')\" = 004_4f4f4b4389e3315b ]"
    else
        sed 's/^/      /' "$T/cc.err" | head -10; bad "compiled statically (pkg-config --static)"
    fi
fi
# A program that only reads indexes links against libquarry.a without
# libdeflate (only the writer uses it): the peers harness of ../shared links
# its quarry driver with exactly these libraries.
if $CC -o "$T/prog-reader" "$T/prog.c" -I"$D$P/include" "$L/libquarry.a" -lstemmer -lutf8proc -lz -lm -pthread 2>"$T/cc.err"; then
    "$T/prog-reader" "$T/ix" sanctions >"$T/out" 2>&1; rc=$?
    check "a reading program without -ldeflate: runs and finds 004 for 'sanctions'" \
        bash -c "[ $rc -eq 0 ] && [ \"\$(head -n 1 '$T/out')\" = 004_4f4f4b4389e3315b ]"
else
    sed 's/^/      /' "$T/cc.err" | head -10; bad "a reading program links against libquarry.a with -lstemmer -lutf8proc -lz -lm -pthread (no -ldeflate)"
fi

# ------------------------------------------------------------ completion
check "the installed completion registers _quarry" \
    bash -c "bash --norc --noprofile -c 'source \"$D$P/share/bash-completion/completions/quarry\"; complete -p quarry' | grep -q -- '-F _quarry'"

# ------------------------------------------------------------ man pages
if ! command -v man >/dev/null || ! command -v groff >/dev/null; then
    echo "SKIP: man (man-db) and groff are needed to render the man pages (make deps installs them)"
else
    M=$D$P/share/man
    for page in "$M/man1/quarry.1" "$M/man3/quarry.3"; do
        n=${page#$M/}
        w=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
        check "man --warnings -l $n: no warning" [ -z "$w" ]
        [ -z "$w" ] || echo "$w" | head -5 | sed 's/^/      /'
        w=$(groff -man -ww -z "$page" 2>&1)
        check "groff -man -ww -z $n: no warning" [ -z "$w" ]
        [ -z "$w" ] || echo "$w" | head -5 | sed 's/^/      /'
    done
    # the text, unwrapped
    LC_ALL=C.UTF-8 MANWIDTH=2000 man -l "$M/man1/quarry.1" 2>/dev/null >"$T/man1.txt"
    LC_ALL=C.UTF-8 MANWIDTH=2000 man -l "$M/man3/quarry.3" 2>/dev/null >"$T/man3.txt"
    for cmd in index delete optimize search stats verify dump bench eval; do
        "$D$P/bin/quarry" "$cmd" --help >"$T/help" 2>&1
        opts=$(help_options "$T/help")
        missing=
        for o in $opts; do grep -qE -- "(^|[^a-z0-9-])$o([^a-z0-9-]|$)" "$T/man1.txt" || missing+=" $o"; done
        check "quarry(1): a section for '$cmd' with every option of its --help${missing:+ (missing:$missing)}" \
            bash -c "[ -z '$missing' ] && grep -q '^   quarry $cmd' '$T/man1.txt'"
    done
    for s in 'EXIT STATUS' ENVIRONMENT FILES EXAMPLES; do
        check "quarry(1): $s" grep -q "^$s" "$T/man1.txt"
    done
    missing=
    for n in $(grep -oE '\b(quarry_[a-z_]+|QUARRY_[A-Z_]+)\b' "$root/include/quarry.h" | grep -vx QUARRY_H | sort -u); do
        grep -qw -- "$n" "$T/man3.txt" || missing+=" $n"
    done
    check "quarry(3): every quarry_ and QUARRY_ name of quarry.h${missing:+ (missing:$missing)}" [ -z "$missing" ]
    check "man 3 quarry_search finds quarry(3)" \
        bash -c "MANWIDTH=80 man -M '$M' 3 quarry_search 2>/dev/null | grep -q 'quarry_search(quarry_index'"
fi

# ------------------------------------------------------------ uninstall
mk uninstall DESTDIR="$D" PREFIX=$P >"$T/make.out" 2>&1
left=$(find "$D" ! -type d)
check "make uninstall removes every file" [ -z "$left" ]
[ -z "$left" ] || echo "$left" | head -5 | sed 's/^/      /'

e2e_end
