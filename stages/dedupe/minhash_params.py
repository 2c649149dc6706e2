"""The `minhash_dedupe` stage's parameters, and what its passes derive from them."""
from typing import Literal

from pydantic import Field

from curate.stages.base import StageParams, path_field
from curate.stages.dedupe.lsh import lsh_params
from curate.stages.dedupe.minhash import SCHEME, MinHasher


class MinHashParams(StageParams):
    threshold: float = Field(0.8, gt=0, lt=1, description="Jaccard similarity above which documents are duplicates")
    num_perm: int = Field(128, ge=16, le=1024, description="MinHash permutations")
    ngram: int = Field(5, ge=1, description="Words per shingle")
    seed: int = Field(1, description="Seed of datasketch's permutations")
    hashfunc: Literal["poly", "sha1"] = Field("poly", description="Shingle hash: 'poly' (vectorised, "
                                              "stages.dedupe.shingle_hash.shingle_hash32) or 'sha1' "
                                              "(datasketch's default)")
    bands: int | None = Field(None, description="LSH bands (default: datasketch's optimum for threshold)")
    rows: int | None = Field(None, description="Rows per band (default: datasketch's optimum)")
    false_positive_weight: float | None = Field(
        None, gt=0, lt=1, description="datasketch MinHashLSH `weights[0]` for choosing bands/rows (default 0.05 "
        "with verify: favour recall, verification drops the extra candidates; 0.5 without)")
    verify: bool = Field(True, description="Check candidate clusters with true shingle Jaccard")
    verify_max_cluster: int = Field(100, ge=2, description="Larger clusters are kept unverified")
    keep: list[Literal["quality_score", "length", "id"]] = Field(
        ["quality_score", "length", "id"], description="Keeper rule: highest quality_score, longest, smallest id")
    index: str | None = path_field(None, description="Folder of a persisted index of released documents",
                                   must_exist=False)
    update_index: bool = Field(True, description="Add this run's kept documents to `index`")
    batch_size: int = Field(512, ge=1, description="Documents hashed together")
    cluster_tasks: int | None = Field(
        None, ge=1, description="Tasks of the clustering passes, each owning a range of band-hash space (default: "
        "the spec's tasks, at most 64); 1 holds every band key in one task")


def hasher(p: MinHashParams) -> MinHasher:
    return MinHasher(num_perm=p.num_perm, ngram=p.ngram, seed=p.seed, hashfunc=p.hashfunc)


def band_rows(p: MinHashParams) -> tuple[int, int]:
    """(bands, rows): as given, else datasketch's optimum for the threshold and weights."""
    if p.bands and p.rows:
        return p.bands, p.rows
    fp = p.false_positive_weight or (0.05 if p.verify else 0.5)
    return lsh_params(p.threshold, p.num_perm, fp, 1 - fp)


def index_params(p: MinHashParams) -> dict:
    """What an index must have been built with to be compared with this stage's signatures."""
    return {"num_perm": p.num_perm, "ngram": p.ngram, "seed": p.seed, "hashfunc": p.hashfunc, "scheme": SCHEME}
