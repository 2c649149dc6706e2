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
    for path in sorted((run / "rejected" / stage).glob("part-*.parquet")):
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


def test_byte_identical_duplicates_are_written_without_their_text(curate, tmp_path):
    """An exact copy's text is the keeper's, so its rejected row leaves it out (its length stays in
    `text_omitted`); a copy equal only once normalised keeps its own text; explain and the report show
    the keeper's text for the first and the row's length for both."""
    from curate.pipelines.report.gather import gather_run

    corpus = Corpus(17, vocab_size=5000)
    base, other = corpus.document(200), corpus.document(200)
    texts = [base, other, base, base.upper()]
    write_dump(tmp_path / "dump", ["first", "other", "copy", "shouted"], texts, parts=2)
    run_dedupe(curate, tmp_path / "dump", tmp_path / "run", "--set", "stages=[{exact_dedupe: {}}]")
    rows = {r["id"]: r for r in rejected_rows(tmp_path / "run", "exact_dedupe")}
    assert sorted(rows) == ["copy", "shouted"]
    copy, shouted = json.loads(rows["copy"]["metadata"]), json.loads(rows["shouted"]["metadata"])
    assert rows["copy"]["text"] == "" and copy["duplicate_of"] == "first"
    assert copy["text_omitted"] == {"chars": len(base), "words": len(base.split())}
    assert rows["shouted"]["text"] == base.upper() and "text_omitted" not in shouted

    story = json.loads(curate("explain", tmp_path / "run", "copy", "--json").stdout)
    step = story["runs"][0]["stages"][0]
    assert step["status"] == "rejected" and step["keeper"] == "first" and step["text"] == base[:len(step["text"])]
    assert len(step["text"]) > 50
    report = gather_run(tmp_path / "run", tmp_path / "run")
    assert sorted(report.rejected.chars) == [len(base)] * 2
    members = {m["id"]: m for c in report.rejected.clusters.values() for m in c["members"]}
    assert members["copy"]["chars"] == len(base) and members["copy"]["text"] == "(the same text as first)"

    run_dedupe(curate, tmp_path / "dump", tmp_path / "kept", "--set",
               "stages=[{exact_dedupe: {keep_duplicate_text: true}}]")
    assert {r["id"]: r["text"] for r in rejected_rows(tmp_path / "kept", "exact_dedupe")} == {
        "copy": base, "shouted": base.upper()}


# --- sharded clustering: every cluster_tasks gives the clusters one task gives ---------------------------------

def test_sharded_components_are_the_one_process_components():
    """Band keys split by hash range, homes per range, labels per document part, links joined: the roots one
    process holding every band key finds (`lsh_components`), for any number of tasks; copies that share only
    some bands make the ranges disagree, so the links step has work."""
    from curate.stages.dedupe.clustering import lsh_components
    from curate.stages.dedupe.components import bucket_forest, forest, key_columns, labels_and_links, resolve
    from curate.stages.dedupe.hash_ranges import node_part, range_shard
    from curate.stages.dedupe.lsh import band_keys

    rng = np.random.default_rng(1)
    n, perm, bands, rows = 3000, 64, 16, 4
    sigs = rng.integers(0, 2**32, (n, perm), dtype=np.uint32)
    for i in np.flatnonzero(rng.random(n) < 0.3)[1:]:  # copies (of copies) with some values redrawn
        sigs[i] = sigs[int(rng.integers(0, i))]
        redraw = rng.random(perm) < rng.choice([0.0, 0.2, 0.4])
        sigs[i, redraw] = rng.integers(0, 2**32, int(redraw.sum()))
    expected = lsh_components([sigs], bands, rows)
    keys, ids = band_keys(sigs, bands, rows).ravel(), np.repeat(np.arange(n), bands)
    for tasks in (1, 2, 3, 7):
        shard, homes = range_shard(keys, tasks), [[] for _ in range(tasks)]
        for s in range(tasks):
            nodes, home = bucket_forest(key_columns(keys[shard == s], ids[shard == s]))
            part = node_part(nodes, tasks)
            for q in range(tasks):
                homes[q].append((nodes[part == q], home[part == q]))
        labelled, links = [], []
        for q in range(tasks):
            nodes, labels, link_nodes, link_homes = labels_and_links(*map(np.concatenate, zip(*homes[q])))
            labelled.append((nodes, labels))
            links.append((link_nodes, link_homes))
        link_nodes, link_roots = forest(*map(np.concatenate, zip(*links)))
        roots = np.arange(n)
        for nodes, labels in labelled:
            roots[nodes] = resolve(labels, link_nodes, link_roots)
        assert np.array_equal(roots, expected), tasks
        assert (len(link_nodes) > 0) == (tasks > 1)


