#!/usr/bin/env bash
# bench/quality.sh — retrieval quality of quarry over every evaluation
# collection (a directory of $QUARRY_CORPUS with queries.tsv and qrels.txt),
# in four configurations:
#   default   --passages off, the default analyzer, quarry search's defaults
#             for --plain queries (BM25 k1 1.2 b 0.75 with RM3 expansion)
#   bm25      the same index, BM25 alone (--no-expand)
#   lucene    --passages off --stemmer porter --stopwords FILE, FILE being
#             Lucene's 33 English stop words; BM25 k1 0.9 b 0.4, no expansion
#             (Anserini's BM25 baseline setup)
#   passages  the default analyzer with passages on: articles ranked by their
#             best passage, search defaults
# Each is indexed, searched with `quarry search --queries ... --trec ... -k 1000`
# and scored with `quarry eval` (trec_eval definitions). Prints a Markdown
# table and writes it to bench/quality.md with the command, date and commit.
#
# The collections' queries are natural-language text, run as bags of words
# (as Anserini runs them) with `quarry search --plain`: no query operators.
#
# usage: bench/quality.sh [--k1 X] [--b Y]
# env:   QUARRY (default build/quarry), QUARRY_CORPUS (default ../shared/corpus)
set -u
set -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
quarry_env=${QUARRY:+QUARRY=$QUARRY }
QUARRY=${QUARRY:-$root/build/quarry}
CORPUS=${QUARRY_CORPUS:-../shared/corpus}
out_md="$here/quality.md"

usage() { sed -n 's/^# usage: /usage: /p; s/^# env: /env: /p' "$0"; }
search_opts=()
while [ $# -gt 0 ]; do
    case "$1" in
        --k1|--b)
            [ $# -ge 2 ] || { echo "quality.sh: $1 needs a value" >&2; exit 2; }
            search_opts+=("$1" "$2"); shift 2 ;;
        --k1=*|--b=*) search_opts+=("${1%%=*}" "${1#*=}"); shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "quality.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
done
command_line="${quarry_env}QUARRY_CORPUS=$CORPUS bench/quality.sh${search_opts[*]:+ ${search_opts[*]}}"

if [ ! -x "$QUARRY" ]; then
    echo "quality.sh: no quarry binary at $QUARRY (run 'make' first, or set QUARRY)" >&2
    exit 2
fi
if [ ! -d "$CORPUS" ]; then
    echo "SKIP: no corpus directory at $CORPUS (set QUARRY_CORPUS)" >&2
    exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/quarry-quality.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

# Lucene's English stop words (EnglishAnalyzer.ENGLISH_STOP_WORDS_SET).
stopfile="$tmp/lucene-stopwords.txt"
lucene_stop=(a an and are as at be but by for if in into is it no not of on or such that
             the their "then" there these they this to was will with)
printf '%s\n' "${lucene_stop[@]}" >"$stopfile"

# A number out of one-line JSON (quarry eval --json), e.g. jnum '"MAP"' file.
jnum() { sed -n "s/.*$1:\\([-0-9.e+]*\\).*/\\1/p" "$2" | head -n 1; }
fmt() { [ -n "$1" ] && awk -v v="$1" 'BEGIN { printf "%.4f", v }' || printf '–'; }

