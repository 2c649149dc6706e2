"""`curate bench mix`, packing part: midtraining builds of one corpus with first_fit (the earlier
packer), best_fit, and best_fit with `compose: related`.

The corpus: `docs` documents whose lengths are log-normal (median 400 words, sigma 1.1, the long
tail of web pages), each cut from one real page of the demo set (trafilatura text, repeated end to
end to the length drawn). Every build is the whole `MixBuilder` (tokenize, select, pack, write
Megatron and datatrove files and packing.parquet); tokens/s = realized tokens / build seconds, best
of `repeats` interleaved runs. Beside them, the waste of concatenate-and-chunk (the usual
pretraining packer, computed on the same documents): no padding, but every document that crosses
a window edge is cut.
"""
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate import resources
from curate.pipelines.benches.progress import step
from curate.stages.schema import SHARD_SCHEMA

MEDIAN_WORDS, SIGMA = 400, 1.1


def demo_page_words() -> dict[str, list[str]]:
    import trafilatura

    pages = {}
    for path in sorted((resources.manifests() / "demo" / "html").glob("*.html")):
        words = (trafilatura.extract(path.read_text(errors="replace")) or "").split()
        if len(words) >= 100:
            pages[path.stem] = words
    return pages


def write_corpus(folder: Path, docs: int, seed: int = 0, per_file: int = 1000) -> np.ndarray:
    """Shards of `docs` log-normal-length documents from the demo pages; returns the word counts."""
    pages = demo_page_words()
    names = sorted(pages)
    rng = np.random.default_rng(seed)
    lengths = np.maximum(20, rng.lognormal(np.log(MEDIAN_WORDS), SIGMA, docs).astype(int))
    folder.mkdir(parents=True, exist_ok=True)
    for f, start in enumerate(range(0, docs, per_file)):
        rows = []
        for i in range(start, min(docs, start + per_file)):
            name = names[int(rng.integers(len(names)))]
            words = pages[name]
            at = int(rng.integers(len(words)))
            text = " ".join(words[(at + k) % len(words)] for k in range(int(lengths[i])))
            rows.append({"id": f"{name}-{i}", "text": text, "source": "bench", "url": f"https://{name}.example/{i}",
                         "metadata": "{}"})
        pq.write_table(pa.Table.from_pylist(rows, schema=SHARD_SCHEMA), folder / f"part-{f:05d}.parquet")
    return lengths


def _recipe(root: Path, seq_len: int, total: int, tokenizer: str, packing: str, compose: str):
    from curate.pipelines.mix_recipe import MixRecipe

    return MixRecipe.model_validate({
        "name": "bench_mid", "phase": "midtrain", "tokenizer": tokenizer, "seq_len": seq_len, "total_tokens": total,
        "seed": 1, "midtrain": {"packing": packing},
        "sources": [{"name": "pages", "weight": 1.0, "glob": str(root / "in" / "part-*.parquet"),
                     "compose": compose, "max_epochs": 2}]})  # the total is an estimate: never short


def _concat_chunk(lengths: np.ndarray, size: int) -> dict:
    """Concatenate documents in order and cut every `size` tokens: documents crossing an edge."""
    ends = np.cumsum(lengths)
    starts = ends - lengths
    cut = (starts // size) != ((ends - 1) // size)
    return {"padding_pct": 0.0, "cut_documents_pct": round(100 * float(cut.mean()), 3),
            "cut_documents_that_fit_a_window_pct": round(100 * float((cut & (lengths <= size)).mean()), 3)}


def run(docs: int = 10000, seq_len: int = 8192, tokenizer: str = "gemma3-270m", repeats: int = 2) -> dict:
    from curate.pipelines.mix_recipe import leaves
    from curate.stages.mix import MixBuilder, plan_mix
    from curate.stages.tokenize import load_tokenizer

    variants = {"first_fit": ("first_fit", "shuffle"), "best_fit": ("best_fit", "shuffle"),
                "best_fit_related": ("best_fit", "related")}
    with tempfile.TemporaryDirectory(prefix="curate-bench-pack-") as tmp:
        root = Path(tmp)
        step(f"packing: writing {docs:,} log-normal documents from the demo pages")
        write_corpus(root / "in", docs)
        tok, info = load_tokenizer(tokenizer)
        probe = _recipe(root, seq_len, 1, tokenizer, "best_fit", "shuffle")
        total = int(0.95 * plan_mix(probe, leaves(probe, root), tok, info)["leaves"][0]["available_tokens"])
        results: dict[str, dict] = {}
        speeds: dict[str, list[float]] = {k: [] for k in variants}
        for r in range(repeats):
            for name, (packing, compose) in variants.items():
                step(f"packing: {name} build {r + 1}/{repeats}")
                recipe = _recipe(root, seq_len, total, tokenizer, packing, compose)
                fresh_tok, _ = load_tokenizer(tokenizer)  # a cold BPE cache for every build
                t0 = time.perf_counter()
                m = MixBuilder(recipe, leaves(recipe, root), fresh_tok, info, root / f"out-{name}").build()
                speeds[name].append(m["total_tokens"]["realized"] / (time.perf_counter() - t0))
                p = m["packing"]
                results[name] = {k: p[k] for k in ("windows", "documents", "padding_pct", "split_documents",
                                                   "truncated_documents", "cut_documents_pct", "truncated_pct")}
                if p["adjacency"]:
                    results[name]["adjacency"] = p["adjacency"]["pages"]
                if name == "best_fit":
                    lengths = pq.read_table(root / f"out-{name}" / "documents.parquet").column("n_tokens").to_numpy()
        for name in variants:
            results[name]["build_tokens_per_s"] = round(max(speeds[name]))
            results[name]["all_runs_tokens_per_s"] = [round(x) for x in speeds[name]]
    order = np.random.default_rng(1).permutation(len(lengths))
    first = results["first_fit"]["build_tokens_per_s"]
    return {
        "documents": docs, "seq_len": seq_len, "window_tokens": seq_len + 1, "tokens": int(total),
        "documents_longer_than_a_window_pct": round(100 * float((lengths > seq_len + 1).mean()), 3),
        "median_document_tokens": int(np.median(lengths)), "mean_document_tokens": round(float(lengths.mean()), 1),
        **results, "concat_chunk": _concat_chunk(lengths[order].astype(np.int64), seq_len + 1),
        "best_fit_speed_vs_first_fit": round(results["best_fit"]["build_tokens_per_s"] / first, 3),
        "best_fit_related_speed_vs_first_fit": round(results["best_fit_related"]["build_tokens_per_s"] / first, 3),
    }
