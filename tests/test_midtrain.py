"""Midtraining mixes: best-fit packing of whole documents, related and same-source composition, length
buckets; the output read back by megatron-core's GPTDataset and datatrove's reader, boundaries checked."""
import json
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from conftest import ROOT

from curate.stages.schema import SHARD_SCHEMA

SEQ_LEN = 255  # windows of 256 tokens


def sentences_of_demo_pages() -> dict[str, list[str]]:
    """The demo HTML pages' text (real trafilatura extraction), as runs of two sentences per page."""
    import trafilatura

    out = {}
    for page in sorted((ROOT / "manifests/demo/html").glob("*.html")):
        text = trafilatura.extract(page.read_text(errors="replace")) or ""
        sents = [s for s in re.split(r"(?<=[.!?])\s+", " ".join(text.split())) if len(s.split()) >= 4]
        chunks = [" ".join(sents[i:i + 2]) for i in range(0, len(sents), 2)]
        if len(chunks) >= 4:
            out[page.stem] = chunks
    return out


def write_shards(folder: Path, rows: list[dict], parts: int = 2):
    folder.mkdir(parents=True, exist_ok=True)
    full = [{"source": "web", "url": None, "metadata": "{}", "lang": "en", "lang_score": 1.0, "quality_score": None,
             "n_tokens": None, **r} for r in rows]
    for p in range(parts):
        pq.write_table(pa.Table.from_pylist(full[p::parts], schema=SHARD_SCHEMA), folder / f"part-{p:05d}.parquet")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """Two runs from real pages: `chunks` (two sentences each, the page's host as URL) and `pages` (whole)."""
    root = tmp_path_factory.mktemp("midtrain")
    pages = sentences_of_demo_pages()
    chunks = [{"id": f"{p}#{i:03d}", "text": t, "url": f"https://{p}.example/{i}"}
              for p, ts in pages.items() for i, t in enumerate(ts)]
    write_shards(root / "chunks" / "extract", chunks)
    write_shards(root / "pages" / "extract", [{"id": p, "text": " ".join(ts)} for p, ts in pages.items()], parts=1)
    texts = {r["id"]: r["text"] for r in chunks} | {p: " ".join(ts) for p, ts in pages.items()}
    return root, texts


@pytest.fixture(scope="module")
def gemma():
    from curate.stages.tokenize import load_tokenizer

    return load_tokenizer("gemma3-270m")


def recipe_file(folder: Path, **over) -> Path:
    data = {"name": "mid", "phase": "midtrain", "tokenizer": "gemma3-270m", "seq_len": SEQ_LEN,
            "total_tokens": 30000, "seed": 3, "formats": ["megatron", "datatrove"],
            "sources": [
                {"name": "related", "weight": 0.4, "glob": "chunks/extract/part-*.parquet", "compose": "related",
                 "max_epochs": 2},
                {"name": "ordered", "weight": 0.3, "glob": "chunks/extract/part-*.parquet",
                 "compose": "same_source", "group_by": "domain", "max_epochs": 2},
                {"name": "long", "weight": 0.3, "glob": "pages/extract/part-*.parquet", "max_epochs": 2}]}
    data.update(over)
    path = folder / f"{data['name']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def build(path: Path, root: Path, out: Path, gemma) -> dict:
    from curate.pipelines.mix_cli import build_recipe
    from curate.pipelines.mix_recipe import load_recipe

    return build_recipe(load_recipe(path), path, root, out, 1, *gemma)


@pytest.fixture(scope="module")
def mix(corpus, gemma, tmp_path_factory) -> tuple[Path, dict]:
    root, _ = corpus
    out = tmp_path_factory.mktemp("mix") / "mid"
    return out, build(recipe_file(root), root, out, gemma)


def windows_of(out: Path, manifest: dict) -> np.ndarray:
    from megatron.core.datasets.indexed_dataset import IndexedDataset

    ds = IndexedDataset(str(out / "megatron" / f"{manifest['name']}_text_document"))
    return np.stack([ds[i] for i in range(len(ds))])


