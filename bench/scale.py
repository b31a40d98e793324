#!/usr/bin/env python3
"""bench/scale.py — quarry's query speed at scale: the code behind
bench/scale.sh (quarry alone: `scale.py scale ...`) and bench/peers.sh
(quarry beside Lucene 4.10 and the other engines of ../shared/peers:
`scale.py peers ...`). Their headers and --help say what each measures and
writes; this file holds both, and what they share: the replicated corpus,
the query sets, the environment checks and the result tables.

Python 3 standard library only. Nothing is kept between runs but the cache
directory (--cache): the replicated corpus, the query files, the indexes
with a JSON record of how each was built, and the peers' run files.
"""
import argparse
import gzip
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROG = "bench/scale.py"            # replaced by the wrapper's name in main()
MODES = ("or", "and", "phrase")
NEWS = ("reuters21578", "20newsgroups", "bbc")   # the order of tools/replicate.py in the peers README
TITLE_SEED = 7060001               # our own seed ("issue 7, item 6, set 1"); see bench/scale.sh
TITLE_PREFIX = "t"
DEFAULT_FLAGS = "--passages off --stopwords none"
REQUIRED_PEERS = ("quarry", "lucene")
OPTIONAL_PEERS = ("xapian", "fts5", "sphinx")
LABEL = {"quarry": "quarry", "quarry-exhaustive": "quarry --exhaustive", "lucene": "lucene 4.10",
         "xapian": "xapian 1.4", "fts5": "sqlite fts5", "sphinx": "sphinx 2.2"}


class Fail(Exception):
    """An error the user can act on: printed as one line, exit status 2."""


def note(msg):
    print(msg, file=sys.stderr, flush=True)


def report(text, out=None):
    """Prints a report, and writes it to `out` as well (an --out option)."""
    sys.stdout.write(text)
    if out:
        with open(out, "w", encoding="utf-8") as f:
            f.write(text)


def guarded(prog, fn):
    """fn()'s exit status; a Fail or an OSError is one line on stderr and 2."""
    try:
        return fn()
    except Fail as e:
        print("%s: %s" % (prog, e), file=sys.stderr)
    except OSError as e:
        print("%s: %s: %s" % (prog, e.filename or "", e.strerror), file=sys.stderr)
    return 2


# ------------------------------------------------------------------ the environment

def paths(args):
    """Where quarry, the shared corpus, the peers harness and the cache are."""
    p = argparse.Namespace()
    p.quarry = os.path.abspath(os.environ.get("QUARRY") or os.path.join(ROOT, "build", "quarry"))
    p.lib = os.path.join(ROOT, "build", "libquarry.a")
    p.corpus_dir = os.path.abspath(os.environ.get("QUARRY_CORPUS") or os.path.join(ROOT, "..", "shared", "corpus"))
    p.peers_src = os.path.abspath(os.environ.get("PEERS") or os.path.join(ROOT, "..", "shared", "peers"))
    tmp = os.environ.get("TMPDIR") or "/tmp"
    p.cache = os.path.abspath(args.cache or os.path.join(tmp, "quarry-scale"))
    p.flags = os.environ.get("QUARRY_INDEX_FLAGS", DEFAULT_FLAGS)
    return p


def check_common(p, args):
    if not (os.path.isfile(p.quarry) and os.access(p.quarry, os.X_OK)):
        raise Fail("%s is not built (run make in %s, or set QUARRY)" % (p.quarry, ROOT))
    if not os.access("/usr/bin/time", os.X_OK):
        raise Fail("/usr/bin/time is missing (Debian package time: apt-get install time)")
    need = []
    if not args.corpus:
        need += [os.path.join(p.corpus_dir, c, "docs.jsonl.gz") for c in NEWS]
        need.append(os.path.join(p.peers_src, "tools", "replicate.py"))
    if not args.queries:
        need += [os.path.join(p.peers_src, "make_queries.py")]
        need += [os.path.join(p.peers_src, "queries", "sbg-%s.tsv" % m) for m in MODES]
    for f in need:
        if not os.path.isfile(f):
            what = "QUARRY_CORPUS" if f.startswith(p.corpus_dir) else "PEERS"
            raise Fail("%s is missing (%s=%s)" % (f, what, p.corpus_dir if what == "QUARRY_CORPUS" else p.peers_src))
    if args.corpus and not (os.path.isfile(args.corpus) and re.search(r"\.jsonl(\.gz)?$", args.corpus)):
        raise Fail("%s: %s (--corpus takes a JSON Lines file, .jsonl or .jsonl.gz)"
                   % (args.corpus, "not a .jsonl or .jsonl.gz file" if os.path.exists(args.corpus) else "no such file"))
    args.query_specs = [query_spec(q) for q in args.queries or []]


def query_spec(spec):
    """--queries FILE[:MODE,...] -> (file, [modes]), checked before any work starts."""
    f, modes = spec, list(MODES)
    head, _, tail = spec.rpartition(":")
    if head and not os.path.isfile(spec) and os.path.isfile(head):
        bad = [m for m in tail.split(",") if m not in MODES]
        if bad:
            raise Fail("--queries %s: unknown mode %r (modes: %s)" % (spec, bad[0], ", ".join(MODES)))
        f, modes = head, tail.split(",")
    if not os.path.isfile(f):
        raise Fail("%s: no such query file (--queries FILE[:MODE,...], lines qid<TAB>words)" % f)
    with open(f, encoding="utf-8", errors="replace") as fh:
        if not any("\t" in l and l.split("\t", 1)[1].strip() for l in fh):
            raise Fail("%s: no queries (lines qid<TAB>words)" % f)
    return f, modes


def run(argv, what, env=None):
    """Run argv; on failure raise Fail naming `what` and the last line it printed."""
    try:
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    except OSError as e:
        raise Fail("%s: cannot run %s: %s" % (what, argv[0], e.strerror))
    if r.returncode != 0:
        last = ((r.stderr or "").strip().splitlines() or (r.stdout or "").strip().splitlines() or ["(no output)"])[-1]
        raise Fail("%s failed (exit %d): %s" % (what, r.returncode, last))
    return r


def time_v(argv, what, env=None):
    """Run argv under /usr/bin/time -v: (completed process, {'wall_s', 'peak_rss_kb'})."""
    fd, tf = tempfile.mkstemp(prefix="quarry-scale-time-")
    os.close(fd)
    try:
        r = subprocess.run(["/usr/bin/time", "-v", "-o", tf] + argv, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, env=env)
        tv = {}
        with open(tf) as f:
            for line in f:
                k, _, v = line.strip().rpartition(": ")
                if k == "Maximum resident set size (kbytes)":
                    tv["peak_rss_kb"] = int(v)
                elif k.startswith("Elapsed (wall clock) time"):
                    parts = [float(x) for x in v.split(":")]
                    tv["wall_s"] = sum(x * 60 ** i for i, x in enumerate(reversed(parts)))
    finally:
        os.unlink(tf)
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or r.stdout.strip().splitlines() or ["(no output)"])[-1]
        raise Fail("%s failed (exit %d): %s" % (what, r.returncode, last))
    return r, tv


