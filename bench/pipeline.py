#!/usr/bin/env python3
"""bench/pipeline.py — the code behind bench/pipeline.sh: the measurements of
issue 8 (an index of immutable segments: index --add, delete, optimize,
search -i A -i B). bench/pipeline.sh's header and --help say what it
measures and writes.

Python 3 standard library only. It imports bench/scale.py for what they
share (the replicated news corpus, the title query set, /usr/bin/time, the
machine and commit, the peers harness). The score check at full precision
calls this checkout's build/libquarry.so through ctypes.
"""
import argparse
import ctypes
import glob
import json
import os
import random
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True      # no bench/__pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scale as S                    # noqa: E402  (bench/scale.py)

Fail = S.Fail
note = S.note
ROOT = S.ROOT
PROG = "bench/pipeline.sh"
SECTIONS = ("build", "memory", "add", "size", "equiv")
# seeds of this script's generated inputs and samples ("issue 8, item N")
TINY_SEED, BIG_SEED, ADD_SEED, EQUIV_SEED = 8000002, 8000003, 8000004, 8000005
TINY_DOCS = 1000000
LUCENE_POST_POS_MIB = 466.4          # Lucene 4.10 with positions, news 25x (bench/peers.md)
SIZE_TARGET_MIB = 456
SUMMARY = re.compile(r"quarry: indexed (\d+) articles(?: \((\d+) added, (\d+) replaced\))?, (\d+) passages in ([\d.]+)s "
                     r"\(([\d.]+) MB/s, peak memory (\d+) MB\); (\d+) segments?"
                     r"(?:, (\d+) merges? \(write amplification ([\d.]+)\))?")


# ------------------------------------------------------------------ running things

def timed(argv, env=None):
    """argv under `/usr/bin/time -v`, its exit status tolerated: a dict with
    rc, wall_s (measured here around /usr/bin/time, as the peers harness
    does, so quarry and FTS5 are timed alike), peak_rss_kb, user_s, sys_s,
    stderr and stdout."""
    fd, tf = tempfile.mkstemp(prefix="quarry-pipeline-time-")
    os.close(fd)
    try:
        t0 = time.monotonic()
        try:
            r = subprocess.run(["/usr/bin/time", "-v", "-o", tf] + argv, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env)
        except OSError as e:
            raise Fail("cannot run /usr/bin/time: %s" % e.strerror)
        wall = time.monotonic() - t0
        out = {"rc": r.returncode, "wall_s": wall, "stderr": r.stderr, "stdout": r.stdout}
        with open(tf) as f:
            for line in f:
                k, _, v = line.strip().rpartition(": ")
                if k == "Maximum resident set size (kbytes)":
                    out["peak_rss_kb"] = int(v)
                elif k == "User time (seconds)":
                    out["user_s"] = float(v)
                elif k == "System time (seconds)":
                    out["sys_s"] = float(v)
    finally:
        os.unlink(tf)
    return out


def last_line(r):
    lines = (r.get("stderr") or "").strip().splitlines() or (r.get("stdout") or "").strip().splitlines()
    return lines[-1] if lines else "(no output)"


def summary(stderr):
    """The figures of `quarry index`'s summary line (src/cli/index.c)."""
    m = full = None
    for line in stderr.splitlines():
        x = SUMMARY.search(line)
        if x:
            m, full = x, line.strip()
    if not m:
        return {}
    g = m.groups()
    return {"articles": int(g[0]), "added": int(g[1]) if g[1] else None, "replaced": int(g[2]) if g[2] else None,
            "passages": int(g[3]), "secs": float(g[4]), "mb_s": float(g[5]), "peak_mb": int(g[6]),
            "segments": int(g[7]), "merges": int(g[8]) if g[8] else 0, "wa": float(g[9]) if g[9] else 1.0,
            "line": full}


def stats(c, ix):
    """`quarry stats -i IX`: live articles, segments, per-kind bytes, totals."""
    r = subprocess.run([c.p.quarry, "stats", "-i", ix], capture_output=True, text=True)
    if r.returncode != 0:
        raise Fail("quarry stats -i %s failed (exit %d): %s" % (ix, r.returncode, last_line({"stderr": r.stderr})))
    t = r.stdout
    s = {"text": t, "kinds": {}}
    m = re.search(r"^articles\s+(\d+)(?: \((\d+) more deleted)?", t, re.M)
    s["articles"] = int(m.group(1)) if m else None
    s["deleted"] = int(m.group(2)) if m and m.group(2) else 0
    m = re.search(r"\(generation (\d+), (\d+) segments?\)", t)
    s["segments"] = int(m.group(2)) if m else None
    for m in re.finditer(r"^\s+\*\.(\w+)\s+(\d+) bytes in (\d+) files?", t, re.M):
        s["kinds"][m.group(1)] = int(m.group(2))
    m = re.search(r"^\s*total\s+(\d+) bytes.*?postings \+ positions ([\d.]+) MiB", t, re.M)
    s["bytes"] = int(m.group(1)) if m else None
    s["post_pos_mib"] = float(m.group(2)) if m else None
    return s


def rmtree(d):
    if os.path.lexists(d):
        shutil.rmtree(d) if os.path.isdir(d) and not os.path.islink(d) else os.unlink(d)


def mib(kb):
    return None if kb is None else kb / 1024.0


def f1(x, nd=1):
    return "–" if x is None else "%.*f" % (nd, x)


def pct(part, whole):
    return 100.0 * part / whole if whole else None


# ------------------------------------------------------------------ the run

class Run:
    def __init__(self, args):
        self.args = args
        self.p = S.paths(args)
        self.flags = self.p.flags.split()
        self.anomalies = []            # what looked wrong: (section, text, command)
        self.commands = []             # (section, what, command) in the order run
        self.res = {}                  # section -> its results
        self.built = {}                # indexes kept for later sections: name -> (dir, record)
        self.loads = {}
        self.errmsgs = {}              # a failed query's message -> the queries (mode qid)

    # how a command is shown in the report: quarry as build/quarry, paths under $CACHE / $WORK
    def show(self, argv, env=None):
        out = []
        for a in argv:
            if a == self.p.quarry:
                a = os.path.relpath(a, ROOT) if a.startswith(ROOT + os.sep) else a
            elif a.startswith(self.work + os.sep) or a == self.work:
                a = "$WORK" + a[len(self.work):]
            elif a.startswith(self.p.cache + os.sep):
                a = "$CACHE" + a[len(self.p.cache):]
            elif self.peers and a.startswith(self.peers + os.sep):
                a = "$PEERS_DIR" + a[len(self.peers):]
            out.append(a if re.fullmatch(r"[-A-Za-z0-9_./=:,+@$]+", a) else shlex.quote(a))
        return " ".join(("%s=%s " % kv for kv in (env or {}).items())) + " ".join(out)

    def record(self, section, what, argv, env=None):
        cmd = self.show(argv, env)
        self.commands.append((section, what, cmd))
        return cmd

    def anomaly(self, section, text, argv=None):
        cmd = self.show(argv) if argv else ""
        self.anomalies.append((section, text, cmd))
        note("%s: UNEXPECTED: %s%s" % (section, text, " — %s" % cmd if cmd else ""))

    def quarry(self, section, what, args, ok=True):
        """quarry ARGS under /usr/bin/time -v; a failure is fatal unless ok is False
        (then the caller judges it). The peak RSS of every index and optimize
        that succeeds is checked against its --mem (default 256) × 1.1 + 20 MiB."""
        argv = [self.p.quarry] + args
        cmd = self.record(section, what, argv)
        r = timed(argv)
        r["cmd"] = cmd
        r["summary"] = summary(r["stderr"])
        if ok and r["rc"] != 0:
            raise Fail("%s failed (exit %d): %s [%s]" % (what, r["rc"], last_line(r), cmd))
        if ok and args[0] in ("index", "optimize") and r.get("peak_rss_kb"):
            mem = int(args[args.index("--mem") + 1]) if "--mem" in args else 256
            if r["peak_rss_kb"] / 1024 > limit_mib(mem):
                self.anomaly(section, "%s: peak RSS %.1f MiB, over the limit of --mem %d (%.1f MiB)"
                             % (what, r["peak_rss_kb"] / 1024, mem, limit_mib(mem)), argv)
        return r

    def index(self, section, what, dst, inputs, extra, add=False):
        """quarry index [FLAGS] EXTRA -o DST INPUTS (the flags only when not --add:
        an index keeps the analyzer settings it was built with)."""
        if not add:
            rmtree(dst)
        args = ["index"] + ([] if add else self.flags) + (["--add"] if add else []) + extra + ["-o", dst] + inputs
        return self.quarry(section, what, args)