def test_best_fit_wastes_almost_nothing_on_log_normal_lengths():
    """Padding <= 2% and documents cut <= 1% on 3,000 web-like lengths (median 330 tokens) in 8k windows:
    only documents longer than a window are split, every other one is whole."""
    from curate.stages.mix.packing import SPLIT, WHOLE, pack, summarize

    size = 8193
    lengths = np.maximum(2, np.random.default_rng(0).lognormal(5.8, 1.1, 3000).astype(int)).tolist()
    stats = {}
    for method in ("first_fit", "best_fit"):
        layout = pack(lengths, size, method, loose=range(len(lengths)), seed=1)
        stats[method] = summarize(layout, [0] * len(lengths), ["all"])
        fill = np.bincount(np.asarray(layout.window), weights=np.asarray(layout.end) - np.asarray(layout.start))
        assert fill.max() <= size and len(fill) == layout.windows
        pieces = defaultdict(list)
        for item, a, b in zip(layout.item, layout.start, layout.end):
            pieces[item].append((a, b))
        for item, n in enumerate(lengths):  # every document exactly once, whole unless longer than a window
            spans = sorted(pieces[item])
            assert spans[0][0] == 0 and spans[-1][1] == n and all(x[1] == y[0] for x, y in zip(spans, spans[1:]))
            assert layout.cut[item] == (SPLIT if n > size else WHOLE) and (len(spans) > 1) == (n > size)
    best, first = stats["best_fit"], stats["first_fit"]
    assert best["padding_pct"] <= 2.0 and best["padding_pct"] < first["padding_pct"]
    assert best["split_documents"] == sum(n > size for n in lengths) and best["truncated_documents"] == 0
    assert 0 < best["cut_documents_pct"] <= 1.0
    # composed leaves: chains in order (related looking ahead, same_source groups of 20) still waste little
    groups = {i: i // 20 for i in range(len(lengths))}
    for chain in ((range(len(lengths)), 16, None), (range(len(lengths)), 0, groups)):
        layout = pack(lengths, size, chains=[chain], seed=1)
        assert summarize(layout, [0] * len(lengths), ["all"])["padding_pct"] <= 2.0
        placed = [i for i in layout.item if layout.cut[i] == WHOLE]
        assert sorted(placed) == [i for i, n in enumerate(lengths) if n <= size]


def test_gpt_dataset_reads_whole_documents_with_their_boundaries(mix, corpus, gemma):
    """megatron-core's GPTDataset (built by BlendedMegatronDatasetBuilder) gives one window per sample;
    its reset position ids and attention mask cut exactly at the `.boundaries` of that window, and its
    loss mask hides exactly the padding."""
    from megatron.core.datasets.blended_megatron_dataset_builder import BlendedMegatronDatasetBuilder
    from megatron.core.datasets.gpt_dataset import GPTDataset, GPTDatasetConfig

    out, m = mix
    info = m["tokenizer"]

    class TokenIds:
        """What GPTDataset asks of a tokenizer: the EOD and pad ids and the vocabulary size."""
        eod, pad, vocab_size = info["eos_id"], info["pad_id"], info["vocab_size"]
        unique_identifiers = {"class": "TokenIds", "eod": eod, "pad": pad}

    windows = windows_of(out, m)
    size = m["packing"]["window_tokens"]
    assert windows.shape == (m["packing"]["windows"], size)
    declared = m["packing"]["read_with"]["megatron"]  # what the manifest tells a trainer to set
    assert declared["GPTDatasetConfig"]["sequence_length"] == size and declared["eod"] == info["eos_id"]
    config = GPTDatasetConfig(random_seed=1, blend=([str(out / "megatron" / "mid_text_document")], None),
                              split="1,0,0", tokenizer=TokenIds(), eod_mask_loss=False,
                              path_to_cache=str(out / "megatron-cache"), **declared["GPTDatasetConfig"])
    train, _, _ = BlendedMegatronDatasetBuilder(GPTDataset, [len(windows), None, None], lambda: True, config).build()
    assert len(train) == len(windows)
    ends = np.fromfile(out / "megatron" / "mid_text_document.boundaries", dtype="<u8").astype(np.int64)
    by_window = defaultdict(list)
    for e in ends:
        by_window[(e - 1) // size].append(e - (e - 1) // size * size)
    index = {w.tobytes(): i for i, w in enumerate(windows)}
    seen = set()
    for k in range(len(train)):
        sample = train[k]
        tokens = sample["tokens"].numpy()
        w = index[tokens.astype(windows.dtype).tobytes()]
        seen.add(w)
        pos = sample["position_ids"].numpy()
        starts = [i for i in range(1, size) if pos[i] == 0]
        assert starts == [e for e in by_window[w] if e < size]  # documents, then the padding
        mask = sample["attention_mask"].numpy()[0]  # True = masked out
        for a, b in zip([0, *starts], [*starts, size]):
            assert not mask[a:b, a:b][np.tril_indices(b - a)].any() and mask[b:, a:b].all()
        pad = np.flatnonzero(windows[w] == info["pad_id"])  # the label of position i is token i + 1
        assert np.flatnonzero(sample["loss_mask"].numpy() == 0).tolist() == sorted({*(pad - 1).tolist(), size - 1})
    assert seen == set(range(len(windows)))


def test_every_window_is_whole_documents_or_declared_splits(mix, corpus, gemma):
    """packing.parquet says where each piece comes from; the tokens match the document's own tokens, a
    document is cut only when longer than a window, and every copy documents.parquet counts is there once."""
    out, m = mix
    _, texts = corpus
    tok, info = gemma
    windows = windows_of(out, m)
    size = windows.shape[1]
    pieces = pq.read_table(out / "packing.parquet").to_pylist()
    own = {}
    covered = defaultdict(list)
    fill = defaultdict(int)
    for p in pieces:
        if p["id"] not in own:
            own[p["id"]] = np.array(tok.encode(texts[p["id"]], add_special_tokens=False).ids + [info.eos_id])
        doc = own[p["id"]]
        assert p["doc_tokens"] == len(doc) and p["offset"] == fill[p["window"]]
        got = windows[p["window"], p["offset"]:p["offset"] + p["length"]]
        assert (got == doc[p["doc_start"]:p["doc_start"] + p["length"]]).all()
        assert (p["cut"] == "whole") == (len(doc) <= size) and p["cut"] in ("whole", "split")
        covered[(p["leaf"], p["id"])].append((p["doc_start"], p["doc_start"] + p["length"]))
        fill[p["window"]] += p["length"]
    assert all((windows[w, f:] == info.pad_id).all() for w, f in fill.items())
    used = {(d["leaf"], d["id"]): d for d in pq.read_table(out / "documents.parquet").to_pylist() if d["times_used"]}
    assert set(covered) == set(used)
    for key, spans in covered.items():
        n = used[key]["n_tokens"]
        assert sum(b - a for a, b in spans) == n * used[key]["times_used"] and {a for a, _ in spans} >= {0}
    # the same cuts in the Megatron sidecar and the datatrove index, and as datatrove's reader gives them
    piece_ends = sorted({p["window"] * size + p["offset"] + p["length"] for p in pieces} |
                        {w * size + size for w in fill})
    boundaries = np.fromfile(out / "megatron" / "mid_text_document.boundaries", dtype="<u8").tolist()
    assert boundaries == piece_ends == np.fromfile(out / "datatrove" / "mid.ds.index", dtype="<u8").tolist()
    from datatrove.utils.dataset import DatatroveFolderDataset

    declared = m["packing"]["read_with"]["datatrove"]["DatatroveFolderDataset"]
    assert declared == {"seq_len": size - 1, "token_size": 4, "return_positions": True}  # gemma: 32-bit ids
    ds = DatatroveFolderDataset(str(out / "datatrove"), filename_pattern="*.ds", **declared)
    assert len(ds) == len(windows)
    for w in range(len(ds)):
        item = ds[w]
        assert (item["input_ids"].numpy() == windows[w]).all()
        starts = [i for i, x in enumerate(item["positions"].tolist()) if x == 0 and i]
        assert starts == [e - w * size for e in piece_ends if w * size < e < (w + 1) * size]


def test_related_and_same_source_neighbours(mix):
    """Related chains put similar documents side by side; same_source keeps a site's pages together, in order."""
    out, m = mix
    adj = m["packing"]["adjacency"]
    related = adj["related"]
    assert related["compose"] == "related" and related["pairs"] > 50
    assert related["adjacent_similarity"] > 1.5 * related["random_order_similarity"]
    assert adj["ordered"]["adjacent_similarity"] > adj["ordered"]["random_order_similarity"]
    pieces = pq.read_table(out / "packing.parquet").to_pylist()
    same = ordered = 0
    pairs = [(a["id"].split("#"), b["id"].split("#")) for a, b in zip(pieces, pieces[1:])
             if a["window"] == b["window"] and a["leaf"] == b["leaf"] == "ordered"]
    for (page_a, i), (page_b, j) in pairs:
        if page_a == page_b:
            same += 1
            ordered += j > i  # reading order, though the shards hold every other chunk of a page
    assert len(pairs) > 30 and same >= 0.6 * len(pairs) and ordered == same  # the rest: gap fillers
    stats = m["packing"]
    windows = windows_of(out, m)
    assert stats["method"] == "best_fit" and stats["padding_tokens"] == (windows == m["tokenizer"]["pad_id"]).sum()
    assert abs(sum(leaf["padding_tokens"] for leaf in stats["leaves"].values()) - stats["padding_tokens"]) <= 3
    assert stats["leaves"]["long"]["split_documents"] > 0 and stats["truncated_documents"] == 0
    assert set(stats["leaves"]) == {"related", "ordered", "long"}


def test_length_buckets_plan_and_first_fit(corpus, gemma, tmp_path):
    """Buckets become leaves with their share; `mix plan` prints the length histogram and packing estimate;
    first_fit is still there for comparison."""
    from curate.pipelines.mix_cli import plan_recipe
    from curate.pipelines.mix_recipe import load_recipe

    root, _ = corpus
    buckets = [{"n_tokens": [None, "seq_len/4"], "share": 0.3}, {"n_tokens": ["seq_len/4", None], "share": 0.7}]
    path = recipe_file(tmp_path, name="buckets", total_tokens=12000,
                       sources=[{"name": "chunks", "weight": 1.0, "glob": "chunks/extract/part-*.parquet",
                                 "buckets": buckets, "max_epochs": 3}])
    plan = plan_recipe(load_recipe(path), path, root, *gemma)
    assert [r["leaf"] for r in plan["leaves"]] == ["chunks/len_0-64", "chunks/len_64+"]  # 255 / 4, rounded
    assert [r["planned_tokens"] for r in plan["leaves"]] == [3600, 8400] and plan["ok"]
    hist = {r["bucket"]: r["share"] for r in plan["length_histogram"]}
    assert hist["<512"] == 1.0 and plan["packing_estimate"]["method"] == "best_fit"
    from typer.testing import CliRunner

    from curate.pipelines.mix_cli import mix_app

    r = CliRunner().invoke(mix_app, ["plan", str(path), "--root", str(root)], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    text = " ".join(r.stdout.split())
    assert "tokens by document length" in text and "<512" in text and "packing (best_fit" in text

    m_best = build(path, root, tmp_path / "best", gemma)
    docs = [d for d in pq.read_table(tmp_path / "best" / "documents.parquet").to_pylist() if d["times_used"]]
    for d in docs:  # n_tokens in documents.parquet counts the EOS; the bucket bounds do not
        assert (d["n_tokens"] - 1 < 64) == (d["leaf"] == "chunks/len_0-64")
    for name, leaf in m_best["leaves"].items():
        assert abs(leaf["share_deviation_pp"]) <= 1.0, (name, leaf)
    first = recipe_file(tmp_path, name="first", total_tokens=12000, midtrain={"packing": "first_fit"},
                        sources=yaml.safe_load(path.read_text())["sources"])
    m_first = build(first, root, tmp_path / "first", gemma)
    assert m_first["packing"]["method"] == "first_fit"
    assert m_best["packing"]["padding_pct"] <= m_first["packing"]["padding_pct"]
    assert m_best["total_tokens"] == m_first["total_tokens"]


@pytest.mark.parametrize("change, message", [
    ({"phase": "pretrain"}, "sources.0.compose: `related` needs phase midtrain with packing best_fit"),
    ({"midtrain": {"packing": "first_fit"}}, "needs phase midtrain with packing best_fit"),
    ({"buckets": [{"n_tokens": [None, 100], "share": 0.5}, {"n_tokens": [100, None], "share": 0.4}]},
     "sources.0.buckets: shares sum to 0.9"),
    ({"buckets": [{"n_tokens": ["half of seq_len", None], "share": 1.0}]}, "bucket bound 'half of seq_len'"),
    ({"buckets": [{"n_tokens": [300, 100], "share": 1.0}]}, "n_tokens [300, 100) is empty"),
    ({"group_by": "url.path"}, "group_by 'url.path' must be"),
])
def test_recipe_errors_for_compose_and_buckets(tmp_path, change, message):
    from curate.pipelines.mix_recipe import RecipeError, load_recipe

    leaf = {"name": "a", "weight": 1.0, "glob": "x/*.parquet", "compose": "related"}
    top = {k: v for k, v in change.items() if k in ("phase", "midtrain")}
    leaf.update({k: v for k, v in change.items() if k not in top})
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"name": "bad", "phase": "midtrain", "total_tokens": 10, "seq_len": 255,
                                    "sources": [leaf], **top}))
    with pytest.raises(RecipeError) as e:
        load_recipe(path)
    assert message in " ".join(str(e.value).split())


def test_long_context_recipe_scales_its_buckets_with_the_window():
    from curate.pipelines.mix_recipe import leaves, load_recipe

    recipe = load_recipe(ROOT / "manifests/mixes/long_context.yaml")
    names = {lf.name: lf for lf in leaves(recipe, ROOT)}
    assert recipe.seq_len == 65536 and recipe.midtrain.packing == "best_fit"
    assert names["long/web/len_32k+"].bucket == (32768, None) and names["long/web/len_4k-32k"].bucket == (4096, 32768)
    assert abs(sum(lf.weight for lf in names.values()) - 1) < 1e-9
    assert sum(lf.weight for n, lf in names.items() if n.startswith("long/")) == pytest.approx(0.6)
    assert json.loads(json.dumps(recipe.model_dump(mode="json")))["sources"][0]["sources"][0]["compose"] == "related"
