"""Fast 32-bit hashes of word n-gram shingles, vectorised with numpy.

datasketch hashes each shingle's bytes with SHA-1 in a Python call per shingle,
which dominates signature time. `ngram_hashes` hashes every shingle of a batch
of normalised texts at once: a polynomial hash of each word's UTF-8 bytes
(prefix sums mod 2^64), MurmurHash3's 64-bit finaliser per word, a polynomial
combination of n consecutive word hashes, the finaliser again, and the high 32
bits. `shingle_hash32(b"w1 w2 w3")` computes the same value one shingle at a
time, so it can be handed to datasketch as `MinHash(hashfunc=...)` and produce
identical signatures.
"""
import numpy as np

_P = np.uint64(0x100000001B3)  # byte multiplier (odd, so invertible mod 2^64)
_Q = np.uint64(0x9E3779B97F4A7C15)  # word multiplier
_SPACE = 32
_MASK = (1 << 64) - 1
_P_INV = pow(int(_P), -1, 1 << 64)
_powers_cache: dict = {}


def _fmix64(h):
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """P^i and P^-i mod 2^64 for i < n (the cache only grows, geometrically)."""
    if _powers_cache and _powers_cache["size"] >= n:
        return _powers_cache["pw"], _powers_cache["inv"]
    size = 1 << max(16, (n - 1).bit_length())
    pw = np.full(size, _P, dtype=np.uint64)
    pw[0] = 1
    inv = np.full(size, np.uint64(_P_INV), dtype=np.uint64)
    inv[0] = 1
    with np.errstate(over="ignore"):
        _powers_cache.update(size=size, pw=np.multiply.accumulate(pw), inv=np.multiply.accumulate(inv))
    return _powers_cache["pw"], _powers_cache["inv"]


def word_hashes(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(hash, start offset) of every space-separated word of a uint8 buffer."""
    n = len(buf)
    if not n:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    is_word = buf != _SPACE
    starts = np.flatnonzero(is_word[1:] > is_word[:-1]) + 1
    ends = np.flatnonzero(is_word[1:] < is_word[:-1]) + 1
    if is_word[0]:
        starts = np.concatenate(([0], starts))
    if is_word[-1]:
        ends = np.concatenate((ends, [n]))
    if not len(starts):
        return np.zeros(0, np.uint64), starts
    pw, inv = _powers(n + 1)
    prefix = np.empty(n + 1, dtype=np.uint64)
    prefix[0] = 0
    np.cumsum(np.multiply(buf, pw[:n], dtype=np.uint64), out=prefix[1:])
    return _fmix64((prefix[ends] - prefix[starts]) * inv[starts]), starts


def combine(wh: np.ndarray, n: int) -> np.ndarray:
    """32-bit hashes of all n-grams of a sequence of word hashes (len >= n)."""
    m = len(wh) - n + 1
    acc = wh[:m].copy()
    q = np.uint64(1)
    for k in range(1, n):
        q = q * _Q
        acc += wh[k:k + m] * q
    return (_fmix64(acc) >> np.uint64(32)).astype(np.uint32)


def ngram_hashes(encoded: list[bytes], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Shingle hashes of normalised texts (`normalized_bytes`): (hashes uint32, offsets of len+1).

    A text with fewer than n words has one shingle (all its words); an empty text none.
    """
    texts = encoded
    buf = np.frombuffer(b" ".join(encoded), dtype=np.uint8)
    with np.errstate(over="ignore"):
        wh, starts = word_hashes(buf)
    # which text each word belongs to: texts start at known byte offsets
    text_starts = np.cumsum([0] + [len(e) + 1 for e in encoded[:-1]])
    word_off = np.append(np.searchsorted(starts, text_starts), len(starts))  # first word of each text
    counts = np.diff(word_off)
    doc = np.repeat(np.arange(len(texts)), counts)
    sizes = np.zeros(len(texts), np.int64)
    with np.errstate(over="ignore"):
        full = combine(wh, n) if len(wh) >= n else np.zeros(0, np.uint32)
        # a shingle is valid when its first and last word belong to the same text
        if len(full):
            valid = doc[:len(full)] == doc[n - 1:]
            keep_doc = doc[:len(full)][valid]
            sizes += np.bincount(keep_doc, minlength=len(texts))
            out_full = full[valid]
        for i in np.flatnonzero((counts > 0) & (counts < n)):
            sizes[i] = 1
    if not np.any((counts > 0) & (counts < n)):
        offsets = np.concatenate(([0], np.cumsum(sizes)))
        return (out_full if len(full) else np.zeros(0, np.uint32)), offsets
    # rare path: some texts shorter than n words get their single short shingle spliced in
    pieces, pos = [], 0
    for i in range(len(texts)):
        if 0 < counts[i] < n:
            with np.errstate(over="ignore"):
                pieces.append(combine(wh[word_off[i]:word_off[i + 1]], int(counts[i])))
        else:
            k = int(sizes[i])
            pieces.append(out_full[pos:pos + k] if len(full) else np.zeros(0, np.uint32))
            pos += k
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    return np.concatenate(pieces) if pieces else np.zeros(0, np.uint32), offsets


def shingle_hash32(shingle: bytes) -> int:
    """The hash of one shingle (normalised words joined by single spaces), in plain Python."""
    acc, q = 0, 1
    for word in shingle.split(b" "):
        h, p = 0, 1
        for byte in word:
            h = (h + byte * p) & _MASK
            p = (p * int(_P)) & _MASK
        acc = (acc + _fmix64_int(h) * q) & _MASK
        q = (q * int(_Q)) & _MASK
    return _fmix64_int(acc) >> 32


def _fmix64_int(h: int) -> int:
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & _MASK
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & _MASK
    return h ^ (h >> 33)
