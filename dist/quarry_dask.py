#!/usr/bin/python3
"""quarry_dask.py — quarry on Dask's distributed scheduler: a collection in
shards, built and searched by Dask workers, answering as one index would.

The C engine does all the indexing and searching (`quarry index`, `quarry
stats --terms`, `quarry search --stats`, one process per shard and task);
Dask only places the tasks on whichever worker is free, and reruns a task
whose worker died. Shards live on a path every worker can read and write
(a shared file system, or one machine); the driver writes there a small
shard list, SHARDS/shards.json, that every other command reads.

  index   streams JSON Lines (files, or - for stdin; .txt articles and
          directories as quarry index takes them), routes each document
          to shard crc32(id) mod N, and runs `quarry index` per shard and
          batch of input (--add for the batches after the first, and for
          every batch with --add, so that a re-run with new or changed
          documents updates the shards: an id lands in the shard that holds
          it, where it replaces the old version)
  search  phase 1: every shard reports the df of each query's terms and its
          totals (quarry stats --terms), summed here; phase 2: every shard
          searches with the sums (quarry search --stats) and the per-shard
          top k are merged: best score first, ties by shard order, then by
          the shard's own order, as one index of the shards' documents in
          shard order breaks them (quarry search -i S0 -i S1 ... answers the
          same). Output as quarry search --json or --trec. A shard that does
          not answer is reported and the search fails, unless --partial
          (then the output is marked partial).
  delete  ids routed by the same hash, `quarry delete` per shard
  verify  `quarry verify` of every shard

Uses only `distributed` and the standard library; Debian's
python3-distributed installs for /usr/bin/python3, so run it with that.
See dist/README.md.
"""

import argparse
import array
import ctypes
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import zlib

LIST_NAME = "shards.json"
LIST_FORMAT = "quarry-shards 1"
HERE = os.path.dirname(os.path.abspath(__file__))


class Fail(Exception):
    """An error to report as one line on stderr, exit status 2."""


def note(msg):
    print("quarry-dask: " + msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------ routing

def shard_of(doc_id, n):
    """The shard of an id: crc32 of its UTF-8 bytes, mod n (stable across
    runs, machines and Python versions)."""
    return zlib.crc32(doc_id.encode("utf-8")) % n


# the id as the first keys of a line usually have it: '{' or ',' before a
# quote can only open a key in valid JSON (a quote inside a string is
# escaped), so this finds the top-level "id" of well-formed lines quickly;
# anything else goes through json.loads
ID_FAST = re.compile(rb'[{,]\s*"id"\s*:\s*"([^"\\]*)"\s*[,}]')


def line_id(line):
    m = ID_FAST.search(line, 0, 512)
    if m and line.find(b'"id"', m.end()) < 0:
        return m.group(1).decode("utf-8", "replace")
    try:
        d = json.loads(line)
    except ValueError as e:
        raise ValueError("malformed JSON (%s)" % e)
    if not isinstance(d, dict) or not isinstance(d.get("id"), str):
        raise ValueError('expected an object with a string "id"')
    return d["id"]


def expand_inputs(paths):
    """The input files, as quarry index takes them: a directory is walked
    recursively, its files sorted by path (bytewise), hidden entries and
    names other than .txt / .jsonl / .jsonl.gz skipped, each directory once
    (links are followed); "-" is stdin."""
    out, seen = [], set()

    def kind(p):
        l = p.lower()
        return "jsonl" if l.endswith(".jsonl") or l.endswith(".jsonl.gz") else "txt" if l.endswith(".txt") else None

    def walk(d):
        st = os.stat(d)
        if (st.st_dev, st.st_ino) in seen:
            return []
        seen.add((st.st_dev, st.st_ino))
        files = []
        for e in os.scandir(d):
            if e.name.startswith("."):
                continue
            if e.is_dir():
                files += walk(e.path)
            elif e.is_file() and kind(e.name):
                files.append(e.path)
        return files

    for p in paths:
        if p == "-":
            out.append(p)
        elif os.path.isdir(p):
            out += sorted(walk(p), key=lambda f: os.fsencode(f))
        elif not os.path.exists(p):
            raise Fail("%s: no such file or directory" % p)
        elif not kind(p):
            raise Fail("%s: not a .txt, .jsonl or .jsonl.gz file" % p)
        else:
            out.append(p)
    return out


# ------------------------------------------------------------ the shard list

def list_path(shards):
    return os.path.join(shards, LIST_NAME)


def read_list(shards):
    p = list_path(shards)
    try:
        with open(p) as f:
            s = json.load(f)
    except FileNotFoundError:
        raise Fail("%s: no shard list (build the shards with: quarry_dask.py index --shards %s ...)" % (p, shards))
    except ValueError as e:
        raise Fail("%s: not a shard list: %s" % (p, e))
    if s.get("format") != LIST_FORMAT or not isinstance(s.get("shards"), list) or not s["shards"]:
        raise Fail("%s: not a shard list of this version (format %r)" % (p, s.get("format")))
    return s


def shard_dirs(shards, lst):
    return [d if os.path.isabs(d) else os.path.join(os.path.abspath(shards), d) for d in lst["shards"]]


def write_list(shards, lst):
    p = list_path(shards)
    tmp = p + ".tmp"
    with open(tmp, "w") as f:
        json.dump(lst, f, indent=1)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, p)


