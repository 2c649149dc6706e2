"""`curate bench dedupe`: MinHash signature speed vs datasketch and rensa, and clustering memory.

On the same documents in one run: docs/s of our vectorised signatures (hashfunc
'poly' and datasketch's default 'sha1'), datasketch `MinHash.update` per shingle
(on every 10th document), `MinHash.bulk`, and rensa's `RMinHash` (per document, and its
`digest_matrix_from_token_byte_sets` batch API). Every contender gets the same shingles
(our normalisation, word 5-grams) and is timed from raw text, shingling
included. Our signatures are checked equal to datasketch's for the same hashfunc.
Then peak RSS of clustering on `n_signatures` synthetic signatures: the core (every band key and
a union-find in one process, `lsh_components`) and the real passes with `cluster_tasks` tasks and
with one (`cluster_scale`), each task in a fresh process.
"""
import json
import subprocess
import sys
import time

import numpy as np

from curate.pipelines.benches.progress import step
from curate.stages.dedupe.minhash import MinHasher, shingles
from curate.stages.dedupe.synthetic import Corpus

_CLUSTER_SCRIPT = """
import json, resource, sys, time
import numpy as np
from curate.stages.dedupe.clustering import lsh_components
from curate.stages.dedupe.lsh import lsh_params
n, num_perm, dup_rate = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
bands, rows = lsh_params(0.8, num_perm, 0.05, 0.95)
rng = np.random.default_rng(0)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
def batches(batch=65536):
    for lo in range(0, n, batch):
        sigs = rng.integers(0, 2**32, (min(batch, n - lo), num_perm), dtype=np.uint32)
        dup = rng.random(len(sigs)) < dup_rate  # planted copies of the batch's first rows
        sigs[dup] = sigs[np.arange(len(sigs))[dup] % 997]
        yield sigs
t = time.perf_counter()
roots = lsh_components(batches(), bands, rows)
print(json.dumps({"seconds": round(time.perf_counter() - t, 2), "clusters_multi": int(np.sum(np.bincount(roots) > 1)),
                  "docs_in_clusters": int(np.sum(np.bincount(roots)[roots] > 1)),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                  "rss_before_mb": round(base / 1024, 1), "bands": bands, "rows": rows}))
"""


def cluster_step_memory(n_signatures: int = 1_000_000, cluster_tasks: int = 2) -> dict:
    """Peak RSS of the real clustering passes (buckets, links, clusters, verification on) over synthetic
    signature files, each task in its own process, with `cluster_tasks` tasks and with one."""
    import tempfile
    from pathlib import Path

    from curate.pipelines.benches import cluster_scale

    with tempfile.TemporaryDirectory(prefix="curate-bench-dedupe-") as work:
        out = cluster_scale.measure(n_signatures, Path(work), cluster_tasks=cluster_tasks, compare_one_task=True)
    for key in [k for k in out if k.startswith("tasks_")]:
        out[key].pop("passes")
    out["under_2gb"] = out[f"tasks_{cluster_tasks}"]["peak_rss_mb"] < 2048
    return out


def _rate(n_docs: int, seconds: float) -> float:
    return round(n_docs / seconds, 1) if seconds > 0 else float("inf")


def signature_speed(n_docs: int = 2000, words: int = 500, num_perm: int = 128, ngram: int = 5,
                    chunk: int = 250, per_token_every: int = 10) -> dict:
    """Docs/s of each contender; chunks are measured round-robin so machine load hits all alike."""
    import rensa
    from datasketch import MinHash

    corpus = Corpus(0)
    texts = [corpus.document(words) for _ in range(n_docs)]
    hashers = {h: MinHasher(num_perm=num_perm, ngram=ngram, hashfunc=h) for h in ("poly", "sha1")}
    for hasher in hashers.values():
        hasher.signatures(texts[:50])  # warm caches

    def datasketch_update(batch):
        for x in batch:
            m = MinHash(num_perm=num_perm, seed=1)
            for sh in shingles(x, ngram):
                m.update(sh)

    def rensa_minhash(batch):
        for x in batch:
            m = rensa.RMinHash(num_perm=num_perm, seed=1)
            m.update([sh.decode("utf-8", "replace") for sh in shingles(x, ngram)])
            m.digest()

    contenders = {
        "ours_poly": lambda batch: hashers["poly"].signatures(batch),
        "ours_sha1": lambda batch: hashers["sha1"].signatures(batch),
        "datasketch_bulk": lambda batch: MinHash.bulk([shingles(x, ngram) for x in batch], num_perm=num_perm, seed=1),
        "rensa": rensa_minhash,
        "rensa_batch": lambda batch: rensa.RMinHash.digest_matrix_from_token_byte_sets(
            [shingles(x, ngram) for x in batch], num_perm=num_perm, seed=1),
    }
    seconds = dict.fromkeys([*contenders, "datasketch_update"], 0.0)
    done = dict.fromkeys(seconds, 0)
    for lo in range(0, n_docs, chunk):
        batch = texts[lo:lo + chunk]
        for name, fn in contenders.items():
            t = time.perf_counter()
            fn(batch)
            seconds[name] += time.perf_counter() - t
            done[name] += len(batch)
        sub = batch[::per_token_every]  # the per-shingle loop is slow: a sample of each chunk
        t = time.perf_counter()
        datasketch_update(sub)
        seconds["datasketch_update"] += time.perf_counter() - t
        done["datasketch_update"] += len(sub)

    out = {"docs": n_docs, "words_per_doc": words, "num_perm": num_perm, "ngram": ngram}
    for name in seconds:
        out[f"{name}_docs_per_s"] = _rate(done[name], seconds[name])
    # same values as datasketch for the same hashfunc
    sample = texts[:20]
    out["ours_sha1_equals_datasketch_default"] = all(
        np.array_equal(MinHash.bulk([shingles(x, ngram)], num_perm=num_perm, seed=1)[0].hashvalues, s)
        for x, s in zip(sample, hashers["sha1"].signatures(sample)))
    out["ours_poly_equals_datasketch_with_shingle_hash32"] = all(
        np.array_equal(hashers["poly"].datasketch_minhash(x).hashvalues, s)
        for x, s in zip(sample, hashers["poly"].signatures(sample)))
    for name in ("poly", "sha1"):
        rate = out[f"ours_{name}_docs_per_s"]
        for other in ("datasketch_bulk", "datasketch_update", "rensa", "rensa_batch"):
            out[f"ours_{name}_vs_{other}"] = round(rate / out[f"{other}_docs_per_s"], 2)
    out["goal_5x_bulk_met"] = out["ours_poly_vs_datasketch_bulk"] >= 5
    return out


def cluster_memory(n_signatures: int = 1_000_000, num_perm: int = 128, dup_rate: float = 0.05) -> dict:
    result = subprocess.run([sys.executable, "-c", _CLUSTER_SCRIPT, str(n_signatures), str(num_perm), str(dup_rate)],
                            capture_output=True, text=True, check=True)
    out = json.loads(result.stdout.strip().splitlines()[-1])
    out["n_signatures"] = n_signatures
    out["under_2gb"] = out["peak_rss_mb"] < 2048
    return out


def run(n_docs: int = 2000, words: int = 500, n_signatures: int = 1_000_000, cluster_tasks: int = 2, **_) -> dict:
    step("signature speed")
    speed = signature_speed(n_docs=n_docs, words=words)
    step("clustering core (one process)")
    core = cluster_memory(n_signatures=n_signatures)
    return {"signatures": speed, "clustering_core": core,
            "clustering_step": cluster_step_memory(n_signatures=n_signatures, cluster_tasks=cluster_tasks)}