rows=()
failures=0
collections=0
for dir in "$CORPUS"/*/; do
    dir=${dir%/}
    name=$(basename "$dir")
    if [ ! -f "$dir/queries.tsv" ] || [ ! -f "$dir/qrels.txt" ]; then
        continue
    fi
    if [ -f "$dir/docs.jsonl" ]; then
        docs="$dir/docs.jsonl"
    elif [ -f "$dir/docs.jsonl.gz" ]; then
        docs="$dir/docs.jsonl.gz"
    else
        echo "quality.sh: $dir has queries.tsv and qrels.txt but no docs.jsonl[.gz]; skipped" >&2
        continue
    fi
    collections=$((collections + 1))
    queries="$dir/queries.tsv"
    for config in default bm25 lucene passages; do
        case $config in
            default)  index_opts=(--passages off); cfg_opts=() ;;
            bm25)     index_opts=(--passages off); cfg_opts=(--no-expand) ;;
            lucene)   index_opts=(--passages off --stemmer porter --stopwords "$stopfile")
                      cfg_opts=(--no-expand --k1 0.9 --b 0.4) ;;
            passages) index_opts=(); cfg_opts=() ;;
        esac
        idx="$tmp/$name-$config"
        run="$tmp/$name-$config.run"
        log="$tmp/$name-$config.log"
        echo "quality: $name/$config: index, search, eval" >&2
        t0=$(date +%s.%N)
        if ! "$QUARRY" index -o "$idx" ${index_opts[@]+"${index_opts[@]}"} "$docs" >"$log" 2>&1; then
            step="index"
        elif ! "$QUARRY" search -i "$idx" --queries "$queries" --trec "quarry-$config" \
                --plain -k 1000 "${cfg_opts[@]}" ${search_opts[@]+"${search_opts[@]}"} >"$run" 2>>"$log"; then
            step="search"
        elif ! "$QUARRY" eval "$dir/qrels.txt" "$run" --json >"$tmp/eval.json" 2>>"$log"; then
            step="eval"
        else
            step=
        fi
        secs=$(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
        if [ -n "$step" ]; then
            failures=$((failures + 1))
            echo "quality.sh: $name/$config: '$step' failed:" >&2
            tail -n 5 "$log" | sed 's/^/    /' >&2
            rows+=("| $name | $config | – | $step failed | | | | |")
        else
            q=$(jnum '"queries"' "$tmp/eval.json")
            rows+=("| $name | $config | $q | $(fmt "$(jnum '"nDCG@10"' "$tmp/eval.json")") | $(fmt "$(jnum '"MAP"' "$tmp/eval.json")") | $(fmt "$(jnum '"R@100"' "$tmp/eval.json")") | $(fmt "$(jnum '"R@1000"' "$tmp/eval.json")") | $secs |")
        fi
        rm -rf "$idx" "$run"
    done
done

if [ $collections -eq 0 ]; then
    echo "SKIP: no collection with queries.tsv and qrels.txt under $CORPUS" >&2
    exit 0
fi

table=$(
    echo "| collection | config | queries | nDCG@10 | MAP | R@100 | R@1000 | seconds |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${rows[@]}"
)
echo "$table"

commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "no commit")
if [ -n "$(git -C "$root" --no-optional-locks status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    commit="$commit (with uncommitted changes)"
fi
{
    echo "# Retrieval quality"
    echo
    echo "Produced by \`$command_line\` on $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit."
    echo
    echo "Measures are trec_eval's (\`quarry eval\`): means over the queries with at least"
    echo "one relevant document in qrels.txt; a query with no hit counts 0. Runs keep 1000"
    echo "hits per query; queries run as bags of words (\`quarry search --plain\`)."
    echo
    echo "- \`default\`: whole articles (\`--passages off\`), default analyzer (Snowball English,"
    echo "  Snowball stop words), search defaults for plain queries: BM25 k1 1.2, b 0.75 with"
    echo "  RM3 pseudo-relevance feedback (10 units, 20 terms, query weight 0.8)."
    echo "- \`bm25\`: the same index and BM25 parameters, no feedback (\`--no-expand\`)."
    echo "- \`lucene\`: Anserini's baseline: Porter stemmer, Lucene's 33 English stop words,"
    echo "  BM25 k1 0.9, b 0.4, no feedback (published: SciFact nDCG@10 0.6789, R@100 0.9253)."
    echo "- \`passages\`: the default analyzer and search defaults on a passage index"
    echo "  (articles ranked by their best passage)."
    echo
    echo "Best peer nDCG@10 at their defaults (issue 4): SciFact 0.6880, Cranfield 0.3681,"
    echo "CISI 0.3691, MED 0.7107."
    echo "\`seconds\` covers indexing, searching and evaluating."
    echo
    echo "$table"
} >"$out_md"
echo "quality: wrote ${out_md#"$root"/}" >&2

[ $failures -eq 0 ]
