"""A compact index of word n-grams: 64-bit hashes in one sorted numpy array, memory-mapped by every task.

Normalisation (`normalized`): NFKC (only when it would change the text), lower case, and every
separator (white space, ASCII and common Unicode punctuation and symbols: `WORD_RE` is its exact
complement) becomes a space, so case, punctuation, spacing and line breaks never hide an
overlap. Words are the runs between spaces. Hashing works on the UTF-8 bytes of many documents
at once (`batch_ngram_hashes`): each word's polynomial hash with MurmurHash3's mixer
(`curate.stages.dedupe.shingle_hash.word_hashes`), then every n-gram's hash from prefix sums of
word hashes, mixed again; no Python loop over words or n-grams.

On disk (`<folder>/keys.npy`, `owners.npy`, `bloom.npy`, `meta.json`): the sorted distinct
(hash, owner) pairs, where the owner is the index of the benchmark the n-gram came from, and a
one-hash Bloom filter of 16 bits per n-gram that answers most lookups before the binary search.
12 bytes per n-gram (1M eval n-grams: 12 MB), shared through the page cache by every task that
maps it. Building keeps per-benchmark chunks of hashes and merges them with `np.unique` whenever
they pass `chunk` entries, so memory stays about twice the distinct n-grams, never a Python set
of tuples. Files are written under temporary names and renamed, `meta.json` last: an index with
`meta.json` is whole.
"""
import json
import re
import unicodedata

import numpy as np
from datatrove.io import get_datafolder

from curate.stages.dedupe.shingle_hash import word_hashes

# non-ASCII separators (ASCII ones: every byte but letters and digits); combining marks are none,
# so "cafe\u0301" and Devanagari vowel signs stay inside their words
UNICODE_SEPARATORS = [(0x85, 0x85), (0xA0, 0xA1), (0xA7, 0xA9), (0xAB, 0xAC), (0xAE, 0xB1), (0xB4, 0xB4),
                      (0xB6, 0xB8), (0xBB, 0xBB), (0xBF, 0xBF), (0xD7, 0xD7), (0xF7, 0xF7), (0x1680, 0x1680),
                      (0x2000, 0x206F), (0x2190, 0x2BFF), (0x3000, 0x303F), (0xFE30, 0xFE4F), (0xFF01, 0xFF0F),
                      (0xFF1A, 0xFF20), (0xFF3B, 0xFF40), (0xFF5B, 0xFF65)]
_SEPARATOR_CLASS = "\\x00-/:-@\\[-`{-\\x7f" + "".join(f"\\u{a:04x}-\\u{b:04x}" for a, b in UNICODE_SEPARATORS)
WORD_RE = re.compile(f"[^{_SEPARATOR_CLASS}]+")
_UNICODE_SEPARATOR_RE = re.compile("[" + "".join(f"\\u{a:04x}-\\u{b:04x}" for a, b in UNICODE_SEPARATORS) + "]")
_BYTE_TABLE = bytes(c if (48 <= c < 58 or 65 <= c < 91 or 97 <= c < 123 or c >= 128) else 32 for c in range(256))

HASH_SCHEME = "poly64-bytes-v1"  # changes when the hash does: an index is only read by the same scheme
_Q = np.uint64(0x9E3779B97F4A7C15)
_Q_INV = np.uint64(pow(int(_Q), -1, 1 << 64))
_EMPTY = np.zeros(0, np.uint64)
_powers: dict[str, np.ndarray] = {"q": np.ones(1, np.uint64), "inv": np.ones(1, np.uint64)}


def nfkc(text: str) -> str:
    return text if text.isascii() or unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)


def normalized(text: str) -> bytes:
    """UTF-8 of the normalised text: lower-case words separated by spaces (lone surrogates pass through)."""
    t = nfkc(text).lower()
    if not t.isascii():
        t = _UNICODE_SEPARATOR_RE.sub(" ", t)
    return t.encode("utf-8", "surrogatepass").translate(_BYTE_TABLE)


def words(text: str) -> list[str]:
    """The normalised words of a text (for details and the plain-Python comparison)."""
    return normalized(text).decode("utf-8", "surrogatepass").split()


def word_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each word in `text` itself; one per word of `words(text)` when NFKC leaves the text
    as it is (lower-casing maps letters to letters, never to or from a separator)."""
    return [m.span() for m in WORD_RE.finditer(text)]


def _fmix64(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))


def _q_powers(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Q^i and Q^-i mod 2^64 for i < size (grown geometrically, kept)."""
    if len(_powers["q"]) < size:
        size = 1 << max(12, (size - 1).bit_length())
        for key, factor in (("q", _Q), ("inv", _Q_INV)):
            steps = np.full(size, factor, np.uint64)
            steps[0] = 1
            with np.errstate(over="ignore"):
                _powers[key] = np.multiply.accumulate(steps)
    return _powers["q"], _powers["inv"]