def count_lines(path):
    """Non-blank lines of a (possibly gzipped) file: its documents or queries."""
    n = 0
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rb") as f:
        for line in f:
            if line.strip():
                n += 1
    return n


def sha1_file(path):
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = "%.1f GiB RAM" % (int(line.split()[1]) / 1048576)
    except OSError:
        pass
    return "%d cores (%s), %s" % (len(os.sched_getaffinity(0)), cpu, mem)


def commit():
    try:
        c = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "src", "include", "Makefile"],
                               capture_output=True, text=True).stdout.strip()
        br = subprocess.run(["git", "-C", ROOT, "rev-parse", "--abbrev-ref", "HEAD"], capture_output=True, text=True).stdout.strip()
        return (c or "?") + (" on %s" % br if br else "") + (" (with uncommitted changes in src/, include/)" if dirty else "")
    except OSError:
        return "?"


def load():
    return "%.2f %.2f %.2f" % os.getloadavg()


# ------------------------------------------------------------------ the corpus

def news_corpus(p, R):
    """The news collections replicated R times, exactly as the peers'
    tools/replicate.py makes them (it is run here, from $PEERS): made in
    CACHE/newsR/docs.jsonl, reused when its line count is R times that of
    the three collections. Returns (path, documents, label)."""
    ins = [os.path.join(p.corpus_dir, c, "docs.jsonl.gz") for c in NEWS]
    n1 = sum(count_lines(f) for f in ins)
    d = os.path.join(p.cache, "news%d" % R)
    out = os.path.join(d, "docs.jsonl")
    if os.path.isfile(out) and count_lines(out) == R * n1:
        note("corpus: %s (%d documents, reused)" % (out, R * n1))
        return out, R * n1, "news %dx" % R
    os.makedirs(d, exist_ok=True)
    note("corpus: making %s (%d documents: %s replicated %d times)" % (out, R * n1, " + ".join(NEWS), R))
    part = out + ".part"
    run([sys.executable, os.path.join(p.peers_src, "tools", "replicate.py"), str(R), part] + ins, "replicate.py")
    if count_lines(part) != R * n1:
        raise Fail("%s: replicate.py wrote %d lines, expected %d" % (part, count_lines(part), R * n1))
    os.replace(part, out)
    return out, R * n1, "news %dx" % R


def corpus(p, args):
    if args.corpus:
        c = os.path.abspath(args.corpus)
        n = count_lines(c)
        if n == 0:
            raise Fail("%s: no documents" % c)
        note("corpus: %s (%d documents)" % (c, n))
        return c, n, os.path.join(os.path.basename(os.path.dirname(c)), os.path.basename(c))
    return news_corpus(p, args.replicas)


def corpus_tag(p, path):
    """The cache subdirectory that holds a corpus's indexes."""
    if os.path.dirname(path).startswith(p.cache + os.sep) and os.path.basename(path) == "docs.jsonl":
        return os.path.dirname(path)
    base = re.sub(r"[^A-Za-z0-9_.-]", "_", os.path.basename(path))
    return os.path.join(p.cache, "corpus-%s-%s" % (base, hashlib.sha1(path.encode()).hexdigest()[:8]))


# ------------------------------------------------------------------ the query sets

def truncate(src, n, dst):
    """The first n queries (lines with a tab) of src in dst; returns dst and the count."""
    kept = 0
    with open(src, encoding="utf-8") as f, open(dst + ".part", "w", encoding="utf-8") as o:
        for line in f:
            if "\t" not in line or not line.split("\t", 1)[1].strip():
                continue
            if n is not None and kept >= n:
                break
            o.write(line if line.endswith("\n") else line + "\n")
            kept += 1
    os.replace(dst + ".part", dst)
    return dst, kept


def query_sets(p, args):
    """[(set name, mode, queries file, count)]: the files hold qid<TAB>text lines
    (the harness's format) with the words only; the mode says how to join them."""
    qdir = os.path.join(p.cache, "queries")
    os.makedirs(qdir, exist_ok=True)
    n = args.n_queries
    out = []
    if args.queries:
        for f, modes in args.query_specs:
            name = re.sub(r"\.tsv$", "", os.path.basename(f))
            dst = os.path.join(qdir, "%s-%s-n%s.tsv" % (name, hashlib.sha1(os.path.abspath(f).encode()).hexdigest()[:8], n or "all"))
            dst, cnt = truncate(f, n, dst)
            for m in modes:
                if any(s == name and mm == m for s, mm, _, _ in out):
                    raise Fail("query set %s in mode %s given twice" % (name, m))
                out.append((name, m, dst, cnt))
        return out
    # 1000 (or n) title queries of 1-3 words, our own seed: from news 1x, or
    # from --corpus (sampling its titles; replicas do not change the odds)
    src = os.path.abspath(args.corpus) if args.corpus else news_corpus(p, 1)[0]
    cnt = n or 1000
    tag = "news1" if not args.corpus else hashlib.sha1(src.encode()).hexdigest()[:8]
    title = os.path.join(qdir, "title-%s-s%d-n%d.tsv" % (tag, TITLE_SEED, cnt))
    if not (os.path.isfile(title) and count_lines(title) == cnt):
        r = subprocess.run([sys.executable, os.path.join(p.peers_src, "make_queries.py"), src, str(cnt), str(TITLE_SEED),
                            TITLE_PREFIX], capture_output=True, text=True)
        if r.returncode != 0 or r.stdout.count("\n") != cnt:
            if not args.corpus:
                raise Fail("make_queries.py %s failed: %s" % (src, (r.stderr.strip().splitlines() or ["?"])[-1]))
            note("queries: no title queries from %s (make_queries.py found no titles?); the sbg sets only" % src)
            title = None
        else:
            with open(title + ".part", "w", encoding="utf-8") as o:
                o.write(r.stdout)
            os.replace(title + ".part", title)
    if title:
        for m in MODES:
            out.append(("title", m, title, cnt))
    for m in MODES:
        src = os.path.join(p.peers_src, "queries", "sbg-%s.tsv" % m)
        dst, c = truncate(src, n, os.path.join(qdir, "sbg-%s-n%s.tsv" % (m, n or "all")))
        out.append(("sbg", m, dst, c))
    return out


def rewrite(words, mode):
    """A query in quarry's language, as the harness's quarry driver writes it:
    or: the words; and: every word prefixed with '+'; phrase: the words in quotes."""
    if mode == "phrase":
        return '"%s"' % words
    if mode == "and":
        return " ".join("+" + w if w else "" for w in words.split(" "))
    return words


def quarry_queries(src, mode, dst):
    with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as o:
        for line in f:
            qid, _, words = line.rstrip("\r\n").partition("\t")
            o.write("%s\t%s\n" % (qid, rewrite(words, mode)))
    return dst


