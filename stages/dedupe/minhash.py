"""MinHash signatures that datasketch can use, computed for many documents at once.

The signature of a document is datasketch 2.x's default "affine32" scheme:
h = hashfunc(shingle bytes), h = fmix32(h), value_k = min over shingles of
(a_k * h + b_k) mod 2^32, with (a, b) drawn exactly as datasketch draws them from
`np.random.RandomState(seed)`. So `LeanMinHash(seed=..., hashvalues=sig,
scheme="affine32")` is a real datasketch sketch: it goes into a `MinHashLSH`
(in memory or Redis) next to sketches datasketch computed itself, provided both
used the same seed, num_perm and hashfunc.

Two hashfuncs: "sha1" is datasketch's default (`sha1_hash32`, one Python call
per shingle: exact default compatibility, slow); "poly" is `shingle_hash32`,
computed vectorised over all shingles of a batch (pass it to datasketch as
`hashfunc=shingle_hash32` for identical values).
"""
import hashlib
import struct

import numpy as np

from curate.stages.dedupe.normalize import normalized_bytes, words
from curate.stages.dedupe.shingle_hash import ngram_hashes, shingle_hash32

SCHEME = "affine32"
CHUNK_ELEMENTS = 1 << 19  # permutations x shingles evaluated at once (2 MiB of uint32: stays in cache)


def sha1_hash32(data: bytes) -> int:
    """datasketch.hashfunc.sha1_hash32, restated so the two can be checked against each other."""
    return struct.unpack("<I", hashlib.sha1(data).digest()[:4])[0]


def _fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def shingles(text: str, n: int) -> list[bytes]:
    """The n-gram shingles of a text as datasketch receives them (bytes, words joined by spaces)."""
    w = words(text)
    if not w:
        return []
    if len(w) < n:
        return [b" ".join(w)]
    return [b" ".join(w[i:i + n]) for i in range(len(w) - n + 1)]


class MinHasher:
    """Signatures (uint32[num_perm]) of word n-gram shingles, datasketch-compatible."""

    def __init__(self, num_perm: int = 128, ngram: int = 5, seed: int = 1, hashfunc: str = "poly"):
        if hashfunc not in ("poly", "sha1"):
            raise ValueError(f"hashfunc must be 'poly' or 'sha1', not {hashfunc!r}")
        self.num_perm, self.ngram, self.seed, self.hashfunc = num_perm, ngram, seed, hashfunc
        from datasketch import MinHash  # here, not at the top: datasketch imports scipy (seconds)

        # the permutations datasketch draws for this seed and scheme (one source of truth)
        a, b = MinHash(num_perm=num_perm, seed=seed, scheme=SCHEME).permutations
        self.a, self.b = a.astype(np.uint32), b.astype(np.uint32)
        self.empty = np.full(num_perm, np.uint32(0xFFFFFFFF))

    def datasketch_hashfunc(self):
        return shingle_hash32 if self.hashfunc == "poly" else sha1_hash32

    def shingle_hashes(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(uint32 hashes of every shingle, offsets per text) for raw texts."""
        if self.hashfunc == "poly":
            return ngram_hashes([normalized_bytes(t) for t in texts], self.ngram)
        hashes, offsets = [], [0]
        for t in texts:
            hs = [sha1_hash32(s) for s in shingles(t, self.ngram)]
            hashes.extend(hs)
            offsets.append(offsets[-1] + len(hs))
        return np.array(hashes, dtype=np.uint32), np.array(offsets, dtype=np.int64)

    def signatures(self, texts: list[str]) -> np.ndarray:
        """uint32[len(texts), num_perm]; a text without words gets the empty signature."""
        hashes, offsets = self.shingle_hashes(texts)
        return self.signatures_from_hashes(hashes, offsets)

    def signatures_from_hashes(self, hashes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Fold shingle hashes into signatures, a cache-sized block of shingles at a time.

        The block is laid out permutation-major ([num_perm, shingles]) so the
        per-document min (`reduceat`) runs along contiguous memory.
        """
        n_docs = len(offsets) - 1
        sigs = np.tile(self.empty, (n_docs, 1))
        mixed = _fmix32(hashes.astype(np.uint32))
        per_chunk = max(1, CHUNK_ELEMENTS // self.num_perm)
        buf = np.empty((self.num_perm, per_chunk), dtype=np.uint32)
        doc = 0
        while doc < n_docs:
            # the documents whose shingles fit in one block (at least one document)
            end = max(int(np.searchsorted(offsets, offsets[doc] + per_chunk, side="right")) - 1, doc + 1)
            lo, hi = int(offsets[doc]), int(offsets[end])
            if hi - lo > per_chunk:  # one huge document: fold it in slices
                for s in range(lo, hi, per_chunk):
                    part = self._permute(mixed[s:min(hi, s + per_chunk)], buf)
                    np.minimum(sigs[doc], part.min(axis=1), out=sigs[doc])
            elif hi > lo:
                phv = self._permute(mixed[lo:hi], buf)
                starts = offsets[doc:end] - lo
                nonempty = offsets[doc + 1:end + 1] > offsets[doc:end]
                sigs[doc:end][nonempty] = np.minimum.reduceat(phv, starts[nonempty], axis=1).T
            doc = end
        return sigs

    def _permute(self, mixed: np.ndarray, buf: np.ndarray) -> np.ndarray:
        out = buf[:, :len(mixed)]
        np.multiply(self.a[:, None], mixed[None, :], out=out)
        out += self.b[:, None]
        return out

    def lean(self, sig: np.ndarray):
        """The signature as datasketch's `LeanMinHash`."""
        from datasketch import LeanMinHash

        return LeanMinHash(seed=self.seed, hashvalues=sig, scheme=SCHEME)

    def datasketch_minhash(self, text: str):
        """The same signature computed by datasketch itself (for tests and benches)."""
        from datasketch import MinHash

        m = MinHash(num_perm=self.num_perm, seed=self.seed, scheme=SCHEME, hashfunc=self.datasketch_hashfunc())
        m.update_batch(shingles(text, self.ngram))
        return m
