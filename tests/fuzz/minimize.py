#!/usr/bin/env python3
"""minimize.py — cuts a fuzz corpus down to a small committed set.

    tests/fuzz/minimize.py build-fuzz/fuzz_NAME DEST DIR... [--max-files 50] [--max-bytes 200000]

1. libFuzzer -merge=1 -use_counters=0 of DIR... into a scratch directory:
   the inputs that, taken smallest first, each add a coverage edge;
2. each of those alone through -merge=1 -merge_control_file, which gives
   its complete edge (COV) and feature (FT) sets;
3. greedy set cover: every input named bug-* or keep-* (reproducers of
   fixed bugs, hand-made checks), then the inputs adding the most edges not
   yet covered until all are, then those adding the most features, within
   the limits.
The picked inputs replace DEST's contents, named bug-*/keep-*/seed-* as
they were, others by their SHA-1 as libFuzzer names them. Run from the
root of the source tree.
"""
import argparse, hashlib, os, shutil, subprocess, sys, tempfile

ap = argparse.ArgumentParser()
ap.add_argument('fuzzer')
ap.add_argument('dest')
ap.add_argument('dirs', nargs='+')
ap.add_argument('--max-files', type=int, default=50)
ap.add_argument('--max-bytes', type=int, default=200000)
a = ap.parse_args()

tmp = tempfile.mkdtemp(prefix='quarry-minimize-')
def run(args):
    subprocess.run([a.fuzzer, '-rss_limit_mb=1024', '-timeout=10'] + args,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)

# 1. candidates; the bug-/keep- inputs always, whatever the merge says
merged = os.path.join(tmp, 'merged')
os.makedirs(merged)
run(['-merge=1', '-use_counters=0', merged] + a.dirs)
cand = {}
for d in a.dirs:
    for f in os.listdir(d):
        if f.startswith(('bug-', 'keep-', 'seed-')):
            data = open(os.path.join(d, f), 'rb').read()
            cand[hashlib.sha1(data).hexdigest()] = (f, data)
seeds = dict(cand)
for f in os.listdir(merged):
    data = open(os.path.join(merged, f), 'rb').read()
    h = hashlib.sha1(data).hexdigest()
    if h not in cand:
        cand[h] = (h, data)

# 2. the full coverage of each candidate alone
cov, ft = {}, {}
for h, (name, data) in cand.items():
    ind, out, ctl = os.path.join(tmp, 'in'), os.path.join(tmp, 'out'), os.path.join(tmp, 'ctl')
    for p in (ind, out):
        shutil.rmtree(p, ignore_errors=True)
        os.makedirs(p)
    open(os.path.join(ind, 'x'), 'wb').write(data)
    if os.path.exists(ctl):
        os.remove(ctl)
    if data:
        run(['-merge=1', '-merge_control_file=' + ctl, out, ind])
        for l in open(ctl).read().split('\n'):
            p = l.split()
            if len(p) >= 2 and p[0] in ('COV', 'FT'):
                (cov if p[0] == 'COV' else ft)[h] = set(map(int, p[2:]))

# 3. greedy cover
picked, nbytes, got_cov, got_ft = [], 0, set(), set()
def take(h):
    global nbytes
    picked.append(h)
    nbytes += len(cand[h][1])
    got_cov.update(cov.get(h, ()))
    got_ft.update(ft.get(h, ()))
for h, (name, data) in cand.items():
    if name.startswith(('bug-', 'keep-')):
        take(h)
cover_files = None
for table, got in ((cov, got_cov), (ft, got_ft)):
    while len(picked) < a.max_files:
        best, gain = None, 0
        for h in cand:
            if h in picked or nbytes + len(cand[h][1]) > a.max_bytes:
                continue
            g = len(table.get(h, set()) - got)
            if g > gain or (g == gain and g and len(cand[h][1]) < len(cand[best][1])):
                best, gain = h, g
        if best is None:
            break
        take(best)
    if table is cov:
        cover_files = len(picked)

all_cov = set().union(*cov.values()) if cov else set()
all_ft = set().union(*ft.values()) if ft else set()
shutil.rmtree(a.dest, ignore_errors=True)
os.makedirs(a.dest)
for h in picked:
    open(os.path.join(a.dest, cand[h][0]), 'wb').write(cand[h][1])
shutil.rmtree(tmp, ignore_errors=True)
print(f'{a.dest}: {len(picked)} files, {nbytes} bytes; edges {len(got_cov)}/{len(all_cov)}, '
      f'features {len(got_ft)}/{len(all_ft)} of {len(cand)} candidates; {cover_files} files for the edges')
