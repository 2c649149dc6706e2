"""`curate bench decontam`: planted contamination found, clean documents left alone, speed and memory.

A seeded synthetic benchmark (questions of 20-45 words and four short choices, words drawn from
the demo pages' vocabulary) is written as JSONL and indexed by the real index pass. Documents
are 2-4 paragraphs of the demo pages' prose; into some, a benchmark item is pasted verbatim
(question and choices, with or without `A)` labels), into others with light edits (case,
punctuation and line breaks, full-width letters, one word replaced), and clean ones get a
12-word fragment of an item (one word short of an n-gram: must not match). Recall is measured
per kind, false positives on every clean document (goal 0).

Speed: the filter pass (`DecontaminationFilter` over Documents, the index memory-mapped) vs a
plain Python set of the same n-grams as word tuples (the same `words()` normalisation, every
n-gram of a document looked up), best CPU time of alternating rounds. Memory: in fresh
processes, peak RSS of building the index of `memory_ngrams` (default 1M) eval n-grams and of
holding them as a Python set, and the index's size on disk.
"""
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from datatrove.data import Document

from curate.filters.decontaminate import DecontaminateParams, DecontaminationFilter, build_index
from curate.filters.ngram_index import words
from curate.pipelines.benches.pii import demo_paragraphs
from curate.pipelines.benches.progress import step

GOAL_VERBATIM, GOAL_EDITED, GOAL_SPEED = 1.0, 0.9, 1.0
N = 13

_MEMORY_SCRIPT = """
import json, random, resource, sys, tempfile
import psutil
from curate.filters.ngram_index import IndexBuilder, batch_ngram_hashes
mode, target, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(1)
vocab = [f"w{i}" for i in range(50000)]
process = psutil.Process()
base = process.memory_info().rss
items, made = [], 0
def item_words():
    return [rng.choice(vocab) for _ in range(40)]
out = {}
if mode == "index":
    builder = IndexBuilder(n)
    owner = builder.benchmark("synthetic")
    while made < target:
        hashes = batch_ngram_hashes([" ".join(item_words()) for _ in range(1000)], n)[0][: target - made]
        builder.add(owner, hashes)
        made += len(hashes)
    with tempfile.TemporaryDirectory() as tmp:
        meta = builder.save(tmp, {})
        out["index_bytes"] = meta["bytes"]
        out["ngrams"] = meta["ngrams"]
        out["rss_growth_mb"] = round((process.memory_info().rss - base) / 2**20, 1)  # after building and saving
else:
    grams = set()
    while made < target:
        w = item_words()
        for i in range(len(w) - n + 1):
            if made >= target:
                break
            grams.add(tuple(w[i:i + n]))
            made += 1
    out["ngrams"] = len(grams)
    out["rss_growth_mb"] = round((process.memory_info().rss - base) / 2**20, 1)  # the set is still alive here
out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
out["rss_before_mb"] = round(base / 2**20, 1)
print(json.dumps(out))
"""


def vocabulary(paragraphs: list[str]) -> list[str]:
    return sorted({w for p in paragraphs for w in re.findall(r"[a-z]+", p.lower()) if len(w) > 2})


def make_items(n_items: int, vocab: list[str], rng) -> list[dict]:
    items = []
    for i in range(n_items):
        question = " ".join(rng.choice(vocab) for _ in range(rng.randint(20, 45))).capitalize() + "?"
        choices = [" ".join(rng.choice(vocab) for _ in range(rng.randint(1, 4))) for _ in range(4)]
        items.append({"id": f"q{i}", "question": question, "choices": choices, "answer": rng.randint(0, 3)})
    return items


def pasted(item: dict, rng) -> str:
    if rng.random() < 0.5:
        return "\n".join([item["question"], *item["choices"]])
    return "\n".join([item["question"], *(f"{'ABCD'[k]}) {c}" for k, c in enumerate(item["choices"]))])


def edited(item: dict, rng, vocab: list[str]) -> str:
    """A light edit of a pasted item: case, punctuation and line breaks, full-width letters, one word."""
    question = item["question"].split()
    at = rng.randrange(len(question))
    question[at] = rng.choice(vocab)  # one word replaced
    text = pasted({**item, "question": " ".join(question)}, rng)
    kinds = rng.sample(["upper", "title", "punct", "breaks", "fullwidth"], 2)
    if "upper" in kinds:
        text = text.upper()
    if "title" in kinds:
        text = text.title()
    if "punct" in kinds:
        text = re.sub(r" ", lambda m: rng.choice([" ", ", ", " - ", "; "]), text)
    if "breaks" in kinds:
        text = re.sub(r" ", lambda m: rng.choice([" ", "\n", "  "]), text)
    if "fullwidth" in kinds:
        text = re.sub(r"[a-z]+", lambda m: "".join(chr(ord(c) + 0xFEE0) for c in m.group())
                      if rng.random() < 0.2 else m.group(), text)
    return text


def fragment(item: dict, rng, n: int = N) -> str:
    """n-1 consecutive words of an item's question: one short of an n-gram."""
    question = words(item["question"])
    start = rng.randrange(max(1, len(question) - (n - 1) + 1))
    return " ".join(question[start:start + n - 1])