# ------------------------------------------------------------------ inputs

def vocabulary(rng, n):
    """n distinct pseudo-words of 2-9 letters."""
    seen, out = set(), []
    letters = "abcdefghijklmnopqrstuvwxyz"
    while len(out) < n:
        w = "".join(rng.choices(letters, k=rng.randint(2, 9)))
        if w not in seen:
            seen.add(w)
            out.append(w)
    return out


def tiny_corpus(c):
    """1,000,000 documents of 1-6 words from a vocabulary of 5,000 pseudo-words (seed TINY_SEED)."""
    d = os.path.join(c.p.cache, "pipeline")
    os.makedirs(d, exist_ok=True)
    out = os.path.join(d, "tiny-%d-s%d.jsonl" % (TINY_DOCS, TINY_SEED))
    if os.path.isfile(out) and S.count_lines(out) == TINY_DOCS:
        return out
    note("memory: making %s" % out)
    rng = random.Random(TINY_SEED)
    V = vocabulary(rng, 5000)
    with open(out + ".part", "w") as f:
        for i in range(TINY_DOCS):
            f.write('{"id": "tiny%d", "title": "", "text": "%s"}\n' % (i, " ".join(rng.choices(V, k=rng.randint(1, 6)))))
    os.replace(out + ".part", out)
    return out


def big_document(c, mib_text):
    """One JSON line whose text is exactly mib_text MiB: pseudo-words of a
    50,000-word vocabulary, sentences of 8-20 words, one a line (seed BIG_SEED)."""
    d = os.path.join(c.p.cache, "pipeline")
    os.makedirs(d, exist_ok=True)
    out = os.path.join(d, "big-%dMiB-s%d.jsonl" % (mib_text, BIG_SEED))
    if os.path.isfile(out):
        return out
    note("memory: making %s" % out)
    rng = random.Random(BIG_SEED)
    V = vocabulary(rng, 50000)
    want = mib_text << 20
    parts, n = [], 0
    while n < want:
        s = " ".join(rng.choices(V, k=rng.randint(8, 20))) + ".\n"
        parts.append(s)
        n += len(s)
    text = "".join(parts)[:want]
    with open(out + ".part", "w") as f:
        f.write(json.dumps({"id": "big%d" % mib_text, "title": "a generated document of %d MiB" % mib_text, "text": text}) + "\n")
    os.replace(out + ".part", out)
    return out


ID_RE = re.compile(rb'\{"id": "([^"\\]*)"')


def line_id(line):
    """The id of a corpus line (replicate.py writes it first; else the JSON is parsed)."""
    m = ID_RE.match(line)
    return m.group(1).decode() if m else json.loads(line)["id"]


def line_offsets(path):
    """Byte offsets of the corpus's lines and their ids."""
    offs, ids = [], []
    with open(path, "rb") as f:
        pos = 0
        for line in f:
            if line.strip():
                offs.append(pos)
                ids.append(line_id(line))
            pos += len(line)
    return offs, ids


def revised(line, tag):
    """The document of a corpus line with its text slightly changed (an update)."""
    j = json.loads(line)
    j["text"] = "Revised (%s). %s" % (tag, j["text"])
    return json.dumps(j) + "\n"


def copy_lines(src, offs, start, end, dst):
    """Copies lines start..end-1 of src (offs: their byte offsets) to dst."""
    with open(src, "rb") as f, open(dst, "wb") as o:
        f.seek(offs[start])
        left = (offs[end] if end < len(offs) else os.path.getsize(src)) - offs[start]
        while left > 0:
            b = f.read(min(left, 1 << 20))
            if not b:
                break
            o.write(b)
            left -= len(b)


# ------------------------------------------------------------------ 1. build speed beside FTS5

def fts5_harness(c):
    """The peers harness copy with its fts5 driver: reused as it is when its
    bin/fts5_peer is there (nothing recompiled, so another checkout's
    bin/quarry_peer is left alone); else made by scale.py's prepare_peers.
    Returns the command prefix: run_peer.sh when every driver that it checks
    for is built, else harness.py itself (what run_peer.sh runs)."""
    d = S.peers_dir(c.p, c.args)
    if not (os.path.isfile(os.path.join(d, "harness.py")) and os.access(os.path.join(d, "bin", "fts5_peer"), os.X_OK)):
        if not os.path.isfile(c.p.lib):
            raise Fail("%s is not built (run make in %s)" % (c.p.lib, ROOT))
        S.prepare_peers(c.p, c.args, ["fts5"])
    c.peers = d
    if S.peers_dir_ready(d, []):
        return [os.path.join(d, "run_peer.sh")]
    return ["/usr/bin/python3", os.path.join(d, "harness.py")]


def sec_build(c):
    a = c.args
    runner = fts5_harness(c)
    systems = [("t2", "quarry --threads 2"), ("t1", "quarry --threads 1"), ("fts5", "sqlite fts5")]
    res = {k: [] for k, _ in systems}
    for rep in range(a.repeat):
        order = systems[rep % len(systems):] + systems[:rep % len(systems)]   # who goes first rotates
        for key, label in order:
            if key == "fts5":
                ix = os.path.join(c.work, "build-fts5")
                rmtree(ix)
                argv = runner + ["fts5", "build", c.corpus, ix]
                env = S.peer_env(c.p)
                cmd = c.record("build", "sqlite fts5 build", argv, {"PEER_POSITIONS": "1"})
                r = S.run(argv, "fts5 build (peers harness)", env=env)
                j = S.last_json(r.stdout, "fts5 build")
                rec = {"wall_s": j["build_s"], "peak_rss_kb": j.get("peak_rss_kb"), "docs": j.get("docs"),
                       "bytes": j.get("index_bytes"), "index_s": j.get("index_s"), "optimize_s": j.get("optimize_s"),
                       "cmd": cmd}
                rmtree(ix)
            else:
                t = key[1]
                ix = os.path.join(c.work, "build-" + key)
                r = c.index("build", label, ix, [c.corpus], ["--threads", t])
                s = r["summary"]
                if not s:
                    raise Fail("no summary line from %s: %s" % (r["cmd"], last_line(r)))
                rec = {"wall_s": r["wall_s"], "peak_rss_kb": r.get("peak_rss_kb"), "docs": s["articles"], "sum": s,
                       "cmd": r["cmd"], "user_s": r.get("user_s")}
                if s["articles"] != c.docs:
                    c.anomaly("build", "%s indexed %d articles of %d" % (label, s["articles"], c.docs))
                c.built[key] = (ix, rec)
            res[key].append(rec)
            note("build [%d/%d] %-20s %7.2f s  %8.0f docs/s  peak RSS %s MiB%s"
                 % (rep + 1, a.repeat, label, rec["wall_s"], rec["docs"] / rec["wall_s"], f1(mib(rec["peak_rss_kb"]), 0),
                    "  segments %d, merges %d, write amplification %.2f" % (rec["sum"]["segments"], rec["sum"]["merges"], rec["sum"]["wa"])
                    if "sum" in rec else ""))
    c.res["build"] = {"systems": systems, "res": res}
    c.full_build_s = statistics.median(r["wall_s"] for r in res["t2"])


# ------------------------------------------------------------------ 2. memory bound

def limit_mib(mem):
    return mem * 1.1 + 20


