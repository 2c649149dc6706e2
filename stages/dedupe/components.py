"""Connected components of the LSH candidate graph, computed by tasks that each see part of it.

1. Each band-hash range (`bucket_forest`): documents sharing a band key are joined; a union-find
   over the range's candidates gives every candidate the smallest id of its component there, its
   *home* in that range. Only candidates are kept: a document alone in all its buckets never
   leaves the first step. The range's keys take 16 bytes each (`KeyColumns`), sorted in place.
2. Each part of the document ids (`labels_and_links`) gathers its documents' homes from every
   range. A document's *label* is its smallest home. A document that two ranges put under
   different homes joins those components: it yields a *link* (label, other home).
3. The links, few next to the documents (only documents whose ranges disagree make one), are
   joined by one more union-find (`forest`), and a document's cluster root is the root of its
   label (`resolve`): the smallest id of its connected component in the whole graph, the same
   root one task holding every band key would find.
"""
from typing import NamedTuple

import numpy as np

from curate.stages.dedupe.lsh import bucket_edges
from curate.stages.dedupe.union_find import UnionFind

EMPTY = np.zeros(0, np.int64)
_LOW, _32 = np.uint64(0xFFFFFFFF), np.uint64(32)


def forest(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(nodes, roots): every id an edge touches (ascending) and the smallest id of its component."""
    if not len(u):
        return EMPTY, EMPTY
    ends = np.concatenate([u, v])
    order = np.argsort(ends)  # one sort gives the distinct ids and each end's index among them
    ordered = ends[order]
    new = np.concatenate(([True], ordered[1:] != ordered[:-1]))
    nodes = ordered[new]
    index = np.empty(len(ends), np.int64)
    index[order] = np.cumsum(new) - 1
    uf = UnionFind(len(nodes))
    uf.union(index[:len(u)], index[len(u):])
    return nodes, nodes[uf.roots()]


class KeyColumns(NamedTuple):
    """Band keys of one range, 16 bytes each: `packed` = low 32 bits of the key << 32 | position,
    `high` = the key's high 32 bits, `ids` = the document id at each position (uint32 while ids fit)."""

    packed: np.ndarray
    high: np.ndarray
    ids: np.ndarray


def key_columns(keys: np.ndarray, ids: np.ndarray) -> KeyColumns:
    keys = np.asarray(keys, np.uint64)
    packed = ((keys & _LOW) << _32) | np.arange(len(keys), dtype=np.uint64)
    return KeyColumns(packed, (keys >> _32).astype(np.uint32), np.asarray(ids))


def _shared(packed: np.ndarray, chunk: int = 1 << 22) -> np.ndarray:
    """Mask (over sorted `packed`) of the keys whose low 32 bits another key shares: every repeated key,
    plus a few keys that only agree in those bits (they drop out in `bucket_forest`)."""
    n = len(packed)
    same = np.zeros(max(n - 1, 0), bool)
    for lo in range(0, n - 1, chunk):
        hi = min(lo + chunk, n - 1)
        same[lo:hi] = (packed[lo + 1:hi + 1] >> _32) == (packed[lo:hi] >> _32)
    mask = np.zeros(n, bool)
    mask[:-1] |= same
    mask[1:] |= same
    return mask


def bucket_forest(columns: KeyColumns) -> tuple[np.ndarray, np.ndarray]:
    """(nodes, homes) of one band-hash range. Sorting `packed` in place (one array, numpy's vectorised
    sort) finds the repeated keys; only those are looked at further, since almost every key is unique."""
    packed = columns.packed
    packed.sort()
    candidates = packed[_shared(packed)]
    pos = (candidates & _LOW).astype(np.int64)
    keys = (columns.high[pos].astype(np.uint64) << _32) | (candidates >> _32)
    u, v = bucket_edges(keys)
    ids = columns.ids[pos].astype(np.int64)
    return forest(ids[u], ids[v])


def labels_and_links(nodes: np.ndarray, homes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """From (node, home) pairs of every range: (nodes, labels) with each node once, and the links
    (label, other home) of the nodes whose ranges disagree."""
    order = np.lexsort((homes, nodes))
    nodes, homes = nodes[order], homes[order]
    new = np.ones(len(nodes), bool)
    new[1:] = (nodes[1:] != nodes[:-1]) | (homes[1:] != homes[:-1])
    nodes, homes = nodes[new], homes[new]
    first = np.ones(len(nodes), bool)
    first[1:] = nodes[1:] != nodes[:-1]
    labels = homes[first]
    label_of = labels[np.cumsum(first) - 1]
    return nodes[first], labels, label_of[~first], homes[~first]


def resolve(labels: np.ndarray, link_nodes: np.ndarray, link_roots: np.ndarray) -> np.ndarray:
    """Cluster root of each label: its root in the links' forest, or itself when no link names it."""
    if not len(link_nodes):
        return labels.copy()
    at = np.minimum(np.searchsorted(link_nodes, labels), len(link_nodes) - 1)
    hit = link_nodes[at] == labels
    out = labels.copy()
    out[hit] = link_roots[at[hit]]
    return out
