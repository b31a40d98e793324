#!/usr/bin/env python3
"""bench/coldopen.py — one-shot searches on an index that is not in the
page cache (after a reboot, or evicted by other work): `quarry search -i
INDEX -k 10 WORD` (the terminal's output; --args=--json for JSON) as a
new process, each run after every file of
the index has been dropped from the page cache (posix_fadvise
POSIX_FADV_DONTNEED on each: no root needed; pages another process maps
stay), and the same with the index cached, for comparison. With --vs BIN,
a second quarry binary runs in turn with the first (A B A B ...), on the
same words, so that their ratio is measured in one run; with --vs-index,
on an index of its own (a binary of an older format on the index it
built).

Per run: wall time from spawn to exit, major page faults (reads that
waited for the disk) and peak RSS, from /usr/bin/time (bench/scale.py's
spawn_timed), so the wall time counts starting /usr/bin/time too (the
/bin/true row says how much); then, with the index cached, the same
search spawned directly ("warm, direct": wall time only), the figure a
program that runs quarry sees. Writes bench/coldopen.md (or --out); an error is one line on
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


def search_argv(binary, extra, ix, word):
    return [binary, "search", "-i", ix, "-k", "10"] + extra + [word]


def run(binary, extra, ix, word):
    argv = search_argv(binary, extra, ix, word)
    wall, kb, maj, rc = S.spawn_timed(argv)
    if rc not in (0, 1) or kb is None:
        fail("%s: exit %d (run it to see why)" % (" ".join(argv), rc))
    return wall * 1e3, maj, kb / 1024


def run_direct(binary, extra, ix, word):
    """Wall ms of the search spawned from here, without /usr/bin/time."""
    argv = search_argv(binary, extra, ix, word)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        t0 = time.perf_counter()
        pid = os.posix_spawn(binary, argv, os.environ,
                             file_actions=[(os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, null, 2)])
        _, status = os.waitpid(pid, 0)
        t1 = time.perf_counter()
    finally:
        os.close(null)
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        fail("%s: exit %d (run it to see why)" % (" ".join(argv), os.waitstatus_to_exitcode(status)))
    return (t1 - t0) * 1e3, 0, 0


def summary(v):
    return statistics.fmean(v), statistics.median(v), max(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", required=True, help="the index directory")
    ap.add_argument("--quarry", default=os.path.join(ROOT, "build", "quarry"), help="quarry binary (default build/quarry)")
    ap.add_argument("--vs", help="a second quarry binary, run in turn with the first (it may be the same one, with --vs-args)")
    ap.add_argument("--args", default="", help="more search options for the first binary, before WORD (e.g. --no-collapse)")
    ap.add_argument("--vs-args", default="", help="more search options for the second binary")
    ap.add_argument("--vs-index", help="the index the second binary searches (default --index)")
    ap.add_argument("--words", default=",".join(WORDS), help="comma-separated words, one search each per round")
    ap.add_argument("--rounds", type=int, default=3, help="rounds over the words (default 3)")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "coldopen.md"))
    ap.add_argument("--note", default="", help="a sentence for the report (what the binaries are)")
    a = ap.parse_args()
    index = {"A": a.index, "B": a.vs_index or a.index}
    for ix in set(index.values()):
        if not os.path.isfile(os.path.join(ix, "MANIFEST")):
            fail("%s: no index here (no MANIFEST)" % ix)
    bins = [("A", a.quarry)] + ([("B", a.vs)] if a.vs else [])
    extra = {"A": shlex.split(a.args), "B": shlex.split(a.vs_args)}
    for _, b in bins:
        if not os.access(b, os.X_OK):
            fail("%s: not an executable" % b)
    words = [w for w in a.words.split(",") if w]
    kinds = ("cold", "warm", "warm, direct")
    res = {(n, c): [] for n, _ in bins for c in kinds}
    true = []
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    for _ in range(a.rounds):
        for w in words:
            for n, b in bins:
                evict(index[n])
                res[(n, "cold")].append(run(b, extra[n], index[n], w))
                res[(n, "warm")].append(run(b, extra[n], index[n], w))
                res[(n, "warm, direct")].append(run_direct(b, extra[n], index[n], w))
            true.append(S.spawn_timed(["/bin/true"])[0] * 1e3)
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    L = ["# One-shot search with the index out of the page cache\n",
         "Made by `bench/coldopen.sh %s` on %s, commit %s. Each run: every file of the index dropped from the page "
         "cache (posix_fadvise DONTNEED), then `quarry search -i INDEX -k 10 [ARGS] WORD` as a new process "
         "(\"cold\"), then the same again (\"warm\"), both under `/usr/bin/time`, then the same spawned directly "
         "(\"warm, direct\": no `/usr/bin/time`, so no RSS or faults); %d words x %d rounds%s. Wall time from spawn "
         "to exit; major faults are reads that waited for the disk (/usr/bin/time %%F).\n"
         % (" ".join(sys.argv[1:]), started, commit or "?", len(words), a.rounds,
            ", A and B in turn" if a.vs else ""), a.note + "\n" if a.note else ""]
    L.append("| binary | cache | runs | wall mean ms | p50 ms | max ms | major faults p50 | peak RSS MiB p50 |")
    L.append("|---|---|---:|---:|---:|---:|---:|---:|")
    for n, b in bins:
        for c in kinds:
            v = res[(n, c)]
            m, p, x = summary([r[0] for r in v])
            direct = c == "warm, direct"
            L.append("| %s `%s` | %s | %d | %.1f | %.1f | %.1f | %s | %s |"
                     % (n, " ".join([b] + extra[n] + (["on", index[n]] if a.vs_index else [])), c, len(v), m, p, x,
                        "" if direct else "%d" % statistics.median([r[1] for r in v]),
                        "" if direct else "%.1f" % statistics.median([r[2] for r in v])))
    m, p, x = summary(true)
    L.append("| `/bin/true` (starting a process under /usr/bin/time) | | %d | %.1f | %.1f | %.1f | | |" % (len(true), m, p, x))
    if a.vs:
        ratios = [ra[0] / rb[0] for ra, rb in zip(res[("A", "cold")], res[("B", "cold")])]
        L.append("")
        L.append("A ÷ B, cold, run by run: median %.2f (min %.2f, max %.2f)." % (statistics.median(ratios), min(ratios), max(ratios)))
        for c in ("warm", "warm, direct"):
            ratios = [ra[0] / rb[0] for ra, rb in zip(res[("A", c)], res[("B", c)])]
            L.append("")
            L.append("A ÷ B, %s, run by run: median %.2f (min %.2f, max %.2f)." % (c, statistics.median(ratios), min(ratios), max(ratios)))
    with open(a.out, "w") as o:
        o.write("\n".join(L) + "\n")
    print("\n".join(L))


if __name__ == "__main__":
    main()
