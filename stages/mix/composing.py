"""Composed leaves: the order their documents sit in a window, and how alike the neighbours are.

- `related` (In-Context Pretraining, Shi et al. 2023): each document becomes a TF-IDF vector of
  its tokens (sublinear tf, smoothed idf, the `TOP_TERMS` heaviest terms kept, terms in more than
  half the documents or in only one dropped); its `NEIGHBOURS` nearest by cosine are found by
  sparse products in blocks (quadratic in the leaf's documents: meant for the long-document leaves
  of a midtraining mix, up to about 10^5 documents); then a greedy walk visits every document once,
  always going to its most similar unvisited neighbour and, when there is none, jumping to the
  unvisited document fewest others chose as a neighbour (the ones a walk would strand).
- `same_source`: groups (`group_by`) in a seeded order, each group's documents in the natural
  order of their ids (`book#2` before `book#10`), which is reading order for chunked documents
  whatever shards the chunks landed in.

A document used k times is walked k times (copy 0 of all, then copy 1 of those used twice, ...)
so a copy never sits next to itself. `adjacency` measures the result: the mean cosine of documents
next to each other in a window against the same documents in a seeded random order.
"""
import re

import numpy as np

from curate.stages.mix.selection import doc_hash

TOP_TERMS = 64
NEIGHBOURS = 10
BLOCK_ROWS = 256


def tfidf(spill, docs, ignore: set[int]):
    """Rows of L2-normalised TF-IDF over token ids for `docs` of a spill (two passes over their tokens)."""
    from scipy import sparse

    def terms(d):
        u, c = np.unique(spill.read(d), return_counts=True)
        keep = np.ones(len(u), dtype=bool)
        for t in ignore:
            keep &= u != t
        return u[keep].astype(np.int64), c[keep]

    df = np.zeros(1, dtype=np.int64)
    for d in docs:
        u = terms(d)[0]
        if len(u) and u[-1] >= len(df):
            df = np.concatenate([df, np.zeros(max(int(u[-1]) + 1 - len(df), len(df)), np.int64)])
        df[u] += 1
    n = len(docs)
    rows, cols, vals = [], [], []
    for r, d in enumerate(docs):
        u, c = terms(d)
        f = df[u]
        ok = (f > 1) & (f <= max(1, n // 2))  # in one document: no neighbour; in most: no topic
        u, c, f = u[ok], c[ok], f[ok]
        w = (1 + np.log(c)) * (np.log((1 + n) / (1 + f)) + 1)
        if len(w) > TOP_TERMS:
            top = np.argsort(-w, kind="stable")[:TOP_TERMS]
            u, w = u[top], w[top]
        norm = np.sqrt((w * w).sum())
        if norm:
            rows.append(np.full(len(u), r)), cols.append(u), vals.append(w / norm)
    rows, cols, vals = (np.concatenate(x) if x else np.zeros(0) for x in (rows, cols, vals))
    return sparse.csr_matrix((vals.astype(np.float32), (rows.astype(np.int64), cols.astype(np.int64))),
                             shape=(n, len(df)))


def neighbours(X, k: int = NEIGHBOURS) -> np.ndarray:
    """(n, k) indices of each row's most similar other rows, best first; -1 pads rows with fewer."""
    n = X.shape[0]
    out = np.full((n, k), -1, dtype=np.int64)
    XT = X.T.tocsr()
    for b0 in range(0, n, BLOCK_ROWS):
        S = (X[b0:b0 + BLOCK_ROWS] @ XT).tocsr()
        for r in range(S.shape[0]):
            lo, hi = S.indptr[r], S.indptr[r + 1]
            cols, vals = S.indices[lo:hi], S.data[lo:hi]
            mask = (cols != b0 + r) & (vals > 0)
            cols, vals = cols[mask], vals[mask]
            if len(cols) > k:
                part = np.argpartition(-vals, k - 1)[:k]
                cols, vals = cols[part], vals[part]
            best = np.lexsort((cols, -vals))  # ties by index: deterministic
            out[b0 + r, : len(best)] = cols[best]
    return out


def greedy_walk(nbrs: np.ndarray, members: np.ndarray, tiebreak: np.ndarray) -> list[int]:
    """Visit every row in `members` once, from a row to its most similar unvisited neighbour."""
    visited = np.ones(len(nbrs), dtype=bool)
    visited[members] = False
    chosen = nbrs[members]
    indegree = np.bincount(chosen[chosen >= 0], minlength=len(nbrs))
    starts = members[np.lexsort((tiebreak[members], indegree[members]))]
    walk = []
    for start in starts:
        if visited[start]:
            continue
        cur = int(start)
        while cur >= 0:
            visited[cur] = True
            walk.append(cur)
            nxt = -1
            for nb in nbrs[cur]:
                if nb >= 0 and not visited[nb]:
                    nxt = int(nb)
                    break
            cur = nxt
    return walk


def natural_key(doc_id: str) -> tuple:
    """`a#2` before `a#10`: digit runs compare as numbers."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", doc_id))


def compose_order(leaf, spill, used, seed: int, ignore: set[int]):
    """The leaf's document copies in composed order, and the TF-IDF rows for `adjacency`.

    Returns (list of document indices, one entry per copy; documents; X) where row r of X is documents[r]."""
    docs = np.array([d for d, t in enumerate(used) if t], dtype=np.int64)
    times = np.array([used[d] for d in docs], dtype=np.int64)
    X = tfidf(spill, docs.tolist(), ignore)
    rounds = range(int(times.max(initial=0)))
    if leaf.compose == "related":
        nbrs = neighbours(X)
        tiebreak = np.array([doc_hash(seed, "walk", leaf.name, spill.ids[d]) for d in docs], dtype=np.uint64)
        order = [int(docs[r]) for k in rounds for r in greedy_walk(nbrs, np.flatnonzero(times > k), tiebreak)]
    else:
        group_rank = {g: doc_hash(seed, "group", leaf.name, g) for g in dict.fromkeys(spill.groups[d] for d in docs)}
        by_group = sorted(range(len(docs)), key=lambda r: (group_rank[spill.groups[docs[r]]],
                                                           natural_key(spill.ids[docs[r]]), docs[r]))
        order = [int(docs[r]) for k in rounds for r in by_group if times[r] > k]
    return order, docs, X


def adjacency(X, row_pairs: np.ndarray, n_rows: int, seed: int) -> dict:
    """Mean cosine of the (a, b) row pairs that sit next to each other, and of a seeded random order."""
    def mean_cosine(a, b):
        if not len(a):
            return 0.0
        return float(np.asarray(X[a].multiply(X[b]).sum(axis=1)).mean())

    perm = np.random.default_rng(seed).permutation(n_rows)
    return {"pairs": int(len(row_pairs)),
            "adjacent_similarity": round(mean_cosine(row_pairs[:, 0], row_pairs[:, 1]), 4) if len(row_pairs) else 0.0,
            "random_order_similarity": round(mean_cosine(perm[:-1], perm[1:]), 4)}
