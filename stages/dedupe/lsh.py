"""LSH banding over signature matrices: datasketch's (bands, rows) choice, numpy band keys.

A band key is a 64-bit hash of the band's `rows` signature values; two documents
sharing any band key are candidates. `MinHashLSH(threshold, num_perm)` picks the
same (bands, rows), so an index built with datasketch agrees with ours.
"""
import numpy as np

from curate.stages.dedupe.shingle_hash import _fmix64

_Q = np.uint64(0x9E3779B97F4A7C15)


def lsh_params(threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5) -> tuple[int, int]:
    """(bands, rows) minimising weighted false positive + false negative probability (datasketch's rule).

    datasketch is imported here, not at the top: it imports scipy (seconds), which a clustering task
    that only reads band keys does not need."""
    from datasketch.lsh import _optimal_param

    return _optimal_param(threshold, num_perm, fp_weight, fn_weight)


def band_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """uint64[n_docs, bands]: one key per band; the band index is mixed in so bands never collide."""
    out = np.empty((len(sigs), bands), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for band in range(bands):
            acc = np.full(len(sigs), np.uint64(band + 1))
            for col in range(band * rows, (band + 1) * rows):
                acc = _fmix64(acc * _Q + sigs[:, col].astype(np.uint64))
            out[:, band] = acc
    return out


def bucket_edges(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edges (member, first member) joining every document of a bucket to the bucket's first one."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    same = np.concatenate(([False], sorted_keys[1:] == sorted_keys[:-1]))
    if not same.any():
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    run_start = np.maximum.accumulate(np.where(same, 0, np.arange(len(keys))))
    return order[same], order[run_start[same]]