# ------------------------------------------------------------ tasks (run on the workers)

def _die_with_parent():
    # the quarry process dies with the worker that started it (a killed
    # worker must not leave a writer holding a shard's lock)
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    except OSError:
        pass


def run_quarry(argv, stdin_text=None, files=None):
    """Runs quarry on the worker; files: {name: text} written to a private
    temporary directory first, "{name}" in argv replaced by their paths.
    Returns (exit status, stdout, stderr, worker host)."""
    import socket
    tmp = tempfile.mkdtemp(prefix="quarry-dask-") if files else None
    try:
        if files:
            for name, text in files.items():
                with open(os.path.join(tmp, name), "w") as f:
                    f.write(text)
            for name in files:
                argv = [a.replace("{%s}" % name, os.path.join(tmp, name)) for a in argv]
        p = subprocess.run(argv, input=stdin_text, capture_output=True, text=True,
                           preexec_fn=_die_with_parent)
        return p.returncode, p.stdout, p.stderr, socket.gethostname()
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


# quarry index options that an index keeps from its first build (refused with --add)
KEPT_OPTIONS = ("--language", "--stemmer", "--stopwords", "--passages", "--passage-tokens")


def add_options(options):
    """The options of a build that an --add run of the same shard takes."""
    out, skip = [], False
    for o in options:
        if skip:
            skip = False
            continue
        name = o.split("=", 1)[0]
        if name in KEPT_OPTIONS:
            skip = "=" not in o
            continue
        out.append(o)
    return out


def index_task(quarry, shard, paths, add, options, threads, last, after=None):
    """One `quarry index` of a shard (after: the previous task of the same
    shard, which must have finished: batches go in order). A fresh shard
    may get no document at all (an empty index is still a shard). Only the
    run's last batch merges segments (as one quarry index of the whole
    input would: earlier merges would rewrite the shard again and again)."""
    argv = [quarry, "index", "-o", shard, "--threads", str(threads)]
    argv.append("--add" if add else "--allow-empty")
    if not last:
        argv.append("--no-merge")
    argv += (add_options(options) if add else list(options)) + list(paths)
    rc, out, err, host = run_quarry(argv)
    if rc != 0:
        raise RuntimeError((err.strip().splitlines() or ["quarry index exited %d" % rc])[-1])
    return {"shard": shard, "host": host, "summary": err.strip()}


# ------------------------------------------------------------ dask