def sec_memory(c):
    rows = []
    w = os.path.join(c.work, "memory")
    os.makedirs(w, exist_ok=True)
    news3 = c.corpus if c.args.replicas == 3 else S.news_corpus(c.p, 3)[0]
    tiny = tiny_corpus(c)
    big60, big31 = big_document(c, 60), big_document(c, 31)

    def case(name, what, args, mem, expect="ok", want=None, keep=None, limit=None):
        argv_dst = os.path.join(w, keep or "ix")
        full = [x if x != "DST" else argv_dst for x in args]
        if full[0] == "index":
            rmtree(argv_dst)
        r = c.quarry("memory", what, full, ok=False)
        row = {"case": name, "what": what, "cmd": r["cmd"], "mem": mem, "rc": r["rc"], "wall_s": r["wall_s"],
               "rss_mib": mib(r.get("peak_rss_kb")), "limit": limit or limit_mib(mem), "expect": expect,
               "msg": last_line(r) if r["rc"] else (r["summary"].get("line") or last_line(r)), "sum": r["summary"]}
        if expect == "ok":
            row["within"] = r["rc"] == 0 and row["rss_mib"] is not None and row["rss_mib"] <= row["limit"]
            if r["rc"] != 0:
                c.anomaly("memory", "%s: exit %d: %s" % (name, r["rc"], row["msg"]), [c.p.quarry] + full)
            elif not row["within"]:
                c.anomaly("memory", "%s (%s): peak RSS %.1f MiB over the limit %.1f MiB (--mem %d)"
                          % (name, what, row["rss_mib"], row["limit"], mem), [c.p.quarry] + full)
        else:
            row["within"] = (r["rc"] == 2 and (want is None or want in row["msg"]) and r["wall_s"] < 1.0)
            if not row["within"]:
                c.anomaly("memory", "%s: expected a quick refusal (exit 2%s), got exit %d in %.2f s: %s"
                          % (name, ", naming %r" % want if want else "", r["rc"], r["wall_s"], row["msg"]), [c.p.quarry] + full)
        rows.append(row)
        note("memory %-6s %-58s exit %d  %6.2f s  peak RSS %6.1f MiB  limit %6.1f  %s"
             % (name, what[:58], r["rc"], r["wall_s"], row["rss_mib"] or 0, row["limit"],
                "ok" if row["within"] else "NOT WITHIN / UNEXPECTED"))
        if keep:
            c.built[keep] = (argv_dst, row)
        return row

    case("a", "%s, --mem 64 --threads 2" % c.clabel, ["index"] + c.flags + ["--mem", "64", "--threads", "2", "-o", "DST", c.corpus], 64,
         limit=90)                    # the figure for news 25x, below 64 × 1.1 + 20
    case("b", "%d tiny documents (1-6 words), --mem 8" % TINY_DOCS, ["index", "--mem", "8", "-o", "DST", tiny], 8)
    case("c", "one 60 MiB document, --mem 256 (limit 32 MiB): refused", ["index", "--mem", "256", "-o", "DST", big60], 256,
         expect="refused", want="32 MiB")
    case("c", "one 60 MiB document, --mem 512, passages on", ["index", "--mem", "512", "--passages", "on", "-o", "DST", big60], 512)
    case("c", "one 60 MiB document, --mem 512 --passages off", ["index", "--mem", "512", "--passages", "off", "-o", "DST", big60], 512)
    for t in ("1", "2", "4"):
        case("d", "one 31 MiB document, default --mem (256), --threads %s" % t, ["index", "--threads", t, "-o", "DST", big31], 256)
    case("e", "news 3x, --threads 16 --mem 128", ["index"] + c.flags + ["--threads", "16", "--mem", "128", "-o", "DST", news3], 128)
    case("e", "news 3x, --threads 16 --mem 32: refused", ["index"] + c.flags + ["--threads", "16", "--mem", "32", "-o", "DST", news3], 32,
         expect="refused")
    rmtree(os.path.join(w, "ix"))
    case("f", "%s, --mem 64 --threads 2 --no-merge" % c.clabel,
         ["index"] + c.flags + ["--mem", "64", "--threads", "2", "--no-merge", "-o", "DST", c.corpus], 64, keep="m64")
    before = stats(c, c.built["m64"][0])
    case("f", "quarry optimize --mem 64 of that index (%d segments)" % before["segments"],
         ["optimize", "-i", c.built["m64"][0], "--mem", "64"], 64)
    after = stats(c, c.built["m64"][0])
    c.res["memory"] = {"rows": rows, "m64_before": before, "m64_after": after, "optimize_line": rows[-1]["msg"]}
    c.built.pop("m64")
    c.m64 = (before, after, rows[-2], rows[-1])
    rmtree(w)


# ------------------------------------------------------------------ 3. adding 1%

def sec_add(c):
    w = os.path.join(c.work, "add")
    rmtree(w)
    os.makedirs(w)
    n1 = c.docs // 100
    first = c.docs - n1
    rng = random.Random(ADD_SEED)
    pick = rng.sample(range(first), 3 * n1)
    some, upd, dele = set(pick[:n1]), set(pick[n1:2 * n1]), sorted(pick[2 * n1:])
    fbase, fsome, f1p, fupd, fdel = (os.path.join(w, x) for x in
                                     ("base.jsonl", "random1.jsonl", "last1.jsonl", "updates.jsonl", "delete.ids"))
    note("add: writing the base (%d documents), a random 1%% of the first 99%% (%d, seed %d), the last %d, %d updates "
         "and %d ids to delete" % (first - n1, n1, ADD_SEED, n1, n1, n1))
    with open(c.corpus, "rb") as f, open(fbase, "wb") as a, open(fsome, "wb") as m, open(f1p, "wb") as b, \
            open(fupd, "w") as u:
        dset = set(dele)
        ids_del = {}
        for i, line in enumerate(f):
            if i >= first:
                b.write(line)
            elif i in some:
                m.write(line)
            else:
                a.write(line)
                if i in upd:
                    u.write(revised(line, "update"))
                elif i in dset:
                    ids_del[i] = line_id(line)
    with open(fdel, "w") as o:
        for i in dele:
            o.write(ids_del[i] + "\n")
    ix = os.path.join(w, "ix")
    steps = []
    if "build" not in c.res:
        r = c.index("add", "full build (the reference)", os.path.join(w, "full"), [c.corpus], ["--threads", "2"])
        c.full_build_s = r["wall_s"]
        c.full_build_cmd = r["cmd"]
        rmtree(os.path.join(w, "full"))

    def fresh(label, path):
        """The same documents indexed alone, as a new index: what indexing
        them costs without an index to add to."""
        d = os.path.join(w, "fresh")
        r = c.index("add", "fresh build of " + label, d, [path], ["--threads", "2"])
        rmtree(d)
        return r

    r = c.index("add", "build of the base", ix, [fbase], ["--threads", "2"])
    r["in_bytes"] = os.path.getsize(fbase)
    steps.append(("build of the base: the first 99%% less a random 1%% (%d documents)" % (first - n1), r, stats(c, ix)))
    for label, path in (("a random 1%", fsome), ("the last 1%", f1p)):
        ref = fresh(label, path)
        r = c.index("add", "--add of " + label, ix, [path], ["--threads", "2"], add=True)
        r["in_bytes"] = os.path.getsize(path)
        r["fresh"] = ref
        steps.append(("`--add` of %s (%d new ids)" % (label, n1), r, stats(c, ix)))
        if (r["summary"].get("added"), r["summary"].get("replaced")) != (n1, 0):
            c.anomaly("add", "--add of %d new ids: %s" % (n1, r["summary"].get("line")), None)
    r = c.index("add", "--add of 1% updates", ix, [fupd], ["--threads", "2"], add=True)
    r["in_bytes"] = os.path.getsize(fupd)
    steps.append(("`--add` of 1%% updates (%d ids already there, text changed)" % n1, r, stats(c, ix)))
    if (r["summary"].get("added"), r["summary"].get("replaced")) != (0, n1):
        c.anomaly("add", "--add of %d updates: %s" % (n1, r["summary"].get("line")), None)
    r = c.quarry("add", "delete of 1%", ["delete", "-i", ix, "--ids", fdel])
    steps.append(("`quarry delete --ids FILE` of %d ids" % n1, r, stats(c, ix)))
    m = re.search(r"deleted (\d+) articles \((\d+) ids asked, (\d+) not in the index\)", r["stderr"])
    r["delete_line"] = last_line(r)
    if not m or int(m.group(1)) != n1:
        c.anomaly("add", "delete of %d ids: %s" % (n1, r["delete_line"]), None)
    final = steps[-1][2]
    if final["articles"] != c.docs - n1:
        c.anomaly("add", "after the adds, the updates and the delete the index holds %s live articles, expected %d"
                  % (final["articles"], c.docs - n1), None)
    c.res["add"] = {"n1": n1, "first": first, "steps": steps, "full_s": c.full_build_s,
                    "corpus_bytes": os.path.getsize(c.corpus)}
    for what, r, st in steps:
        note("add %-62s %7.2f s = %5.1f%% of a full build%s; peak RSS %s MiB; %s segments in the index"
             % (what, r["wall_s"], pct(r["wall_s"], c.full_build_s),
                " (the same documents as a new index: %.2f s)" % r["fresh"]["wall_s"] if "fresh" in r else "",
                f1(mib(r.get("peak_rss_kb")), 0), st["segments"]))
    rmtree(w)


# ------------------------------------------------------------------ 4. size

