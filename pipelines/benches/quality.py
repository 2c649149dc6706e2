"""`curate bench quality`: LLM annotation and the classifiers trained on it, against the raw calls.

- annotation: the `quality_annotate` stage vs a plain loop of the same HTTP requests (same
  rubric prompts, same sampling) to the same embedded llama.cpp server; requests per second of
  each, rounds alternating which side goes first. The server answers one request at a time, so
  the stage's concurrency cannot win and its overhead is what the ratio shows.
- classifier: the `quality` stage (fastText ordinal model, and the embedding head where WordLlama
  is installed) vs the raw calls on the same texts (fastText `predict`; WordLlama `embed` @ weights),
  documents per CPU-second, best of `rounds` (benches/filters.py's comparison).
- agreement: the demo pages plus the 181 article-extraction bench pages, extracted, graded by the
  stage with the embedded model (`docs` documents per request set; the ledger lives in
  `work`, default `$CURATE_CACHE/bench-quality`, so a rerun resends nothing), then trained on
  (binary fastText at the rubric's cut and at `alt_cut`, ordinal fastText, the embedding head) with
  a seeded held-out split: F1 at the cut, Spearman and confusion matrices against the annotator.
"""
import time
from pathlib import Path

import httpx
from datatrove.data import Document

from curate import resources
from curate.filters.fasttext_model import load_model, one_line
from curate.filters.quality import FastTextQualityFilter
from curate.filters.quality_annotate import QualityAnnotator, cut
from curate.filters.quality_embedding import embedding_available
from curate.filters.quality_grade_training import train_on_labels
from curate.filters.quality_labels import read_labels
from curate.pipelines.benches.filters import compare, run_step
from curate.pipelines.benches.progress import step
from curate.stages.extract import HtmlExtractor
from curate.stages.schema import is_rejected
from curate.synth.server import LocalServer

BENCH_PAGES = resources.bench_dir("article-extraction") / "html"


def extracted(folder: Path, prefix: str) -> list[Document]:
    """Extracted text of every page of a folder (pages with no text are left out)."""
    from curate.pipelines.benches.extract import load_pages

    extractor, docs = HtmlExtractor(), []
    for key, html in load_pages(folder).items():
        doc = extractor.process(Document(text=html, id=f"{prefix}{key}", metadata={"source": prefix.rstrip("/")}))
        if not is_rejected(doc) and doc.text.strip():
            docs.append(doc)
    return docs


def annotation_speed(url: str, docs: list[Document], rounds: int, **params) -> dict:
    """Requests/s of the stage vs a plain request loop, the same requests, alternating sides."""
    stage = QualityAnnotator(endpoint=url, ledger=False, max_in_flight=1, **params)
    annotator = stage.annotators[0]
    with httpx.Client(timeout=600) as http:
        model = http.get(f"{url}/models").json()["data"][0]["id"]
        bodies = [{"model": model, "prompt": annotator.rubric.render(cut(d.text, stage.params.max_chars)),
                   **stage.sampling, "stop": annotator.rubric.stops("completion")} for d in docs]
        # warm up on a rubric prompt: llama.cpp reuses the KV cache of the previous prompt's prefix (the rubric),
        # so each side's first request must follow one that shares it, as every later request does
        http.post(f"{url}/completions", json={**bodies[-1], "max_tokens": 1}).raise_for_status()
        seconds = {"loop": 0.0, "stage": 0.0}
        for r in range(rounds):
            for side in ("loop", "stage") if r % 2 == 0 else ("stage", "loop"):
                step(f"annotation speed: round {r + 1}/{rounds}, {side}")
                started = time.perf_counter()
                if side == "loop":
                    for body in bodies:
                        http.post(f"{url}/completions", json=body).raise_for_status()
                else:
                    rows = list(stage.run(iter([Document(text=d.text, id=d.id, metadata=dict(d.metadata))
                                                 for d in docs])))
                    assert len(rows) == len(docs)
                seconds[side] += time.perf_counter() - started
    n = len(docs) * rounds
    loop, staged = n / seconds["loop"], n / seconds["stage"]
    return {"requests": n, "loop_requests_per_s": round(loop, 3), "stage_requests_per_s": round(staged, 3),
            "ratio": round(staged / loop, 3)}


