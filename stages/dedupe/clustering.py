"""From signatures to clusters: LSH band keys -> candidate edges -> union-find -> verification -> keepers.

Only band keys (bands x 8 bytes per document) are held for all documents; the
signatures are streamed in batches. Verification and keeper choice touch only
the documents that landed in a cluster.
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


def verify_components(roots: np.ndarray, similar: Callable[[int, int], bool], max_size: int) -> np.ndarray:
    """Split LSH components by checking every pair of members (components up to max_size).

    Components larger than max_size are kept as LSH found them (checking them would be
    quadratic). Returns new roots (smallest member id of each verified component).
    """
    roots = roots.copy()
    counts = np.bincount(roots, minlength=len(roots))
    members = np.flatnonzero(counts[roots] > 1)
    if not len(members):
        return roots
    order = members[np.argsort(roots[members], kind="stable")]
    bounds = np.flatnonzero(np.diff(roots[order])) + 1
    for group in np.split(order, bounds):
        if len(group) > max_size:
            continue
        uf = UnionFind(len(group))
        us, vs = [], []
        for i in range(len(group)):
            for j in range(i + 1, len(group)):
                if similar(int(group[i]), int(group[j])):
                    us.append(i)
                    vs.append(j)
        uf.union(np.array(us, dtype=np.int64), np.array(vs, dtype=np.int64))
        roots[group] = group[uf.roots()]
    return roots


def choose_keepers(roots: np.ndarray, members: np.ndarray, sort_keys: list[np.ndarray]) -> np.ndarray:
    """Keeper id of each member's cluster: the member sorting first by `sort_keys` (primary first)."""
    if not len(members):
        return np.zeros(0, np.int64)
    order = np.lexsort([*reversed(sort_keys), roots[members]])
    ordered = members[order]
    first = np.concatenate(([True], roots[ordered][1:] != roots[ordered][:-1]))
    cluster_roots, cluster_keepers = roots[ordered][first], ordered[first]  # roots ascending
    return cluster_keepers[np.searchsorted(cluster_roots, roots[members])].astype(np.int64)


def shingle_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """True Jaccard of two sets of shingle hashes (sorted unique arrays)."""
    if not len(a) and not len(b):
        return 1.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)