def documents(ids, texts):
    from datatrove.data import Document

    return [Document(text=t, id=i, metadata={}) for i, t in zip(ids, texts)]


def index_of(folder, params, ids, texts):
    """A persisted index of `texts` written as a filter task writes one."""
    from curate.stages.dedupe.index import MinHashIndex, sig_array
    from curate.stages.dedupe.minhash_params import hasher, index_params

    hashes, offsets = hasher(params).shingle_hashes(texts)
    sigs = hasher(params).signatures_from_hashes(hashes, offsets)
    shingles = [np.unique(hashes[offsets[i]:offsets[i + 1]]).tobytes() for i in range(len(texts))]
    MinHashIndex(str(folder), index_params(params)).add("released", 0, pa.table(
        {"id": ids, "sig": sig_array(sigs), "shingles": pa.array(shingles, pa.large_binary())}))


@pytest.fixture(scope="module")
def sharded(tmp_path_factory):
    """The planted corpus (near copies, exact copies, copies of indexed documents) in two input tasks, with the
    clustering passes run in this process for 1 and 3 clustering tasks: {tasks: (work folder, marks)}."""
    from curate.stages.dedupe import minhash_dedupe as md

    root = tmp_path_factory.mktemp("sharded")
    ids, texts, groups = planted_corpus(n_originals=80, n_dup_groups=30, seed=9)
    corpus = Corpus(21, vocab_size=5000)
    released = [corpus.document(300) for _ in range(8)]
    for i, text in enumerate(released[:5]):  # this run holds copies of five released documents
        ids.append(f"copy-of-rel-{i}")
        texts.append(corpus.variant(text, 0.005))
    index_of(root / "index", md.MinHashParams(), [f"rel-{i}" for i in range(8)], released)
    half = len(ids) // 2
    inputs = [(ids[:half], texts[:half]), (ids[half:], texts[half:])]
    out = {}
    for tasks in (1, 3):
        params = md.MinHashParams(cluster_tasks=tasks, index=str(root / "index"), update_index=False)
        work = root / str(tasks)
        for rank, (part_ids, part_texts) in enumerate(inputs):
            list(md.MinHashSignatures(params, str(work)).run(documents(part_ids, part_texts), rank, 2))
        for step in (md.MinHashBuckets, md.MinHashLinks, md.MinHashClusters):
            for rank in range(tasks):
                list(step(params, str(work)).run(None, rank, tasks))
        marks = {rank: md.MinHashFilter(params, str(work))._marks(rank) for rank in range(2)}
        out[tasks] = (work, marks)
    return {"runs": out, "ids": ids, "groups": groups, "inputs": inputs, "root": root}