def chunked_word_hashes(data: bytes, chunk: int = 1 << 20) -> tuple[np.ndarray, np.ndarray]:
    """`word_hashes` of space-separated bytes, a slice of about `chunk` bytes at a time (cut at a space):
    a word's hash depends on its bytes alone, so the result is the same, and the temporary arrays (and
    `word_hashes`' table of powers) stay a few times `chunk`, whatever the size of a document. A "word"
    longer than `chunk` is cut: it cannot be part of a benchmark's n-gram anyway."""
    hashes, starts, pos = [], [], 0
    while pos < len(data):
        end = min(len(data), pos + chunk)
        space = data.find(b" ", end, pos + 2 * chunk) if end < len(data) else -1
        end = space if space != -1 else end
        h, s = word_hashes(np.frombuffer(data, dtype=np.uint8, count=end - pos, offset=pos))
        hashes.append(h)
        starts.append(s + pos)
        pos = end
    if not hashes:
        return _EMPTY, np.zeros(0, np.int64)
    return np.concatenate(hashes), np.concatenate(starts)


def batch_ngram_hashes(texts: list[str], n: int) -> tuple[np.ndarray, np.ndarray]:
    """(hashes, offsets): the n-gram hashes of every text, text i's at hashes[offsets[i]:offsets[i + 1]],
    in word order (the j-th is the n-gram starting at word j). A text of fewer than n words has none.

    For words w: sum_k w[i+k] * Q^k for every i at once, from prefix sums of w[t] * Q^t differenced and
    divided by Q^i (Q is odd, so invertible mod 2^64), then mixed with n."""
    encoded = [normalized(t) for t in texts]
    with np.errstate(over="ignore"):
        w, starts = chunked_word_hashes(b" ".join(encoded))
        text_starts = np.cumsum([0] + [len(e) + 1 for e in encoded[:-1]])
        first_word = np.searchsorted(starts, text_starts)  # each text's first word
        counts = np.diff(np.append(first_word, len(w)))
        sizes = np.maximum(counts - n + 1, 0)
        offsets = np.concatenate(([0], np.cumsum(sizes)))
        if not offsets[-1]:
            return _EMPTY, offsets
        q, inv = _q_powers(len(w) + 1)
        prefix = np.empty(len(w) + 1, np.uint64)
        prefix[0] = 0
        np.cumsum(w * q[:len(w)], out=prefix[1:])
        # start word of every n-gram that lies inside one text
        at = np.repeat(first_word - offsets[:-1], sizes) + np.arange(offsets[-1])
        return _fmix64((prefix[at + n] - prefix[at]) * inv[at] ^ np.uint64(n)), offsets


def ngram_hashes(text: str, n: int) -> np.ndarray:
    return batch_ngram_hashes([text], n)[0]


def bloom_bits(n_keys: int) -> int:
    """log2 of the Bloom filter's size: about 16 bits per n-gram, 2^16 to 2^32 bits."""
    return min(32, max(16, int(16 * max(n_keys, 1) - 1).bit_length()))


def bloom_slots(hashes: np.ndarray, bits: int) -> np.ndarray:
    return hashes >> np.uint64(64 - bits)