def oneshot_words(sets, n=50):
    """About n single words for one-shot searches: the first word of each
    query, taken in turn from each set (in file order, without repeats)."""
    lists, seen = [], set()
    for name, _, f, _ in sets:
        if f in seen:
            continue
        seen.add(f)
        with open(f, encoding="utf-8") as fh:
            lists.append([l.split("\t", 1)[1].split()[0] for l in fh if "\t" in l and l.split("\t", 1)[1].split()])
    words, used = [], set()
    for i in range(max((len(l) for l in lists), default=0)):
        for l in lists:
            if i < len(l) and l[i] not in used and len(words) < n:
                used.add(l[i])
                words.append(l[i])
    return words


# ------------------------------------------------------------------ figures

def title_desc(a, n):
    src = a.corpus if a.corpus else "news1/docs.jsonl"
    return ("%d title phrases of 1-3 words from the titles of %s: `$PEERS/make_queries.py %s %d %d %s` (seed %d is "
            "this script's own: not the peers' reuters-1000 and not a set anyone tunes on)"
            % (n, "the corpus" if a.corpus else "news 1x", src, n, TITLE_SEED, TITLE_PREFIX, TITLE_SEED))


def ms(x, nd=3):
    if x is None:
        return "–"
    if x >= 100:
        return "%.0f" % x
    if x >= 10:
        return "%.1f" % x
    return "%.*f" % (nd, x)


def mib(kb):
    if kb is None:
        return "–"
    return "%.1f" % (kb / 1024) if kb < 10240 else "%.0f" % (kb / 1024)


def per_rep(vals, f=ms):
    return " / ".join(f(v) for v in vals)