def make_documents(n_docs: int, items: list[dict], paragraphs: list[str], vocab: list[str], rng) -> list[tuple]:
    """[(text, kind)], kind: verbatim, edited or clean (clean ones hold a near-miss fragment)."""
    docs = []
    for i in range(n_docs):
        body = rng.sample(paragraphs, rng.randint(2, 4))
        kind = ("verbatim", "edited", "clean", "clean", "clean")[i % 5]
        item = items[rng.randrange(len(items))]
        insert = pasted(item, rng) if kind == "verbatim" else edited(item, rng, vocab) if kind == "edited" \
            else fragment(item, rng)
        body.insert(rng.randint(0, len(body)), insert)
        docs.append(("\n\n".join(body), kind))
    return docs


def set_lookup(grams: set, n: int = N):
    """The plain-Python side: every n-gram of a document as a tuple of words, looked up in a set."""
    def run(docs):
        for doc in docs:
            w = words(doc.text)
            doc.metadata["matched"] = sum(tuple(w[i:i + n]) in grams for i in range(len(w) - n + 1))
    return run


def timed(fn, texts: list[str]) -> float:
    docs = [Document(text=t, id=str(i), metadata={}) for i, t in enumerate(texts)]
    started = time.process_time()
    fn(docs)
    return time.process_time() - started


def memory(target: int) -> dict:
    out = {}
    for mode in ("index", "python_set"):
        result = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT, mode, str(target), str(N)],
                                capture_output=True, text=True, check=True)
        out[mode] = json.loads(result.stdout)
    out["index_bytes_per_ngram"] = round(out["index"]["index_bytes"] / max(out["index"]["ngrams"], 1), 2)
    return out


def prepared(n_items: int, n_docs: int, seed: int, folder: Path):
    """(filter stage with its index built in `folder`, documents, items, grams set)."""
    rng = random.Random(seed)
    paragraphs = demo_paragraphs()
    vocab = vocabulary(paragraphs)
    items = make_items(n_items, vocab, rng)
    bench_file = folder / "synthetic_eval.jsonl"
    bench_file.write_text("".join(json.dumps(item) + "\n" for item in items))
    params = DecontaminateParams(benchmarks=[str(bench_file)], fields=["question", "choices"], ngram=N)
    build_index(params, str(folder / "work" / "index"))
    stage = DecontaminationFilter(params, str(folder / "work"))
    docs = make_documents(n_docs, items, paragraphs, vocab, rng)
    grams = set()
    for item in items:
        w = words(" ".join([item["question"], *item["choices"]]))
        grams.update(tuple(w[i:i + N]) for i in range(len(w) - N + 1))
    return stage, docs, items, grams


def detect(stage: DecontaminationFilter, docs: list[tuple]) -> dict:
    """Found / planted per kind; clean documents found are false positives."""
    out = [Document(text=t, id=str(i), metadata={}) for i, (t, _) in enumerate(docs)]
    flagged = [d.metadata.get("rejected") == "contaminated" for d in stage.run(iter(out))]
    per = {}
    for (_, kind), hit in zip(docs, flagged):
        row = per.setdefault(kind, {"documents": 0, "flagged": 0})
        row["documents"] += 1
        row["flagged"] += hit
    for kind, row in per.items():
        row["recall" if kind != "clean" else "false_positive_rate"] = round(row["flagged"] / row["documents"], 4)
    return per


def run(n_items: int = 2000, n_docs: int = 2000, seed: int = 0, rounds: int = 3, memory_ngrams: int = 1_000_000) \
        -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        step(f"building a {n_items}-item benchmark index and {n_docs} documents")
        stage, docs, items, grams = prepared(n_items, n_docs, seed, Path(tmp))
        step("detection: verbatim, edited and clean documents")
        per = detect(stage, docs)
        step("timing the filter vs a Python set of the same n-grams")
        texts = [t for t, _ in docs]
        best = {"stage": float("inf"), "python_set": float("inf")}
        sides = [("stage", lambda ds: sum(1 for _ in stage.run(iter(ds)))), ("python_set", set_lookup(grams))]
        for r in range(rounds):
            for side, fn in (sides if r % 2 == 0 else sides[::-1]):
                best[side] = min(best[side], timed(fn, texts))
        index_ngrams = len(stage.index)
    speed = {"stage_docs_per_s": round(n_docs / best["stage"], 1),
             "python_set_docs_per_s": round(n_docs / best["python_set"], 1),
             "ratio": round(best["python_set"] / best["stage"], 3)}
    result = {"items": n_items, "index_ngrams": index_ngrams, "python_set_ngrams": len(grams), "documents": per,
              "speed": speed}
    if memory_ngrams:
        step(f"memory for {memory_ngrams} eval n-grams: index vs Python set (fresh processes)")
        result["memory"] = memory(memory_ngrams)
    result["goals"] = {"verbatim_recall": GOAL_VERBATIM, "edited_recall": GOAL_EDITED, "false_positives": 0,
                       "speed_ratio": GOAL_SPEED}
    result["ok"] = (per["verbatim"]["recall"] >= GOAL_VERBATIM and per["edited"]["recall"] >= GOAL_EDITED
                    and per["clean"]["flagged"] == 0 and speed["ratio"] >= GOAL_SPEED)
    return result