def test_any_cluster_tasks_gives_the_one_task_clusters(sharded):
    (_, one), (work, three) = sharded["runs"][1], sharded["runs"][3]
    assert one == three and any(one.values())
    assert len(list((work / "dups").glob("*/part-*.parquet"))) > 2  # marks of one input task from several tasks
    truth = {i: sharded["groups"].get(i, i) for i in sharded["ids"] if not i.startswith("copy-of-")}
    dups = {doc_id: keeper for marks in one.values() for doc_id, keeper, *_ in marks.values() if keeper}
    planted = {i: k for i, k in dups.items() if i in truth}
    assert all(truth[i] == truth[k] for i, k in planted.items())  # precision
    assert len(planted) == len(truth) - len(set(truth.values()))  # recall: one kept per planted group
    assert {i: k for i, k in dups.items() if i not in truth} == {f"copy-of-rel-{i}": f"rel-{i}"
                                                                 for i in range(5)}  # the index wins


def test_exact_groups_are_the_same_for_any_cluster_tasks(tmp_path, sharded):
    from curate.stages.dedupe.exact_dedupe import ExactGroups, ExactHashes, ExactParams
    from curate.stages.dedupe.filter import DuplicateFilter
    from curate.stages.dedupe.normalize import normalize

    inputs = [(i + [f"{x}-again" for x in i[:9]], t + [s.upper() for s in t[:9]]) for i, t in sharded["inputs"]]
    found = {}
    for tasks in (1, 3):
        work = str(tmp_path / str(tasks))
        for rank, (ids, texts) in enumerate(inputs):
            list(ExactHashes(ExactParams(cluster_tasks=tasks), work).run(documents(ids, texts), rank, 2))
        for rank in range(tasks):
            list(ExactGroups(ExactParams(cluster_tasks=tasks), work).run(None, rank, tasks))
        found[tasks] = {r: DuplicateFilter(work, "exact_duplicate", "hashes/00000/{part}")._marks(r) for r in range(2)}
    assert found[1] == found[3]
    first = {}
    for ids, texts in inputs:
        for doc_id, text in zip(ids, texts):
            first.setdefault(normalize(text), doc_id)
    expected = {doc_id: first[normalize(text)] for ids, texts in inputs for doc_id, text in zip(ids, texts)
                if first[normalize(text)] != doc_id}
    assert {i: k for marks in found[3].values() for i, k, *_ in marks.values() if k} == expected and expected


def test_killed_clustering_pass_resumes_to_the_same_clusters(sharded, tmp_path, monkeypatch):
    """A clustering task dies while writing its marks (a half-written temporary file left behind); the rerun of
    the pass runs only the unfinished tasks, on datatrove's local executor, and finds the same clusters."""
    import shutil

    from datatrove.executor.local import LocalPipelineExecutor

    from curate.stages.dedupe import minhash_dedupe as md
    from curate.stages.dedupe import minhash_passes

    done, expected = sharded["runs"][3]
    work = tmp_path / "work"
    shutil.copytree(done / "sigs", work / "sigs")
    shutil.copytree(done / "bands", work / "bands")
    params = md.MinHashParams(cluster_tasks=3, index=str(sharded["root"] / "index"), update_index=False)

    def run_pass(step, name):
        LocalPipelineExecutor([step(params, str(work))], tasks=3, workers=1, logging_dir=str(tmp_path / name)).run()

    run_pass(md.MinHashBuckets, "buckets")
    run_pass(md.MinHashLinks, "links")
    write_dups, calls = minhash_passes.write_dups, []

    def dies_in_task_1(folder, shard, rank, table):
        calls.append(shard)
        if shard == 1 and calls.count(1) == 2:
            (work / "dups" / "00001" / f".tmp-part-{rank:05d}.parquet").write_bytes(b"PAR1 half a file")
            raise RuntimeError("killed")
        write_dups(folder, shard, rank, table)

    monkeypatch.setattr(minhash_passes, "write_dups", dies_in_task_1)
    with pytest.raises(RuntimeError, match="killed"):
        run_pass(md.MinHashClusters, "clusters")
    assert sorted(p.name for p in (tmp_path / "clusters" / "completions").iterdir()) == ["00000"]
    before = {p: p.stat().st_mtime_ns for p in (work / "dups" / "00000").iterdir()}
    monkeypatch.setattr(minhash_passes, "write_dups", write_dups)
    run_pass(md.MinHashClusters, "clusters")
    assert {p: p.stat().st_mtime_ns for p in (work / "dups" / "00000").iterdir()} == before  # task 0 not rerun
    assert {rank: md.MinHashFilter(params, str(work))._marks(rank) for rank in range(2)} == expected
    assert not list((work / "dups").glob("*/.tmp-*"))