def median_rep(recs):
    """The repeat with the median mean (the lower one of two middles): what the TSV shows."""
    s = sorted(recs, key=lambda r: r["mean_ms"])
    return s[(len(s) - 1) // 2]


def write_tsv(path, title, made_by, rows):
    """rows: (system, query type, mean, p50, p99) in ms; the format of bench/tsv.sh."""
    with open(path, "w") as o:
        o.write("# title: %s\n# made by: %s\n" % (title, made_by))
        o.write("system\tquery_type\tmean_ms\tp50_ms\tp99_ms\n")
        for sysname, qt, a, b, c in rows:
            o.write("%s\t%s\t%.6g\t%.6g\t%.6g\n" % (sysname, qt, max(a, 1e-6), max(b, 1e-6), max(c, 1e-6)))


def chart(tsv):
    """Draws TSV with bench/chart.sh when gnuplot is installed (never installs it)."""
    svg = re.sub(r"\.tsv$", ".svg", tsv)
    if shutil.which("gnuplot"):
        r = subprocess.run([os.path.join(ROOT, "bench", "chart.sh"), tsv, svg], capture_output=True, text=True)
        note((r.stdout + r.stderr).strip())
    else:
        note("no gnuplot: draw it with bench/chart.sh %s %s" % (tsv, svg))


def command_line():
    return " ".join([PROG] + [a if re.fullmatch(r"[-A-Za-z0-9_./=:,+@]+", a) else "'%s'" % a for a in sys.argv[2:]])


def rel(path):
    return os.path.relpath(path, ROOT) if path.startswith(ROOT + os.sep) else path


# ------------------------------------------------------------------ scale: quarry alone

def quarry_stats(p, ix):
    r = subprocess.run([p.quarry, "stats", "-i", ix], capture_output=True, text=True)
    if r.returncode != 0:
        return None
    s = {"text": r.stdout}
    m = re.search(r"^articles\s+(\d+)", r.stdout, re.M)
    s["articles"] = int(m.group(1)) if m else None
    m = re.search(r"^\s*total\s+(\d+) bytes.*?postings \+ positions ([\d.]+) MiB", r.stdout, re.M)
    s["bytes"] = int(m.group(1)) if m else None
    s["post_pos_mib"] = float(m.group(2)) if m else None
    return s


def quarry_index(p, path, docs, rebuild):
    """The index of the corpus at CACHE/.../quarry-index, built with the flags
    (QUARRY_INDEX_FLAGS), or reused when its record (quarry-index.json) names
    the same flags, corpus and document count and `quarry stats` agrees."""
    d = corpus_tag(p, path)
    ix, recf = os.path.join(d, "quarry-index"), os.path.join(d, "quarry-index.json")
    flags = p.flags.split()
    if not rebuild and os.path.isfile(recf):
        with open(recf) as f:
            rec = json.load(f)
        st = quarry_stats(p, ix)
        if (rec.get("flags") == flags and rec.get("corpus") == path and rec.get("corpus_docs") == docs
                and st and st["articles"] == rec.get("articles")):
            rec["reused"] = True
            rec["stats"] = st
            note("index: %s (reused: built %s by commit %s; --rebuild makes it again)" % (ix, rec["date"], rec["commit"]))
            return ix, rec
    os.makedirs(d, exist_ok=True)
    if os.path.exists(ix):
        shutil.rmtree(ix)
    if os.path.exists(recf):
        os.unlink(recf)
    note("index: building %s (quarry index %s, %d documents)" % (ix, " ".join(flags), docs))
    r, tv = time_v([p.quarry, "index"] + flags + ["-o", ix, path], "quarry index")
    summary = [l for l in r.stderr.splitlines() if "indexed" in l]
    st = quarry_stats(p, ix)
    if not st:
        raise Fail("quarry stats -i %s failed after the build" % ix)
    rec = {"flags": flags, "corpus": path, "corpus_docs": docs, "articles": st["articles"],
           "wall_s": round(tv["wall_s"], 2), "peak_rss_kb": tv["peak_rss_kb"],
           "summary": summary[-1].strip() if summary else "", "commit": commit(),
           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "quarry_sha1": sha1_file(p.quarry)}
    with open(recf, "w") as f:
        json.dump(rec, f, indent=1)
    rec["reused"] = False
    rec["stats"] = st
    note("index: %.1f s, peak RSS %s MiB; %s" % (rec["wall_s"], mib(rec["peak_rss_kb"]), rec["summary"]))
    return ix, rec


def variants(p):
    """The algorithms to compare: the default, --exhaustive, and each
    --algorithm NAME that `quarry bench --help` names (when it has that option)."""
    v = [("default", []), ("--exhaustive", ["--exhaustive"])]
    h = subprocess.run([p.quarry, "bench", "--help"], capture_output=True, text=True).stdout
    if "--algorithm" in h:
        for name in ("maxscore", "bmw"):
            if re.search(r"\b%s\b" % name, h):
                v.append(("--algorithm " + name, ["--algorithm", name]))
    return v


def parse_bench(out):
    """mean, p50, p99 in ms, failed queries, from `quarry bench` output
    ("mean 80.5 us  p50 69.5 us  p90 ... p99 375.5 us ..."; src/cli/bench.c)."""
    f = {}
    for key in ("mean", "p50", "p99"):
        m = re.search(r"\b%s ([\d.]+) (us|µs|ms|s)\b" % key, out)
        if not m:
            raise Fail("cannot find '%s N us' in the output of quarry bench (did its format change? src/cli/bench.c): %s"
                       % (key, " | ".join(out.strip().splitlines()[:2])))
        f[key] = float(m.group(1)) * {"us": 1e-3, "µs": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
    m = re.search(r"(\d+) quer(?:y|ies) failed", out)
    f["failed"] = int(m.group(1)) if m else None
    return f


def spawn_timed(argv):
    """One process under `/usr/bin/time -f "%M %F"`: (wall seconds from spawn
    to exit, measured here, so it includes starting /usr/bin/time; the peak
    RSS in KiB and the major page faults (reads that waited for the disk)
    that /usr/bin/time reports; the exit status). Not wait4 from here: a
    child of this Python process would report Python's RSS as its peak."""
    fd, tf = tempfile.mkstemp(prefix="quarry-scale-time-")
    os.close(fd)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        t0 = time.perf_counter()
        pid = os.posix_spawn("/usr/bin/time", ["/usr/bin/time", "-f", "%M %F", "-o", tf] + argv, os.environ,
                             file_actions=[(os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, null, 2)])
        _, status = os.waitpid(pid, 0)
        t1 = time.perf_counter()
        with open(tf) as f:
            lines = f.read().strip().splitlines()
    finally:
        os.close(null)
        os.unlink(tf)
    v = lines[-1].split() if lines else []
    kb, majors = (int(v[0]), int(v[1])) if len(v) == 2 and v[0].isdigit() and v[1].isdigit() else (None, None)
    return t1 - t0, kb, majors, os.waitstatus_to_exitcode(status)


def oneshot(p, ix, words, absent_runs=10):
    """New processes: `quarry search -i IX -k 10 --json WORD` for every word,
    the same for a word absent from the index (open + dictionary miss) and
    /bin/true (the cost of starting a process here)."""
    res = {}
    cases = [("search WORD", [[p.quarry, "search", "-i", ix, "-k", "10", "--json", w] for w in words])]
    cases.append(("search absent word", [[p.quarry, "search", "-i", ix, "-k", "10", "--json", "qqzzxxnotaword"]] * absent_runs))
    cases.append(("/bin/true", [["/bin/true"]] * absent_runs))
    for name, cmds in cases:
        t, rss = [], []
        for argv in cmds:
            wall, kb, _, rc = spawn_timed(argv)
            if rc not in (0, 1) and name != "/bin/true":
                r = subprocess.run(argv, capture_output=True, text=True)
                raise Fail("%s failed (exit %d): %s" % (" ".join(argv), rc, (r.stderr.strip().splitlines() or ["?"])[-1]))
            t.append(wall * 1e3)
            rss.append(kb)
        res[name] = {"n": len(t), "mean_ms": statistics.fmean(t), "p50_ms": statistics.median(t),
                     "max_ms": max(t), "rss_kb": max(rss), "rss_p50_kb": statistics.median(rss)}
    return res


def cmd_scale(args):
    p = paths(args)
    check_common(p, args)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    at = commit()   # the checkout whose library the drivers are built from: at the start, not the end
    load0 = load()
    cpath, docs, clabel = corpus(p, args)
    sets = query_sets(p, args)
    ix, build = quarry_index(p, cpath, docs, args.rebuild)
    algos = variants(p)
    note("algorithms: %s" % ", ".join(n for n, _ in algos))
    words = oneshot_words(sets)
    tmp = tempfile.mkdtemp(prefix="quarry-scale-")
    results = {}    # (set, mode, algo) -> [per repeat]
    shots = []
    try:
        qfiles = {(s, m): quarry_queries(f, m, os.path.join(tmp, "%s-%s.q" % (s, m))) for s, m, f, _ in sets}
        for rep in range(args.repeat):
            for s, m, _, cnt in sets:
                for name, extra in algos:
                    r, tv = time_v([p.quarry, "bench", "-i", ix, "--queries", qfiles[(s, m)], "-k", str(args.k),
                                    "--rounds", str(args.rounds)] + extra, "quarry bench (%s, %s, %s)" % (s, m, name))
                    f = parse_bench(r.stdout)
                    f["peak_rss_kb"] = tv.get("peak_rss_kb")
                    f["process_s"] = tv.get("wall_s")
                    results.setdefault((s, m, name), []).append(f)
                    note("[%d/%d] %-6s %-6s %-22s mean %s  p50 %s  p99 %s ms  RSS %s MiB%s"
                         % (rep + 1, args.repeat, s, m, "quarry " + name, ms(f["mean"]), ms(f["p50"]), ms(f["p99"]),
                            mib(f["peak_rss_kb"]), "  (%d queries failed)" % f["failed"] if f["failed"] else ""))
            o = oneshot(p, ix, words)
            shots.append(o)
            w = o["search WORD"]
            note("[%d/%d] one-shot search of %d words: mean %s  p50 %s  max %s ms  RSS %s MiB"
                 % (rep + 1, args.repeat, w["n"], ms(w["mean_ms"], 1), ms(w["p50_ms"], 1), ms(w["max_ms"], 1), mib(w["rss_kb"])))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out_md = args.out or os.path.join(ROOT, "bench", "scale-quick.md" if args.quick else "scale.md")
    out_tsv = re.sub(r"\.md$", "", out_md) + ".tsv"
    ctx = dict(p=p, args=args, started=started, commit=at, load0=load0, load1=load(), corpus=cpath, docs=docs, clabel=clabel,
               sets=sets, ix=ix, build=build, algos=algos, results=results, shots=shots, words=words)
    with open(out_md, "w") as o:
        o.write(scale_md(ctx))
    rows = []
    for s, m, _, _ in sets:
        for name, _ in algos:
            r = median_rep([dict(x, mean_ms=x["mean"]) for x in results[(s, m, name)]])
            rows.append(("quarry " + name, "%s:%s" % (s, m), r["mean"], r["p50"], r["p99"]))
    write_tsv(out_tsv, "%s (%d docs), k = %d, median of %d repeats; %s; commit %s, %s"
              % (clabel, docs, args.k, args.repeat, machine(), at.split()[0], started[:10]),
              command_line() + " (quarry bench, --rounds %d)" % args.rounds, rows)
    note("wrote %s and %s" % (rel(out_md), rel(out_tsv)))
    chart(out_tsv)
    return 0


def scale_md(c):
    p, a, b = c["p"], c["args"], c["build"]
    st = b["stats"]
    L = []
    L.append("# quarry at scale: query latency by query type, open time, memory\n")
    L.append("Made by `%s` on %s, commit %s; %s. Load average %s at the start, %s at the end: "
             "the machine is shared, so compare figures of the same repeat (each repeat runs every "
             "algorithm of a set and mode one after the other)." % (command_line(), c["started"], c["commit"], machine(), c["load0"], c["load1"]))
    L.append("")
    L.append("- **Corpus**: %s, %d documents, %.0f MiB of JSON Lines%s (`%s`)%s."
             % (c["clabel"], c["docs"], os.path.getsize(c["corpus"]) / 1048576, " (gzip)" if c["corpus"].endswith(".gz") else "", c["corpus"],
                "" if a.corpus else ": %s replicated %d times with new ids by `$PEERS/tools/replicate.py`" % (" + ".join(NEWS), a.replicas)))
    L.append("- **Index**: `quarry index %s`: %s s wall, peak RSS %s MiB (`/usr/bin/time -v`)%s; %s MiB on disk "
             "(postings + positions %s MiB; the rest is mostly the stored text, which the peer engines do not keep)."
             % (" ".join(b["flags"]), b["wall_s"], mib(b["peak_rss_kb"]),
                " — reused, built %s by commit %s" % (b["date"], b["commit"]) if b["reused"] else "",
                "%.0f" % (st["bytes"] / 1048576) if st.get("bytes") else "?", st.get("post_pos_mib") or "?"))
    qs = {}
    for s, m, f, n in c["sets"]:
        qs.setdefault(s, []).append((m, f, n))
    for s, lst in qs.items():
        if s == "title" and not a.queries:
            desc = title_desc(a, lst[0][2])
        elif s == "sbg" and not a.queries:
            desc = ("the search-benchmark-game sets of the peers harness, each in its own mode: %s"
                    % ", ".join("`sbg-%s.tsv` (%d)" % (m, n) for m, _, n in lst))
        else:
            desc = "`%s` (%d queries)" % (lst[0][1], lst[0][2])
        L.append("- **Queries `%s`** (modes %s): %s." % (s, ", ".join(m for m, _, _ in lst), desc))
    L.append("- **Modes**: or = the words (ranked OR); and = every word with `+`; phrase = the words in quotes.")
    L.append("- **Latency**: `quarry bench -i INDEX --queries FILE -k %d --rounds %d [ALGORITHM]`, one process per "
             "repeat, set, mode and algorithm: the index opened once, one warm-up pass, then %d timed pass%s; per query: "
             "parse, analysis, top-%d search (article hits, no ids fetched). p50 = sorted[n/2], p99 = sorted[n·99/100] "
             "(0-based). RSS: the peak of that process (`/usr/bin/time -v`)."
             % (a.k, a.rounds, a.rounds, "es" if a.rounds > 1 else "", a.k))
    L.append("")
    L.append("## Latency, ms per query (one figure per repeat: %s)\n" % " / ".join("r%d" % (i + 1) for i in range(a.repeat)))
    L.append("| set | mode | queries | algorithm | mean | p50 | p99 | peak RSS MiB | failed |")
    L.append("|---|---|---:|---|---|---|---|---:|---:|")
    for s, m, _, n in c["sets"]:
        for name, _ in c["algos"]:
            rs = c["results"][(s, m, name)]
            L.append("| %s | %s | %d | %s | %s | %s | %s | %s | %s |"
                     % (s, m, n, name, per_rep([r["mean"] for r in rs]), per_rep([r["p50"] for r in rs]),
                        per_rep([r["p99"] for r in rs]), mib(max(r["peak_rss_kb"] or 0 for r in rs)),
                        per_rep([r["failed"] for r in rs], lambda x: "?" if x is None else str(x))))
    L.append("")
    L.append("## Each algorithm against the default, within each repeat\n")
    L.append("ALGORITHM ÷ default, for the mean and the p99 (above 1: the default is faster).\n")
    others = [n for n, _ in c["algos"] if n != "default"]
    L.append("| set | mode | " + " | ".join("%s ÷ default: mean | p99" % n for n in others) + " |")
    L.append("|---|---|" + "---|---|" * len(others))
    for s, m, _, _ in c["sets"]:
        d = c["results"][(s, m, "default")]
        cells = []
        for n in others:
            x = c["results"][(s, m, n)]
            cells.append(per_rep([xi["mean"] / di["mean"] for xi, di in zip(x, d)], lambda v: "%.2f" % v))
            cells.append(per_rep([xi["p99"] / di["p99"] for xi, di in zip(x, d)], lambda v: "%.2f" % v))
        L.append("| %s | %s | %s |" % (s, m, " | ".join(cells)))
    L.append("")
    L.append("## One-shot: open + one query as a new process\n")
    L.append("`quarry search -i INDEX -k 10 --json WORD >/dev/null` for %d words (the first word of the queries of "
             "each set in turn: %s), each once per repeat; \"absent word\" searches a word that is in no document "
             "(process start + open + a dictionary miss); `/bin/true` is the cost of starting a process here. "
             "Each runs under `/usr/bin/time -f %%M` (its peak RSS); the wall time is measured around that, from spawn to "
             "exit (so it includes starting `/usr/bin/time`, as the `/bin/true` row shows); page cache warm. "
             "Target (issue 7): under 30 ms.\n" % (len(c["words"]), ", ".join(c["words"][:8]) + ", ..."))
    L.append("| process | repeat | runs | mean ms | p50 ms | max ms | peak RSS MiB (p50 / max) |")
    L.append("|---|---:|---:|---:|---:|---:|---|")
    for name in ("search WORD", "search absent word", "/bin/true"):
        for i, o in enumerate(c["shots"]):
            x = o[name]
            L.append("| %s | %d | %d | %s | %s | %s | %s / %s |" % (name, i + 1, x["n"], ms(x["mean_ms"], 1), ms(x["p50_ms"], 1),
                                                               ms(x["max_ms"], 1), mib(x["rss_p50_kb"]), mib(x["rss_kb"])))
    L.append("")
    L.append("The TSV beside this file (`%s`, drawn by `bench/chart.sh`) holds, for each algorithm and query type, the "
             "repeat with the median mean." % os.path.basename(re.sub(r"\.md$", ".tsv", c["args"].out or ("scale-quick.md" if a.quick else "scale.md"))))
    return "\n".join(L) + "\n"


# ------------------------------------------------------------------ peers: side by side

def peers_dir_ready(d, want):
    """Whether the harness in d has its drivers built (as run_peer.sh checks), and sphinx's when wanted."""
    ok = all(os.path.exists(os.path.join(d, "bin", f)) for f in ("xapian_peer", "fts5_peer", os.path.join("lucene", "LucenePeer.class")))
    if "sphinx" in want:
        ok = ok and os.path.exists(os.path.join(d, "bin", "sphinx_client")) and shutil.which("indexer") and shutil.which("searchd")
    return ok


def peers_dir(p, args):
    """--peers-dir, checked: a harness copy, or empty (or absent) with $PEERS to copy."""
    d = os.path.abspath(args.peers_dir or os.path.join(os.environ.get("TMPDIR") or "/tmp", "quarry-peers"))
    if not os.path.isfile(os.path.join(d, "harness.py")):
        if not os.path.isfile(os.path.join(p.peers_src, "harness.py")):
            raise Fail("%s/harness.py is missing (PEERS=%s: the peers harness)" % (p.peers_src, p.peers_src))
        if os.path.exists(d) and (not os.path.isdir(d) or os.listdir(d)):
            raise Fail("%s holds no harness.py and is not an empty directory: give --peers-dir a new, empty or harness directory" % d)
    return d


def prepare_peers(p, args, want):
    """A writable copy of $PEERS in --peers-dir, its drivers built (build.sh when
    the engines are installed, else setup.sh, which needs root), and the quarry
    driver compiled against this checkout's build/libquarry.a."""
    d = peers_dir(p, args)
    if not os.path.isfile(os.path.join(d, "harness.py")):
        note("peers: copying %s to %s" % (p.peers_src, d))
        shutil.copytree(p.peers_src, d, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("bin", "node_modules", "log.jsonl", "__pycache__"))
        for root, dirs, files in os.walk(d):
            for x in dirs + files:
                q = os.path.join(root, x)
                os.chmod(q, os.stat(q).st_mode | 0o200)
        os.chmod(d, os.stat(d).st_mode | 0o200)
    else:
        diff = subprocess.run(["diff", "-rq", "-x", "bin", "-x", "node_modules", "-x", "results", "-x", "__pycache__",
                               p.peers_src, d], capture_output=True, text=True)
        if diff.returncode == 1:
            note("peers: note: %s differs from %s (%d files); using it as it is" % (d, p.peers_src, len(diff.stdout.splitlines())))
    env = dict(os.environ, QUARRY_DIR=ROOT)
    if not peers_dir_ready(d, want):
        tools = ["g++", "gcc", "javac", "java", "xapian-config"] + (["indexer", "searchd"] if "sphinx" in want else [])
        jars = ["/usr/share/java/lucene-core-4.10.4.jar", "/usr/share/java/lucene-analyzers-common-4.10.4.jar",
                "/usr/share/java/gson.jar", "/usr/include/sqlite3.h", "/usr/include/cjson/cJSON.h"]
        installed = all(shutil.which(t) for t in tools) and all(os.path.exists(j) for j in jars)
        if installed:
            note("peers: compiling the drivers (%s/build.sh)" % d)
            run([os.path.join(d, "build.sh")], "peers build.sh", env=env)
        elif os.geteuid() == 0:
            note("peers: installing the engines and compiling the drivers (%s/setup.sh: apt-get, npm)" % d)
            r = subprocess.run([os.path.join(d, "setup.sh")], env=env, cwd=ROOT)
            if r.returncode != 0:
                raise Fail("%s/setup.sh failed (exit %d)" % (d, r.returncode))
        else:
            raise Fail("the peer engines are not installed: run as root `%s/setup.sh`, then run this again" % d)
        if not peers_dir_ready(d, want):
            raise Fail("the peer drivers are still missing from %s/bin after building them" % d)
    # the quarry driver, against this checkout
    compile_driver(os.path.join(d, "src", "quarry_peer.c"), ROOT, os.path.join(d, "bin", "quarry_peer"))
    return d


def compile_driver(src, tree, exe, build="build"):
    """The harness's quarry driver (src: its quarry_peer.c) linked against
    the libquarry.a of checkout `tree` (in its build directory `build`; the
    command of the harness's build.sh; bench/ab.py builds one per commit with
    it)."""
    lib = os.path.join(tree, build, "libquarry.a")
    run(["gcc", "-O2", "-std=gnu11", "-I" + os.path.join(tree, "include"), "-o", exe, src, lib,
         "-lstemmer", "-lutf8proc", "-lz", "-lm", "-pthread"],
        "compiling the quarry driver (%s against %s)" % (src, lib))


def last_json(out, what):
    for line in reversed(out.strip().splitlines()):
        if line.strip().startswith("{"):
            return json.loads(line)
    raise Fail("%s printed no JSON result" % what)


def peer_env(p, extra=None):
    env = dict(os.environ, QUARRY_DIR=ROOT, QUARRY_BIN=p.quarry, QUARRY_INDEX_FLAGS=p.flags, PEER_POSITIONS="1")
    env.pop("PEER_COUNT", None)
    env.pop("PEER_MODE", None)
    env.update(extra or {})
    return env


def peer_builds(p, args, d, peers, cpath):
    """Every peer's index of the corpus at CACHE/.../peers/PEER, with positions;
    the harness's build record beside it (PEER.build.json)."""
    base = os.path.join(corpus_tag(p, cpath), "peers")
    os.makedirs(base, exist_ok=True)
    qsha = sha1_file(p.quarry)
    built = {}
    for peer in peers:
        ix, recf = os.path.join(base, peer), os.path.join(base, peer + ".build.json")
        if args.reuse_indexes and os.path.isfile(recf) and os.path.isfile(os.path.join(ix, ".peer_index")):
            with open(recf) as f:
                rec = json.load(f)
            if rec.get("corpus") == cpath and rec.get("positions") and (peer != "quarry" or rec.get("quarry_sha1") == qsha):
                rec["reused"] = True
                built[peer] = (ix, rec)
                note("build %-7s reused %s (built %s)" % (peer, ix, rec.get("date")))
                continue
        note("build %-7s %s ..." % (peer, ix))
        try:
            r = run([os.path.join(d, "run_peer.sh"), peer, "build", cpath, ix], "%s build" % peer, env=peer_env(p))
        except Fail:
            if peer in REQUIRED_PEERS:
                raise
            note("build %-7s FAILED; left out of this run" % peer)
            continue
        rec = last_json(r.stdout, "%s build" % peer)
        rec.update(date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), quarry_sha1=qsha if peer == "quarry" else None)
        if not rec.get("positions"):
            raise Fail("%s built %s without positions (PEER_POSITIONS=1 was set): phrase mode would fail" % (peer, ix))
        with open(recf, "w") as f:
            json.dump(rec, f, indent=1)
        rec["reused"] = False
        built[peer] = (ix, rec)
        note("build %-7s %s s, %s MiB, peak RSS %s MiB, %s docs"
             % (peer, rec["build_s"], "%.0f" % (rec["index_bytes"] / 1048576), mib(rec["peak_rss_kb"]), rec["docs"]))
    return built


def cmd_peers(args):
    p = paths(args)
    check_common(p, args)
    if not os.path.isfile(p.lib):
        raise Fail("%s is not built (run make in %s)" % (p.lib, ROOT))
    if not shutil.which("gcc"):
        raise Fail("gcc is missing: it compiles the quarry driver of the peers harness")
    extra = [x for x in (args.peers or "").split(",") if x]
    for x in extra:
        if x not in REQUIRED_PEERS + OPTIONAL_PEERS:
            raise Fail("--peers: unknown peer %r (choose among %s)" % (x, ",".join(OPTIONAL_PEERS)))
    peers = list(REQUIRED_PEERS) + [x for x in OPTIONAL_PEERS if x in extra]
    peers_dir(p, args)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    at = commit()   # the checkout whose library the drivers are built from: at the start, not the end
    load0 = load()
    cpath, docs, clabel = corpus(p, args)
    sets = query_sets(p, args)
    d = prepare_peers(p, args, peers)
    built = peer_builds(p, args, d, peers, cpath)
    for peer, (_, rec) in built.items():
        if rec.get("docs") not in (None, docs):
            note("note: %s indexed %s documents of %d" % (peer, rec.get("docs"), docs))
    systems = [("quarry", "quarry", {})]
    if args.exhaustive:
        systems.append(("quarry-exhaustive", "quarry", {"QUARRY_EXHAUSTIVE": "1"}))
    systems += [(x, x, {}) for x in peers if x != "quarry" and x in built]
    runs = os.path.join(corpus_tag(p, cpath), "peers", "runs")
    results = {}   # (set, mode, system) -> [per repeat]
    for rep in range(args.repeat):
        order = systems[rep % len(systems):] + systems[:rep % len(systems)]   # who goes first rotates
        for s, m, f, n in sets:
            for name, peer, env in order:
                ix = built[peer][0]
                out = os.path.join(runs, "r%d" % (rep + 1), "%s-%s-%s.run" % (name, s, m))
                os.makedirs(os.path.dirname(out), exist_ok=True)
                try:
                    r = run([os.path.join(d, "run_peer.sh"), peer, "query", ix, f, str(args.k), out, m],
                            "%s query (%s, %s)" % (name, s, m), env=peer_env(p, env))
                except Fail:
                    if peer in REQUIRED_PEERS:
                        raise
                    note("%s query (%s, %s) FAILED; left out" % (name, s, m))
                    continue
                for line in r.stderr.strip().splitlines()[:5]:
                    note("  %s: %s" % (name, line))
                j = last_json(r.stdout, "%s query" % name)
                with open(out) as fh:   # queries without a hit: a sanity check (a broken mode is fast)
                    j["zero_hits"] = n - len({line.split(" ", 1)[0] for line in fh if line.strip()})
                results.setdefault((s, m, name), []).append(j)
                note("[%d/%d] %-6s %-6s %-20s mean %s  p50 %s  p99 %s ms  open %s ms  RSS %s MiB"
                     % (rep + 1, args.repeat, s, m, LABEL[name], ms(j["mean_ms"]), ms(j["p50_ms"]), ms(j["p99_ms"]),
                        ms(1e3 * (j.get("open_s") or 0), 1), mib(j.get("peak_rss_kb"))))
    out_md = args.out or os.path.join(ROOT, "bench", "peers-quick.md" if args.quick else "peers.md")
    out_tsv = re.sub(r"\.md$", "", out_md) + ".tsv"
    ctx = dict(p=p, args=args, started=started, commit=at, load0=load0, load1=load(), corpus=cpath, docs=docs, clabel=clabel,
               sets=sets, d=d, built=built, systems=systems, results=results, peers=peers)
    with open(out_md, "w") as o:
        o.write(peers_md(ctx))
    rows = []
    for s, m, _, _ in sets:
        for name, _, _ in systems:
            if (s, m, name) in results:
                r = median_rep(results[(s, m, name)])
                rows.append((LABEL[name], "%s:%s" % (s, m), r["mean_ms"], r["p50_ms"], r["p99_ms"]))
    write_tsv(out_tsv, "%s (%d docs), k = %d, median of %d repeats, peers harness; %s; commit %s, %s"
              % (clabel, docs, args.k, args.repeat, machine(), at.split()[0], started[:10]), command_line(), rows)
    note("wrote %s and %s" % (rel(out_md), rel(out_tsv)))
    chart(out_tsv)
    return 0


def peers_md(c):
    p, a = c["p"], c["args"]
    reps = " / ".join("r%d" % (i + 1) for i in range(a.repeat))
    L = ["# quarry beside Lucene 4.10 (and the other peers) on one corpus, in one run\n"]
    L.append("Made by `%s` on %s, commit %s; %s. Load average %s at the start, %s at the end: the machine is "
             "shared, so read the ratios of one repeat. Every peer runs each set and mode once per repeat, one after "
             "the other (the first one rotates from repeat to repeat)." % (command_line(), c["started"], c["commit"], machine(), c["load0"], c["load1"]))
    L.append("")
    L.append("- **Corpus**: %s, %d documents, %.0f MiB of JSON Lines%s (`%s`)%s."
             % (c["clabel"], c["docs"], os.path.getsize(c["corpus"]) / 1048576, " (gzip)" if c["corpus"].endswith(".gz") else "", c["corpus"],
                "" if a.corpus else ": %s replicated %d times with new ids by `$PEERS/tools/replicate.py`" % (" + ".join(NEWS), a.replicas)))
    L.append("- **Harness**: `%s` (a copy of `%s`): `run_peer.sh PEER build CORPUS DIR` with `PEER_POSITIONS=1` "
             "(one index with positions serves the three modes), then `run_peer.sh PEER query DIR QUERIES %d RUN MODE`: "
             "one process opens the index, runs a warm-up pass and a timed pass; per query the driver times parse, "
             "analysis, the top-%d search and fetching the %d external ids. Percentiles are nearest-rank. quarry: "
             "`src/quarry_peer.c` compiled against this checkout's `build/libquarry.a`, its index made by `build/quarry "
             "index %s`%s." % (c["d"], p.peers_src, a.k, a.k, a.k, p.flags,
                                "; `quarry --exhaustive` is the same driver with `QUARRY_EXHAUSTIVE=1`" if a.exhaustive else ""))
    qs = {}
    for s, m, f, n in c["sets"]:
        qs.setdefault(s, []).append((m, f, n))
    for s, lst in qs.items():
        if s == "title" and not a.queries:
            desc = title_desc(a, lst[0][2])
        elif s == "sbg" and not a.queries:
            desc = "the harness's search-benchmark-game sets, each in its own mode: %s" % ", ".join(
                "`queries/sbg-%s.tsv` (%d)" % (m, n) for m, _, n in lst)
        else:
            desc = "`%s` (%d queries)" % (lst[0][1], lst[0][2])
        L.append("- **Queries `%s`** (modes %s): %s." % (s, ", ".join(m for m, _, _ in lst), desc))
    L.append("")
    L.append("## quarry ÷ Lucene 4.10, within each repeat (%s)\n" % reps)
    L.append("The target of issue 7: quarry's mean and p99 at least 5x lower than Lucene's in every mode, "
             "i.e. every ratio at most 0.20.\n")
    L.append("| set | mode | queries | mean: quarry ÷ lucene | p99: quarry ÷ lucene | repeats with both ≤ 0.20 |")
    L.append("|---|---|---:|---|---|---:|")
    for s, m, _, n in c["sets"]:
        q, l = c["results"].get((s, m, "quarry"), []), c["results"].get((s, m, "lucene"), [])
        rm = [x["mean_ms"] / y["mean_ms"] for x, y in zip(q, l)]
        rp = [x["p99_ms"] / y["p99_ms"] for x, y in zip(q, l)]
        met = sum(1 for u, v in zip(rm, rp) if u <= 0.2 and v <= 0.2)
        L.append("| %s | %s | %d | %s | %s | %d of %d |" % (s, m, n, per_rep(rm, lambda v: "%.3f" % v),
                                                          per_rep(rp, lambda v: "%.3f" % v), met, len(rm)))
    L.append("")
    L.append("## Latency, ms per query (%s)\n" % reps)
    L.append("| set | mode | system | mean | p50 | p99 | open ms | query RSS MiB | queries without hits |")
    L.append("|---|---|---|---|---|---|---|---|---|")
    for s, m, _, _ in c["sets"]:
        for name, _, _ in c["systems"]:
            rs = c["results"].get((s, m, name))
            if not rs:
                continue
            L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |"
                     % (s, m, LABEL[name], per_rep([r["mean_ms"] for r in rs]), per_rep([r["p50_ms"] for r in rs]),
                        per_rep([r["p99_ms"] for r in rs]), per_rep([1e3 * (r.get("open_s") or 0) for r in rs], lambda v: ms(v, 1)),
                        per_rep([r.get("peak_rss_kb") for r in rs], mib), per_rep([r["zero_hits"] for r in rs], str)))
    L.append("")
    L.append("## Build (%s, positions)\n" % c["clabel"])
    L.append("| peer | docs | build s | index MiB | build peak RSS MiB | built |")
    L.append("|---|---:|---:|---:|---:|---|")
    for peer in c["peers"]:
        if peer not in c["built"]:
            L.append("| %s | – | failed | – | – | – |" % LABEL[peer])
            continue
        _, r = c["built"][peer]
        L.append("| %s | %s | %.1f | %.1f | %s | %s |" % (LABEL[peer], r.get("docs"), r.get("build_s"), r["index_bytes"] / 1048576,
                                                  mib(r.get("peak_rss_kb")), "reused, %s" % r.get("date") if r["reused"] else "this run"))
    L.append("")
    L.append("quarry's index holds the documents' text (zlib), which the others do not store; `bench/scale.sh` "
             "splits its size. Run files: `%s`. The TSV beside this file (drawn by `bench/chart.sh`) holds, for each "
             "system and query type, the repeat with the median mean."
             % os.path.join(corpus_tag(p, c["corpus"]), "peers", "runs"))
    return "\n".join(L) + "\n"


