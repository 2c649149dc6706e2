"""Dedupe: datasketch-compatible signatures, union-find, and real runs of dedupe.yaml on planted duplicates."""
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import ROOT
from datasketch import MinHashLSH

from curate.stages.dedupe.minhash import MinHasher
from curate.stages.dedupe.synthetic import Corpus, planted_corpus
from curate.stages.dedupe.union_find import UnionFind

SPEC = ROOT / "manifests/pipelines/dedupe.yaml"


@pytest.mark.parametrize("hashfunc", ["poly", "sha1"])
def test_signatures_equal_datasketch_and_go_into_its_lsh(hashfunc):
    corpus = Corpus(3, vocab_size=2000)
    texts = [corpus.document(200) for _ in range(20)] + ["", "Two words", "Ünïcode “quotes” — ﬁne, DONE."]
    texts.append(corpus.variant(texts[0], 0.01))
    hasher = MinHasher(num_perm=64, ngram=3, seed=7, hashfunc=hashfunc)
    sigs = hasher.signatures(texts)
    for text, sig in zip(texts, sigs):
        assert np.array_equal(hasher.datasketch_minhash(text).hashvalues, sig)
    lsh = MinHashLSH(threshold=0.8, num_perm=64)  # in memory; storage_config={"type": "redis", ...} works the same
    for i, sig in enumerate(sigs[:20]):
        lsh.insert(f"d{i}", hasher.lean(sig))
    assert "d0" in lsh.query(hasher.lean(sigs[-1]))  # the near-copy of d0 finds it


def test_union_find_matches_a_plain_one():
    rng = np.random.default_rng(0)
    n = 3000
    u, v = rng.integers(0, n, 2000), rng.integers(0, n, 2000)
    uf = UnionFind(n)
    uf.union(u, v)
    parent = list(range(n))

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x
    for a, b in zip(u.tolist(), v.tolist()):
        ra, rb = find(a), find(b)
        parent[max(ra, rb)] = min(ra, rb)
    assert uf.roots().tolist() == [find(i) for i in range(n)]


def write_dump(folder, ids, texts, parts=2, quality=None):
    folder.mkdir(parents=True, exist_ok=True)
    step = -(-len(ids) // parts)
    for k in range(parts):
        cols = {"doc_id": ids[k * step:(k + 1) * step], "body": texts[k * step:(k + 1) * step]}
        if quality is not None:
            cols["quality_score"] = quality[k * step:(k + 1) * step]
        pq.write_table(pa.table(cols), folder / f"part{k}.parquet")


def rejected_rows(run, stage):
    rows = []
    for path in sorted((run / stage / "rejected").glob("part-*.parquet")):
        rows += pq.read_table(path).to_pylist()
    return rows


def run_dedupe(curate, dump, out, *extra):
    curate("run", SPEC, "--input", dump, "--output", out, "--workers", 1, "--set", "input.text_key=body",
           "--set", "input.id_key=doc_id", *extra)
    return json.loads((out / "manifest.json").read_text())


def test_planted_near_duplicates_precision_recall_determinism_resume(curate, tmp_path):
    ids, texts, groups = planted_corpus(n_originals=240, n_dup_groups=80, seed=5)
    ids.append("shouted")  # an exact duplicate once case and punctuation are normalised
    texts.append(texts[0].upper().replace(". ", "! "))
    groups["shouted"] = groups.get(ids[0], ids[0])
    dump = tmp_path / "dump"
    write_dump(dump, ids, texts)
    manifest = run_dedupe(curate, dump, tmp_path / "run")
    truth = {i: groups.get(i, i) for i in ids}  # every document -> its original
    rejected = rejected_rows(tmp_path / "run", "exact_dedupe") + rejected_rows(tmp_path / "run", "minhash_dedupe")
    correct = 0
    for row in rejected:
        meta = json.loads(row["metadata"])
        assert row["reason"] in ("exact_duplicate", "near_duplicate") and meta["cluster_size"] >= 2
        correct += truth[row["id"]] == truth[meta["duplicate_of"]]
    planted = len(ids) - len(set(truth.values()))
    shouted = [r for r in rejected if r["id"] == "shouted"]
    assert shouted[0]["reason"] == "exact_duplicate" and json.loads(shouted[0]["metadata"])["duplicate_of"] == ids[0]
    precision, recall = correct / max(1, len(rejected)), correct / planted
    print(f"precision={precision:.3f} recall={recall:.3f} planted={planted} rejected={len(rejected)}")
    assert precision >= 0.98 and recall >= 0.95
    for stage in manifest["stages"].values():
        assert stage["in"] == stage["out"] + stage["rejected"]
    # determinism: a second run writes byte-identical shards
    again = run_dedupe(curate, dump, tmp_path / "run2")
    def files(m):
        return [(f["path"], f["sha256"]) for s in m["stages"].values() for f in s["files"]]

    assert files(again) == files(manifest)
    # resume: lose one filter task's output and marker, rerun the same command
    (tmp_path / "run/minhash_dedupe/part-00001.parquet").unlink()
    (tmp_path / "run/logs/minhash_dedupe/filter/completions/00001").unlink()
    assert files(run_dedupe(curate, dump, tmp_path / "run")) == files(manifest)


def test_index_of_released_data_dedupes_a_new_crawl(curate, tmp_path):
    corpus = Corpus(11, vocab_size=5000)
    released = [corpus.document(300) for _ in range(30)]
    fresh = [corpus.document(300) for _ in range(20)]
    crawl = fresh + [corpus.variant(released[i], 0.005) for i in range(10)]
    index = tmp_path / "index"
    write_dump(tmp_path / "released", [f"rel-{i}" for i in range(30)], released)
    first = run_dedupe(curate, tmp_path / "released", tmp_path / "run1", "--index", index)
    assert first["stages"]["minhash_dedupe"]["rejected"] == 0 and list(index.glob("part-*.parquet"))
    write_dump(tmp_path / "crawl", [f"new-{i}" for i in range(30)], crawl)
    second = run_dedupe(curate, tmp_path / "crawl", tmp_path / "run2", "--index", index)
    rows = rejected_rows(tmp_path / "run2", "minhash_dedupe")
    assert second["stages"]["minhash_dedupe"]["rejected"] == 10
    assert sorted(json.loads(r["metadata"])["duplicate_of"] for r in rows) == sorted(f"rel-{i}" for i in range(10))


def test_keeper_is_the_highest_quality_document(curate, tmp_path):
    corpus = Corpus(13, vocab_size=5000)
    base = corpus.document(300)
    texts = [corpus.variant(base, 0.003) for _ in range(3)] + [corpus.document(300)]
    write_dump(tmp_path / "dump", ["a", "b", "c", "other"], texts, parts=1, quality=[0.2, 0.9, 0.5, 0.1])
    manifest = run_dedupe(curate, tmp_path / "dump", tmp_path / "run", "--set", "stages=[{minhash_dedupe: {}}]")
    rows = rejected_rows(tmp_path / "run", "minhash_dedupe")
    assert sorted(r["id"] for r in rows) == ["a", "c"] and manifest["stages"]["minhash_dedupe"]["out"] == 2
    assert {json.loads(r["metadata"])["duplicate_of"] for r in rows} == {"b"}
    assert {json.loads(r["metadata"])["cluster_size"] for r in rows} == {3}
