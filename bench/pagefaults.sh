#!/usr/bin/env bash
# bench/pagefaults.sh — page faults of one-shot searches: `quarry search -i
# INDEX -k 10 WORD` as a new process, counted by `perf stat -e
# minor-faults,major-faults` (a fault is a first touch of a page: of the
# index, the binary, the libraries or fresh memory), for each binary on its
# own index. Counts, unlike times, hardly vary from run to run.
#
#   bench/pagefaults.sh [--words a,b,c] [--out FILE.md] BIN@INDEX [BIN@INDEX ...]
#
# Writes bench/pagefaults.md (or --out). Needs perf (Debian: linux-perf).
set -euo pipefail
words="sanctions,investment,oil,president,bank,court,election,china,football,software"
out="$(dirname "$0")/pagefaults.md"
args=("$@")
while [ $# -gt 0 ]; do
    case "$1" in
        --words) words="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) break ;;
    esac
done
[ $# -gt 0 ] || { echo "bench/pagefaults.sh: give BIN@INDEX pairs (--help)" >&2; exit 2; }
command -v perf >/dev/null || { echo "bench/pagefaults.sh: perf is needed (apt-get install linux-perf)" >&2; exit 2; }
IFS=, read -r -a ws <<< "$words"
{
    echo "# Page faults of one-shot searches"
    echo
    echo "Made by \`bench/pagefaults.sh ${args[*]}\` on $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$(dirname "$0")" rev-parse --short HEAD). Each cell: minor faults (first touches of pages already in memory) / major faults (reads that waited for the disk) of \`BIN search -i INDEX -k 10 WORD\`, output to /dev/null, the index in the page cache (each search runs once before)."
    echo
    printf "| binary, index |"; for w in "${ws[@]}"; do printf " %s |" "$w"; done; echo " median minor |"
    printf "|---|"; for _ in "${ws[@]}"; do printf -- "---:|"; done; echo "---:|"
    for pair in "$@"; do
        bin="${pair%%@*}" ix="${pair#*@}"
        [ -x "$bin" ] && [ -f "$ix/MANIFEST" ] || { echo "bench/pagefaults.sh: $pair: not BIN@INDEX" >&2; exit 2; }
        printf "| \`%s\` on \`%s\` |" "$bin" "$ix"
        minors=()
        for w in "${ws[@]}"; do
            "$bin" search -i "$ix" -k 10 "$w" >/dev/null 2>&1 || true
            r=$(perf stat -x, -e minor-faults,major-faults "$bin" search -i "$ix" -k 10 "$w" 2>&1 >/dev/null | grep -E 'faults' | cut -d, -f1 | paste -sd/)
            minors+=("${r%%/*}")
            printf " %s |" "$r"
        done
        printf " %s |\n" "$(printf '%s\n' "${minors[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
    done
} > "$out"
cat "$out"
