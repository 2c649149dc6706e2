"""`curate bench mix`: `mix build` throughput against the raw tokenizer, and its memory as input grows.

1. Speed: the same texts are tokenized by the raw `Tokenizer.encode_batch` (in batches of
   BATCH_DOCS documents, as the builder does; one call over every text was slower) and built into a
   one-source mix by `MixBuilder` (reading
   Parquet, tokenizing, sampling, shuffling, writing Megatron and datatrove files, hashing them),
   each with a freshly loaded tokenizer (load time excluded). ratio = build tokens/s / raw tokens/s.
2. Memory: fresh processes build the mix from 1x and 4x the input; their peak RSS is compared.
3. Packing (`packing`, see `mix_packing`): midtraining builds of `packing_docs` log-normal-length
   documents with first_fit, best_fit and best_fit + `compose: related`: padding, documents cut,
   adjacency similarity and build tokens/s (`-o packing=false` skips it).
"""
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate import resources
from curate.stages.schema import SHARD_SCHEMA


def _vocabulary() -> list[str]:
    words = []
    for path in sorted(resources.source_dir("pipelines").glob("*.py")) + \
            sorted(resources.source_dir("stages").glob("*.py")):
        words += path.read_text().split()
    return words


def write_input(folder: Path, docs: int, seed: int = 0, per_file: int = 500) -> None:
    """Synthetic shards: documents of 50..1500 words drawn from this project's own source text."""
    words = np.array(_vocabulary())
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for f, start in enumerate(range(0, docs, per_file)):
        rows = []
        for i in range(start, min(docs, start + per_file)):
            text = " ".join(rng.choice(words, size=int(rng.integers(50, 1500))))
            rows.append({"id": f"doc-{i}", "text": text, "source": "bench", "url": None, "metadata": "{}"})
        pq.write_table(pa.Table.from_pylist(rows, schema=SHARD_SCHEMA), folder / f"part-{f:05d}.parquet")


def _recipe(root: Path, total_tokens: int, tokenizer: str):
    from curate.pipelines.mix_recipe import MixRecipe

    return MixRecipe.model_validate({
        "name": "bench", "phase": "pretrain", "tokenizer": tokenizer, "total_tokens": total_tokens, "seed": 1,
        "sources": [{"name": "all", "weight": 1.0, "glob": str(root / "in" / "part-*.parquet")}]})


def _build(root: Path, out: Path, tokenizer: str, total: int | None = None):
    """Build a one-source mix; without `total`, take 90% of the plan's (sampled) estimate."""
    from curate.pipelines.mix_recipe import leaves
    from curate.stages.mix import MixBuilder, plan_mix
    from curate.stages.tokenize import load_tokenizer

    tok, info = load_tokenizer(tokenizer)
    if total is None:
        recipe = _recipe(root, 1, tokenizer)
        total = int(0.9 * plan_mix(recipe, leaves(recipe, root), tok, info)["leaves"][0]["available_tokens"])
    recipe = _recipe(root, total, tokenizer)
    t0 = time.perf_counter()
    manifest = MixBuilder(recipe, leaves(recipe, root), tok, info, out).build()
    return manifest, time.perf_counter() - t0