# ------------------------------------------------------------------ command line

class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise Fail("%s (see --help)" % message)


def common_options(ap):
    ap.add_argument("--quick", action="store_true",
                    help="a short trial: news 3x and the first 200 queries of each set (unless -R / --n-queries say otherwise)")
    ap.add_argument("-R", "--replicas", type=int, metavar="R", help="replicate the news collections R times (default 25; --quick: 3)")
    ap.add_argument("--corpus", metavar="FILE", help="any JSON Lines corpus ({id, title, text} a line; .jsonl or .jsonl.gz) instead of the news collections")
    ap.add_argument("--queries", action="append", metavar="FILE[:MODE,...]",
                    help="a query set (qid<TAB>words lines) instead of the default sets, in the modes given (or, and, phrase; default all three); repeatable")
    ap.add_argument("--n-queries", type=int, metavar="N", help="the first N queries of each set (default all; --quick: 200)")
    ap.add_argument("--repeat", type=int, default=3, metavar="N", help="repeat every measurement N times (default 3)")
    ap.add_argument("-k", type=int, default=10, metavar="K", help="hits per query (default 10)")
    ap.add_argument("--cache", metavar="DIR", help="corpus, query files and indexes (default ${TMPDIR:-/tmp}/quarry-scale)")
    ap.add_argument("--out", metavar="FILE.md", help="the report; the TSV goes beside it as FILE.tsv")


