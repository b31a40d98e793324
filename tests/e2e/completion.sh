#!/usr/bin/env bash
# tests/e2e/completion.sh — the bash completion (completion/quarry.bash),
# sourced in a bash subshell and called as bash calls it, with COMP_WORDS
# and COMP_CWORD set: commands, every option of every `quarry CMD --help`
# (and none that the command refuses), option values, index directories
# (those with a MANIFEST first) and file names.
# Env: QUARRY (the binary), QUARRY_ROOT (the repository root).
set -u
. "$(dirname "$0")/lib/common.sh"
e2e_init completion
C=$root/completion/quarry.bash
[ -f "$C" ] || { echo "FAIL: no $C"; exit 1; }

# complete WORD...: the candidates (sorted, one a line) for the last WORD,
# the cursor at its end, in $T/work
complete_() {
    (cd "$T/work" && bash --norc --noprofile -c '
        source "$1"; shift
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
        COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
        _quarry quarry "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        printf "%s\n" "${COMPREPLY[@]}"' _ "$C" "$@") | sed '/^$/d' | sort
}
got() { complete_ "$@" | tr '\n' ' ' | sed 's/ $//'; }

mkdir -p "$T/work/idx-a" "$T/work/idx-b" "$T/work/plain" "$T/work/sub/deep-idx"
: >"$T/work/idx-a/MANIFEST"; : >"$T/work/idx-b/MANIFEST"; : >"$T/work/sub/deep-idx/MANIFEST"
: >"$T/work/queries.tsv"; : >"$T/work/qrels.txt"

check "commands" [ "$(got quarry '')" = "--help --no-pager --version bench delete dump eval index optimize search stats verify" ]
check "a command by its prefix" [ "$(got quarry se)" = "search" ]
check "after --no-pager: the commands" [ "$(got quarry --no-pager s)" = "search stats" ]
opts=$(got quarry search --)
check "search options" bash -c "[[ ' $opts ' == *' --queries '* && ' $opts ' == *' --no-pager '* && ' $opts ' != *' -i '* ]]"
check "-i: the index directories only" [ "$(got quarry search -i '')" = "idx-a idx-b" ]
check "-i: a prefix that matches no index: every directory" [ "$(got quarry search -i p)" = "plain" ]
check "-i sub/: the index in it" [ "$(got quarry search -i sub/)" = "sub/deep-idx" ]
check "--index works as -i" [ "$(got quarry stats --index idx)" = "idx-a idx-b" ]
check "-o: directories" [ "$(got quarry index -o idx)" = "idx-a idx-b" ]
check "--queries: files" [ "$(got quarry search --queries que)" = "queries.tsv" ]
check "index PATH: files and directories" [ "$(got quarry index -o x q)" = "qrels.txt queries.tsv" ]
check "delete --ids: files and -" [ "$(got quarry delete --ids q)" = "qrels.txt queries.tsv" ] && check "delete --ids '': - offered" bash -c "[[ ' $(got quarry delete --ids '') ' == *' - '* ]]"
check "eval QRELS: files" [ "$(got quarry eval qr)" = "qrels.txt" ]
check "--stemmer values" [ "$(got quarry index --stemmer '')" = "none porter snowball" ]
check "index --passages values" [ "$(got quarry index --passages '')" = "off on" ]
check "--stopwords: default, none and files" [ "$(got quarry index --stopwords '')" = "default idx-a idx-b none plain qrels.txt queries.tsv sub" ]
check "--color=: the values" [ "$(got quarry search --color = '')" = "always auto never" ]
check "--color=al" [ "$(got quarry search --color = al)" = "always" ]
check "--sort values" [ "$(got quarry search --sort '')" = "date score" ]
check "--since: a date to start from" bash -c "[[ '$(got quarry search --since 2)' == *$(date +%Y-%m)* ]]"
check "query words: nothing" [ -z "$(got quarry search sanc)" ]
check "-k N: nothing" [ -z "$(got quarry search -k '')" ]

# every option of `quarry CMD --help` (its usage line and the lines that
# define options) is offered, and every option offered is accepted
for cmd in index delete optimize search stats verify dump bench eval; do
    "$Q" "$cmd" --help >"$T/help" 2>&1
    want=$(help_options "$T/help")
    offered=" $(got quarry "$cmd" -) "
    missing=
    for o in $want; do [[ $offered == *" $o "* ]] || missing+=" $o"; done
    check "$cmd: every option of its --help is offered${missing:+ (missing:$missing)}" [ -z "$missing" ]
    refused=
    for o in $offered; do option_accepted "$cmd" "$o" || refused+=" $o"; done
    check "$cmd: every option offered is accepted${refused:+ (refused:$refused)}" [ -z "$refused" ]
done

e2e_end
