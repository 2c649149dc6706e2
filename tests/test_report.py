"""`curate report`: the page renders in a real headless Chromium, with its plots, no script errors,
no network, and untrusted document text shown as text, never run; its figures match the shards they
come from; screenshots of the demo report and of a two-run comparison show the thresholds drawn.

Screenshots are saved in the test's tmp folder; with CURATE_REPORT_SHOTS=DIR a copy of each goes to DIR.
"""
import json
import os
import shutil
import statistics
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from cdp import CHROMIUM, HeadlessChromium
from conftest import ROOT, run_curate
from report_fixtures import SCRIPT, write_demo_folder

from curate.pipelines.report.gather import domain_of, gather, stage_order
from curate.pipelines.report.svg import number

PAGE_STATE = """({
  title: document.title,
  scripts: document.scripts.length,
  images: document.images.length,
  pwned: typeof window.__pwned,
  plots: Array.from(document.querySelectorAll('svg.plot')).map(e => e.id),
  bars: Array.from(document.querySelectorAll('svg.plot')).map(e => e.querySelectorAll('rect.bar').length),
  text: document.body.textContent,
  nav: Array.from(document.querySelectorAll('nav a')).map(a => a.textContent),
  heights: Object.fromEntries(Array.from(document.querySelectorAll('section')).map(
    s => [s.id, s.getBoundingClientRect().height])),
  tables: Object.fromEntries(Array.from(document.querySelectorAll('section table[class]')).map(
    t => [t.closest('section').id + ' ' + t.className,
          Array.from(t.rows).map(r => Array.from(r.cells).map(c => c.textContent))])),
  thresholds: Object.fromEntries(Array.from(document.querySelectorAll('svg.plot')).map(
    s => [s.id, Array.from(s.querySelectorAll('line.threshold title')).map(t => t.textContent)])),
  bar_titles: Object.fromEntries(Array.from(document.querySelectorAll('svg.plot[id^="mix-docs"]')).map(
    s => [s.id, Array.from(s.querySelectorAll('rect.bar title')).map(t => t.textContent)])),
  cards: Object.fromEntries(Array.from(document.querySelectorAll('section')).map(
    s => [s.id, Object.fromEntries(Array.from(s.querySelectorAll('.card')).map(
      c => [c.querySelector('.k').textContent, c.querySelector('.v').textContent]))])),
})"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not CHROMIUM:
        pytest.skip("chromium is not installed (scripts/setup.sh installs the Debian package)")
    chromium = HeadlessChromium(tmp_path_factory.mktemp("chromium-profile"))
    yield chromium
    chromium.close()


def assert_clean(page: dict, report) -> None:
    assert page["errors"] == [], page["errors"]
    assert page["requests"] == [report.as_uri()], page["requests"]  # the page itself, nothing else
    state = page["value"]
    assert state["scripts"] == 0 and state["images"] == 0 and state["pwned"] == "undefined"
    assert state["title"].startswith("curate report")
    assert all(n > 0 for n in state["bars"]), dict(zip(state["plots"], state["bars"]))


def rows_of(state: dict, key: str) -> dict:
    """A table as {first cell: row} (header row left out)."""
    return {row[0]: row for row in state["tables"][key][1:]}


def shoot(browser, tmp_path: Path, name: str, selector: str | None = None):
    """Screenshot into tmp_path (and CURATE_REPORT_SHOTS); the PNG is as big as the box it shows."""
    from PIL import Image

    path = tmp_path / f"report-{name}.png"
    box = browser.screenshot(path, selector)
    if os.environ.get("CURATE_REPORT_SHOTS"):
        copies = Path(os.environ["CURATE_REPORT_SHOTS"])
        copies.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, copies / path.name)
    image = Image.open(path).convert("RGB")
    assert abs(image.width - box["width"]) <= 1 and abs(image.height - box["height"]) <= 1, (image.size, box)
    assert image.resize((200, 200)).getcolors(5) is None, "a blank screenshot"  # more than 5 colours
    return image


def limit_pixels(image) -> int:
    """Pixels of the threshold red (#c53030, antialiased), not the orange of the second series."""
    data = image.tobytes()
    return sum(1 for r, g, b in zip(data[0::3], data[1::3], data[2::3]) if r > 150 and g < 90 and abs(g - b) < 25)


def shard_rows(folder: Path, columns=None) -> list[dict]:
    return [row for path in sorted(folder.glob("part-*.parquet")) for row in pq.read_table(path, columns=columns)
            .to_pylist()]


def ended(run: Path, stages: list[str], columns: list[str]) -> list[dict]:
    """Every document of a run with where it ended ("where"): "kept" by the last stage, or the stage whose
    rejected shards hold it."""
    rows = [{**row, "where": "kept"} for row in shard_rows(run / stages[-1], columns)]
    for stage in stages:
        rows += [{**row, "where": stage} for row in shard_rows(run / "rejected" / stage, columns)]
    return rows


def spec_params(manifest: dict, stage_type: str) -> dict:
    return next(entry[stage_type] for entry in manifest["spec"]["stages"] if stage_type in entry)


def test_demo_report_renders_in_chromium(demo, browser, tmp_path):
    folder = demo["path"]
    report = folder / "report.html"
    assert demo["result"].stdout.strip().splitlines()[-1] == str(report.resolve())
    page = browser.open(report.as_uri(), PAGE_STATE)
    assert_clean(page, report)
    state = page["value"]
    assert {"funnel-web", "funnel-tokens-web", "length-web"} <= set(state["plots"]), state["plots"]

    # runs in the order they finished (web, the demo's first run, first), mixes after the runs
    runs = sorted((p.parent for p in folder.glob("*/manifest.json")), key=lambda p: p.stat().st_mtime)
    assert state["nav"][0] == "run web" and [n for n in state["nav"] if n.startswith("run ")] == \
        [f"run {p.name}" for p in runs]
    assert all(n.startswith("mix ") for n in state["nav"][len(runs):])

    # tokens out: a count for every web stage that wrote kept shards ("—" for one fused with the next ones);
    # the last one is what a mix counted for the same documents
    manifest = json.loads((folder / "web" / "manifest.json").read_text())
    stages = [name for name, _ in stage_order(manifest)]
    wrote = {s for s in stages if any((folder / "web" / s).glob("part-*.parquet"))}
    table = rows_of(state, "run-web stages")
    assert all(table[s][6].replace(",", "").isdigit() if s in wrote else table[s][6] == "—" for s in stages), table
    midtrain = json.loads((folder / "mixes" / "midtrain" / "mix_manifest.json").read_text())
    whole_run = next(leaf for leaf in midtrain["leaves"].values() if leaf["run"] == "web" and not leaf["filter"])
    assert table[stages[-1]][6] == number(whole_run["available_tokens"])

    # the spec's thresholds on the histograms
    language, heuristics = spec_params(manifest, "language"), spec_params(manifest, "heuristics")
    assert state["thresholds"]["values-web-language-lang-score"] == [f"threshold ≥ {language['threshold']:g}"]
    assert f"gopher_min_words ≥ {heuristics['gopher_min_words']:g}" in \
        state["thresholds"]["values-web-heuristics-n-words"]
    assert state["thresholds"]["values-web-quality-quality-score"] == \
        [f"threshold ≥ {spec_params(manifest, 'quality')['threshold']:g}"]

    # duplicate clusters: each keeper followed by its duplicates, as the rejected shards name them
    dedupe = [s for s, c in manifest["stages"].items() if c["stage"] == "minhash_dedupe"][0]
    keeper_of = {r["id"]: json.loads(r["metadata"])["duplicate_of"]
                 for r in shard_rows(folder / "web" / "rejected" / dedupe, ["id", "metadata"])}
    clusters, keeper = state["tables"]["run-web clusters"][1:], None
    for _, role, doc_id, *_ in clusters:
        keeper = doc_id if role == "keeper" else keeper
        assert role == "keeper" or keeper_of[doc_id] == keeper
    assert {row[2] for row in clusters if row[1] == "duplicate"} == set(keeper_of)

    # percentiles of what was kept, and the per-domain table, from the shards themselves
    kept = shard_rows(folder / "web" / stages[-1], ["text"])
    percentiles = {(r[0], r[1]): r for r in state["tables"]["run-web percentiles"][1:]}
    assert percentiles[("length (characters)", "kept")][7] == number(
        statistics.median(float(len(r["text"])) for r in kept))
    domains = defaultdict(Counter)
    for row in ended(folder / "web", stages, ["id", "url"]):
        domains[domain_of(row["url"])][row["where"] == "kept"] += 1
    table = rows_of(state, "run-web breakdown-domain")
    assert {d: (int(r[1]), int(r[2])) for d, r in table.items()} == \
        {d: (sum(c.values()), c[True]) for d, c in domains.items()}

    # mixes: documents used per leaf counts times_used > 0; the tokenizer in words; padding as a headline
    for mix in ("pretrain", "midtrain"):
        docs = pq.read_table(folder / "mixes" / mix / "documents.parquet").to_pylist()
        used = Counter(d["leaf"] for d in docs if d["times_used"] > 0)
        titles = state["bar_titles"][f"mix-docs-mixes-{mix}"]
        assert {t.split(" / ")[0]: int(t.split(": ")[1].replace(",", "")) for t in titles if " / used: " in t} == \
            {leaf: used[leaf] for leaf in {d["leaf"] for d in docs}}
    assert "tokenizer gemma3-270m (vocabulary 262,144, 4-byte ids" in state["text"] and "{'name'" not in state["text"]
    assert state["cards"]["mix-mixes-midtrain"]["padding"] == f"{midtrain['packing']['padding_pct']:.1f}%"

    # screenshots: the whole page, a histogram with its threshold line, a chart without one
    assert all(state["heights"][s] > 100 for s in ("run-web", "mix-mixes-midtrain")), state["heights"]
    shoot(browser, tmp_path, "demo")
    assert limit_pixels(shoot(browser, tmp_path, "demo-language", "#values-web-language-lang-score")) > 50
    assert limit_pixels(shoot(browser, tmp_path, "demo-funnel", "#funnel-web")) == 0
    assert limit_pixels(shoot(browser, tmp_path, "demo-midtrain", "#mix-mixes-midtrain")) == 0


def test_compare_two_runs(demo, browser, tmp_path):
    """The demo's web run (A) against the same pipeline with a stricter quality threshold (B)."""
    run_a = demo["path"] / "web"
    manifest = json.loads((run_a / "manifest.json").read_text())
    stages = [name for name, _ in stage_order(manifest)]
    # the documents A's quality stage passed: B's stricter threshold rejects those scoring below it
    scored = [r for r in ended(run_a, stages, ["id", "quality_score"])
              if r["quality_score"] is not None and r["where"] != "quality"]
    strict = round(statistics.median(r["quality_score"] for r in scored), 3)  # cuts about half of them
    run_b = tmp_path / "strict"
    run_curate("run", ROOT / "manifests" / "pipelines" / "web.yaml", "--output", run_b,
               "--set", f"stages.quality.threshold={strict}")
    out = tmp_path / "compare.html"
    assert run_curate("report", run_a, run_b, "--out", out, "--tokenizer", "none").stdout.strip() == str(out.resolve())
    page = browser.open(out.as_uri(), PAGE_STATE)
    assert_clean(page, out)
    state = page["value"]
    assert state["nav"][0] == "compare web → strict" and "run A web" in state["nav"] and "run B strict" in state["nav"]

    changes = rows_of(state, "compare-0 spec-changes")
    old = spec_params(manifest, "quality")["threshold"]
    assert changes["stages.quality.threshold"][1:] == [json.dumps(old), json.dumps(strict)]
    cut = {r["id"] for r in scored if r["quality_score"] < strict}
    counts = rows_of(state, "compare-0 compare-counts")
    assert counts["quality"][6] == f"+{len(cut)}"
    kept_a = {r["id"] for r in shard_rows(run_a / stages[-1], ["id"])}
    fates = {(r[0], r[1]): int(r[2]) for r in state["tables"]["compare-0 compare-fates"][1:]}
    assert fates[("kept", "quality: quality_below_threshold")] == len(cut & kept_a)
    reasons = rows_of(state, "compare-0 compare-reasons")
    assert reasons["quality: quality_below_threshold"][3] == f"+{len(cut)}"
    chart = "compare-values-0-quality-quality-score"
    assert f"B threshold ≥ {strict:g}" in state["thresholds"][chart]  # A's is drawn too, or named off the axis
    assert f"A threshold ≥ {old:g}" in state["thresholds"][chart] or f"off the axis: A threshold ≥ {old:g}" in \
        state["text"]

    shoot(browser, tmp_path, "compare")
    assert limit_pixels(shoot(browser, tmp_path, "compare-section", "#compare-0")) > 50
    assert limit_pixels(shoot(browser, tmp_path, "compare-counts", "#compare-kept-0")) == 0


def test_full_report_sections_and_untrusted_text(curate, browser, tmp_path):
    root = write_demo_folder(tmp_path / "runs")
    out = tmp_path / "site" / "report.html"
    assert curate("report", root, "--out", out).stdout.strip() == str(out.resolve())
    html = out.read_text()
    assert "<script" not in html.lower() and "onerror=" not in html.replace("onerror=&quot;", "")
    assert "default-src 'none'" in html
    page = browser.open(out.as_uri(), PAGE_STATE)
    assert_clean(page, out)
    state = page["value"]
    expected = {"funnel-web", "rejections-web", "length-web", "lang-web", "clusters-web", "funnel-synth",
                "synth-synth", "mix-share-mixes-midtrain", "mix-epochs-mixes-midtrain", "mix-docs-mixes-midtrain",
                "values-web-heuristics-n-words", "values-web-quality-quality-score", "domains-web-chart"}
    assert expected <= set(state["plots"]), state["plots"]
    assert state["thresholds"]["values-web-quality-quality-score"] == ["threshold ≥ 0.5"]
    # the untrusted text (kept sample, rejected sample and rejection detail) shows as text
    assert state["text"].count(SCRIPT) >= 3
    # figures: rejections by reason, duplicates, synthesis acceptance, mix shares, packing
    for fact in ("gopher_min_words", "quality_below_threshold", "1 duplicate cluster(s), 2 duplicate(s) removed",
                 "66.7%", "33.3%", "qa_not_grounded=1, qa_unparseable=1", "88.0%", "tokenizer fixture-bpe"):
        assert fact in state["text"], fact
    assert state["cards"]["mix-mixes-midtrain"]["padding"] == "3.1%"
    # tokens out counted with the tokenizer the mix recorded: its tokens plus one EOS per document
    from tokenizers import Tokenizer

    mix = json.loads((root / "mixes" / "midtrain" / "mix_manifest.json").read_text())
    tok = Tokenizer.from_file(mix["tokenizer"]["path"])
    kept = shard_rows(root / "web" / "dedupe", ["text"])
    assert rows_of(state, "run-web stages")["dedupe"][6] == number(
        sum(len(e.ids) + 1 for e in tok.encode_batch([r["text"] for r in kept], add_special_tokens=False)))
    assert state["tables"]["run-web stages"][0][6] == "tokens out (fixture-bpe)"


def test_report_on_single_run_and_bad_folder(curate, tmp_path):
    from curate.pipelines.report import write_report

    root = write_demo_folder(tmp_path / "runs")
    html = write_report(root / "web", tokenizer="none").read_text()
    assert 'id="funnel-web"' in html and 'id="synth-' not in html and "mix-share" not in html
    assert "--tokenizer gemma3-270m</code> counts them" in html  # no tokenizer: says how to get tokens
    empty = tmp_path / "empty"
    empty.mkdir()
    result = curate("report", empty, check=False)
    assert result.returncode == 2 and "no run folder" in " ".join(result.stderr.split())
    three = curate("report", root / "web", root / "synth", root, check=False)
    assert three.returncode == 2 and "not 3" in three.stderr


def test_runs_in_the_order_they_ran_and_mix_documents_used(tmp_path):
    root = write_demo_folder(tmp_path / "runs")
    shutil.copytree(root / "web", root / "aaa-rerun")  # first by name, finished last
    synth = json.loads((root / "synth" / "manifest.json").read_text())
    synth["input"]["path"] = str(root / "web" / "dedupe")  # reads the web run's output...
    (root / "synth" / "manifest.json").write_text(json.dumps(synth))
    start = (root / "web" / "manifest.json").stat().st_mtime
    for i, name in enumerate(("synth", "web", "aaa-rerun")):  # ...but finished before it
        os.utime(root / name / "manifest.json", (start + i, start + i))
    runs, mixes = gather(root, tokenizer="none")
    assert [r.label for r in runs] == ["web", "synth", "aaa-rerun"]
    docs = pq.read_table(root / "mixes" / "midtrain" / "documents.parquet").to_pylist()
    assert {leaf: figures["used"] for leaf, figures in mixes[0].documents.items()} == \
        dict(Counter(d["leaf"] for d in docs if d["times_used"] > 0))
    assert all(r.stages[-1]["tokens"] is None for r in runs)  # --tokenizer none: nothing counted


def test_report_is_deterministic(tmp_path):
    from curate.pipelines.report import write_report

    root = write_demo_folder(tmp_path / "runs")
    first = write_report(root, tmp_path / "a.html").read_bytes()
    assert write_report(root, tmp_path / "b.html").read_bytes() == first
    assert json.loads((root / "web" / "manifest.json").read_text())["stages"]["dedupe"]["out"] == 9
