"""Which (document, copy) pairs go into the mix, and in what order; exact and worker-independent.

A leaf that must give `T` tokens out of `A` available repeats every document `floor(T/A)` times
and fills the rest `R` with whole documents taken in the order of a seeded hash of (leaf,
document id), first fit, plus at most one document more when that lands closer to R (whole
documents cannot always hit it; the manifest says by how much). Midtraining first takes
documents of at least `long_min_tokens`. The chosen pairs are then shuffled by another seeded hash.
"""
import hashlib
from array import array


def doc_hash(seed: int, *parts) -> int:
    """A stable 64-bit hash of the seed and `parts`: the same on every machine and Python run."""
    key = "\x00".join(str(p) for p in (seed, *parts)).encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "little")


def select(recipe, leaves, spills, rows) -> list[array]:
    """times_used per document per leaf: full passes plus a hashed first-fit remainder."""
    long_min = None
    if recipe.phase == "midtrain":
        long_min = recipe.midtrain.long_min_tokens or recipe.seq_len // 2
    uses = []
    for lf, spill, row in zip(leaves, spills, rows):
        target, avail = row["planned_tokens"], spill.total
        full, rest = divmod(target, avail) if avail else (0, 0)
        used = array("i", [full]) * len(spill.ids)
        seen: dict[str, int] = {}
        keys = []
        for d, doc_id in enumerate(spill.ids):
            k = seen.get(doc_id, 0)
            seen[doc_id] = k + 1
            long_first = 0 if long_min is None or spill.lengths[d] >= long_min else 1
            keys.append((long_first, doc_hash(recipe.seed, "pick", lf.name, doc_id, k), d))
        keys.sort()
        got = 0
        for _, _, d in keys:
            if got == rest:
                break
            n = spill.lengths[d]
            if got + n <= rest:
                used[d] += 1
                got += n
        # nothing else fits: one more document if it lands closer to the target within max_epochs
        cap = lf.max_epochs * avail
        for _, _, d in keys:
            n = spill.lengths[d]
            if used[d] == full and n < 2 * (rest - got) and full * avail + got + n <= cap + 1e-9:
                used[d] += 1
                got += n
                break
        uses.append(used)
    return uses


def shuffled(seed: int, leaves, spills, uses) -> list[tuple[int, int, int]]:
    """Every (hash, leaf index, document index) to write, one per copy, sorted by a seeded hash."""
    items = []
    for li, (lf, spill, used) in enumerate(zip(leaves, spills, uses)):
        for d, times in enumerate(used):
            for copy in range(times):
                items.append((doc_hash(seed, "order", lf.name, spill.ids[d], d, copy), li, d))
    items.sort()
    return items
