"""`curate mix validate|plan|build`: author, preview and build tokenized mixes from recipes."""
import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from curate import resources
from curate.errors import ConfigError
from curate.pipelines.mix_recipe import leaves, load_recipe, resolve_root
from curate.pipelines.spec import parse_sets

mix_app = typer.Typer(no_args_is_help=True, add_completion=False,
                      help="Tokenized pretraining/midtraining mixes from YAML recipes.")
console = Console(stderr=True)
MIXES = resources.mix_recipes()
ROOT_HELP = "Folder that relative globs and runs start from (default: the recipe's `root`, else the current folder)"
SET_HELP = "Override a recipe key: --set total_tokens=200000, --set sources.0.weight=0.5 (VALUE is YAML)"


def _tokenizer(recipe, path: Path):
    from curate.stages.tokenize import load_tokenizer

    return load_tokenizer(recipe.tokenizer, path.parent)


def plan_recipe(recipe, recipe_path: Path | None, root: Path | None, tok=None, info=None) -> dict:
    """The plan of a loaded recipe (used by the CLI and the demo)."""
    from curate.stages.mix import plan_mix
    from curate.stages.tokenize import load_tokenizer

    if tok is None:
        tok, info = load_tokenizer(recipe.tokenizer, recipe_path.parent if recipe_path else None)
    return plan_mix(recipe, leaves(recipe, resolve_root(recipe, recipe_path, root)), tok, info)


def build_recipe(recipe, recipe_path: Path | None, root: Path | None, output: str | Path, workers: int = 1,
                 tok=None, info=None, say=None) -> dict:
    from curate.stages.mix import MixBuilder
    from curate.stages.tokenize import load_tokenizer

    if tok is None:
        tok, info = load_tokenizer(recipe.tokenizer, recipe_path.parent if recipe_path else None)
    lvs = leaves(recipe, resolve_root(recipe, recipe_path, root))
    return MixBuilder(recipe, lvs, tok, info, output, workers=workers, say=say).build()


def build_demo_mixes(demo_output: Path, say=print) -> dict:
    """Build every shipped recipe (manifests/mixes/*.yaml) from the demo runs in `demo_output`.

    Demo data is small and not every pipeline may have run: leaves with no data are dropped
    (sibling weights renormalized) and total_tokens is lowered to what the rest can serve.
    Mixes go to <demo_output>/mixes/<name>/; returns {name: mix manifest}.
    """
    from curate.pipelines.mix_recipe import drop_empty_leaves
    from curate.stages.tokenize import load_tokenizer

    built = {}
    for name in sorted(p.stem for p in MIXES.glob("*.yaml")):
        path = MIXES / f"{name}.yaml"
        recipe = load_recipe(path)
        tok, info = load_tokenizer(recipe.tokenizer, path.parent)
        plan = plan_recipe(recipe, path, demo_output, tok, info)
        keep = {r["leaf"] for r in plan["leaves"] if r["available_tokens"] > 0}
        dropped = [r["leaf"] for r in plan["leaves"] if r["leaf"] not in keep]
        if not keep:
            say(f"mix {name}: skipped, no demo run has data for it yet")
            continue
        if dropped:
            say(f"mix {name}: no demo data for {', '.join(dropped)}; weights renormalized")
            recipe = drop_empty_leaves(recipe, keep)
            plan = plan_recipe(recipe, path, demo_output, tok, info)
        if not plan["ok"]:
            fit = max(1, plan["max_total_tokens"] - len(plan["leaves"]))
            say(f"mix {name}: total_tokens {recipe.total_tokens:,} -> {fit:,} to fit the demo data")
            recipe = recipe.model_copy(update={"total_tokens": fit})
        out = demo_output / "mixes" / name
        say(f"mix {name} -> {out}")
        m = built[name] = build_recipe(recipe, path, demo_output, out, 1, tok, info)
        waste = f", padding {m['packing']['padding_pct']}%" if m["packing"] else ""
        say(f"mix {name}: {m['total_tokens']['realized']:,} tokens, max share deviation "
            f"{m['max_share_deviation_pp']:.3f} pp{waste}")
    return built


