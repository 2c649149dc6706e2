"""Mix recipes end to end: validation errors, plan, build read back by Megatron-Core and datatrove."""
import hashlib
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from curate.stages.schema import SHARD_SCHEMA

WORDS = ("data model token train web page text learn quality source mix window pack shard seed "
         "the of and to in is for on with as by at from this that it be are was").split()


def make_texts(n: int, seed: int, lo: int = 5, hi: int = 120) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=int(rng.integers(lo, hi)))) + "." for _ in range(n)]


@pytest.fixture(scope="module")
def tokenizer_file(tmp_path_factory) -> Path:
    """A small real BPE tokenizer (vocab < 65k -> uint16), trained on the test vocabulary."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<pad>", "<unk>", "<eos>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(make_texts(300, 0), trainer)
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    tok.save(str(path))
    return path


def count_tokens(tokenizer_file, texts):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_file))
    return [len(e.ids) for e in tok.encode_batch(texts, add_special_tokens=False)]


def write_run(folder: Path, stage: str, texts: list[str], prefix: str, quality=None, n_tokens=None, parts=2):
    """A run folder as the pipelines write it: <run>/<stage>/part-*.parquet + manifest.json."""
    (folder / stage).mkdir(parents=True, exist_ok=True)
    rows = [{"id": f"{prefix}-{i}", "text": t, "source": prefix, "url": None, "metadata": "{}", "lang": "en",
             "lang_score": 1.0, "quality_score": None if quality is None else quality[i],
             "n_tokens": None if n_tokens is None else n_tokens[i]} for i, t in enumerate(texts)]
    for p in range(parts):
        pq.write_table(pa.Table.from_pylist(rows[p::parts], schema=SHARD_SCHEMA),
                       folder / stage / f"part-{p:05d}.parquet")
    (folder / "manifest.json").write_text(json.dumps({"stages": {stage: {}}}))


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tokenizer_file) -> Path:
    root = tmp_path_factory.mktemp("runs")
    web = make_texts(150, 1)
    write_run(root / "web", "quality", web, "web", quality=[i % 10 / 10 for i in range(len(web))])
    pdf = make_texts(120, 2, 100, 600)
    write_run(root / "pdf", "ocr", pdf, "pdf", n_tokens=count_tokens(tokenizer_file, pdf))
    write_run(root / "synth", "qa", make_texts(300, 3, 10, 40), "qa")
    write_run(root / "wikipedia", "heuristics", make_texts(80, 4, 60, 300), "wiki")  # the other sources' runs
    write_run(root / "books", "exact_dedupe", make_texts(40, 5, 150, 400), "book")
    write_run(root / "arxiv", "exact_dedupe", make_texts(40, 6, 100, 300), "paper")
    return root


def recipe(tmp_path, tokenizer_file, **over) -> Path:
    data = {
        "name": "test_pretrain", "phase": "pretrain", "tokenizer": str(tokenizer_file), "seq_len": 64,
        "total_tokens": 20000, "seed": 7, "formats": ["megatron", "datatrove"],
        "sources": [
            {"name": "web", "weight": 0.5, "sources": [
                {"name": "hq", "weight": 0.6, "run": "web", "filter": ["quality_score >= 0.5"], "max_epochs": 2},
                {"name": "all", "weight": 0.4, "glob": "web/quality/part-*.parquet"}]},
            {"name": "pdf", "weight": 0.3, "run": "pdf", "filter": "n_tokens >= 150"},
            {"name": "qa", "weight": 0.2, "run": "synth", "max_epochs": 3},
        ],
    }
    data.update(over)
    path = tmp_path / f"{data['name']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_recipe_errors_name_the_key_path(curate, tmp_path, tokenizer_file):
    bad = recipe(tmp_path, tokenizer_file, name="typo", sourcez=1)
    r = curate("mix", "validate", bad, check=False)
    assert r.returncode == 2 and "sourcez" in r.stderr and "unknown key" in r.stderr
    data = yaml.safe_load(recipe(tmp_path, tokenizer_file).read_text())
    data["sources"][0]["sources"][1]["weight"] = 0.3
    data["sources"][0]["sources"][0]["filter"] = ["quality >= 1"]
    bad.write_text(yaml.safe_dump(data))
    r = curate("mix", "validate", bad, check=False)
    assert r.returncode == 2 and "sources.0.sources.0.filter" in r.stderr
    data["sources"][0]["sources"][0]["filter"] = []
    bad.write_text(yaml.safe_dump(data))
    r = curate("mix", "validate", bad, check=False)
    assert r.returncode == 2 and "sources.0.sources: weights sum to 0.9" in " ".join(r.stderr.split())
    curate("mix", "validate", recipe(tmp_path, tokenizer_file))


def test_plan_counts_and_refuses_short_sources(curate, tmp_path, tokenizer_file, runs):
    r = curate("mix", "plan", recipe(tmp_path, tokenizer_file), "--root", runs, "--json")
    plan = {row["leaf"]: row for row in json.loads(r.stdout)["leaves"]}
    assert set(plan) == {"web/hq", "web/all", "pdf", "qa"}
    assert plan["pdf"]["counted"] == "exact" and "n_tokens column" in plan["pdf"]["how"]
    assert plan["web/hq"]["counted"] == "exact"  # 75 rows pass the filter: all tokenized
    assert plan["qa"]["counted"] == "estimated" and "sample of 256 of 300" in plan["qa"]["how"]
    exact = sum(count_tokens(tokenizer_file, make_texts(300, 3, 10, 40))) + 300
    assert abs(plan["qa"]["available_tokens"] - exact) / exact < 0.05
    assert sum(row["planned_tokens"] for row in plan.values()) == 20000
    assert plan["web/hq"]["planned_tokens"] == 6000 and plan["web/hq"]["epochs"] > 0
    short = recipe(tmp_path, tokenizer_file, total_tokens=200000)
    r = curate("mix", "plan", short, "--root", runs, check=False)
    assert r.returncode == 2 and "source 'pdf' is short" in " ".join(r.stderr.split())


def read_megatron(prefix: Path) -> list[tuple]:
    from megatron.core.datasets.indexed_dataset import IndexedDataset

    ds = IndexedDataset(str(prefix), mmap=True)
    return [tuple(int(t) for t in ds[i]) for i in range(len(ds))]


def read_datatrove(folder: Path, seq_len: int, token_size: int) -> np.ndarray:
    from datatrove.utils.dataset import DatatroveFolderDataset

    ds = DatatroveFolderDataset(str(folder), seq_len=seq_len, filename_pattern="*.ds", token_size=token_size)
    return np.concatenate([ds[i]["input_ids"].numpy() for i in range(len(ds))]) if len(ds) else np.zeros(0)


def expected_docs(tokenizer_file, out: Path, runs: Path) -> Counter:
    """Direct tokenization of the chosen documents (text + EOS), times their use count."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_file))
    eos = tok.token_to_id("<eos>")
    texts = {}
    for part in runs.glob("*/*/part-*.parquet"):
        t = pq.read_table(part, columns=["id", "text"])
        texts.update(zip(t.column("id").to_pylist(), t.column("text").to_pylist()))
    docs = pq.read_table(out / "documents.parquet").to_pylist()
    want = Counter()
    for d in docs:
        if d["times_used"]:
            ids = tuple(tok.encode(texts[d["id"]], add_special_tokens=False).ids) + (eos,)
            assert len(ids) == d["n_tokens"]
            want[ids] += d["times_used"]
    return want


