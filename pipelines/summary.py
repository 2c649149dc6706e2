"""A short table of a run's per-stage counts for the terminal."""
from rich.console import Console
from rich.table import Table


def print_summary(manifest: dict) -> None:
    table = Table(title=f"run {manifest['name']}: {manifest['status']}")
    for column in ("stage", "in", "out", "rejected", "top reasons", "seconds"):
        table.add_column(column)
    for name, counts in manifest["stages"].items():
        reasons = sorted(counts["rejected_by_reason"].items(), key=lambda kv: -kv[1])[:3]
        table.add_row(name, str(counts["in"]), str(counts["out"]), str(counts["rejected"]),
                      ", ".join(f"{r}={n}" for r, n in reasons), str(counts.get("seconds")))
    Console().print(table)
