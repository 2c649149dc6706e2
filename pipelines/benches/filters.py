"""`curate bench filters`: language ID, heuristics and quality scoring vs the raw library calls.

All sides work on the same documents in the same process run: the article bodies of
the shared article-extraction bench (or, without it, the repo's demo and test texts),
repeated to `n_docs`. For each filter:
  - stage: the filter's datatrove step run over Documents (batching, typed values,
    metadata, keep/reject decisions, stats), as inside a pipeline task;
  - raw: what a user would write with the library alone on the same texts:
    fastText `predict` on the whole batch (newlines replaced, which fastText requires)
    for language and quality; for heuristics, datatrove's own Gopher quality, Gopher
    repetition and FineWeb quality filters (their word tokenizer needs spacy, absent
    here, so it is given a plain regex split).
Rounds alternate which side goes first and each side keeps its best round (CPU time of
this process), so a busy machine hurts both alike. `ratio` = stage docs/s / raw docs/s.
"""
import json
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from datatrove.data import Document

from curate import resources
from curate.filters.fasttext_model import lid_model_path, load_model
from curate.filters.heuristics import HeuristicFilter, words_of
from curate.filters.language import LanguageFilter
from curate.filters.quality import FastTextQualityFilter
from curate.filters.quality_training import read_texts, train_classifier

BENCH_DIR = resources.bench_dir("article-extraction")


def bench_texts() -> list[str]:
    truth = BENCH_DIR / "ground-truth.json"
    if truth.is_file():
        return [v["articleBody"] for v in json.loads(truth.read_text()).values() if v.get("articleBody")]
    demo = resources.demo_data() / "quality"
    return read_texts(str(demo / "*.jsonl"))


def docs_of(texts: list[str]) -> list[Document]:
    return [Document(text=t, id=str(i), metadata={}) for i, t in enumerate(texts)]


def timed(fn, texts: list[str]) -> float:
    """CPU seconds `fn` takes on fresh Documents of `texts` (building them is not timed).

    Both sides are single-threaded, so process CPU time measures the work itself and is
    far less disturbed than wall time by other processes sharing the machine."""
    docs = docs_of(texts)
    started = time.process_time()
    fn(docs)
    return time.process_time() - started


def compare(stage_fn, raw_fn, texts: list[str], rounds: int) -> dict:
    best = {"stage": float("inf"), "raw": float("inf")}
    for r in range(rounds):
        order = [("stage", stage_fn), ("raw", raw_fn)]
        for side, fn in (order if r % 2 == 0 else order[::-1]):
            best[side] = min(best[side], timed(fn, texts))
    stage_rate, raw_rate = len(texts) / best["stage"], len(texts) / best["raw"]
    return {"docs": len(texts), "stage_docs_per_s": round(stage_rate, 1), "raw_docs_per_s": round(raw_rate, 1),
            "ratio": round(stage_rate / raw_rate, 3)}


def run_step(step):
    return lambda docs: sum(1 for _ in step.run(iter(docs)))


def raw_fasttext(model, k: int = 1):
    return lambda docs: model.predict([d.text.replace("\n", " ") for d in docs], k=k)


@contextmanager
def datatrove_heuristics():
    """datatrove's Gopher quality + repetition and FineWeb filters, with a regex word split
    (their spacy tokenizer is not installed); the modules are restored afterwards."""
    import datatrove.pipeline.filters.fineweb_quality_filter as fineweb_mod
    import datatrove.pipeline.filters.gopher_quality_filter as quality_mod
    import datatrove.pipeline.filters.gopher_repetition_filter as repetition_mod

    modules = (quality_mod, repetition_mod, fineweb_mod)
    saved = [module.split_into_words for module in modules]
    for module in modules:
        module.split_into_words = lambda text, language=None: words_of(text)
    steps = [quality_mod.GopherQualityFilter(), fineweb_mod.FineWebQualityFilter(),
             repetition_mod.GopherRepetitionFilter()]

    def run(docs):
        for doc in docs:
            for step in steps:
                verdict = step.filter(doc)
                if verdict is not True and (verdict is False or not verdict[0]):
                    break
    try:
        yield run
    finally:
        for module, original in zip(modules, saved):
            module.split_into_words = original


def run(n_docs: int = 2000, rounds: int = 5) -> dict:
    texts = bench_texts()
    texts = (texts * (n_docs // len(texts) + 1))[:n_docs]
    results = {"documents": {"count": len(texts), "mean_chars": round(sum(map(len, texts)) / len(texts))}}

    language = LanguageFilter(languages=["en"], max_chars=None)
    results["language"] = compare(run_step(language), raw_fasttext(load_model(lid_model_path())), texts, rounds)

    heuristic_texts = texts[: max(1, n_docs // 4)]  # pure-Python rules: fewer documents, same comparison
    with datatrove_heuristics() as raw_heuristics:
        results["heuristics"] = compare(run_step(HeuristicFilter()), raw_heuristics, heuristic_texts, rounds)

    with tempfile.TemporaryDirectory() as tmp:
        half = len(set(texts)) // 2
        unique = sorted(set(texts))
        model_path = Path(tmp) / "quality.bin"
        train_classifier(unique[:half], unique[half:], model_path, epoch=5, dim=64, bucket=200_000)
        quality = FastTextQualityFilter(model=str(model_path), threshold=0.5)
        results["quality"] = compare(run_step(quality), raw_fasttext(load_model(model_path)), texts, rounds)
        results["quality"]["model"] = "fastText dim=64 bigrams bucket=200k, trained on the bench texts"
    results["min_ratio"] = min(results[k]["ratio"] for k in ("language", "heuristics", "quality"))
    results["ok"] = results["min_ratio"] >= 0.8
    return results
