"""Connected components over integer ids with numpy arrays (no Python dicts of strings).

Unions are applied a whole edge list at a time: find both roots by pointer
jumping, hook the larger root under the smaller (competing hooks keep the
smallest: a sort, since `np.minimum.at` was 10x slower), repeat until every edge
joins equal roots. Memory is
one int array of parents plus the edge list being merged.
"""
import numpy as np


class UnionFind:
    def __init__(self, n: int):
        self.parent = np.arange(n, dtype=np.int32 if n < 2**31 - 1 else np.int64)

    def find(self, x: np.ndarray) -> np.ndarray:
        roots = self.parent[x]
        while True:
            up = self.parent[roots]
            if np.array_equal(up, roots):
                break
            roots = up
        self.parent[x] = roots  # path compression for the queried ids
        return roots

    def union(self, u: np.ndarray, v: np.ndarray) -> None:
        u, v = np.asarray(u), np.asarray(v)
        while len(u):
            ru, rv = self.find(u), self.find(v)
            differ = ru != rv
            if not differ.any():
                return
            u, v, ru, rv = u[differ], v[differ], ru[differ], rv[differ]
            high, low = np.maximum(ru, rv), np.minimum(ru, rv)
            order = np.lexsort((low, high))  # per high root, its smallest low root first
            high, low = high[order], low[order]
            first = np.concatenate(([True], high[1:] != high[:-1]))
            self.parent[high[first]] = low[first]

    def roots(self) -> np.ndarray:
        """The root of every id (fully compressed); a root is the smallest id of its component."""
        while True:
            up = self.parent[self.parent]
            if np.array_equal(up, self.parent):
                return self.parent
            self.parent = up