class IndexBuilder:
    """Collects the n-gram hashes of each benchmark, then writes the index."""

    def __init__(self, n: int, chunk: int = 4_000_000):
        self.n, self.chunk = n, chunk
        self.owners: list[str] = []
        self._parts: list[list[np.ndarray]] = []
        self._pending: list[int] = []

    def benchmark(self, name: str) -> int:
        self.owners.append(name)
        self._parts.append([])
        self._pending.append(0)
        return len(self.owners) - 1

    def add(self, owner: int, hashes: np.ndarray) -> None:
        parts = self._parts[owner]
        parts.append(hashes)
        self._pending[owner] += len(hashes)
        if self._pending[owner] > self.chunk:
            self._parts[owner] = [np.unique(np.concatenate(parts))]
            self._pending[owner] = len(self._parts[owner][0])

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(keys, owners): distinct (hash, owner) pairs sorted by hash, then owner."""
        keys = [np.unique(np.concatenate(parts)) if parts else _EMPTY for parts in self._parts]
        owners = [np.full(len(k), owner, np.uint16) for owner, k in enumerate(keys)]
        keys = np.concatenate(keys) if keys else _EMPTY
        owners = np.concatenate(owners) if owners else np.zeros(0, np.uint16)
        order = np.argsort(keys, kind="stable")  # owners were appended in order: ties stay sorted by owner
        return keys[order], owners[order]

    def save(self, folder, meta: dict) -> dict:
        keys, owners = self.arrays()
        bits = bloom_bits(len(keys))
        slots = bloom_slots(keys, bits)
        bloom = np.zeros(1 << (bits - 3), np.uint8)
        np.bitwise_or.at(bloom, (slots >> np.uint64(3)).astype(np.int64), np.left_shift(1, slots & np.uint64(7))
                         .astype(np.uint8))
        meta = {**meta, "ngram": self.n, "hash": HASH_SCHEME, "benchmarks": self.owners, "ngrams": int(len(keys)),
                "bloom_bits": bits, "bytes": int(keys.nbytes + owners.nbytes + bloom.nbytes)}
        folder = get_datafolder(folder if hasattr(folder, "fs") else str(folder))
        for name, array in (("keys.npy", keys), ("owners.npy", owners), ("bloom.npy", bloom)):
            with folder.open(f".tmp-{name}", "wb") as f:
                np.save(f, array)
            folder.mv(f".tmp-{name}", name)
        with folder.open(".tmp-meta.json", "w") as f:
            json.dump(meta, f, indent=2, sort_keys=True)
        folder.mv(".tmp-meta.json", "meta.json")
        return meta


def read_meta(folder) -> dict | None:
    folder = get_datafolder(folder if hasattr(folder, "fs") else str(folder))
    if not folder.isfile("meta.json"):
        return None
    with folder.open("meta.json") as f:
        return json.load(f)


class NgramIndex:
    """The saved index, memory-mapped when it is on a local disk (read into memory otherwise)."""

    def __init__(self, folder):
        folder = get_datafolder(folder if hasattr(folder, "fs") else str(folder))
        self.meta = read_meta(folder)
        if self.meta is None:
            raise FileNotFoundError(f"no n-gram index in {folder.path} (meta.json missing): its index pass "
                                    "has not finished; delete the stage's logs and rerun")
        if self.meta.get("hash") != HASH_SCHEME:
            raise ValueError(f"index in {folder.path} uses hash {self.meta.get('hash')!r}, this curate "
                             f"{HASH_SCHEME!r}: delete the stage's work and logs folders and rerun")
        self.n, self.names, self.bits = int(self.meta["ngram"]), list(self.meta["benchmarks"]), self.meta["bloom_bits"]
        self.keys, self.owners, self.bloom = (self._load(folder, name) for name in ("keys.npy", "owners.npy",
                                                                                   "bloom.npy"))

    @staticmethod
    def _load(folder, name: str) -> np.ndarray:
        protocol = folder.fs.protocol
        if "file" in (protocol if isinstance(protocol, tuple) else (protocol,)):
            return np.load(folder.resolve_paths(name), mmap_mode="r").view(np.ndarray)  # still mapped
        with folder.open(name, "rb") as f:
            return np.load(f)

    def __len__(self) -> int:
        return len(self.keys)

    def hits(self, hashes: np.ndarray) -> np.ndarray:
        """Positions in `hashes` of n-grams that are in the index (the Bloom filter first, then exact)."""
        if not len(hashes) or not len(self.keys):
            return np.zeros(0, np.int64)
        slots = bloom_slots(hashes, self.bits)
        maybe = np.flatnonzero((self.bloom[(slots >> np.uint64(3)).astype(np.int64)] >> (slots & np.uint64(7))
                                .astype(np.uint8)) & 1)
        if not len(maybe):
            return maybe
        at = np.minimum(np.searchsorted(self.keys, hashes[maybe]), len(self.keys) - 1)
        return maybe[self.keys[at] == hashes[maybe]]

    def owners_of(self, hashes: np.ndarray) -> list[str]:
        """Benchmarks that hold any of these (indexed) hashes, in index order."""
        unique = np.unique(hashes)
        lo, hi = np.searchsorted(self.keys, unique, "left"), np.searchsorted(self.keys, unique, "right")
        found = set(self.owners[lo].tolist())
        for a, b in zip(lo[hi - lo > 1].tolist(), hi[hi - lo > 1].tolist()):  # an n-gram of several benchmarks
            found.update(self.owners[a:b].tolist())
        return [self.names[o] for o in sorted(found)]
