"""Which clustering task owns a key: hash space split into equal ranges.

Like datatrove's `MinhashDedupBuckets`, which splits a bucket over workers by hash range, a
band key (already a 64-bit hash) belongs to the task whose range holds it, so every document
sharing that key meets in one task. Document ids are mixed first (`node_part`), so the
consecutive ids of one input part spread over all tasks.

`shard_count` is how many tasks the global steps use: `cluster_tasks` when given, else the
pass's task count capped at `MAX_DEFAULT_SHARDS` (every first-pass task writes one file per shard,
and each clustering step one per shard and task, so an uncapped 1,000-task spec would mean a
million files per step); tasks whose rank is past the count have nothing to do.
"""
import numpy as np

from curate.stages.dedupe.shingle_hash import _fmix64

MAX_DEFAULT_SHARDS = 64


def shard_count(cluster_tasks: int | None, world_size: int) -> int:
    return int(cluster_tasks) if cluster_tasks else max(1, min(world_size, MAX_DEFAULT_SHARDS))


def range_shard(keys: np.ndarray, parts: int) -> np.ndarray:
    """The range (0..parts-1) each uint64 hash falls in: its top 32 bits scaled to `parts`."""
    keys = np.asarray(keys, dtype=np.uint64)
    return ((keys >> np.uint64(32)) * np.uint64(parts) >> np.uint64(32)).astype(np.int64)


def node_part(ids: np.ndarray, parts: int) -> np.ndarray:
    """The part each document id (int64) belongs to: the range of its mixed hash."""
    with np.errstate(over="ignore"):
        return range_shard(_fmix64(np.asarray(ids).astype(np.uint64)), parts)
