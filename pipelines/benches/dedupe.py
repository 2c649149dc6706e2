"""`curate bench dedupe`: MinHash signature speed vs datasketch and rensa, and clustering memory.

On the same documents in one run: docs/s of our vectorised signatures (hashfunc
'poly' and datasketch's default 'sha1'), datasketch `MinHash.update` per shingle,
`MinHash.bulk`, and rensa's `RMinHash`. Every contender gets the same shingles
(our normalisation, word 5-grams) and is timed from raw text, shingling
included. Our signatures are checked equal to datasketch's for the same hashfunc.
Then peak RSS of the clustering step (band keys + union-find) on `n_signatures`
synthetic signatures, measured in a fresh subprocess.
"""
import json
import subprocess
import sys
import time

import numpy as np

from stages.dedupe.minhash import MinHasher, shingles
from stages.dedupe.synthetic import Corpus

_CLUSTER_SCRIPT = """
import json, resource, sys, time
import numpy as np
from stages.dedupe.clustering import lsh_components
from stages.dedupe.lsh import lsh_params
n, num_perm, dup_rate = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
bands, rows = lsh_params(0.8, num_perm, 0.05, 0.95)
rng = np.random.default_rng(0)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
def batches(batch=65536):
    for lo in range(0, n, batch):
        sigs = rng.integers(0, 2**32, (min(batch, n - lo), num_perm), dtype=np.uint32)
        dup = rng.random(len(sigs)) < dup_rate  # planted copies of the batch's first rows
        sigs[dup] = sigs[np.arange(len(sigs))[dup] % 97]
        yield sigs
t = time.perf_counter()
roots = lsh_components(batches(), bands, rows)
print(json.dumps({"seconds": round(time.perf_counter() - t, 2), "clusters_multi": int(np.sum(np.bincount(roots) > 1)),
                  "docs_in_clusters": int(np.sum(np.bincount(roots)[roots] > 1)),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                  "rss_before_mb": round(base / 1024, 1), "bands": bands, "rows": rows}))
"""


def _rate(n_docs: int, seconds: float) -> float:
    return round(n_docs / seconds, 1) if seconds > 0 else float("inf")


def signature_speed(n_docs: int = 2000, words: int = 500, num_perm: int = 128, ngram: int = 5,
                    per_token_docs: int = 200) -> dict:
    corpus = Corpus(0)
    texts = [corpus.document(words) for _ in range(n_docs)]
    out = {"docs": n_docs, "words_per_doc": words, "num_perm": num_perm, "ngram": ngram}
    from datasketch import MinHash
    import rensa

    ours = {}
    for hashfunc in ("poly", "sha1"):
        hasher = MinHasher(num_perm=num_perm, ngram=ngram, hashfunc=hashfunc)
        hasher.signatures(texts[:50])  # warm caches
        t = time.perf_counter()
        sigs = []
        for lo in range(0, n_docs, 512):
            sigs.append(hasher.signatures(texts[lo:lo + 512]))
        ours[hashfunc] = (time.perf_counter() - t, np.concatenate(sigs), hasher)
        out[f"ours_{hashfunc}_docs_per_s"] = _rate(n_docs, ours[hashfunc][0])

    # datasketch bulk (update_batch per document), default sha1 hashfunc, same shingles
    t = time.perf_counter()
    bulk = MinHash.bulk((shingles(x, ngram) for x in texts), num_perm=num_perm, seed=1)
    bulk_s = time.perf_counter() - t
    out["datasketch_bulk_docs_per_s"] = _rate(n_docs, bulk_s)
    out["bulk_equals_ours_sha1"] = all(np.array_equal(m.hashvalues, s) for m, s in zip(bulk[:200], ours["sha1"][1]))
    poly_hash = ours["poly"][2].datasketch_hashfunc()
    out["datasketch_with_poly_equals_ours_poly"] = all(
        np.array_equal(ours["poly"][2].datasketch_minhash(x).hashvalues, s)
        for x, s in zip(texts[:20], ours["poly"][1][:20]))
    del poly_hash

    # datasketch update() per shingle (the classic loop), on a subset
    sub = texts[:per_token_docs]
    t = time.perf_counter()
    for x in sub:
        m = MinHash(num_perm=num_perm, seed=1)
        for s in shingles(x, ngram):
            m.update(s)
    out["datasketch_update_docs_per_s"] = _rate(len(sub), time.perf_counter() - t)

    # rensa RMinHash (Rust), same shingles as strings
    t = time.perf_counter()
    for x in texts:
        m = rensa.RMinHash(num_perm=num_perm, seed=1)
        m.update([s.decode("utf-8", "replace") for s in shingles(x, ngram)])
        m.digest()
    out["rensa_docs_per_s"] = _rate(n_docs, time.perf_counter() - t)

    for name in ("poly", "sha1"):
        ours_rate = out[f"ours_{name}_docs_per_s"]
        out[f"ours_{name}_vs_datasketch_bulk"] = round(ours_rate / out["datasketch_bulk_docs_per_s"], 2)
        out[f"ours_{name}_vs_datasketch_update"] = round(ours_rate / out["datasketch_update_docs_per_s"], 2)
        out[f"ours_{name}_vs_rensa"] = round(ours_rate / out["rensa_docs_per_s"], 2)
    out["goal_5x_bulk_met"] = out["ours_poly_vs_datasketch_bulk"] >= 5
    return out


def cluster_memory(n_signatures: int = 1_000_000, num_perm: int = 128, dup_rate: float = 0.05) -> dict:
    result = subprocess.run([sys.executable, "-c", _CLUSTER_SCRIPT, str(n_signatures), str(num_perm), str(dup_rate)],
                            capture_output=True, text=True, check=True)
    out = json.loads(result.stdout.strip().splitlines()[-1])
    out["n_signatures"] = n_signatures
    out["under_2gb"] = out["peak_rss_mb"] < 2048
    return out


def run(n_docs: int = 2000, words: int = 500, n_signatures: int = 1_000_000, **_) -> dict:
    return {"signatures": signature_speed(n_docs=n_docs, words=words),
            "clustering": cluster_memory(n_signatures=n_signatures)}