def sec_size(c):
    rows = []
    if "t2" not in c.built:
        c.index("size", "quarry --threads 2", os.path.join(c.work, "build-t2"), [c.corpus], ["--threads", "2"])
        c.built["t2"] = (os.path.join(c.work, "build-t2"), None)
    rows.append(("`quarry index %s --threads 2` (default --mem 256, merges included)" % " ".join(c.flags), stats(c, c.built["t2"][0])))
    if "t1" in c.built:
        rows.append(("`quarry index %s --threads 1`" % " ".join(c.flags), stats(c, c.built["t1"][0])))
    if not getattr(c, "m64", None):
        ix = os.path.join(c.work, "size-m64")
        c.index("size", "--mem 64 --no-merge", ix, [c.corpus], ["--mem", "64", "--threads", "2", "--no-merge"])
        before = stats(c, ix)
        r = c.quarry("size", "optimize --mem 64", ["optimize", "-i", ix, "--mem", "64"])
        c.m64 = (before, stats(c, ix), None, {"msg": last_line(r)})
        rmtree(ix)
    before, after = c.m64[0], c.m64[1]
    rows.append(("`--mem 64 --threads 2 --no-merge` (%d segments)" % before["segments"], before))
    rows.append(("the same after `quarry optimize --mem 64` (one segment)", after))
    c.res["size"] = {"rows": rows}
    for what, s in rows:
        note("size %-70s postings + positions %s MiB; all files %.1f MiB" % (what, s["post_pos_mib"], s["bytes"] / 1048576))


# ------------------------------------------------------------------ 5. equivalence

class Lib:
    """libquarry through ctypes (build/libquarry.so): scores at full precision."""

    class Err(ctypes.Structure):
        _fields_ = [("code", ctypes.c_int), ("msg", ctypes.c_char * 1024)]

    class Hit(ctypes.Structure):
        _fields_ = [("score", ctypes.c_double), ("passage", ctypes.c_uint32), ("article", ctypes.c_uint32)]

    class Results(ctypes.Structure):
        _fields_ = [("n", ctypes.c_size_t), ("hits", ctypes.c_void_p)]

    class Article(ctypes.Structure):
        _fields_ = [("id", ctypes.c_char_p), ("title", ctypes.c_char_p), ("date", ctypes.c_char_p),
                    ("first_passage", ctypes.c_uint32), ("npassages", ctypes.c_uint32)]

    def __init__(self, path):
        L = ctypes.CDLL(path)
        vp = ctypes.c_void_p
        L.quarry_open_many.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t, ctypes.POINTER(vp), vp]
        L.quarry_close.argtypes = [vp]
        L.quarry_search_options_init.argtypes = [vp]
        L.quarry_search.argtypes = [vp, ctypes.c_char_p, vp, ctypes.POINTER(vp), vp]
        L.quarry_results_free.argtypes = [vp]
        L.quarry_article_get.argtypes = [vp, ctypes.c_uint32, ctypes.POINTER(Lib.Article), vp]
        self.L = L
        self.path = path

    def run(self, dirs, queries):
        """{qid: [(id, score)] or ('error', message)} for (qid, query) pairs, k = 10."""
        L, err = self.L, Lib.Err()
        arr = (ctypes.c_char_p * len(dirs))(*[d.encode() for d in dirs])
        ix = ctypes.c_void_p()
        if L.quarry_open_many(arr, len(dirs), ctypes.byref(ix), ctypes.byref(err)):
            raise Fail("libquarry: cannot open %s: %s" % (" ".join(dirs), err.msg.decode(errors="replace")))
        opts = ctypes.create_string_buffer(512)       # larger than quarry_search_options; defaults (k = 10)
        L.quarry_search_options_init(opts)
        out = {}
        hitp = ctypes.POINTER(Lib.Hit)
        try:
            for qid, q in queries:
                res = ctypes.c_void_p()
                if L.quarry_search(ix, q.encode(), opts, ctypes.byref(res), ctypes.byref(err)):
                    out[qid] = ("error", err.msg.decode(errors="replace"))
                    continue
                r = ctypes.cast(res, ctypes.POINTER(Lib.Results)).contents
                hits = ctypes.cast(r.hits, hitp)
                lst = []
                for i in range(r.n):
                    a = Lib.Article()
                    if L.quarry_article_get(ix, hits[i].article, ctypes.byref(a), ctypes.byref(err)):
                        raise Fail("libquarry: article %d: %s" % (hits[i].article, err.msg.decode(errors="replace")))
                    lst.append((a.id.decode(), hits[i].score))
                L.quarry_results_free(res)
                out[qid] = lst
        finally:
            L.quarry_close(ix)
        return out


def lib_path(c):
    cands = sorted(glob.glob(os.path.join(ROOT, "build", "libquarry.so.*")))
    return cands[-1] if cands else None


def cli_search(c, dirs, qfile, qids):
    """`quarry search -i D... --json -k 10 --queries QFILE`: {qid: [(doc, score as printed)]}, and
    {qid: message} for the queries that failed (reported as QFILE:LINE: ... on stderr)."""
    argv = [c.p.quarry, "search"] + [x for d in dirs for x in ("-i", d)] + ["--json", "-k", "10", "--queries", qfile]
    cmd = c.record("equiv", "search", argv)
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    res, errs = {}, {}
    for line in r.stdout.splitlines():
        if line.strip():
            j = json.loads(line, parse_float=str)
            res.setdefault(j["qid"], []).append((j["doc"], j["score"]))
    for line in r.stderr.splitlines():
        m = re.match(r"^(?:quarry: )?(.+):(\d+): (.*)$", line)
        if m and m.group(1) == qfile and 1 <= int(m.group(2)) <= len(qids):
            errs[qids[int(m.group(2)) - 1]] = m.group(3)
    if r.returncode not in (0, 1) and not (r.returncode == 2 and errs):
        raise Fail("%s failed (exit %d): %s" % (cmd, r.returncode, last_line({"stderr": r.stderr})))
    return res, errs, cmd


def compare(c, label, mode, A, B, qtext, precise=False):
    """A, B: {qid: hits}. The count of identical queries, of queries that
    differ only in the last printed digit of a score, the mismatches and the
    largest relative score difference."""
    same = rounding = 0
    bad, maxrel = [], 0.0
    for qid, q in qtext:
        a, b = A.get(qid, []), B.get(qid, [])
        if isinstance(a, tuple) or isinstance(b, tuple):   # library errors (no searchable term)
            if a == b or (isinstance(a, tuple) and b == []) or (isinstance(b, tuple) and a == []):
                same += 1
            else:
                bad.append((qid, q, "error %r against %r" % (a, b)))
            continue
        if [x for x, _ in a] != [x for x, _ in b]:
            i = next((i for i in range(max(len(a), len(b))) if i >= len(a) or i >= len(b) or a[i][0] != b[i][0]), 0)
            bad.append((qid, q, "rank %d: %s against %s (%d against %d hits)"
                        % (i + 1, a[i] if i < len(a) else "none", b[i] if i < len(b) else "none", len(a), len(b))))
            continue
        rel, worst = 0.0, None
        for i, ((_, x), (_, y)) in enumerate(zip(a, b)):
            fx, fy = float(x), float(y)
            d = abs(fx - fy) / max(abs(fx), abs(fy), 1e-300)
            if d > rel:
                rel, worst = d, i
        maxrel = max(maxrel, rel)
        if precise:
            if rel <= 1e-9:
                same += 1
            else:
                bad.append((qid, q, "rank %d: score %r against %r (relative difference %.3g)" % (worst + 1, a[worst][1], b[worst][1], rel)))
        elif all(x == y for (_, x), (_, y) in zip(a, b)):
            same += 1
        elif all(abs(float(x) - float(y)) <= 1.5e-6 for (_, x), (_, y) in zip(a, b)):
            rounding += 1          # the same to the 6 printed decimals but one rounding: the library check decides
        else:
            bad.append((qid, q, "rank %d: score %s against %s" % (worst + 1, a[worst][1], b[worst][1])))
    return {"label": label, "mode": mode, "n": len(qtext), "same": same, "rounding": rounding, "bad": bad, "maxrel": maxrel}


def title_queries(c):
    ns = argparse.Namespace(corpus=None, queries=None, n_queries=c.args.n_queries, query_specs=[])
    sets = [x for x in S.query_sets(c.p, ns) if x[0] == "title"]
    if not sets:
        raise Fail("no title query set (make_queries.py)")
    return sets[0][2], sets[0][3]


