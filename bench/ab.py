#!/usr/bin/env python3
"""bench/ab.py — quarry's query speed at two or more commits, query by query.

    bench/ab.py --mode and --queries Q.tsv REV_A REV_B [REV...]
    bench/ab.py --mode and --queries Q.tsv --each 3 --index DIR REV
    bench/ab.py --mode and --queries Q.tsv --index EIGHT --index ONE REV
    bench/ab.py --mode and --queries Q.tsv REV_A@DIR_A REV_B@DIR_B
    bench/ab.py --mode phrase --queries Q.tsv --cachegrind REV_A REV_B
    bench/ab.py --mode phrase --queries Q.tsv REV%-DSWITCH=0 REV%-DSWITCH=1

Each revision's build/libquarry.a (built in a detached worktree under
$TMPDIR/quarry-ab/, `WORK` meaning this checkout's build as it is) is linked
into the peers harness's quarry driver ($PEERS/src/quarry_peer.c, the one
bench/peers.sh measures with). The drivers then run in alternation, --rounds
times each (the first of a round turning from round to round), on one index
and query set (or on each of several indexes given
by --index, every revision on every index: one index built two ways, say;
REV@DIR runs REV on DIR's index only: revisions of two format versions,
each on an index it built; REV%CFLAGS builds REV again with those CFLAGS,
in a build directory of its own: variants behind a compile-time switch):
one process per run opens the index,
runs a warm-up pass and a timed pass (per query: parse, analysis, top-10
search, fetching the 10 external ids). Per query the median and the minimum
over the rounds are kept; the report gives their sums, the ratio of each sum
to the first revision's, and the p99 of the per-query medians. Comparing
sums of per-query medians from alternating runs keeps a shared, noisy
machine's drift out of the ratio better than comparing two separate runs.

--each N repeats every query N times in a row within a pass and reports the
time of each occurrence apart: the first pays for bringing the query's
postings into the CPU caches (the peers protocol times a pass over the whole
set after a warm-up pass over the whole set, so each query runs about as
cold as a first occurrence), the later ones run warm.

--cachegrind runs each driver once under valgrind's cachegrind with its
cache simulation instead of timing it (the same warm-up and timed pass, some
fifty times slower) and reports instructions, L1 and last-level cache misses
and their sum weighted as KCachegrind's cycle estimate weighs them (Ir + 10
per L1 miss + 100 per last-level miss). Those counts do not move with the
machine's load (two runs of one build on the SBG phrases gave the same
counts to the 0.1 million), where timings on this shared machine drift
10-20% between runs, so an effect of a few per cent shows. They are a
model (no branch mispredictions, a simulated cache), not time: a change
they favour is still timed before it is kept.

Defaults: --index $TMPDIR/quarry-scale/news25/peers/quarry (bench/peers.sh's
index), --rounds 5, --each 1. The worktrees stay for the next comparison of
the same commits (`git worktree remove DIR` drops one). Needs git, make, gcc and the index. An error is
one line on stderr and exit status 2. Python 3 standard library only.
"""
import argparse
import hashlib
import math
import os
import re
import shutil
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scale import Fail, compile_driver, guarded, report, run  # noqa: E402  (bench/scale.py: the peers runs' own helpers)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build(spec, work, peers):
    """The driver linked against the libquarry.a of spec (REV, or
    REV%CFLAGS): its path and a label."""
    os.makedirs(work, exist_ok=True)
    rev, _sep, flags = spec.partition("%")
    if flags:   # the same tree built again with the flags, in a build directory of their own
        src, label, tag = build_tree(rev, work)
        fl = hashlib.sha1(flags.encode()).hexdigest()[:8]
        bdir = "build-cflags-" + fl
        run(["make", "-C", src, "-j2", "BUILD=" + bdir, "CFLAGS=" + flags, bdir + "/libquarry.a"],
            "make %s/libquarry.a with CFLAGS=%s at %s" % (bdir, flags, rev))
        exe = os.path.join(work, "driver-%s-%s" % (tag, fl))
        compile_driver(os.path.join(peers, "src", "quarry_peer.c"), src, exe, bdir)
        return exe, "%s with %s" % (label, flags)
    src, label, tag = build_tree(rev, work)
    if rev != "WORK":
        run(["make", "-C", src, "-j2", "build/libquarry.a"], "make build/libquarry.a at %s" % rev)
    exe = os.path.join(work, "driver-" + tag)
    compile_driver(os.path.join(peers, "src", "quarry_peer.c"), src, exe)
    return exe, label


