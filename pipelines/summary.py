"""A short table of a run's per-stage counts for the terminal."""
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from curate.terminal import safe_text


def shown(value) -> str:
    """A value from the spec or the data, as a table cell: terminal-safe, rich markup escaped."""
    return escape(safe_text(str(value), one_line=True))


def print_summary(manifest: dict) -> None:
    table = Table(title=f"run {shown(manifest['name'])}: {manifest['status']}")
    for column in ("stage", "in", "out", "rejected", "top reasons", "seconds"):
        table.add_column(column)
    for name, counts in manifest["stages"].items():
        reasons = sorted(counts["rejected_by_reason"].items(), key=lambda kv: -kv[1])[:3]
        table.add_row(shown(name), str(counts["in"]), str(counts["out"]), str(counts["rejected"]),
                      shown(", ".join(f"{r}={n}" for r, n in reasons)),
                      f"in {shown(counts['fused_into'])}" if "fused_into" in counts else str(counts.get("seconds")))
    Console().print(table)