def equiv_compare(c, label, dirs_a, dirs_b, qfiles, lib, out):
    for mode, (qf, qtext) in qfiles.items():
        qids = [q for q, _ in qtext]
        A, ea, cmd_a = cli_search(c, dirs_a, qf, qids)
        B, eb, cmd_b = cli_search(c, dirs_b, qf, qids)
        r = compare(c, label, mode, A, B, qtext)
        r["errors"] = (len(ea), len(eb))
        for e in (ea, eb):
            for qid, msg in e.items():
                c.errmsgs.setdefault(msg, set()).add("%s %s" % (mode, qid))
        r["cmds"] = (cmd_a, cmd_b)
        if lib:
            P = lib.run(dirs_a, qtext)
            Q = lib.run(dirs_b, qtext)
            r["lib"] = compare(c, label, mode, P, Q, qtext, precise=True)
        out.append(r)
        L = r.get("lib")
        note("equiv %-46s %-6s %4d queries: CLI %d identical, %d last-digit, %d mismatches%s"
             % (label, mode, r["n"], r["same"], r["rounding"], len(r["bad"]),
                "; library: %d mismatches, max relative score difference %.2g" % (len(L["bad"]), L["maxrel"]) if L else ""))
        for which, rr in (("CLI", r), ("library", L)):
            if rr and rr["bad"]:
                qid, q, what = rr["bad"][0]
                c.anomaly("equiv", "%s, %s mode, %s: %d of %d queries differ; the first: %s %r: %s"
                          % (label, mode, which, len(rr["bad"]), rr["n"], qid, q, what))


