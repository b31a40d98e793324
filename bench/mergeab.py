#!/usr/bin/env python3
"""bench/mergeab.py — `quarry optimize` at two or more commits, on copies of one index.

    bench/mergeab.py REV_A REV_B [REV...]
    bench/mergeab.py --index DIR --rounds 3 --out bench/merge.md HEAD~1 WORK

Each revision's build/quarry (built in a detached worktree under
$TMPDIR/quarry-ab/, as bench/ab.py does; `WORK` is this checkout's build/
as it is) merges a fresh copy of the index (--index: a directory holding
ix/, default bench/peers.sh's news 25x index, eight segments) into one
segment; the revisions take turns, --rounds times each. Reported per
revision: the median and minimum wall and user seconds of the whole
process (/usr/bin/time), each with its ratio to the first revision, and
the peak RSS. The merged files of every revision must be byte-identical to
the first revision's (the writer's speed-ups change no byte): a difference
is an error, exit 2. The copies go to $TMPDIR/quarry-mergeab/ and are
removed. Needs git, make, gcc, /usr/bin/time and the index. An error is
one line on stderr and exit status 2. Python 3 standard library only.
"""
import argparse
import filecmp
import os
import shutil
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scale import Fail, guarded, report, run  # noqa: E402  (bench/scale.py: the peers runs' own helpers)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build(rev, work):
    """rev's build/quarry: its path and a label."""
    if rev == "WORK":
        exe = os.path.join(ROOT, "build", "quarry")
        if not os.access(exe, os.X_OK):
            raise Fail("%s is not built (run make)" % exe)
        return exe, "WORK (this checkout's build/)"
    sha = run(["git", "-C", ROOT, "rev-parse", "--verify", rev + "^{commit}"], "git rev-parse %s" % rev).stdout.strip()
    src = os.path.join(work, sha[:12])
    if not os.path.isdir(src):
        os.makedirs(work, exist_ok=True)
        run(["git", "-C", ROOT, "worktree", "add", "--detach", src, sha], "git worktree add %s" % src)
    run(["make", "-C", src, "-j2", "build/quarry"], "make build/quarry at %s" % rev)
    return os.path.join(src, "build", "quarry"), "%s (%s)" % (rev, sha[:12])


def optimize(exe, ix, label):
    """Wall s, user s, peak RSS KiB of `exe optimize -i ix`."""
    r = subprocess.run(["/usr/bin/time", "-f", "@@ %e %U %M", exe, "optimize", "-i", ix],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    line = [x for x in r.stderr.splitlines() if x.startswith("@@ ")]
    if r.returncode != 0 or not line:
        raise Fail("optimize by %s failed (exit %d): %s" % (label, r.returncode, r.stderr.strip()[-300:]))
    wall, user, rss = line[-1].split()[1:]
    return float(wall), float(user), int(rss)


def ratio(x, base):
    return "%.3f" % (x / base) if base > 0 else "–"


def same_files(a, b):
    """The names of the files that differ between directories a and b (LOCK aside)."""
    na = sorted(x for x in os.listdir(a) if x != "LOCK")
    nb = sorted(x for x in os.listdir(b) if x != "LOCK")
    if na != nb:
        return ["file lists: %s against %s" % (na, nb)]
    return [x for x in na if not filecmp.cmp(os.path.join(a, x), os.path.join(b, x), shallow=False)]


def main():
    ap = argparse.ArgumentParser(prog="bench/mergeab.py", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("revs", nargs="+", metavar="REV", help="git revisions (WORK: this checkout's build/ as it is)")
    tmp = os.environ.get("TMPDIR") or "/tmp"
    ap.add_argument("--index", default=os.path.join(tmp, "quarry-scale", "news25", "peers", "quarry"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", help="write the report here as well")
    a = ap.parse_args()
    scratch = os.path.join(tmp, "quarry-mergeab")
    try:
        return guarded("bench/mergeab.py", lambda: compare(a, scratch))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def compare(a, scratch):
    """The report of a.revs' merges of copies of a.index under scratch."""
    if a.rounds < 1:
        raise Fail("--rounds takes 1 or more")
    src = os.path.join(a.index, "ix")
    if not os.path.isfile(os.path.join(src, "MANIFEST")):
        raise Fail("%s is not an index (bench/peers.sh makes it; or --index DIR holding ix/)" % src)
    for tool in ("git", "make", "gcc", "/usr/bin/time"):
        if not shutil.which(tool):
            raise Fail("%s is missing" % tool)
    exes = [build(r, os.path.join(os.path.dirname(scratch), "quarry-ab")) for r in a.revs]
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    res = [[] for _ in exes]
    first = os.path.join(scratch, "first")
    for rnd in range(a.rounds):
        for k, (exe, label) in enumerate(exes):
            ix = os.path.join(scratch, "ix")
            shutil.rmtree(ix, ignore_errors=True)
            shutil.copytree(src, ix)
            res[k].append(optimize(exe, ix, label))
            if rnd == 0 and k == 0:
                os.rename(ix, first)
                continue
            diff = same_files(first, ix)
            if diff:
                raise Fail("the index merged by %s differs from %s's: %s" % (label, exes[0][1], ", ".join(diff)))
    out = ["# bench/mergeab.py: `quarry optimize` of %s, %d rounds\n" % (src, a.rounds),
           "Command: `bench/mergeab.py %s`\n" % " ".join(sys.argv[1:]),
           "Merged files byte-identical across the revisions: yes.\n",
           "| revision | wall s, median | ratio | wall s, min | ratio | user s, median | ratio | peak RSS MiB |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]
    base = None
    for (_exe, label), v in zip(exes, res):
        wm, wn = statistics.median(x[0] for x in v), min(x[0] for x in v)
        um, rss = statistics.median(x[1] for x in v), max(x[2] for x in v)
        base = base or (wm, wn, um)
        out.append("| %s | %.2f | %s | %.2f | %s | %.2f | %s | %.1f |" % (
            label, wm, ratio(wm, base[0]), wn, ratio(wn, base[1]), um, ratio(um, base[2]), rss / 1024))
    report("\n".join(out) + "\n", a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
