# bash completion for quarry(1): the commands, the options of each, the
# values of options that take a word from a small set, index directories
# for -i/--index and -o/--output (those holding a MANIFEST first), and file
# names for PATH, FILE, QRELS and RUN arguments. `make install` puts it in
# $(PREFIX)/share/bash-completion/completions/quarry; to try it from the
# source tree: source completion/quarry.bash
#
# Keep the option lists in step with `quarry COMMAND --help`
# (tests/e2e/completion.sh checks them).

_quarry_commands="index delete optimize search stats verify dump bench eval"

# _quarry_options COMMAND: the options of COMMAND, one line
_quarry_options()
{
    case $1 in
    index)  echo "-o --output --add --threads --no-merge --optimize --allow-empty --language --stemmer --stopwords" \
                 "--passages --passage-tokens --mem -q --quiet --help" ;;
    delete) echo "-i --index --ids --strict --no-merge -q --quiet --help" ;;
    optimize) echo "-i --index --mem -q --quiet --help" ;;
    search) echo "-i --index -k --offset --passages --k1 --b --json --trec --queries --color --colour --plain" \
                 "--expand --no-expand --fb-docs --fb-terms --fb-weight --exhaustive --algorithm --count --no-pairs" \
                 "--since --until --sort --collapse --no-collapse --explain --stats --exact-scores --no-pager" \
                 "-h --help" ;;
    stats)  echo "-i --index --terms --plain --queries -h --help" ;;
    verify) echo "-i --index --help" ;;
    dump)   echo "-i --index --term --limit --analyze --article --no-pager --help" ;;
    bench)  echo "-i --index --queries -k --rounds --passages --exhaustive --algorithm --count --no-pairs --threads --help" ;;
    eval)   echo "--per-query --json --no-pager -h --help" ;;
    esac
}

# _quarry_dirs WORD: the directories that start with WORD; when some of
# them hold an index (a MANIFEST file), only those
_quarry_dirs()
{
    local d all=() idx=()
    while IFS= read -r d; do
        all+=("$d")
        [ -f "$d/MANIFEST" ] && idx+=("$d")
    done < <(compgen -d -- "$1")
    if [ ${#idx[@]} -gt 0 ]; then
        COMPREPLY=("${idx[@]}")
    else
        COMPREPLY=("${all[@]}")
    fi
    compopt -o filenames 2>/dev/null
}

_quarry_files()
{
    mapfile -t COMPREPLY < <(compgen -f -- "$1")
    compopt -o filenames 2>/dev/null
}

_quarry()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev= cmd= i w
    [ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD-1]}
    COMPREPLY=()
    # --color=WHEN: bash splits the word at '='
    if [ "$cur" = = ] || [ "$prev" = = ]; then
        [ "$cur" = = ] && cur=
        [ "$COMP_CWORD" -gt 1 ] && prev=${COMP_WORDS[COMP_CWORD-2]}
        case $prev in
        --color|--colour) mapfile -t COMPREPLY < <(compgen -W "auto always never" -- "$cur") ;;
        esac
        return 0
    fi
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        case $w in
        --no-pager) ;;
        -*) break ;;
        *) cmd=$w; break ;;
        esac
    done
    if [ -z "$cmd" ]; then
        mapfile -t COMPREPLY < <(compgen -W "$_quarry_commands --no-pager --help --version" -- "$cur")
        return 0
    fi
    # the value of the option before the cursor
    case $prev in
    -i|--index|-o|--output) _quarry_dirs "$cur"; return 0 ;;
    --queries|--stopwords|--ids|--stats)
        _quarry_files "$cur"
        [ "$prev" = --stopwords ] && COMPREPLY+=($(compgen -W "default none" -- "$cur"))
        [ "$prev" = --ids ] || [ "$prev" = --stats ] && [ -z "$cur" ] && COMPREPLY+=(-)
        return 0 ;;
    --stemmer) mapfile -t COMPREPLY < <(compgen -W "snowball porter none" -- "$cur"); return 0 ;;
    --algorithm) mapfile -t COMPREPLY < <(compgen -W "auto maxscore bmw exhaustive" -- "$cur"); return 0 ;;
    --sort) mapfile -t COMPREPLY < <(compgen -W "score date" -- "$cur"); return 0 ;;
    --since|--until)   # a date: this year and month as a start
        mapfile -t COMPREPLY < <(compgen -W "$(date +%Y) $(date +%Y-%m)" -- "$cur"); return 0 ;;
    --passages)
        if [ "$cmd" = index ]; then
            mapfile -t COMPREPLY < <(compgen -W "on off" -- "$cur"); return 0
        fi ;;
    -k|--offset|--k1|--b|--trec|--fb-docs|--fb-terms|--fb-weight|--term|--limit|--analyze|--article|--threads|\
    --language|--passage-tokens|--mem|--rounds)
        return 0 ;;
    esac
    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_quarry_options "$cmd")" -- "$cur")
        return 0
    fi
    case $cmd in
    index|eval) _quarry_files "$cur" ;;
    esac
    return 0
}

complete -F _quarry quarry
