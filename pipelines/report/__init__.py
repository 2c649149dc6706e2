"""`curate report`: one self-contained HTML page showing what a run (or a demo folder of runs) did."""
from pathlib import Path

from curate.pipelines.report.gather import gather
from curate.pipelines.report.html import render


def write_report(root: Path, out: Path | None = None) -> Path:
    """Gather every run and mix folder at or under `root` and write the page (default root/report.html)."""
    root = Path(root)
    out = Path(out) if out else root / "report.html"
    runs, mixes = gather(root)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".tmp-{out.name}")
    tmp.write_text(render(str(root), runs, mixes), encoding="utf-8")
    tmp.replace(out)
    return out.resolve()
