"""Clusters: verification of LSH components by true Jaccard, and one keeper per cluster.

A clustering task (`minhash_passes.MinHashClusters`) holds only the members of its own
components. `lsh_components` is the whole computation in one process (every band key of the
run in memory): the reference the sharded passes are checked against, and the core the
`dedupe` bench measures.
"""
from collections.abc import Callable, Iterable

import numpy as np

from curate.stages.dedupe.lsh import band_keys, bucket_edges
from curate.stages.dedupe.union_find import UnionFind


def lsh_components(sig_batches: Iterable[np.ndarray], bands: int, rows: int) -> np.ndarray:
    """Root (smallest member id) of every document's component; ids follow the batches' order."""
    keys = np.concatenate([band_keys(s, bands, rows) for s in sig_batches] or [np.zeros((0, bands), np.uint64)])
    uf = UnionFind(len(keys))
    for band in range(bands):
        u, v = bucket_edges(np.ascontiguousarray(keys[:, band]))
        uf.union(u, v)
    del keys
    return uf.roots()


def verify_groups(ids: np.ndarray, roots: np.ndarray, similar: Callable[[int, int], bool],
                  max_size: int) -> np.ndarray:
    """Split LSH components by checking every pair of members (components up to max_size).

    Members (`ids`, each with its component's root) are sorted by (root, id), so a component's members
    are adjacent and in id order; `similar(i, j)` takes positions in that order. Components larger than
    max_size are kept as LSH found them (checking them would be quadratic). Returns new roots (the
    smallest id of each verified component).
    """
    roots = roots.copy()
    if not len(roots):
        return roots
    bounds = np.flatnonzero(np.diff(roots)) + 1
    for lo, hi in zip(np.concatenate(([0], bounds)).tolist(), np.concatenate((bounds, [len(roots)])).tolist()):
        if hi - lo < 2 or hi - lo > max_size:
            continue
        us, vs = [], []
        for i in range(lo, hi):
            for j in range(i + 1, hi):
                if similar(i, j):
                    us.append(i - lo)
                    vs.append(j - lo)
        uf = UnionFind(hi - lo)
        uf.union(np.array(us, dtype=np.int64), np.array(vs, dtype=np.int64))
        roots[lo:hi] = ids[lo:hi][uf.roots()]
    return roots


def choose_keepers(roots: np.ndarray, sort_keys: list[np.ndarray]) -> np.ndarray:
    """Position of each member's keeper: the member of its cluster (same root) sorting first by `sort_keys`
    (primary first)."""
    if not len(roots):
        return np.zeros(0, np.int64)
    order = np.lexsort([*reversed(sort_keys), roots])
    ordered = roots[order]
    first = np.concatenate(([True], ordered[1:] != ordered[:-1]))
    keepers = order[first]
    out = np.empty(len(roots), np.int64)
    out[order] = keepers[np.cumsum(first) - 1]
    return out


def shingle_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """True Jaccard of two sets of shingle hashes (sorted unique arrays)."""
    if not len(a) and not len(b):
        return 1.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)