ENV_HELP = ("environment: QUARRY (default build/quarry), QUARRY_CORPUS (default ../shared/corpus), PEERS (default "
            "../shared/peers), QUARRY_INDEX_FLAGS (default '%s'), TMPDIR. Exit status: 0 done, 2 error (one line on "
            "stderr)." % DEFAULT_FLAGS)


def main(argv):
    global PROG
    if not argv or argv[0] not in ("scale", "peers"):
        print("usage: bench/scale.sh ... | bench/peers.sh ... (scale.py scale|peers ...)", file=sys.stderr)
        return 2
    cmd = argv[0]
    PROG = "bench/%s.sh" % cmd
    if cmd == "scale":
        ap = Parser(prog=PROG, description=(
            "quarry's query latency at scale, alone: makes the news corpus replicated R times and the query "
            "sets, builds (or reuses) the index with `quarry index %s`, and runs every set in its modes through "
            "`quarry bench` with the default algorithm, --exhaustive (and each --algorithm NAME that quarry bench "
            "offers), --repeat times; then one-shot `quarry search` processes (open + one query). Writes "
            "bench/scale.md and bench/scale.tsv (--quick: bench/scale-quick.*)." % DEFAULT_FLAGS), epilog=ENV_HELP)
        common_options(ap)
        ap.add_argument("--rounds", type=int, default=1, metavar="N",
                        help="timed passes per quarry bench process, after its warm-up pass (default 1, as the peers harness)")
        ap.add_argument("--rebuild", action="store_true", help="build the index even when a matching one is cached")
    else:
        ap = Parser(prog=PROG, description=(
            "quarry beside Lucene 4.10 (and --peers xapian,fts5,sphinx) through the harness of ../shared/peers, in "
            "one run: copies the harness to --peers-dir, builds its drivers if needed (setup.sh as root when the "
            "engines are not installed), compiles its quarry driver against this checkout, builds every peer's "
            "index of the corpus with positions, runs every query set and mode for every peer, --repeat times, "
            "interleaved. Writes bench/peers.md and bench/peers.tsv (--quick: bench/peers-quick.*)."), epilog=ENV_HELP)
        common_options(ap)
        ap.add_argument("--peers", metavar="LIST", help="more peers beside quarry and lucene: any of xapian,fts5,sphinx")
        ap.add_argument("--peers-dir", metavar="DIR", help="the working copy of the harness (default ${TMPDIR:-/tmp}/quarry-peers): made from $PEERS when absent or empty, else used as it is; its bin/quarry_peer is recompiled against this checkout")
        ap.add_argument("--exhaustive", action="store_true", help="also run quarry's exhaustive scorer (QUARRY_EXHAUSTIVE=1)")
        ap.add_argument("--reuse-indexes", action="store_true",
                        help="reuse the indexes of an earlier run on the same corpus (quarry's only if build/quarry is the same binary)")
    args = ap.parse_args(argv[1:])
    if args.corpus and args.replicas is not None:
        raise Fail("-R replicates the news collections; it does not apply to --corpus")
    if args.replicas is None:
        args.replicas = 3 if args.quick else 25
    if args.n_queries is None and args.quick:
        args.n_queries = 200
    for name in ("replicas", "n_queries", "repeat", "k") + (("rounds",) if cmd == "scale" else ()):
        v = getattr(args, name)
        if v is not None and v < 1:
            raise Fail("--%s must be at least 1" % name.replace("_", "-"))
    return cmd_scale(args) if cmd == "scale" else cmd_peers(args)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Fail as e:
        print("%s: %s" % (PROG, e), file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("%s: interrupted" % PROG, file=sys.stderr)
        sys.exit(130)