def connect(args):
    try:
        from distributed import Client
    except ImportError:
        raise Fail("the Python module 'distributed' is missing: apt-get install python3-distributed "
                   "(and run this with /usr/bin/python3)")
    try:
        client = Client(args.scheduler, timeout=args.connect_timeout)
    except Exception as e:   # OSError, TimeoutError, ...
        raise Fail("cannot reach the Dask scheduler at %s: %s" % (args.scheduler, e))
    try:
        client.wait_for_workers(1, timeout=args.connect_timeout)
    except Exception:
        client.close()
        raise Fail("the Dask scheduler at %s has no worker (start one: dask-worker %s)" % (args.scheduler, args.scheduler))
    return client


def quarry_path(args):
    if args.quarry:
        return os.path.abspath(args.quarry)
    built = os.path.join(os.path.dirname(HERE), "build", "quarry")
    if os.access(built, os.X_OK):
        return built
    found = shutil.which("quarry")
    if not found:
        raise Fail("no quarry binary: build it (make) or give --quarry PATH")
    return found


# ------------------------------------------------------------ index

class Router:
    """Streams documents into per-shard spool files of the current batch,
    remembering where each line came from (to name the input's file and
    line when quarry rejects a document)."""

    def __init__(self, spool, n):
        self.spool, self.n = spool, n
        self.batch = -1
        self.files, self.bytes = [], 0
        self.origins = {}      # spool path -> array of (input number << 40 | line)
        self.inputs = []
        self.routed = 0
        self.new_batch()

    def new_batch(self):
        self.close()
        self.batch += 1
        self.files = []
        self.txt = [[] for _ in range(self.n)]   # .txt articles of the batch, per shard
        for s in range(self.n):
            p = os.path.join(self.spool, "shard-%03d.batch-%05d.jsonl" % (s, self.batch))
            self.files.append((p, open(p, "wb", buffering=1 << 20), array.array("q")))
        self.bytes = 0

    def close(self):
        """Closes the batch's files: [(shard, [paths], documents)] (its JSON
        Lines, then its .txt articles, which quarry index reads itself)."""
        out = []
        for s, (p, f, o) in enumerate(self.files):
            f.close()
            self.origins[p] = o
            out.append((s, [p] + self.txt[s], len(o) + len(self.txt[s])))
        self.files = []
        return out

    def add_txt(self, path):
        """A .txt article: its id is the file name without the extension."""
        s = shard_of(os.path.splitext(os.path.basename(path))[0], self.n)
        self.txt[s].append(os.path.abspath(path))
        self.bytes += os.path.getsize(path)
        self.routed += 1

    def add(self, line, origin):
        s = shard_of(line_id(line), self.n)
        p, f, o = self.files[s]
        f.write(line if line.endswith(b"\n") else line + b"\n")
        o.append(origin)
        self.bytes += len(line)
        self.routed += 1

    def where(self, spool_path, line):
        o = self.origins.get(spool_path)
        if o is None or not 1 <= line <= len(o):
            return None
        v = o[line - 1]
        return "%s:%d" % (self.inputs[v >> 40], v & ((1 << 40) - 1))