def print_lengths(plan: dict) -> None:
    """The plan's length histogram (tokens the mix takes by document length) and packing estimate."""
    out = Console()
    table = Table(title="tokens by document length (n_tokens, planned)")
    for col in ("length", "tokens", "share", ""):
        table.add_column(col)
    for row in plan["length_histogram"]:
        table.add_row(row["bucket"], f"{row['tokens']:,}", f"{100 * row['share']:.1f}%",
                      "#" * int(round(40 * row["share"])))
    out.print(table)
    est = plan.get("packing_estimate")
    if est:
        out.print(f"packing ({est['method']}, estimated on {est['simulated_documents']:,} document lengths): "
                  f"padding {est['padding_pct']}%, documents longer than a window "
                  f"{est['cut_documents_pct']}% (split {est['split_documents']:,}, truncated "
                  f"{est['truncated_documents']:,}), truncated tokens {est['truncated_pct']}%")
        for name, leaf in est["leaves"].items():
            out.print(f"  {name}: padding {leaf['padding_pct']}%, cut documents {leaf['cut_documents_pct']}%")


@mix_app.command()
def validate(recipe: Path, sets: list[str] = typer.Option([], "--set", help=SET_HELP)):
    """Check a recipe (unknown keys, weights summing to 1 per level, filters) without reading data."""
    r = load_recipe(recipe, parse_sets(sets))
    console.print(f"[green]ok[/] {recipe}: {r.phase} mix '{r.name}', {r.total_tokens:,} tokens")


@mix_app.command()
def plan(recipe: Path, root: Path | None = typer.Option(None, "--root", help=ROOT_HELP),
         as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON"),
         sets: list[str] = typer.Option([], "--set", help=SET_HELP)):
    """Tokens available and to take per source, epochs; exit 2 when a source is short."""
    r = load_recipe(recipe, parse_sets(sets))
    tok, info = _tokenizer(r, recipe)
    result = plan_recipe(r, recipe, root, tok, info)
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        table = Table(title=f"{r.phase} mix '{r.name}': {r.total_tokens:,} tokens, tokenizer {info.name}")
        for col in ("source", "weight", "available", "counted", "take", "epochs", "max", "ok"):
            table.add_column(col)
        for row in result["leaves"]:
            table.add_row(row["leaf"], f"{row['weight']:.4g}", f"{row['available_tokens']:,}", row["counted"],
                          f"{row['planned_tokens']:,}", "-" if row["epochs"] is None else f"{row['epochs']:.3f}",
                          f"{row['max_epochs']:g}",
                          "[green]yes[/]" if row["ok"] else "[red]short[/]")
        Console().print(table)
        print_lengths(result)
    if not result["ok"]:
        raise ConfigError("; ".join(result["problems"]))


@mix_app.command()
def build(recipe: Path, output: str = typer.Option(..., "--output", help="Folder or fsspec URL for the mix"),
          root: Path | None = typer.Option(None, "--root", help=ROOT_HELP),
          workers: int = typer.Option(1, help="Tokenizer processes (1: in-process, the encoder uses all cores)"),
          as_json: bool = typer.Option(False, "--json", help="Print the mix manifest as JSON"),
          sets: list[str] = typer.Option([], "--set", help=SET_HELP)):
    """Tokenize, sample, shuffle (and for midtrain pack) into Megatron and/or datatrove files."""
    r = load_recipe(recipe, parse_sets(sets))
    tok, info = _tokenizer(r, recipe)
    manifest = build_recipe(r, recipe, root, output, workers, tok, info, say=console.print)
    if as_json:
        print(json.dumps(manifest, indent=2))
        return
    t = manifest["total_tokens"]
    console.print(f"[green]built[/] {output}: {t['realized']:,} of {t['requested']:,} tokens, "
                  f"max share deviation {manifest['max_share_deviation_pp']:.3f} pp, {manifest['seconds']} s")
    for name, leaf in manifest["leaves"].items():
        console.print(f"  {name}: {leaf['realized_tokens']:,} tokens ({100 * leaf['realized_share']:.2f}% vs "
                      f"{100 * leaf['planned_share']:.2f}% planned), {leaf['epochs']:.3f} epochs")
    console.print("  tokens by document length: " + ", ".join(
        f"{row['bucket']} {100 * row['share']:.1f}%" for row in manifest["length_histogram"] if row["tokens"]))
    if manifest["packing"]:
        p = manifest["packing"]
        console.print(f"  packing ({p['method']}): {p['windows']:,} windows of {p['window_tokens']}, padding "
                      f"{p['padding_pct']}%, documents cut {p['cut_documents_pct']}% (split {p['split_documents']:,}, "
                      f"truncated {p['truncated_documents']:,}), truncated tokens {p['truncated_pct']}%")
        for name, leaf in p["leaves"].items():
            console.print(f"    {name}: padding {leaf['padding_pct']}%, cut documents {leaf['cut_documents_pct']}%")
        for name, adj in p["adjacency"].items():
            console.print(f"    {name} ({adj['compose']}): adjacent similarity {adj['adjacent_similarity']} vs "
                          f"{adj['random_order_similarity']} in random order ({adj['pairs']:,} pairs)")
