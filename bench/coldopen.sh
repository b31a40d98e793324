#!/usr/bin/env bash
# bench/coldopen.sh — one-shot searches with the index out of the page cache
# (evicted file by file with posix_fadvise: no root needed), beside the same
# with the index cached; --vs BIN runs a second quarry binary in turn.
#
#   bench/coldopen.sh --index DIR [--vs OTHER_QUARRY [--vs-index ITS_INDEX]] [--args=--json] [--words a,b,c]
#                     [--rounds N] [--out FILE] [--note TEXT]
#   bench/coldopen.sh --index DIR --vs build/quarry --vs-args=--no-collapse   (one binary, two ways)
#
# Writes bench/coldopen.md (or --out). The code is in bench/coldopen.py.
set -euo pipefail
command -v python3 >/dev/null || { echo "bench/coldopen.sh: python3 is needed" >&2; exit 2; }
exec python3 "$(dirname "$0")/coldopen.py" "$@"