def child(root: str, out: str, tokenizer: str) -> None:
    """Run in a fresh process: build, then print tokens, seconds and memory as JSON.

    ru_maxrss is the process peak (often reached while parsing tokenizer.json); a sampler thread
    also records the highest current RSS while the build itself runs."""
    import threading

    import psutil

    proc, high, done = psutil.Process(), [0], threading.Event()

    def sample():
        while not done.wait(0.02):
            high[0] = max(high[0], proc.memory_info().rss)

    threading.Thread(target=sample, daemon=True).start()
    manifest, seconds = _build(Path(root), Path(out), tokenizer)
    done.set()
    print(json.dumps({"tokens": manifest["total_tokens"]["realized"], "seconds": seconds,
                      "build_rss_mb": high[0] / 2**20,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def _child_run(root: Path, out: Path, tokenizer: str) -> dict:
    result = subprocess.run([sys.executable, "-m", "curate.pipelines.benches.mix", str(root), str(out), tokenizer],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def _raw(encode, texts) -> tuple[float, int]:
    """Seconds and tokens (+1 EOS per document) of the raw encoder, in the builder's batch size."""
    from curate.stages.mix import BATCH_DOCS

    t0, tokens = time.perf_counter(), 0
    for i in range(0, len(texts), BATCH_DOCS):
        tokens += sum(len(e.ids) + 1 for e in encode(texts[i:i + BATCH_DOCS], add_special_tokens=False))
    return time.perf_counter() - t0, tokens


def run(docs: int = 1000, tokenizer: str = "gemma3-270m", growth: int = 4, repeats: int = 3, packing: bool = True,
        packing_docs: int = 10000, packing_seq_len: int = 8192) -> dict:
    from curate.stages.tokenize import load_tokenizer

    with tempfile.TemporaryDirectory(prefix="curate-bench-mix-") as tmp:
        small, big = Path(tmp) / "small", Path(tmp) / "big"
        write_input(small / "in", docs)
        write_input(big / "in", docs * growth, seed=1)
        texts = pq.read_table(small / "in", columns=["text"]).column("text").to_pylist()
        raw, fast, build = [], [], []
        # interleaved repeats, best of each: the machine is shared, so single timings are noisy. A fresh
        # tokenizer for each measurement: BPE caches words, and a warm cache would favour the later one.
        for _ in range(repeats):
            raw_s, tokens = _raw(load_tokenizer(tokenizer)[0].encode_batch, texts)
            raw.append(tokens / raw_s)
            fast_s, _ = _raw(load_tokenizer(tokenizer)[0].encode_batch_fast, texts)
            fast.append(tokens / fast_s)
            manifest, build_s = _build(small, Path(tmp) / "out", tokenizer, total=tokens)
            build.append(manifest["total_tokens"]["realized"] / build_s)
        del texts
        rss_small = _child_run(small, Path(tmp) / "out-small", tokenizer)
        rss_big = _child_run(big, Path(tmp) / "out-big", tokenizer)
    raw_tps, fast_tps, build_tps = max(raw), max(fast), max(build)
    packed = {}
    if packing:
        from curate.pipelines.benches import mix_packing

        packed["packing"] = mix_packing.run(packing_docs, packing_seq_len, tokenizer, min(repeats, 2))
    return {
        "tokenizer": tokenizer, "documents": docs, "tokens": tokens, "repeats": repeats,
        "raw_encode_batch_tokens_per_s": round(raw_tps), "raw_encode_batch_fast_tokens_per_s": round(fast_tps),
        "mix_build_tokens_per_s": round(build_tps),
        "all_runs_tokens_per_s": {"encode_batch": [round(x) for x in raw],
                                  "encode_batch_fast": [round(x) for x in fast],
                                  "mix_build": [round(x) for x in build]},
        "ratio_vs_encode_batch": round(build_tps / raw_tps, 3),
        "ratio_vs_encode_batch_fast": round(build_tps / fast_tps, 3),
        "rss_input_growth": growth, f"tokens_{growth}x": rss_big["tokens"],
        "peak_rss_mb_1x": round(rss_small["peak_rss_mb"], 1),
        f"peak_rss_mb_{growth}x": round(rss_big["peak_rss_mb"], 1),
        "peak_rss_ratio": round(rss_big["peak_rss_mb"] / rss_small["peak_rss_mb"], 3),
        "build_rss_mb_1x": round(rss_small["build_rss_mb"], 1),
        f"build_rss_mb_{growth}x": round(rss_big["build_rss_mb"], 1),
        "build_rss_ratio": round(rss_big["build_rss_mb"] / rss_small["build_rss_mb"], 3),
        **packed,
    }


if __name__ == "__main__":
    child(*sys.argv[1:4])