def sec_equiv(c):
    a = c.args
    w = os.path.join(c.work, "equiv")
    rmtree(w)
    os.makedirs(w)
    K, U = a.batches, a.updates
    qsrc, nq = title_queries(c)
    qfiles = {}
    for mode in S.MODES:
        qf = S.quarry_queries(qsrc, mode, os.path.join(w, "title-%s.q" % mode))
        with open(qf) as f:
            qfiles[mode] = (qf, [tuple(l.rstrip("\n").split("\t", 1)) for l in f if "\t" in l])
    lp = lib_path(c)
    lib = None
    if lp:
        try:
            lib = Lib(lp)
        except OSError as e:
            note("equiv: cannot load %s (%s): the check at full precision is left out" % (lp, e))
    else:
        note("equiv: no build/libquarry.so: the check at full precision is left out")
    if lib and os.environ.get("QUARRY"):
        note("equiv: note: QUARRY=%s; the full-precision check uses %s" % (c.p.quarry, lp))

    # the batches: K consecutive parts; from the third on, U updates and U deletes of earlier batches' documents
    offs, ids = line_offsets(c.corpus)
    n = len(ids)
    bounds = [n * k // K for k in range(K + 1)]
    rng = random.Random(EQUIV_SEED)
    current = {}          # id -> (batch, line within its file): the version that counts
    deleted = set()
    files, dels, steps = [], [], []
    bix = os.path.join(w, "batched")
    with open(c.corpus, "rb") as src:
        for k in range(1, K + 1):
            bf = os.path.join(w, "batch%02d.jsonl" % k)
            lines = 0
            with open(bf, "wb") as o:
                src.seek(offs[bounds[k - 1]])
                for i in range(bounds[k - 1], bounds[k]):
                    o.write(src.readline())
                    current[ids[i]] = (k, lines)
                    lines += 1
                upd = dl = []
                if k >= 3:
                    cands = [i for i in range(bounds[k - 1]) if ids[i] not in deleted]
                    pick = rng.sample(cands, min(len(cands), 2 * U))
                    upd, dl = sorted(pick[:U]), sorted(pick[U:])
                    for i in upd:
                        src.seek(offs[i])
                        o.write(revised(src.readline(), "batch %d" % k).encode())
                        current[ids[i]] = (k, lines)
                        lines += 1
            files.append(bf)
            df = None
            if dl:
                df = os.path.join(w, "delete%02d.ids" % k)
                with open(df, "w") as o:
                    for i in dl:
                        o.write(ids[i] + "\n")
                        deleted.add(ids[i])
                dels.append(df)
            r = c.index("equiv", "batch %d" % k, bix, [bf], ["--threads", "1"], add=k > 1)
            rd = c.quarry("equiv", "delete after batch %d" % k, ["delete", "-i", bix, "--ids", df]) if df else None
            steps.append((k, bounds[k] - bounds[k - 1], len(upd), len(dl), r, rd))
            note("equiv batch %2d: %d new, %d updated, %d deleted; add %.2f s (%s)%s"
                 % (k, bounds[k] - bounds[k - 1], len(upd), len(dl), r["wall_s"], r["summary"].get("line", "?")[7:],
                    "; delete %.2f s" % rd["wall_s"] if rd else ""))
    live = {i for i in current if i not in deleted}
    # the fresh corpus: each batch's lines that are the final live version of their id, in order
    fresh = os.path.join(w, "fresh.jsonl")
    nf = 0
    with open(fresh, "wb") as o:
        for k, bf in enumerate(files, 1):
            with open(bf, "rb") as f:
                for j, line in enumerate(f):
                    d = line_id(line)
                    if d in live and current[d] == (k, j):
                        o.write(line)
                        nf += 1
    if nf != len(live):
        raise Fail("the fresh corpus holds %d documents, %d are live" % (nf, len(live)))
    fix = os.path.join(w, "fresh")
    rf = c.index("equiv", "fresh build of the live documents", fix, [fresh], ["--threads", "1"])
    sb, sf = stats(c, bix), stats(c, fix)
    if sb["articles"] != len(live) or sf["articles"] != len(live):
        c.anomaly("equiv", "live articles: batched index %s, fresh index %s, expected %d" % (sb["articles"], sf["articles"], len(live)))
    cmp = []
    equiv_compare(c, "batched (K=%d, --add + delete) vs fresh" % K, [bix], [fix], qfiles, lib, cmp)
    ro = c.quarry("equiv", "optimize of the batched index", ["optimize", "-i", bix])
    so = stats(c, bix)
    equiv_compare(c, "batched after optimize vs fresh", [bix], [fix], qfiles, lib, cmp)
    for x in files + dels + [fresh]:
        os.unlink(x)
    rmtree(fix)
    rmtree(bix)

    # shards: S consecutive slices indexed apart, searched together, against one index of the whole corpus
    NS = a.shards
    sb_ = [n * k // NS for k in range(NS + 1)]
    shards, srecs = [], []
    for k in range(NS):
        sf_ = os.path.join(w, "slice%d.jsonl" % (k + 1))
        copy_lines(c.corpus, offs, sb_[k], sb_[k + 1], sf_)
        d = os.path.join(w, "shard%d" % (k + 1))
        srecs.append(c.index("equiv", "shard %d" % (k + 1), d, [sf_], ["--threads", "1"]))
        os.unlink(sf_)
        shards.append(d)
    if "t1" in c.built:
        whole, wrec = c.built["t1"][0], None
    else:
        whole = os.path.join(w, "whole")
        wrec = c.index("equiv", "the whole corpus in one index", whole, [c.corpus], ["--threads", "1"])
    equiv_compare(c, "%d shards (search -i s1 ... -i s%d) vs one index" % (NS, NS), shards, [whole], qfiles, lib, cmp)
    c.res["equiv"] = {"K": K, "U": U, "steps": steps, "live": len(live), "docs": n, "fresh": rf, "batched_stats": sb,
                      "fresh_stats": sf, "optimize": ro, "optimized_stats": so, "cmp": cmp, "nq": nq, "qsrc": qsrc,
                      "lib": lp if lib else None, "errmsgs": c.errmsgs, "shards": srecs, "whole": wrec, "NS": NS,
                      "slices": [sb_[k + 1] - sb_[k] for k in range(NS)]}
    rmtree(w)


# ------------------------------------------------------------------ the report

def per_rep(vals, fmt):
    return " / ".join(fmt(v) for v in vals)


def report(c):
    a, p = c.args, c.p
    L = []
    quick = " — the quick run (%s)" % c.clabel if a.quick else ""
    L.append("# Issue 8: building, adding, deleting, merging — speed, memory, size, equivalence%s\n" % quick)
    if a.quick:
        L.append("**This is the quick run** (`--quick`: %s, %d documents, %d repeat%s), a trial of the script: "
                 "the targets of issue 8 are stated for news 25x (1,021,250 documents), which `bench/pipeline.sh` "
                 "without `--quick` measures (about half an hour here).\n" % (c.clabel, c.docs, a.repeat, "s" if a.repeat > 1 else ""))
    L.append("Made by `%s` on %s, commit %s; %s. Load average %s at the start, %s at the end (per section below): "
             "the machine is shared, so compare figures of one run, and ratios of one repeat."
             % (c.command_line, c.started, c.commit, S.machine(), c.load0, c.load1))
    L.append("")
    L.append("- **Corpus**: %s, %d documents, %.0f MiB of JSON Lines (`%s`): %s replicated %d times with new ids "
             "by `$PEERS/tools/replicate.py`, as `bench/scale.sh` makes it." %
             (c.clabel, c.docs, os.path.getsize(c.corpus) / 1048576, c.show([c.corpus]), " + ".join(S.NEWS), a.replicas))
    L.append("- **Flags**: `%s` (the peers' setting: one unit per article, no stop words) for every index of the corpus "
             "unless a row says otherwise; `--add` runs take no analyzer flags (the index keeps its own)." % " ".join(c.flags))
    L.append("- **Timing**: every command runs under `/usr/bin/time -v` (peak RSS: its \"Maximum resident set size\"); "
             "wall seconds are measured around it, as the peers harness times FTS5. MiB = 2^20 bytes (quarry's \"MB\").")
    L.append("- **Paths**: `$CACHE` = `%s`, `$WORK` = `%s` (indexes and split files, removed at the end%s)%s."
             % (p.cache, c.work, "" if not a.keep else "; section 1's kept: --keep",
                ", `$PEERS_DIR` = `%s` (a copy of the peers harness)" % c.peers if c.peers else ""))
    L.append("")

    if "build" in c.res:
        B = c.res["build"]
        res = B["res"]
        reps = " / ".join("r%d" % (i + 1) for i in range(a.repeat))
        L.append("## 1. Build speed beside SQLite FTS5 (%s; %s)\n" % (c.clabel, reps))
        L.append("Interleaved: each repeat builds with the three, one after the other (who goes first rotates). quarry: "
                 "the whole `quarry index` command (reading, inverting, writing segments, merges, commit). FTS5: the peers "
                 "harness's `run_peer.sh fts5 build` with `PEER_POSITIONS=1` (its driver's whole process: JSON parsing, "
                 "inserts, commit, `optimize`), as in `bench/peers.sh`. Target of issue 8: quarry `--threads 2` at least 2x "
                 "faster than FTS5, i.e. FTS5 ÷ quarry ≥ 2.\n")
        L.append("| system | wall s | docs/s | peak RSS MiB | segments | merges | write amplification |")
        L.append("|---|---|---|---|---|---|---|")
        for key, label in B["systems"]:
            rs = res[key]
            L.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                label, per_rep([r["wall_s"] for r in rs], lambda v: "%.2f" % v),
                per_rep([r["docs"] / r["wall_s"] for r in rs], lambda v: "%.0f" % v),
                per_rep([mib(r["peak_rss_kb"]) for r in rs], lambda v: f1(v, 0)),
                per_rep([r["sum"]["segments"] for r in rs], str) if key != "fts5" else "–",
                per_rep([r["sum"]["merges"] for r in rs], str) if key != "fts5" else "–",
                per_rep([r["sum"]["wa"] for r in rs], lambda v: "%.2f" % v) if key != "fts5" else "–"))
        L.append("")
        r2 = [f["wall_s"] / q["wall_s"] for f, q in zip(res["fts5"], res["t2"])]
        r1 = [f["wall_s"] / q["wall_s"] for f, q in zip(res["fts5"], res["t1"])]
        L.append("| ratio, per repeat | %s | repeats meeting the target |" % reps)
        L.append("|---|---|---|")
        L.append("| FTS5 wall ÷ quarry --threads 2 wall | %s | %d of %d (≥ 2) |" % (per_rep(r2, lambda v: "%.2f" % v), sum(x >= 2 for x in r2), len(r2)))
        L.append("| FTS5 wall ÷ quarry --threads 1 wall | %s | – |" % per_rep(r1, lambda v: "%.2f" % v))
        L.append("")
        t1 = statistics.median(r["docs"] / r["wall_s"] for r in res["t1"])
        t2 = statistics.median(r["docs"] / r["wall_s"] for r in res["t2"])
        fs = statistics.median(r["docs"] / r["wall_s"] for r in res["fts5"])
        L.append("Medians: quarry %.0f docs/s on one thread, %.0f on two; FTS5 %.0f docs/s (one thread). For scale, not "
                 "measured here and on another collection: PISA indexes about 10k docs/s and bm25s 21k-154k docs/s on one "
                 "core on MS MARCO (the table of xhluca/bm25-benchmarks, as issue 8 quotes it). quarry's user CPU per build "
                 "(median): %.1f s with --threads 1, %.1f s with --threads 2."
                 % (t1, t2, fs, statistics.median(r.get("user_s") or 0 for r in res["t1"]),
                    statistics.median(r.get("user_s") or 0 for r in res["t2"])))
        L.append("")
        L.append("Commands (the FTS5 build's own record: index %.0f MiB, of which its `optimize` took %s s):\n" %
                 (res["fts5"][-1]["bytes"] / 1048576, f1(res["fts5"][-1].get("optimize_s"), 2)))
        L.append("```")
        for key, _ in B["systems"]:
            L.append(res[key][-1]["cmd"])
        L.append("```")
        L.append("")
        L.append("Summary lines of the last repeat: `%s` (--threads 2), `%s` (--threads 1).\n"
                 % (res["t2"][-1]["sum"]["line"], res["t1"][-1]["sum"]["line"]))
        L.append(c.loads.get("build", ""))
        L.append("")

    if "memory" in c.res:
        M = c.res["memory"]
        L.append("## 2. Memory bound\n")
        L.append("Target of issue 8: the peak RSS of `quarry index` (and `quarry optimize`) within `--mem` × 1.1 + 20 MiB "
                 "whatever the documents, their sizes or the threads; news 25x at `--mem 64 --threads 2` within 90 MiB "
                 "(case a's limit); "
                 "a document larger than an eighth of `--mem` refused at once (exit 2), and more threads than `--mem` "
                 "allows at 8 MiB each refused. Inputs made in `$CACHE/pipeline`: %d tiny documents of 1-6 words drawn "
                 "from 5,000 pseudo-words (seed %d); one document of 60 MiB of text and one of 31 MiB (pseudo-words of a "
                 "50,000-word vocabulary, sentences of 8-20 words one a line, seed %d).\n" % (TINY_DOCS, TINY_SEED, BIG_SEED))
        L.append("| case | command | exit | wall s | peak RSS MiB | limit MiB | within? |")
        L.append("|---|---|---:|---:|---:|---:|---|")
        for r in M["rows"]:
            if r["expect"] == "ok":
                w = ("yes" if r["within"] else "**NO**") if r["rc"] == 0 else "**failed**"
            else:
                w = ("refused, as expected" if r["within"] else "**NOT refused quickly**") + ": “%s”" % r["msg"].replace("|", "\\|")
            L.append("| %s | `%s` | %d | %.2f | %s | %.1f | %s |" % (r["case"], r["cmd"], r["rc"], r["wall_s"], f1(r["rss_mib"]),
                                                                  r["limit"], w))
        L.append("")
        L.append("quarry's own summaries: " + "; ".join("%s: `%s`" % (r["case"], r["sum"]["line"]) for r in M["rows"] if r["sum"]) +
                 "; the optimize: `%s`.\n" % M["optimize_line"])
        L.append(c.loads.get("memory", ""))
        L.append("")

    if "add" in c.res:
        A = c.res["add"]
        L.append("## 3. Adding 1%% costs about 1%% of a full build (%s)\n" % c.clabel)
        L.append("One index, changed step by step: the base (the first 99%% of the corpus less a random 1%% of it) built "
                 "with `--threads 2`; then `--add` of that random 1%% (new ids: %d documents of the first 99%% chosen at "
                 "random, seed %d); then `--add` of the last 1%% of the corpus (new ids); then `--add` of 1%% updates (%d "
                 "other documents of the base, their text prefixed with \"Revised (update).\", the same ids); then "
                 "`quarry delete --ids FILE` of %d other ids of the base. Each step is one process, timed whole (merges "
                 "included). The full build: %s.\n"
                 % (A["n1"], ADD_SEED, A["n1"], A["n1"],
                    "the median wall of `quarry index --threads 2` in section 1 (%.2f s)" % A["full_s"] if "build" in c.res
                    else "`%s`, %.2f s, this run" % (getattr(c, "full_build_cmd", "?"), A["full_s"])))
        L.append("\"% of the corpus bytes\": the step's input file beside the whole corpus's; \"cost per byte\": the "
                 "step's wall seconds per input byte ÷ the full build's (1.00 = as cheap per byte as the full build); "
                 "\"as a new index\": the same input file indexed alone into an empty directory just before the add "
                 "(`quarry index --threads 2`), i.e. what indexing those documents costs with no index to add to, and "
                 "the add's wall ÷ that.\n")
        L.append("| step | wall s | % of a full build | % of the corpus bytes | cost per byte | as a new index: s (add ÷ it) | peak RSS MiB | segments written | merges | write amplification | segments in the index after | live articles after |")
        L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for what, r, st in A["steps"]:
            s = r["summary"]
            b = r.get("in_bytes")
            share = b / A["corpus_bytes"] if b and A.get("corpus_bytes") else None
            fr = r.get("fresh")
            L.append("| %s | %.2f | %.1f%% | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                what, r["wall_s"], pct(r["wall_s"], A["full_s"]),
                "%.2f%%" % (100 * share) if share else "–",
                "%.2f" % (r["wall_s"] / A["full_s"] / share) if share and A["full_s"] else "–",
                "%.2f (%.2f)" % (fr["wall_s"], r["wall_s"] / fr["wall_s"]) if fr else "–",
                f1(mib(r.get("peak_rss_kb")), 0),
                s.get("segments", "–"), s.get("merges", "–") if s else "–", "%.2f" % s["wa"] if s else "–", st["segments"], st["articles"]))
        L.append("")
        L.append("Commands:\n")
        L.append("```")
        for what, r, _ in A["steps"]:
            if r.get("fresh"):
                L.append(r["fresh"]["cmd"] + "   # the same documents as a new index (removed after)")
            L.append(r["cmd"])
        L.append("```")
        L.append("")
        L.append("Their lines: " + "; ".join("`%s`" % (r["summary"].get("line") or r.get("delete_line") or last_line(r)) for _, r, _ in A["steps"]) + ".\n")
        L.append(c.loads.get("add", ""))
        L.append("")

    if "size" in c.res:
        Z = c.res["size"]
        L.append("## 4. Size: postings + positions (%s)\n" % c.clabel)
        L.append("From `quarry stats -i DIR` (\"postings + positions\" = the *.post and *.posn files). Target of issue 8 at "
                 "news 25x: at most %d MiB whether the index was built in one run or merged from many segments (Lucene 4.10 "
                 "with positions: %.0f MiB, `bench/peers.md`).%s\n"
                 % (SIZE_TARGET_MIB, LUCENE_POST_POS_MIB, "" if c.docs == 1021250 else
                    " This corpus is not news 25x: the target does not apply as such (the text is the same collections "
                    "replicated, so sizes grow about linearly: %d MiB × %d/25 = %.0f MiB for scale)." %
                    (SIZE_TARGET_MIB, a.replicas, SIZE_TARGET_MIB * a.replicas / 25)))
        L.append("| index | segments | *.post MiB | *.posn MiB | postings + positions MiB | all files MiB | within %d MiB? |" % SIZE_TARGET_MIB)
        L.append("|---|---:|---:|---:|---:|---:|---|")
        for what, s in Z["rows"]:
            ok = "yes" if s["post_pos_mib"] is not None and s["post_pos_mib"] <= SIZE_TARGET_MIB else "**no**"
            L.append("| %s | %s | %.1f | %.1f | %s | %.1f | %s |" % (
                what, s["segments"], s["kinds"].get("post", 0) / 1048576, s["kinds"].get("posn", 0) / 1048576,
                s["post_pos_mib"], s["bytes"] / 1048576, ok if c.docs == 1021250 else "(news 25x only)"))
        L.append("")
        L.append(c.loads.get("size", ""))
        L.append("")

    if "equiv" in c.res:
        E = c.res["equiv"]
        L.append("## 5. Equivalence at scale (%s)\n" % c.clabel)
        L.append("**Batched**: the corpus split into K = %d consecutive files; batch 1 builds the index, batches 2-%d join it "
                 "with `quarry index --add --threads 1`; batches 3-%d also carry %d updates (documents of earlier batches, "
                 "live at the time, their text prefixed with \"Revised (batch k).\", appended to the batch's file) and are "
                 "followed by `quarry delete --ids FILE` of %d other live ids of earlier batches (chosen at random, seed %d). "
                 "**Fresh**: one `quarry index --threads 1` of the live documents — the final version of each id, minus the "
                 "deleted ones — in the batched index's collection order: each batch file's lines that are the final version "
                 "of a live id, batch after batch (an updated document moves to the batch that last changed it). %d documents "
                 "in the corpus, %d live at the end (batched index: %s live articles in %s segments; fresh: %s)."
                 % (E["K"], E["K"], E["K"], E["U"], E["U"], EQUIV_SEED, E["docs"], E["live"], E["batched_stats"]["articles"],
                    E["batched_stats"]["segments"], E["fresh_stats"]["articles"]))
        L.append("")
        L.append("**Shards**: the corpus cut into %d consecutive slices (%s documents), each indexed apart with `--threads 1`, "
                 "searched as one with `quarry search -i s1 ... -i s%d`, against one `--threads 1` index of the whole corpus%s."
                 % (E["NS"], ", ".join(str(x) for x in E["slices"]), E["NS"],
                    " (the --threads 1 index of section 1, last repeat)" if E["whole"] is None else ""))
        L.append("")
        L.append("**Queries**: the %d title queries of `bench/scale.sh` (`%s`) in modes or, and, phrase (or = the words, and = "
                 "every word with `+`, phrase = the words in quotes), through `quarry search -i DIR... --json -k 10 --queries "
                 "FILE` on both sides: identical ids in the same order and the same printed scores (6 decimals; \"last digit\" "
                 "counts queries whose ids agree and whose printed scores differ by one rounding only). %s\n"
                 % (E["nq"], c.show([E["qsrc"]]),
                    "Then the same queries through `build/libquarry.so` (ctypes: `quarry_open_many`, `quarry_search` with the "
                    "default options, k = 10): the same ids in the same order and every score within 1e-9 relative."
                    if E["lib"] else "(No build/libquarry.so: the check at full precision was left out.)"))
        L.append("| comparison | mode | queries | CLI: identical | CLI: last digit | CLI: mismatches | library: within 1e-9 | library: mismatches | library: max relative score difference |")
        L.append("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        tot = totbad = 0
        for r in E["cmp"]:
            lb = r.get("lib")
            tot += r["n"]
            totbad += len(r["bad"]) + (len(lb["bad"]) if lb else 0)
            L.append("| %s | %s | %d | %d | %d | %s | %s | %s | %s |" % (
                r["label"], r["mode"], r["n"], r["same"], r["rounding"], len(r["bad"]) if not r["bad"] else "**%d**" % len(r["bad"]),
                lb["same"] if lb else "–", ("**%d**" % len(lb["bad"]) if lb["bad"] else "0") if lb else "–",
                "%.2g" % lb["maxrel"] if lb else "–"))
        L.append("")
        L.append("%d queries compared, %d mismatches%s." % (tot, totbad, "" if not totbad else " (the first of each is under "
                                                                                        "\"Anything unexpected\" below)"))
        errs = [(r["label"], r["mode"], r["errors"]) for r in E["cmp"] if any(r["errors"])]
        if errs:
            def by_mode(q):
                return "; ".join("%s: %s" % (m, ", ".join(sorted(x.split()[1] for x in q if x.split()[0] == m)))
                                 for m in S.MODES if any(x.split()[0] == m for x in q))
            alike = all(e[0] == e[1] for _, _, e in errs)
            L[-1] += (" Queries that `quarry search` rejected (counted as no hits), %s: %s." % (
                "alike on both sides of every comparison" if alike else "per comparison: " + "; ".join(
                    "%s, %s: %d and %d" % (l, m, e[0], e[1]) for l, m, e in errs),
                " ".join("“%s” (%s)" % (m, by_mode(q)) for m, q in sorted(E["errmsgs"].items()))))
        L.append("")
        L.append("| step | documents | updates | deletes | wall s | summary |")
        L.append("|---|---:|---:|---:|---:|---|")
        for k, nd, nu, nd_, r, rd in E["steps"]:
            L.append("| batch %d%s | %d | %d | %d | %.2f%s | `%s`%s |" % (
                k, " (`--add`)" if k > 1 else "", nd, nu, nd_, r["wall_s"], " + %.2f" % rd["wall_s"] if rd else "",
                r["summary"].get("line", last_line(r)), "; `%s`" % last_line(rd) if rd else ""))
        L.append("| fresh build | %d | – | – | %.2f | `%s` |" % (E["live"], E["fresh"]["wall_s"], E["fresh"]["summary"].get("line", "")))
        L.append("| optimize of the batched index | – | – | – | %.2f | `%s` |" % (E["optimize"]["wall_s"], last_line(E["optimize"])))
        for i, r in enumerate(E["shards"]):
            L.append("| shard %d | %d | – | – | %.2f | `%s` |" % (i + 1, E["slices"][i], r["wall_s"], r["summary"].get("line", "")))
        if E["whole"]:
            L.append("| the whole corpus | %d | – | – | %.2f | `%s` |" % (E["docs"], E["whole"]["wall_s"], E["whole"]["summary"].get("line", "")))
        L.append("")
        L.append("Commands (batch k, then the comparisons; FILE is `$WORK/equiv/title-MODE.q`):\n")
        L.append("```")
        seen = set()
        for sec, what, cmd in c.commands:
            if sec != "equiv":
                continue
            g = re.sub(r"batch\d\d\.jsonl", "batchKK.jsonl", re.sub(r"delete\d\d\.ids", "deleteKK.ids", cmd))
            g = re.sub(r"title-(or|and|phrase)\.q", "title-MODE.q", g)
            if " index " in g:
                g = re.sub(r"slice\d\.jsonl", "sliceN.jsonl", re.sub(r"/shard\d\b", "/shardN", g))
            if g not in seen:
                seen.add(g)
                L.append(g)
        L.append("```")
        L.append("")
        L.append(c.loads.get("equiv", ""))
        L.append("")

    L.append("## Anything unexpected\n")
    if c.anomalies:
        for sec, text, cmd in c.anomalies:
            L.append("- %s: %s%s" % (sec, text, " — `%s`" % cmd if cmd else ""))
    else:
        L.append("Nothing: every command that should succeed did, within its memory limit; the refusals were quick, "
                 "exit 2; no query differed.")
    L.append("")
    return "\n".join(L) + "\n"


# ------------------------------------------------------------------ command line

class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise Fail("%s (see --help)" % message)


def command_line(argv):
    return " ".join([PROG] + [x if re.fullmatch(r"[-A-Za-z0-9_./=:,+@]+", x) else shlex.quote(x) for x in argv])


def main(argv):
    ap = Parser(prog=PROG, description=(
        "The measurements of issue 8 (quarry's index of immutable segments) on the news collections replicated R times: "
        "1. build speed of `quarry index --threads 2` and `--threads 1` beside SQLite FTS5 (the peers harness), interleaved, "
        "--repeat times; 2. peak memory against --mem for news, tiny, huge documents and many threads, and refusals; "
        "3. --add of 1% new documents (a random 1% and the last 1%), of 1% updates and delete of 1%, against a full build; 4. postings + positions "
        "in one run and after optimize; 5. identical hits and scores: an index built in K batches with updates and deletes "
        "(and optimized) against a fresh build of the live documents, and S shards against one index. "
        "Writes bench/pipeline.md (--quick: bench/pipeline-quick.md)."),
        epilog=("environment: QUARRY (default build/quarry), QUARRY_CORPUS (default ../shared/corpus), PEERS (default "
                "../shared/peers), QUARRY_INDEX_FLAGS (default '%s'), TMPDIR. Exit status: 0 done (whatever was measured; "
                "what looked wrong is listed in the report and on stderr), 2 error (one line on stderr)." % S.DEFAULT_FLAGS))
    ap.add_argument("--quick", action="store_true", help="a trial: news 3x and --repeat 2 (a few minutes)")
    ap.add_argument("-R", "--replicas", type=int, metavar="R", help="replicate the news collections R times (default 25; --quick: 3)")
    ap.add_argument("--repeat", type=int, metavar="N", help="builds of section 1 per system (default 3; --quick: 2)")
    ap.add_argument("--only", metavar="LIST", help="a subset of the sections, comma-separated: %s (default all)" % ",".join(SECTIONS))
    ap.add_argument("--batches", type=int, default=10, metavar="K", help="section 5: batches of --add (default 10)")
    ap.add_argument("--updates", type=int, default=1000, metavar="N",
                    help="section 5: updates and deletes of earlier documents with each batch from the third (default 1000 each)")
    ap.add_argument("--shards", type=int, default=4, metavar="S", help="section 5: shards searched together (default 4)")
    ap.add_argument("--n-queries", type=int, default=1000, metavar="N", help="section 5: title queries per mode (default 1000)")
    ap.add_argument("--cache", metavar="DIR", help="corpus, queries, generated documents and the work directory (default ${TMPDIR:-/tmp}/quarry-scale)")
    ap.add_argument("--peers-dir", metavar="DIR", help="the peers harness copy with its fts5 driver (default ${TMPDIR:-/tmp}/quarry-peers; made from $PEERS when absent)")
    ap.add_argument("--out", metavar="FILE.md", help="the report (default bench/pipeline.md; --quick: bench/pipeline-quick.md)")
    ap.add_argument("--keep", action="store_true",
                    help="keep section 1's indexes of the last repeat (CACHE/newsR/pipeline/build-t1, build-t2); the other sections always remove theirs")
    args = ap.parse_args(argv)
    if args.replicas is None:
        args.replicas = 3 if args.quick else 25
    if args.repeat is None:
        args.repeat = 2 if args.quick else 3
    for name in ("replicas", "repeat", "batches", "updates", "shards", "n_queries"):
        if getattr(args, name) < 1:
            raise Fail("--%s must be at least 1" % name.replace("_", "-"))
    if args.batches < 3:
        raise Fail("--batches must be at least 3 (updates and deletes start with the third)")
    only = [x for x in (args.only or ",".join(SECTIONS)).split(",") if x]
    for x in only:
        if x not in SECTIONS:
            raise Fail("--only: unknown section %r (sections: %s)" % (x, ",".join(SECTIONS)))
    c = Run(args)
    c.peers = None
    c.command_line = command_line(argv)
    p = c.p
    if not (os.path.isfile(p.quarry) and os.access(p.quarry, os.X_OK)):
        raise Fail("%s is not built (run make in %s, or set QUARRY)" % (p.quarry, ROOT))
    if not os.access("/usr/bin/time", os.X_OK):
        raise Fail("/usr/bin/time is missing (Debian package time: apt-get install time)")
    need = [os.path.join(p.corpus_dir, x, "docs.jsonl.gz") for x in S.NEWS] + [os.path.join(p.peers_src, "tools", "replicate.py")]
    if "equiv" in only:
        need.append(os.path.join(p.peers_src, "make_queries.py"))
    for f in need:
        if not os.path.isfile(f):
            what = "QUARRY_CORPUS" if f.startswith(p.corpus_dir) else "PEERS"
            raise Fail("%s is missing (%s=%s)" % (f, what, p.corpus_dir if what == "QUARRY_CORPUS" else p.peers_src))
    if "build" in only:
        S.peers_dir(p, args)        # checked before any work starts
    out = os.path.abspath(args.out or os.path.join(ROOT, "bench", "pipeline-quick.md" if args.quick else "pipeline.md"))
    if not os.path.isdir(os.path.dirname(out)):
        raise Fail("%s: no such directory" % os.path.dirname(out))
    c.started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    c.commit = S.commit()   # the checkout the run builds from: at the start, not the end
    c.load0 = S.load()
    c.corpus, c.docs, c.clabel = S.news_corpus(p, args.replicas)
    c.work = os.path.join(os.path.dirname(c.corpus), "pipeline")
    rmtree(c.work)
    os.makedirs(c.work)
    try:
        for sec in SECTIONS:
            if sec in only:
                l0, t0 = S.load(), time.monotonic()
                note("== %s" % sec)
                {"build": sec_build, "memory": sec_memory, "add": sec_add, "size": sec_size, "equiv": sec_equiv}[sec](c)
                c.loads[sec] = "Section run in %.0f s; load average %s before it, %s after." % (time.monotonic() - t0, l0, S.load())
    finally:
        if not args.keep:
            rmtree(c.work)
    c.load1 = S.load()
    with open(out, "w") as o:
        o.write(report(c))
    note("wrote %s%s" % (S.rel(out), "; %d unexpected results (listed there)" % len(c.anomalies) if c.anomalies else ""))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Fail as e:
        print("%s: %s" % (PROG, e), file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("%s: interrupted" % PROG, file=sys.stderr)
        sys.exit(130)