def cmd_index(args):
    quarry = quarry_path(args)
    shards = os.path.abspath(args.shards)
    os.makedirs(shards, exist_ok=True)
    if args.add:
        lst = read_list(shards)
        n = len(lst["shards"])
        if args.nshards and args.nshards != n:
            raise Fail("%s has %d shards; --nshards %d cannot change that (build anew)" % (list_path(shards), n, args.nshards))
    else:
        n = args.nshards or 4
        lst = {"format": LIST_FORMAT, "route": "crc32(utf-8 id) mod shards",
               "shards": ["shard-%03d" % s for s in range(n)], "index_options": list(args.options),
               "documents_routed": 0}
    dirs = shard_dirs(shards, lst)
    options = lst.get("index_options", []) if not args.add else []
    client = connect(args)
    spool = os.path.join(shards, "spool-" + uuid.uuid4().hex[:12])
    os.makedirs(spool)
    t0 = time.time()
    router = Router(spool, n)
    last = [None] * n           # each shard's latest task: its batches run in order
    first = [not args.add] * n  # a fresh build replaces each shard with its first batch
    futures = []

    def submit_batch(final):
        for s, paths, ndocs in router.close():
            if ndocs == 0 and not (final and first[s]):
                continue   # nothing for this shard in this batch (a fresh shard still gets built at the end)
            p = paths[0]
            fut = client.submit(index_task, quarry, dirs[s], paths, not first[s], options, args.threads, final,
                                last[s], key="index-%s-shard%03d-batch%05d" % (os.path.basename(spool), s, router.batch),
                                pure=False)
            first[s] = False
            last[s] = fut
            futures.append((s, p, fut))
            # where the batch's lines came from matters only if it fails: 8 bytes a
            # document would add up over a long run
            fut.add_done_callback(lambda f, p=p: f.status == "finished" and router.origins.pop(p, None))

    try:
        for ni, path in enumerate(expand_inputs(args.inputs)):
            name = "stdin" if path == "-" else path
            router.inputs.append(name)
            if path != "-" and path.lower().endswith(".txt"):
                router.add_txt(path)
                if args.batch_mb and router.bytes >= args.batch_mb << 20:
                    submit_batch(False)
                    router.new_batch()
                continue
            try:
                if path == "-":
                    f = sys.stdin.buffer
                elif path.endswith(".gz"):
                    import gzip
                    f = gzip.open(path, "rb")
                else:
                    f = open(path, "rb", buffering=1 << 20)
            except OSError as e:
                raise Fail("cannot open %s: %s" % (path, e.strerror))
            with f:
                lineno = 0
                for line in f:
                    lineno += 1
                    if not line.strip():
                        continue
                    try:
                        router.add(line, ni << 40 | lineno)
                    except ValueError as e:
                        raise Fail("%s:%d: %s" % (name, lineno, e))
                    if args.batch_mb and router.bytes >= args.batch_mb << 20:
                        submit_batch(False)
                        router.new_batch()
        if router.routed == 0 and not args.add:
            raise Fail("no documents in %s" % " ".join(args.inputs))
        submit_batch(True)
        routed_s = time.time() - t0
        failed = []
        for s, p, fut in futures:
            try:
                r = fut.result()
            except Exception as e:
                msg = str(e)
                m = re.match(r"^quarry: (.*?):(\d+): (.*)$", msg)
                if m and router.where(m.group(1), int(m.group(2))):
                    msg = "quarry: %s: %s" % (router.where(m.group(1), int(m.group(2))), m.group(3))
                failed.append("shard %d (%s): %s" % (s, dirs[s], msg))
                break
            if args.verbose:
                note("shard %d on %s: %s" % (s, r["host"], r["summary"]))
        if failed:
            for f in failed:
                note(f)
            raise Fail("indexing failed; the shards hold what earlier batches added (run again with --add to "
                       "finish: ids already there are replaced, never doubled)")
        lst["documents_routed"] = lst.get("documents_routed", 0) + router.routed
        lst["updated"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        write_list(shards, lst)
        note("indexed %d documents into %d shards in %.2fs (routing done at %.2fs, %d batch%s) -> %s" %
             (router.routed, n, time.time() - t0, routed_s, router.batch + 1, "" if router.batch == 0 else "es",
              list_path(shards)))
    finally:
        router.close()
        if not args.keep_spool:
            shutil.rmtree(spool, ignore_errors=True)
        client.close()
    return 0


# ------------------------------------------------------------ search

def read_queries(args):
    """[(qid, query, line)] and the text given to every shard (the lines of
    the original file, so that quarry's stdin:LINE messages name them)."""
    if args.query:
        q = " ".join(args.query)
        if "\t" in q or "\n" in q:
            raise Fail("a QUERY cannot hold a tab or a line break")
        return [("1", q, 1)], "1\t%s\n" % q, "query"
    name = "stdin" if args.queries in (None, "-") else args.queries
    try:
        text = sys.stdin.read() if name == "stdin" else open(args.queries, encoding="utf-8", errors="replace").read()
    except OSError as e:
        raise Fail("cannot read the queries file %s: %s" % (args.queries, e.strerror))
    out, lines = [], []
    for i, raw in enumerate(text.split("\n"), 1):
        line = raw.rstrip("\r")
        if i == 1 and line.startswith("\ufeff"):
            line = line[1:]
        if not line.strip() or (args.queries and line.startswith("#")):
            lines.append("")
            continue
        if args.queries:
            qid, tab, q = line.partition("\t")
            if not tab:
                raise Fail('%s:%d: expected "qid<TAB>query", found no tab' % (name, i))
            if not qid or re.search(r"\s", qid):
                raise Fail('%s:%d: the query id "%s" is empty or contains white space' % (name, i, qid))
        else:   # one query a line: its qid the line number, as quarry search does
            qid, q = str(i), line
        out.append((qid, q, i))
        lines.append("%s\t%s" % (qid, q))
    if not out:
        raise Fail("%s: no queries" % name)
    seen = {}
    for qid, q, i in out:
        if qid in seen:
            raise Fail('%s:%d: duplicate query id "%s" (first on line %d)' % (name, i, qid, seen[qid]))
        seen[qid] = i
    return out, "\n".join(lines) + "\n", name


def shard_failed(rc, err):
    """A shard's batch ran unless quarry stopped on an error of its own
    (not a query's: those are reported per query and counted at the end)."""
    if rc == 0:
        return None
    last = (err.strip().splitlines() or [""])[-1]
    if rc == 2 and re.match(r"^quarry: \d+ of \d+ quer(y|ies) failed$", last):
        return None
    return last or "quarry exited with status %d" % rc


def gather(client, futures, timeout, what):
    """{shard: result}, {shard: why it did not answer} within timeout."""
    from distributed import wait
    done, not_done = wait([f for s, f in futures], timeout=timeout, return_when="ALL_COMPLETED") \
        if futures else (set(), set())
    ok, bad = {}, {}
    for s, f in futures:
        if f in not_done:
            bad[s] = "no answer to %s within %gs" % (what, timeout)
            f.cancel()
            continue
        try:
            rc, out, err, host = f.result()
        except Exception as e:
            bad[s] = "%s: %s" % (type(e).__name__, e)
            continue
        why = shard_failed(rc, err)
        if why:
            bad[s] = why
        else:
            ok[s] = (out, err)
    return ok, bad


# the head of a line of quarry search --json: {"qid":"...",}"rank":N,"score":S,
SCORE_JSON = re.compile(r'^\{(?:"qid":("(?:[^"\\]|\\.)*"),)?"rank":(\d+),"score":([^,]+),(.*)\}$', re.S)


def cmd_search(args):
    if args.json and args.trec:
        raise Fail("--json and --trec cannot be combined")
    if args.trec and args.passages:
        raise Fail("--trec ranks articles; it cannot be combined with --passages")
    if args.query and args.queries:
        raise Fail("give either QUERY words or --queries FILE, not both")
    quarry = quarry_path(args)
    lst = read_list(args.shards)
    dirs = shard_dirs(args.shards, lst)
    queries, text, name = read_queries(args)
    client = connect(args)
    t0 = time.time()
    try:
        # phase 1: each shard's statistics of each query's terms, summed
        base = [quarry]
        plain = ["--plain"] if args.plain else []
        fut = [(s, client.submit(run_quarry, base + ["stats", "-i", d, "--terms", "--queries", "-"] + plain, text,
                                 key="stats-%s-%d" % (uuid.uuid4().hex[:8], s), pure=False))
               for s, d in enumerate(dirs)]
        ok, bad = gather(client, fut, args.timeout, "phase 1 (statistics)")
        missing = sorted(bad)
        for s in missing:
            note("shard %d (%s) did not answer: %s" % (s, dirs[s], bad[s]))
        if missing and not args.partial:
            raise Fail("%d of %d shards did not answer; no results (--partial accepts the others' and marks "
                       "the output partial)" % (len(missing), len(dirs)))
        if not ok:
            raise Fail("no shard answered")
        sums, order = {}, []
        first_shard = min(ok)
        for s in sorted(ok):
            for line in ok[s][0].splitlines():
                d = json.loads(line)
                a = sums.get(d["qid"])
                if a is None:
                    if s != first_shard:
                        raise Fail("shard %d reports statistics of query %s that shard %d does not" % (s, d["qid"], first_shard))
                    a = sums[d["qid"]] = {"qid": d["qid"], "units": 0, "tokens": 0, "df": dict.fromkeys(d["df"], 0)}
                    order.append(d["qid"])
                if list(a["df"]) != list(d["df"]):
                    raise Fail("shard %d analyzes query %s into other terms than shard %d: the shards must be "
                               "built alike" % (s, d["qid"], first_shard))
                a["units"] += d["units"]
                a["tokens"] += d["tokens"]
                for t, v in d["df"].items():
                    a["df"][t] += v
        # the queries that failed (syntax, limits): quarry said why, per line
        failed = len(queries) - len(order)
        for l in ok[first_shard][1].splitlines():
            if l.startswith("quarry: stdin:"):
                print("quarry: %s:%s" % (name, l[len("quarry: stdin:"):]), file=sys.stderr)
        stats = "".join(json.dumps(sums[q], ensure_ascii=False) + "\n" for q in order)
        run = set(order)
        qtext = "".join("%s\t%s\n" % (qid, q) for qid, q, i in queries if qid in run)
        t1 = time.time()
        # phase 2: every shard searches with the sums; per-shard top k
        k = args.k
        argv = base + ["search", "-i", "{shard}", "--stats", "{stats}", "--queries", "-", "--exact-scores",
                       "--no-collapse", "--no-pager", "-k", str(k)]
        argv += plain + (["--no-expand"] if args.plain else [])
        argv += ["--passages"] if args.passages else []
        argv += ["--trec", args.trec] if args.trec else ["--json"]
        for opt in ("k1", "b", "algorithm", "since", "until"):
            v = getattr(args, opt)
            if v is not None:
                argv += ["--" + opt, str(v)]
        fut = []
        for s in sorted(ok):
            a = [x if x != "{shard}" else dirs[s] for x in argv]
            fut.append((s, client.submit(run_quarry, a, qtext, {"stats": stats},
                                         key="search-%s-%d" % (uuid.uuid4().hex[:8], s), pure=False)))
        ok2, bad2 = gather(client, fut, args.timeout, "phase 2 (search)")
        for s in sorted(bad2):
            note("shard %d (%s) did not answer: %s" % (s, dirs[s], bad2[s]))
        missing = sorted(set(missing) | set(bad2))
        if bad2 and not args.partial:
            raise Fail("%d of %d shards did not answer; no results (--partial accepts the others' and marks "
                       "the output partial)" % (len(missing), len(dirs)))
        if not ok2:
            raise Fail("no shard answered")
        t2 = time.time()
        # merge: per query, best score first, then shard order, then the shard's order
        hits = {}
        for s in sorted(ok2):
            for line in ok2[s][0].splitlines():
                if args.trec:
                    f = line.split(" ")
                    hits.setdefault(f[0], []).append((-float(f[4]), s, int(f[3]), f))
                else:   # no need to decode the whole line: its head has what the merge needs
                    m = SCORE_JSON.match(line)
                    if not m:
                        raise Fail("shard %d: unexpected output: %.100s" % (s, line))
                    qid = json.loads(m.group(1)) if m.group(1) else "1"
                    hits.setdefault(qid, []).append((-float(m.group(3)), s, int(m.group(2)), m))
        out = sys.stdout
        tag_mark = "" if not missing else ".partial"
        nout = 0
        for qid in order:
            v = sorted(hits.get(qid, []), key=lambda h: h[:3])[:k]
            for rank, (neg, s, r, h) in enumerate(v, 1):
                score = -neg
                sc = "%.17g" % score if args.exact_scores else "%.6f" % score
                if args.trec:
                    out.write("%s Q0 %s %d %s %s%s\n" % (h[0], h[2], rank, sc, h[5], tag_mark))
                else:
                    head = '{"qid":%s,' % h.group(1) if not args.query else "{"   # one QUERY: no qid, as quarry search
                    extra = ',"partial":true,"missing_shards":%s' % json.dumps(missing) if missing else ""
                    out.write('%s"rank":%d,"score":%s,%s%s}\n' % (head, rank, sc, h.group(4), extra))
                nout += 1
        out.flush()
        if args.verbose:
            note("%d queries, %d shards: phase 1 %.3fs, phase 2 %.3fs, merge %.3fs" %
                 (len(order), len(ok2), t1 - t0, t2 - t1, time.time() - t2))
        if missing:
            note("PARTIAL results: shards %s did not answer" % ", ".join(map(str, missing)))
        if failed:
            raise Fail("%d of %d quer%s failed" % (failed, len(queries), "y" if len(queries) == 1 else "ies"))
        if args.query and nout == 0:
            return 1
        return 0
    finally:
        client.close()


# ------------------------------------------------------------ delete, verify

def each_shard(args, make_argv, what):
    quarry = quarry_path(args)
    lst = read_list(args.shards)
    dirs = shard_dirs(args.shards, lst)
    client = connect(args)
    try:
        fut = [(s, client.submit(run_quarry, *make_argv(quarry, s, d), key="%s-%s-%d" % (what, uuid.uuid4().hex[:8], s),
                                 pure=False)) for s, d in enumerate(dirs)]
        res = {}
        for s, f in fut:
            try:
                res[s] = f.result(timeout=args.timeout)
            except Exception as e:
                res[s] = (2, "", "quarry-dask: %s: %s" % (type(e).__name__, e), "?")
        return dirs, res
    finally:
        client.close()


def cmd_delete(args):
    lst = read_list(args.shards)
    n = len(lst["shards"])
    ids = list(args.id)
    if args.ids:
        try:
            with (sys.stdin if args.ids == "-" else open(args.ids, encoding="utf-8")) as f:
                ids += [l.rstrip("\r\n") for l in f if l.strip()]
        except OSError as e:
            raise Fail("cannot read %s: %s" % (args.ids, e.strerror))
    if not ids:
        raise Fail("no ids to delete (ID... or --ids FILE)")
    per = [[] for _ in range(n)]
    for i in ids:
        per[shard_of(i, n)].append(i)

    def argv(quarry, s, d):
        if not per[s]:
            return ([quarry, "stats", "-i", d], None)   # nothing to delete there: it must still open
        return ([quarry, "delete", "-i", d, "--ids", "-"] + (["--strict"] if args.strict else []),
                "".join(i + "\n" for i in per[s]))

    dirs, res = each_shard(args, argv, "delete")
    status = 0
    for s in sorted(res):
        rc, out, err, host = res[s]
        if rc != 0:
            note("shard %d (%s): %s" % (s, dirs[s], (err.strip().splitlines() or ["exit %d" % rc])[-1]))
            status = 2
        elif per[s] and args.verbose:
            note("shard %d: %s" % (s, err.strip()))
    if status == 0:
        note("deleted from %d shards (%d ids routed)" % (sum(1 for p in per if p), len(ids)))
    return status


def cmd_verify(args):
    dirs, res = each_shard(args, lambda q, s, d: ([q, "verify", "-i", d], None), "verify")
    status = 0
    for s in sorted(res):
        rc, out, err, host = res[s]
        if rc == 0:
            print("shard %d: %s" % (s, out.strip()))
        else:
            print("shard %d: FAILED: %s" % (s, (err.strip().splitlines() or ["exit %d" % rc])[-1]))
            status = 2
    return status


# ------------------------------------------------------------ main

def main(argv=None):
    p = argparse.ArgumentParser(prog="quarry_dask.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--scheduler", default=os.environ.get("DASK_SCHEDULER_ADDRESS"),
                        help="the Dask scheduler, e.g. tcp://10.0.0.1:8786 (default $DASK_SCHEDULER_ADDRESS)")
    common.add_argument("--shards", required=True, help="the shards' directory, on a path every worker shares")
    common.add_argument("--quarry", help="the quarry binary the workers run (default: build/quarry beside dist/, "
                        "else quarry on PATH)")
    common.add_argument("--timeout", type=float, default=600, help="seconds to wait for a shard (default 600)")
    common.add_argument("--connect-timeout", type=float, default=30, help="seconds to wait for the scheduler and a worker")
    common.add_argument("-v", "--verbose", action="store_true", help="each shard's summary, timings")
    sub = p.add_subparsers(dest="cmd", required=True)

    ix = sub.add_parser("index", parents=[common], help="build or update the shards",
                        description="Routes each document of INPUT (JSON Lines, .gz, .txt articles, directories of them, or - for "
                        "stdin) to shard crc32(id) mod N and indexes the shards as Dask tasks. Options after -- go to quarry index "
                        "(e.g. -- --passages off).")
    ix.add_argument("--nshards", type=int, help="shards of a new collection (default 4)")
    ix.add_argument("--add", action="store_true", help="add to the shards (an id already there is replaced)")
    ix.add_argument("--batch-mb", type=int, default=256,
                    help="index each shard's share of every MB of input as soon as it is routed (default 256; 0: "
                    "route everything first)")
    ix.add_argument("--threads", type=int, default=1, help="threads of each quarry index (default 1: one task a core)")
    ix.add_argument("--keep-spool", action="store_true", help="keep the routed files (debugging)")
    ix.add_argument("inputs", nargs="+", metavar="INPUT")

    se = sub.add_parser("search", parents=[common], help="search the shards as one collection")
    se.add_argument("-k", type=int, default=10, help="hits per query (default 10)")
    se.add_argument("--passages", action="store_true", help="rank passages")
    se.add_argument("--plain", action="store_true", help="plain-text queries (no feedback: it needs the whole collection)")
    se.add_argument("--json", action="store_true", help="JSON Lines as quarry search --json (the default)")
    se.add_argument("--trec", metavar="TAG", help="a TREC run")
    se.add_argument("--queries", metavar="FILE", help='"qid<TAB>query" lines (- is stdin); default: one query a line on stdin')
    se.add_argument("--exact-scores", action="store_true", help="scores with 17 significant digits")
    se.add_argument("--partial", action="store_true", help="answer with the shards that answer, marked partial")
    se.add_argument("--k1", type=float)
    se.add_argument("--b", type=float)
    se.add_argument("--algorithm")
    se.add_argument("--since")
    se.add_argument("--until")
    se.add_argument("query", nargs="*", metavar="QUERY")

    de = sub.add_parser("delete", parents=[common], help="delete documents by id")
    de.add_argument("--ids", metavar="FILE", help="ids, one a line (- for stdin)")
    de.add_argument("--strict", action="store_true", help="an id not in its shard is an error")
    de.add_argument("id", nargs="*", metavar="ID")

    sub.add_parser("verify", parents=[common], help="quarry verify every shard")

    raw = sys.argv[1:] if argv is None else argv
    opts = []
    if "--" in raw:   # index options for quarry
        i = raw.index("--")
        raw, opts = raw[:i], raw[i + 1:]
    args = p.parse_args(raw)
    if args.cmd == "index":
        args.options = opts
    elif opts:
        p.error("options after -- are for index only")
    if not args.scheduler:
        p.error("--scheduler ADDRESS is required (or set DASK_SCHEDULER_ADDRESS)")
    try:
        return {"index": cmd_index, "search": cmd_search, "delete": cmd_delete, "verify": cmd_verify}[args.cmd](args)
    except Fail as e:
        note(str(e))
        return 2
    except KeyboardInterrupt:
        note("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
