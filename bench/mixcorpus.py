#!/usr/bin/env python3
"""bench/mixcorpus.py — a million-document corpus without duplicates, for
measuring query speed where the replicated news corpus flatters pruning.

News 25x (bench/scale.sh) holds every document 25 times: the best document
of a query scores the same 25 times, the top 10 fills with copies at once,
and the threshold of a pruning algorithm starts high. A collection of
distinct documents does not do that. This one is made from the same text
(reuters21578 + 20newsgroups + bbc of ../shared/corpus, the "news 1x"
corpus of bench/scale.sh), recombined:

  every document draws a seed document at random and has as many sentences
  as the seed; each sentence is, with probability 1/2, one of the seed's
  own, else one of another document of the seed's group (a newsgroup, a
  BBC section, or one of 20 slices of Reuters by id: neighbouring wires),
  all at random; the title is the seed's or, with probability 1/2, that of
  another document of the group.

So the vocabulary, the sentences (and so the phrases) and the topics are
those of the news, the sizes follow the news, and the documents are
distinct but for short ones drawn alike (the line printed counts the
distinct texts: 954,001 of 1,021,250 with seed 9100001). Deterministic for
a seed.

    bench/mixcorpus.py NEWS1.jsonl N SEED OUT.jsonl

prints one line: documents, bytes, distinct texts. Python 3 standard library
only. An error is one line on stderr and exit status 2.
"""
import hashlib
import json
import random
import re
import sys

SPLIT = re.compile(r"(?<=[.!?])\s+|\n\s*\n")


def group_of(doc_id):
    if "/" in doc_id:
        return doc_id.split("/", 1)[0]
    try:
        return "reuters-%d" % (int(doc_id) // 1100)
    except ValueError:
        return "other"


def main(argv):
    if len(argv) != 5:
        sys.stderr.write("usage: bench/mixcorpus.py NEWS1.jsonl N SEED OUT.jsonl\n")
        return 2
    src, n, seed, out = argv[1], int(argv[2]), int(argv[3]), argv[4]
    titles, sents, groups = [], [], {}
    try:
        with open(src, encoding="utf-8") as f:
            for line in f:
                d = json.loads(line)
                s = [x.strip() for x in SPLIT.split(d.get("text") or "") if x.strip()]
                if not s:
                    continue
                titles.append(d.get("title") or "")
                sents.append(s)
                groups.setdefault(group_of(d["id"]), []).append(len(sents) - 1)
    except (OSError, ValueError, KeyError) as e:
        sys.stderr.write("bench/mixcorpus.py: %s: %s\n" % (src, e))
        return 2
    group = [None] * len(sents)
    for members in groups.values():
        for i in members:
            group[i] = members
    rng = random.Random(seed)
    seen = set()
    nbytes = 0
    try:
        with open(out, "w", encoding="utf-8") as o:
            for k in range(n):
                s = rng.randrange(len(sents))
                g = group[s]
                body = []
                for _ in range(len(sents[s])):
                    src_doc = s if rng.random() < 0.5 else g[rng.randrange(len(g))]
                    v = sents[src_doc]
                    body.append(v[rng.randrange(len(v))])
                title = titles[s] if rng.random() < 0.5 else titles[g[rng.randrange(len(g))]]
                text = " ".join(body)
                seen.add(hashlib.blake2b(text.encode("utf-8"), digest_size=12).digest())
                line = json.dumps({"id": "mix/%07d" % k, "title": title, "text": text}, ensure_ascii=False) + "\n"
                nbytes += len(line.encode("utf-8"))
                o.write(line)
    except OSError as e:
        sys.stderr.write("bench/mixcorpus.py: %s: %s\n" % (out, e.strerror))
        return 2
    print("%d documents, %d bytes, %d distinct texts" % (n, nbytes, len(seen)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