def test_growth_bench_at_its_smallest_size(tmp_path):
    from curate.pipelines.benches import growth

    out = growth.run(pipelines="dedupe", sizes="1000", signature_sizes="5000", compare_max=5000, tasks=2, workers=2,
                     cluster_tasks=2, work=str(tmp_path))
    run = out["pipelines"]["dedupe"]["sizes"]["1000"]
    assert run["docs_in"] == 1000 and run["rejected"]["exact_dedupe"] > 0 and run["rejected"]["minhash_dedupe"] > 0
    assert run["docs_out"] == 1000 - sum(run["rejected"].values())
    assert run["cpu_seconds"] > 0 and run["peak_rss_mb_max_process"] > 50 and len(run["peak_rss_mb_workers"]) == 2
    for stage in ("exact_dedupe", "minhash_dedupe"):
        assert run["disk_mb_by_stage"][stage]["kept"] > 0 and run["disk_mb_by_stage"][stage]["rejected"] > 0
    assert out["pipelines"]["dedupe"]["fits"]["seconds"]["exponent"] is None  # one size: nothing to fit
    clustering = out["clustering"]["sizes"]["5000"]
    assert out["clustering"]["identical_to_one_task"] == {"5000": True}
    assert clustering["clustered_documents"] > clustering["near_duplicates"] > 0
    assert clustering["tasks_2"]["peak_rss_mb"] > 50 and set(clustering["tasks_2"]["passes"]) == {
        "buckets", "links", "clusters"}


def test_growth_bench_runs_the_web_pipeline_on_edited_real_pages_and_a_mix_build(tmp_path):
    import gzip
    import re

    from curate.pipelines.benches import growth

    _, html, _ = growth.web_input(183, tmp_path / "input")
    files = sorted(html.rglob("*.html.gz"))
    first, copy = (gzip.decompress(files[i].read_bytes()).decode() for i in (0, 181))
    words = lambda page: sorted(re.split(r"[\s<>]+", page))  # noqa: E731
    assert len(files) == 183 and copy != first and words(copy) == words(first)

    # `-o signature_sizes=` on the command line arrives as None: no clustering runs
    out = growth.run(pipelines="web,mix", sizes="200", signature_sizes=None, tasks=2, workers=2, work=str(tmp_path))
    mix = out["pipelines"]["mix"]["sizes"]["200"]
    assert mix["docs_in"] == 200 and mix["cpu_seconds"] > 0
    assert abs(mix["tokens_realized"] - mix["tokens_requested"]) < 0.01 * mix["tokens_requested"]
    run = out["pipelines"]["web"]["sizes"]["200"]
    assert run["docs_in"] == 200 and run["docs_out"] == 200 - sum(run["rejected"].values()) > 50
    assert run["disk_mb_by_stage"]["pii"]["kept"] > 0 and run["disk_mb_by_stage"]["language"]["rejected"] > 0
    # RSS booked to each executor run: the fused streaming one (under its last stage, pii) and the dedupe ones
    by_stage = run["peak_rss_mb_by_stage"]
    assert {"pii", "exact_dedupe", "minhash_dedupe"} <= set(by_stage)
    assert all(50 < s["max_process"] <= s["all_processes"] for s in by_stage.values())
    assert run["peak_rss_mb_streaming"] == by_stage["pii"]["max_process"] <= run["peak_rss_mb_max_process"]
    assert "clustering" not in out