def grade(url: str, docs: list[Document], work: str, **params) -> list[Document]:
    """Every document through the stage with a ledger in `work` (a rerun of the bench resends nothing)."""
    stage = QualityAnnotator(endpoint=url, max_in_flight=1, **params)
    stage.output_folder = f"{work.rstrip('/')}/quality_annotate"
    rows = []
    for i in range(0, len(docs), 16):
        step(f"agreement: grading documents {i + 1}-{min(i + 16, len(docs))} of {len(docs)}")
        rows += list(stage.run(iter(docs[i:i + 16])))
    return rows


def write_labels(rows: list[Document], folder: Path) -> Path:
    from curate.stages.shards import ShardWriter

    stage_folder = folder / "quality_annotate"
    stage_folder.mkdir(parents=True, exist_ok=True)
    list(ShardWriter(str(stage_folder), "quality_annotate").run(iter(rows)))
    return stage_folder


def classifier_speed(model: str, texts: list[str], rounds: int) -> dict:
    stage = FastTextQualityFilter(model=model, threshold=0.5)
    if model.endswith(".npz"):
        from curate.filters.quality_embedding import EmbeddingHead, embed

        head = EmbeddingHead.load(model)

        def raw(docs):
            return embed([one_line(d.text) for d in docs]) @ head.weights + head.bias
    else:
        ft = load_model(model)

        def raw(docs):
            return ft.predict([one_line(d.text) for d in docs], k=-1)
    return compare(run_step(stage), raw, texts, rounds)


def run(docs: int = 6, rounds: int = 2, max_chars: int = 1000, max_tokens: int = 32, threads: int = 2,
        agreement: bool = True, speed_docs: int = 1000, classifier_rounds: int = 3, holdout: float = 0.2,
        seed: int = 0, alt_cut: float | None = 1, work: str | None = None) -> dict:
    import tempfile

    work = work or str(resources.cache_dir() / "bench-quality")
    params = {"max_chars": max_chars, "max_tokens": max_tokens, "seed": seed}
    step("extracting the demo pages and the bench pages")
    demo = extracted(resources.demo_data() / "html", "demo/")
    pages = extracted(BENCH_PAGES, "bench/") if BENCH_PAGES.is_dir() else []
    result = {"documents": {"demo": len(demo), "bench_pages": len(pages)}, "settings": params}
    with LocalServer(n_threads=threads) as server:
        result["annotation"] = annotation_speed(server.base_url, demo[:docs], rounds, **params)
        if agreement:
            rows = grade(server.base_url, demo + pages, work, **params)
    with tempfile.TemporaryDirectory() as tmp:
        texts = [d.text for d in demo + pages]
        texts = (texts * (speed_docs // max(1, len(texts)) + 1))[:speed_docs]
        if agreement:
            labels_dir = write_labels(rows, Path(tmp) / "labels")
            labels = read_labels(str(labels_dir))
            graded = [r for r in rows if not is_rejected(r)]
            result["labels"] = {"graded": len(graded), "rejected": len(rows) - len(graded),
                                **labels.describe("bench")}
            result["agreement"], models = {}, {}
            options = [("fasttext_binary", "fasttext", "binary", None),
                       ("fasttext_ordinal", "fasttext", "ordinal", None)]
            if alt_cut is not None:  # a small annotator may never reach the rubric's cut
                options.insert(1, (f"fasttext_binary_cut{alt_cut:g}", "fasttext", "binary", alt_cut))
            if embedding_available():
                options.append(("embedding_regression", "embedding", "regression", None))
            else:
                result["agreement"]["embedding_regression"] = "skipped: no embedding model installed (extra embed)"
            for name, kind, target, at in options:
                step(f"agreement: training {name}")
                out = Path(tmp) / (name + (".npz" if kind == "embedding" else ".bin"))
                try:
                    card = train_on_labels(labels, out, kind=kind, target=target, cut=at, holdout=holdout,
                                           seed=seed, dim=32, bucket=200_000)
                except ValueError as e:  # e.g. a small model that never grades above the cut
                    result["agreement"][name] = f"not trained: {e}"
                    continue
                result["agreement"][name] = {"split": card["split"], **card["metrics"]}
                models[name] = str(out)
        else:
            models = {}
        result["classifier"] = {}
        for name, path in models.items():
            if name.startswith("fasttext_binary"):
                continue
            step(f"classifier speed: {name}")
            result["classifier"][name] = classifier_speed(path, texts, classifier_rounds)
    ratios = [result["annotation"]["ratio"]] + [c["ratio"] for c in result["classifier"].values()]
    result["min_ratio"] = min(ratios)
    result["ok"] = result["min_ratio"] >= 0.9
    return result