def build_tree(rev, work):
    """The source tree of rev (a worktree under work; WORK: this checkout),
    its label and a tag naming it in file names."""
    if rev == "WORK":
        src, label = ROOT, "WORK (this checkout's build/)"
        if not os.path.isfile(os.path.join(ROOT, "build", "libquarry.a")):
            raise Fail("%s/build/libquarry.a is not built (run make)" % ROOT)
        tag = "work"
    else:
        sha = run(["git", "-C", ROOT, "rev-parse", "--verify", rev + "^{commit}"],
                  "git rev-parse %s" % rev).stdout.strip()
        tag = sha[:12]
        src, label = os.path.join(work, tag), "%s (%s)" % (rev, tag)
        if not os.path.isdir(src):
            run(["git", "-C", ROOT, "worktree", "add", "--detach", src, sha], "git worktree add %s" % src)
    return src, label, tag


def queries(path, each):
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):   # (as quarry search --queries)
                continue
            qid, sep, text = line.partition("\t")
            if not sep:
                raise Fail("%s:%d: not QID<TAB>QUERY" % (path, n))
            rows.append((qid, text))
    if not rows:
        raise Fail("%s: no queries" % path)
    return [("%s~%d" % (qid, k), text) for qid, text in rows for k in range(each)]


def main():
    ap = argparse.ArgumentParser(prog="bench/ab.py", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("revs", nargs="+", metavar="REV", help="git revisions (WORK: this checkout's build/ as it is); "
                    "REV%%CFLAGS: built with those CFLAGS (a variant behind a compile-time switch); "
                    "REV@DIR: on DIR's index only")
    ap.add_argument("--mode", required=True, choices=("or", "and", "phrase"))
    ap.add_argument("--queries", required=True, help="QID<TAB>QUERY lines (words; --mode rewrites them)")
    ap.add_argument("--index", action="append",
                    help="a directory holding ix/ (again: more indexes; default bench/peers.sh's)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--each", type=int, default=1, help="every query N times in a row")
    ap.add_argument("--cachegrind", action="store_true",
                    help="count instructions and simulated cache misses (valgrind) instead of timing")
    ap.add_argument("--out", help="write the report here as well")
    a = ap.parse_args()
    return guarded("bench/ab.py", lambda: compare(a))


def compare(a):
    """The report of the drivers of a.revs, run in alternation."""
    if a.rounds < 1 or a.each < 1:
        raise Fail("--rounds and --each take 1 or more")
    peers = os.path.abspath(os.environ.get("PEERS") or os.path.join(ROOT, "..", "shared", "peers"))
    if not os.path.isfile(os.path.join(peers, "src", "quarry_peer.c")):
        raise Fail("%s/src/quarry_peer.c is missing (set PEERS to the peers harness)" % peers)
    if not os.path.isfile(a.queries):
        raise Fail("%s: no such file (--queries takes QID<TAB>QUERY lines; bench/peers.sh writes its sets to "
                   "$TMPDIR/quarry-scale/queries/)" % a.queries)
    tmp = os.environ.get("TMPDIR") or "/tmp"
    a.index = a.index or [os.path.join(tmp, "quarry-scale", "news25", "peers", "quarry")]
    # (revision, the indexes it runs on)
    revs = [(rev, [ix] if sep else a.index) for rev, sep, ix in (r.partition("@") for r in a.revs)]
    indexes = sorted({ix for _rev, ixs in revs for ix in ixs})
    for ix in indexes:
        if not os.path.isdir(os.path.join(ix, "ix")):
            raise Fail("%s/ix is not an index (bench/peers.sh makes it; or --index DIR holding ix/)" % ix)
    for tool in ("git", "make", "gcc") + (("valgrind",) if a.cachegrind else ()):
        if not shutil.which(tool):
            raise Fail("%s is missing" % tool)
    work = os.path.join(os.environ.get("TMPDIR") or "/tmp", "quarry-ab")
    qs = queries(a.queries, a.each)
    built = [build(rev, work, peers) + (ixs,) for rev, ixs in revs]
    # every revision on each of its indexes: (driver, its label, the index)
    drivers = [(exe, label if len(indexes) == 1 else "%s on %s" % (label, ix), ix)
               for exe, label, ixs in built for ix in ixs]
    if a.cachegrind:
        return cachegrind(a, qs, drivers, indexes)
    lat = [{} for _ in drivers]
    with tempfile.TemporaryDirectory() as d:
        qfile = os.path.join(d, "q.tsv")
        with open(qfile, "w", encoding="utf-8") as f:
            f.writelines("%s\t%s\n" % q for q in qs)
        env = dict(os.environ, PEER_MODE=a.mode)
        for r in range(a.rounds):
            # the order turns from round to round: on this machine the
            # second of two back-to-back runs measured 10-15% slower
            for k in [(r + j) % len(drivers) for j in range(len(drivers))]:
                exe, _label, ix = drivers[k]
                run([exe, "query", ix, qfile, "10", os.path.join(d, "run"), os.path.join(d, "lat"), "quarry"],
                    "the driver of %s" % drivers[k][1], env=env)
                with open(os.path.join(d, "lat")) as f:
                    for line in f:
                        qid, t = line.split("\t")
                        lat[k].setdefault(qid, []).append(float(t) * 1000)
    out = ["# bench/ab.py: %s mode, %s (%d queries%s), %s, %d rounds\n" % (
        a.mode, os.path.basename(a.queries), len(qs) // a.each,
        ", each %d times in a row" % a.each if a.each > 1 else "", ", ".join(indexes), a.rounds),
        "Command: `bench/ab.py %s`\n" % " ".join(sys.argv[1:]),
        "| revision | sum of per-query medians, ms | ratio | sum of minima, ms | ratio | p99 of medians, ms |",
        "|---|---:|---:|---:|---:|---:|"]
    base = None
    for (_exe, label, _ix), v in zip(drivers, lat):
        med = [statistics.median(x) for x in v.values()]
        sm, sn = sum(med), sum(min(x) for x in v.values())
        base = base or (sm, sn)
        med.sort()
        p99 = med[max(0, math.ceil(0.99 * len(med)) - 1)]
        out.append("| %s | %.2f | %.3f | %.2f | %.3f | %.3f |" % (label, sm, sm / base[0], sn, sn / base[1], p99))
    if a.each > 1:
        out += ["", "Per occurrence (sum over the queries of the per-query medians, ms):", "",
                "| revision | " + " | ".join("run %d" % (k + 1) for k in range(a.each)) + " |",
                "|---|" + "---:|" * a.each]
        for (_exe, label, _ix), v in zip(drivers, lat):
            sums = [0.0] * a.each
            for qid, x in v.items():
                sums[int(qid.rsplit("~", 1)[1])] += statistics.median(x)
            out.append("| %s | " % label + " | ".join("%.2f" % s for s in sums) + " |")
    report("\n".join(out) + "\n", a.out)
    return 0


CG_EVENTS = (("I", "refs"), ("I1", "misses"), ("D1", "misses"), ("LL", "misses"))


def cachegrind(a, qs, drivers, indexes):
    """The report of the drivers run once each under cachegrind."""
    rows = []
    with tempfile.TemporaryDirectory() as d:
        qfile = os.path.join(d, "q.tsv")
        with open(qfile, "w", encoding="utf-8") as f:
            f.writelines("%s\t%s\n" % q for q in qs)
        env = dict(os.environ, PEER_MODE=a.mode)
        for exe, label, ix in drivers:
            r = run(["valgrind", "--tool=cachegrind", "--cache-sim=yes",
                     "--cachegrind-out-file=" + os.path.join(d, "cg.out"),
                     exe, "query", ix, qfile, "10", os.path.join(d, "run"), os.path.join(d, "lat"), "quarry"],
                    "valgrind of the driver of %s" % label, env=env)
            got = {}
            for name, what in CG_EVENTS:   # "==PID== D1  misses:  2,274,971  (  2,034,632 rd ..."
                m = re.search(r"^==\d+== %s\s+%s:\s+([\d,]+)" % (name, what), r.stderr, re.M)
                if not m:
                    raise Fail("valgrind of the driver of %s: no '%s %s' in its summary" % (label, name, what))
                got[name] = int(m.group(1).replace(",", ""))
            got["est"] = got["I"] + 10 * (got["I1"] + got["D1"]) + 100 * got["LL"]
            rows.append((label, got))
    out = ["# bench/ab.py --cachegrind: %s mode, %s (%d queries%s), %s\n" % (
        a.mode, os.path.basename(a.queries), len(qs) // a.each,
        ", each %d times in a row" % a.each if a.each > 1 else "", ", ".join(indexes)),
        "Command: `bench/ab.py %s`\n" % " ".join(sys.argv[1:]),
        "One run of each driver (open, warm-up pass, timed pass) under `valgrind --tool=cachegrind "
        "--cache-sim=yes`; estimate = Ir + 10 × (I1 + D1 misses) + 100 × LL misses.\n",
        "| revision | instructions (M) | ratio | L1 misses (M) | LL misses (M) | ratio | estimate (M) | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|"]
    b = rows[0][1]
    for label, g in rows:
        out.append("| %s | %.1f | %.3f | %.2f | %.2f | %.3f | %.1f | %.3f |" % (
            label, g["I"] / 1e6, g["I"] / b["I"], (g["I1"] + g["D1"]) / 1e6, g["LL"] / 1e6,
            g["LL"] / max(b["LL"], 1), g["est"] / 1e6, g["est"] / b["est"]))
    report("\n".join(out) + "\n", a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
