"""`curate report`: one self-contained HTML page showing what a run (or a demo folder of runs) did,
or with two folders what changed from the first to the second."""
from pathlib import Path

from curate.pipelines.report.gather import gather, gather_mixes
from curate.pipelines.report.html import render


def _write(out: Path, page: str) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".tmp-{out.name}")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return out.resolve()


def write_report(root: Path, out: Path | None = None, tokenizer: str | None = None) -> Path:
    """Gather every run and mix folder at or under `root` and write the page (default root/report.html)."""
    root = Path(root)
    runs, mixes = gather(root, tokenizer)
    return _write(Path(out) if out else root / "report.html", render(str(root), runs, mixes))


def write_comparison(a: Path, b: Path, out: Path | None = None, tokenizer: str | None = None) -> Path:
    """The page comparing run (or folder of runs) `a` with `b`, then each side's own sections
    (default b/compare.html). Both sides count tokens with the same tokenizer."""
    from curate.pipelines.report.compare import comparison_section, pair_runs, unpaired_section
    from curate.pipelines.report.tokens import token_counter

    a, b = Path(a), Path(b)
    counter = token_counter(tokenizer, [m.manifest for m in gather_mixes(a) + gather_mixes(b)])
    (runs_a, mixes_a), (runs_b, mixes_b) = gather(a, tokenizer, counter), gather(b, tokenizer, counter)
    pairs, only_a, only_b = pair_runs(a, runs_a, b, runs_b)
    before = [(f"compare-{i}", f"compare {pair.label}", comparison_section(pair, str(i)))
              for i, pair in enumerate(pairs)]
    if only_a or only_b:
        before.append(("compare-unpaired", "unpaired runs", unpaired_section(only_a, only_b)))
    for side, items in (("A", runs_a + mixes_a), ("B", runs_b + mixes_b)):
        for item in items:
            item.label = f"{side} {item.label}"
    page = render(f"A = {a}, B = {b}", runs_a + runs_b, mixes_a + mixes_b, before)
    return _write(Path(out) if out else b / "compare.html", page)