def test_build_pretrain_read_by_megatron_and_datatrove(curate, tmp_path, tokenizer_file, runs):
    path = recipe(tmp_path, tokenizer_file)
    out1, out2 = tmp_path / "mix1", tmp_path / "mix2"
    curate("mix", "build", path, "--root", runs, "--output", out1)
    curate("mix", "build", path, "--root", runs, "--output", out2, "--workers", 2)
    m1 = json.loads((out1 / "mix_manifest.json").read_text())
    m2 = json.loads((out2 / "mix_manifest.json").read_text())
    assert m1["files"] == m2["files"]  # same bytes on 1 and 2 workers
    assert m1["tokenizer"]["megatron_dtype"] == "uint16" and m1["tokenizer"]["token_size"] == 2
    assert m1["recipe_sha256"] and all(f["sha256"] for f in m1["files"])
    assert abs(m1["total_tokens"]["difference"]) < 100
    for name, leaf in m1["leaves"].items():
        assert abs(leaf["share_deviation_pp"]) <= 0.5, (name, leaf)
        assert leaf["epochs"] <= leaf["max_epochs"] + 1e-9
    assert m1["leaves"]["web/hq"]["epochs"] > 1  # hq repeats (max_epochs 2)
    pdf = m1["leaves"]["pdf"]
    assert pdf["filtered_out"] > 0 and pdf["rows_read"] == 120 == pdf["filtered_out"] + pdf["documents"]

    want = expected_docs(tokenizer_file, out1, runs)
    seqs = read_megatron(out1 / "megatron" / "test_pretrain_text_document")
    assert Counter(seqs) == want
    assert sum(map(len, seqs)) == m1["total_tokens"]["realized"]
    stream = np.array([t for s in seqs for t in s])
    got = read_datatrove(out1 / "datatrove", 64, 2)
    assert len(got) == (len(stream) // 65) * 65 and (got == stream[: len(got)]).all()
    ends = np.fromfile(out1 / "datatrove" / "test_pretrain.ds.index", dtype="<u8")
    assert list(np.diff(ends, prepend=0)) == [len(s) for s in seqs]


def test_build_midtrain_packs_windows(curate, tmp_path, tokenizer_file, runs):
    path = recipe(tmp_path, tokenizer_file, name="test_mid", phase="midtrain", seq_len=255, total_tokens=15000,
                  midtrain={"long_min_tokens": 300})
    out = tmp_path / "mid"
    curate("mix", "build", path, "--root", runs, "--output", out)
    m = json.loads((out / "mix_manifest.json").read_text())
    pack = m["packing"]
    assert pack["window_tokens"] == 256 and pack["windows"] > 0 and pack["split_documents"] > 0
    assert 0 <= pack["padding_pct"] < 20 and pack["truncated_tokens"] == 0
    seqs = read_megatron(out / "megatron" / "test_mid_text_document")
    assert {len(s) for s in seqs} == {256} and len(seqs) == pack["windows"]
    got = read_datatrove(out / "datatrove", 255, 2)
    assert len(got) == 256 * len(seqs) and (got == np.array([t for s in seqs for t in s])).all()
    want = expected_docs(tokenizer_file, out, runs)
    pad = 0
    assert Counter(t for s in seqs for t in s if t != pad) == Counter(t for d, k in want.items() for t in d * k)
    assert sum(1 for t in got if t == pad) == pack["padding_tokens"]
    for name, leaf in m["leaves"].items():
        assert abs(leaf["share_deviation_pp"]) <= 0.5, (name, leaf)
    docs = pq.read_table(out / "documents.parquet").to_pylist()
    pdf_used = [d for d in docs if d["leaf"] == "pdf" and d["times_used"]]
    assert min(d["n_tokens"] for d in pdf_used) >= 300  # long documents chosen first


def test_gemma_tokenizer_offline_uint32(curate, tmp_path, runs):
    path = recipe(tmp_path, "gemma3-270m", name="gemma", total_tokens=3000,
                  sources=[{"name": "qa", "weight": 1.0, "run": "synth"}])
    out = tmp_path / "gemma"
    curate("mix", "build", path, "--root", runs, "--output", out)
    m = json.loads((out / "mix_manifest.json").read_text())
    tok = m["tokenizer"]
    assert tok["vocab_size"] == 262144 and tok["megatron_dtype"] == "int32" and tok["datatrove_dtype"] == "uint32"
    seqs = read_megatron(out / "megatron" / "gemma_text_document")
    assert all(s[-1] == tok["eos_id"] for s in seqs)
    n = sum(map(len, seqs))
    assert n == m["total_tokens"]["realized"] and (out / "megatron" / "gemma_text_document.bin").stat().st_size == 4 * n
    got = read_datatrove(out / "datatrove", 64, 4)
    assert (got == np.array([t for s in seqs for t in s])[: len(got)]).all()
    assert hashlib.sha256(Path(tok["path"]).read_bytes()).hexdigest() == tok["sha256"]


def test_midtrain_truncate_counts_waste(curate, tmp_path, tokenizer_file, runs):
    path = recipe(tmp_path, tokenizer_file, name="test_cut", phase="midtrain", seq_len=127, total_tokens=6000,
                  midtrain={"long_docs": "truncate"}, sources=[{"name": "pdf", "weight": 1.0, "run": "pdf"}])
    out = tmp_path / "cut"
    r = curate("mix", "build", path, "--root", runs, "--output", out, "--json")
    m = json.loads(r.stdout)
    pack = m["packing"]
    assert pack["truncated_tokens"] > 0 and pack["truncated_pct"] > 0 and pack["split_documents"] == 0
    seqs = read_megatron(out / "megatron" / "test_cut_text_document")
    assert {len(s) for s in seqs} == {128}
    assert sum(1 for s in seqs for t in s if t != 0) == m["total_tokens"]["realized"]


@pytest.mark.parametrize("phase", ["pretrain", "midtrain"])
def test_build_into_fsspec_url_matches_local(tmp_path, tokenizer_file, runs, phase):
    """`output` may be an fsspec URL: a `memory://` mix holds the same files, byte for byte, as a local one."""
    import fsspec

    from curate.pipelines.mix_cli import build_recipe
    from curate.pipelines.mix_recipe import load_recipe

    path = recipe(tmp_path, tokenizer_file, name=f"fs_{phase}", phase=phase, total_tokens=6000)
    r = load_recipe(path)
    local, url, fs = tmp_path / "local", f"memory://curate-test-mix-{phase}", fsspec.filesystem("memory")
    try:
        m_local = build_recipe(r, path, runs, local)
        m_url = build_recipe(r, path, runs, url)
        names = sorted(p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file())
        assert sorted(p.split(f"curate-test-mix-{phase}/", 1)[1] for p in fs.find(url)) == names
        assert "mix_manifest.json" in names and "documents.parquet" in names
        for name in names:
            if name != "mix_manifest.json":  # it holds the build time
                assert fs.cat(f"{url}/{name}") == (local / name).read_bytes(), name
        assert json.loads(fs.cat(f"{url}/mix_manifest.json")) == m_url
        m_local.pop("seconds"), m_url.pop("seconds")
        assert m_url == m_local
    finally:
        if fs.exists(url):
            fs.rm(url, recursive=True)

def test_demo_mixes_from_runs(runs):
    """The shipped recipes build from a demo folder; leaves without data are dropped, the total fitted."""
    from curate.pipelines.mix_cli import build_demo_mixes

    said = []
    built = build_demo_mixes(runs, say=said.append)
    assert set(built) == {"pretrain", "midtrain", "long_context"}
    pre = built["pretrain"]
    assert set(pre["leaves"]) == {"web/hq", "web/all", "wiki", "books", "papers", "pdf", "qa"}
    assert pre["max_share_deviation_pp"] <= 0.5 and pre["tokenizer"]["name"] == "gemma3-270m"
    mid = built["midtrain"]
    assert mid["packing"]["window_tokens"] == 8193 and "qa" in mid["leaves"]
    assert any("total_tokens" in line for line in said)
    long = built["long_context"]  # the web buckets (documents over 4k tokens) have no data here: dropped
    assert long["packing"]["window_tokens"] == 65537 and not any("/web/" in leaf for leaf in long["leaves"])
    assert any("long_context: no demo data for long/web/len_32k+" in line for line in said)
    for name in ("pretrain", "midtrain", "long_context"):
        assert (runs / "mixes" / name / "mix_manifest.json").exists()
        assert (runs / "mixes" / name / "documents.parquet").exists()


def test_hub_tokenizer_offline_is_a_clear_error(curate, tmp_path, runs):
    path = recipe(tmp_path, "no-such-org/no-such-tokenizer", name="hub")
    r = curate("mix", "plan", path, "--root", runs, check=False)
    assert r.returncode == 2 and "cannot load tokenizer 'no-such-org/no-such-tokenizer'" in " ".join(r.stderr.split())


def test_mix_schema_file_is_current_and_examples_load():
    from conftest import ROOT

    from curate.pipelines.mix_recipe import json_schema, load_recipe

    on_disk = json.loads((ROOT / "manifests/schema/mix.schema.json").read_text())
    assert on_disk == json.loads(json.dumps(json_schema())), "run `curate schema`"
    for name, phase in (("pretrain", "pretrain"), ("midtrain", "midtrain"), ("long_context", "midtrain")):
        assert load_recipe(ROOT / f"manifests/mixes/{name}.yaml").phase == phase


def test_run_leaf_reads_the_last_stage_in_spec_order(curate, tmp_path):
    """`run: NAME` takes the run's final stage even when stage names sort in another order."""
    from conftest import ROOT

    from curate.pipelines.mix_recipe import MixRecipe, leaves

    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({
        "name": "web", "input": {"path": str(ROOT / "manifests/demo/html"), "format": "html"},
        "output": str(tmp_path / "web"),
        "stages": [{"extract": {"name": "zz_extract"}}, {"heuristics": {"name": "aa_heuristics"}}]}))
    curate("run", spec)
    recipe = MixRecipe.model_validate({"name": "m", "phase": "pretrain", "tokenizer": "gemma3-270m", "seq_len": 16,
                                       "total_tokens": 10, "sources": [{"name": "web", "weight": 1, "run": "web"}]})
    (leaf,) = leaves(recipe, tmp_path)
    assert leaf.files and all("/aa_heuristics/" in f for f in leaf.files)
