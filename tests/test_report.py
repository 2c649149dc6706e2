"""`curate report`: the page renders in a real headless Chromium, with its plots, no script errors,
no network, and untrusted document text shown as text, never run."""
import json

import pytest
from cdp import CHROMIUM, HeadlessChromium
from report_fixtures import SCRIPT, write_demo_folder

PAGE_STATE = """({
  title: document.title,
  scripts: document.scripts.length,
  images: document.images.length,
  pwned: typeof window.__pwned,
  plots: Array.from(document.querySelectorAll('svg.plot')).map(e => e.id),
  bars: Array.from(document.querySelectorAll('svg.plot')).map(e => e.querySelectorAll('rect.bar').length),
  text: document.body.textContent,
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


def test_demo_report_renders_in_chromium(curate, browser, tmp_path):
    result = curate("demo", "--output", tmp_path / "demo")
    report = tmp_path / "demo" / "report.html"
    assert result.stdout.strip().splitlines()[-1] == str(report.resolve())
    page = browser.open(report.as_uri(), PAGE_STATE)
    assert_clean(page, report)
    plots = page["value"]["plots"]
    assert {"funnel-web", "funnel-tokens-web", "length-web"} <= set(plots), plots


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
    expected = {"funnel-web", "rejections-web", "length-web", "quality-web", "lang-web", "clusters-web",
                "funnel-synth", "synth-synth", "mix-share-mixes-pretrain", "mix-epochs-mixes-pretrain",
                "mix-docs-mixes-pretrain", "values-web-heuristics-n-words", "values-web-quality-score"}
    assert expected <= set(state["plots"]), state["plots"]
    # the untrusted text (kept sample, rejected sample and rejection detail) shows as text
    assert state["text"].count(SCRIPT) >= 3
    # figures: rejections by reason, duplicates, synthesis acceptance, mix shares
    for fact in ("gopher_min_words", "quality_below_threshold", "1 clusters, 2 duplicates removed",
                 "66.7%", "33.3%", "qa_not_grounded=1, qa_unparseable=1", "88.0%"):
        assert fact in state["text"], fact


def test_report_on_single_run_and_bad_folder(curate, tmp_path):
    root = write_demo_folder(tmp_path / "runs")
    curate("report", root / "web")
    html = (root / "web" / "report.html").read_text()
    assert 'id="funnel-web"' in html and 'id="synth-' not in html and "mix-share" not in html
    empty = tmp_path / "empty"
    empty.mkdir()
    result = curate("report", empty, check=False)
    assert result.returncode == 2 and "no run folder" in " ".join(result.stderr.split())


def test_report_is_deterministic(tmp_path):
    from curate.pipelines.report import write_report

    root = write_demo_folder(tmp_path / "runs")
    first = write_report(root, tmp_path / "a.html").read_bytes()
    assert write_report(root, tmp_path / "b.html").read_bytes() == first
    assert json.loads((root / "web" / "manifest.json").read_text())["stages"]["dedupe"]["out"] == 9
