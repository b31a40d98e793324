#!/usr/bin/env python3
"""bench/coldopen.py — one-shot searches on an index that is not in the
page cache (after a reboot, or evicted by other work): `quarry search -i
INDEX -k 10 --json WORD` as a new process, each run after every file of
the index has been dropped from the page cache (posix_fadvise
POSIX_FADV_DONTNEED on each: no root needed; pages another process maps
stay), and the same with the index cached, for comparison. With --vs BIN,
a second quarry binary runs in turn with the first (A B A B ...), on the
same words, so that their ratio is measured in one run.

Per run: wall time from spawn to exit, major page faults (reads that
waited for the disk) and peak RSS, from /usr/bin/time (bench/scale.py's
spawn_timed). Writes bench/coldopen.md (or --out); an error is one line on
stderr, exit 2."""
import argparse
import os
import shlex
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import scale as S  # noqa: E402  (bench/scale.py: spawn_timed)
WORDS = ["sanctions", "investment", "oil", "president", "bank", "court", "election", "china", "football", "software"]


def fail(msg):
    sys.stderr.write("bench/coldopen.py: %s\n" % msg)
    sys.exit(2)


def evict(ix):
    for name in os.listdir(ix):
        path = os.path.join(ix, name)
        if not os.path.isfile(path):
            continue
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def run(binary, extra, ix, word):
    argv = [binary, "search", "-i", ix, "-k", "10", "--json"] + extra + [word]
    wall, kb, maj, rc = S.spawn_timed(argv)
    if rc not in (0, 1) or kb is None:
        fail("%s: exit %d (run it to see why)" % (" ".join(argv), rc))
    return wall * 1e3, maj, kb / 1024


def summary(v):
    return statistics.fmean(v), statistics.median(v), max(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", required=True, help="the index directory")
    ap.add_argument("--quarry", default=os.path.join(ROOT, "build", "quarry"), help="quarry binary (default build/quarry)")
    ap.add_argument("--vs", help="a second quarry binary, run in turn with the first (it may be the same one, with --vs-args)")
    ap.add_argument("--args", default="", help="more search options for the first binary, before WORD (e.g. --no-collapse)")
    ap.add_argument("--vs-args", default="", help="more search options for the second binary")
    ap.add_argument("--words", default=",".join(WORDS), help="comma-separated words, one search each per round")
    ap.add_argument("--rounds", type=int, default=3, help="rounds over the words (default 3)")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "coldopen.md"))
    ap.add_argument("--note", default="", help="a sentence for the report (what the binaries are)")
    a = ap.parse_args()
    if not os.path.isfile(os.path.join(a.index, "MANIFEST")):
        fail("%s: no index here (no MANIFEST)" % a.index)
    bins = [("A", a.quarry)] + ([("B", a.vs)] if a.vs else [])
    extra = {"A": shlex.split(a.args), "B": shlex.split(a.vs_args)}
    for _, b in bins:
        if not os.access(b, os.X_OK):
            fail("%s: not an executable" % b)
    words = [w for w in a.words.split(",") if w]
    res = {(n, c): [] for n, _ in bins for c in ("cold", "warm")}
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    for _ in range(a.rounds):
        for w in words:
            for n, b in bins:
                evict(a.index)
                res[(n, "cold")].append(run(b, extra[n], a.index, w))
                res[(n, "warm")].append(run(b, extra[n], a.index, w))
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    L = ["# One-shot search with the index out of the page cache\n",
         "Made by `bench/coldopen.sh %s` on %s, commit %s. Each run: every file of the index dropped from the page "
         "cache (posix_fadvise DONTNEED), then `quarry search -i INDEX -k 10 --json WORD` as a new process "
         "(\"cold\"), then the same again (\"warm\"); %d words x %d rounds%s. Wall time from spawn to exit; major "
         "faults are reads that waited for the disk (/usr/bin/time %%F).\n"
         % (" ".join(sys.argv[1:]), started, commit or "?", len(words), a.rounds,
            ", A and B in turn" if a.vs else ""), a.note + "\n" if a.note else ""]
    L.append("| binary | cache | runs | wall mean ms | p50 ms | max ms | major faults p50 | peak RSS MiB p50 |")
    L.append("|---|---|---:|---:|---:|---:|---:|---:|")
    for n, b in bins:
        for c in ("cold", "warm"):
            v = res[(n, c)]
            m, p, x = summary([r[0] for r in v])
            L.append("| %s `%s` | %s | %d | %.1f | %.1f | %.1f | %d | %.1f |"
                     % (n, " ".join([b] + extra[n]), c, len(v), m, p, x, statistics.median([r[1] for r in v]), statistics.median([r[2] for r in v])))
    if a.vs:
        ratios = [ra[0] / rb[0] for ra, rb in zip(res[("A", "cold")], res[("B", "cold")])]
        L.append("")
        L.append("A ÷ B, cold, run by run: median %.2f (min %.2f, max %.2f)." % (statistics.median(ratios), min(ratios), max(ratios)))
        ratios = [ra[0] / rb[0] for ra, rb in zip(res[("A", "warm")], res[("B", "warm")])]
        L.append("")
        L.append("A ÷ B, warm, run by run: median %.2f (min %.2f, max %.2f)." % (statistics.median(ratios), min(ratios), max(ratios)))
    with open(a.out, "w") as o:
        o.write("\n".join(L) + "\n")
    print("\n".join(L))


if __name__ == "__main__":
    main()
